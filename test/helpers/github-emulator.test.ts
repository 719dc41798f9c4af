import { Octokit } from "@octokit/rest";
import nock from "nock";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { GitHubEmulator, loopbackFetch } from "./github-emulator.js";
import { operationIdOf, validateRequest } from "./openapi-validator.js";
import { examplePayload, issueCommentCreatedPayload, issuesLabeledPayload } from "./webhook-payloads.js";

nock.disableNetConnect();
nock.enableNetConnect("127.0.0.1");

const INSTALLATION = 11;
const OWNER = "acme";
const REPO = "widgets";
const FULL = `${OWNER}/${REPO}`;

let emulator: GitHubEmulator;

/** Octokit logs every failed request; these tests fail requests on purpose. */
const quiet = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

beforeEach(async () => {
  emulator = await GitHubEmulator.start({ appId: 42, appSlug: "afk" });
  // Every 2xx answer in these tests is also checked against the description's response schema.
  emulator.checkResponses = true;
  emulator.addInstallation(INSTALLATION, OWNER);
  emulator.addRepo({ owner: OWNER, name: REPO, installationId: INSTALLATION, files: { ".github/afk.yml": "test: npm test\n", "README.md": "hello\n" } });
});

afterEach(async () => {
  try {
    emulator.assertNoViolations();
  } finally {
    await emulator.close();
  }
});

function base64url(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString("base64url");
}

/** An App JWT as @octokit/auth-app makes one; the emulator checks `iss` but not the signature. */
function appJwt(iss: number | string = emulator.appId): string {
  const now = Math.floor(Date.now() / 1000);
  return `${base64url({ alg: "RS256", typ: "JWT" })}.${base64url({ iat: now - 30, exp: now + 540, iss })}.c2lnbmF0dXJl`;
}

function appOctokit(): Octokit {
  return new Octokit({ baseUrl: emulator.apiUrl, auth: appJwt(), request: { fetch: loopbackFetch }, log: quiet });
}

async function installationOctokit(
  installationId = INSTALLATION,
  scope: { repositories?: string[]; permissions?: Record<string, "read" | "write"> } = {},
): Promise<Octokit> {
  const { data } = await appOctokit().rest.apps.createInstallationAccessToken({ installation_id: installationId, ...scope });
  return new Octokit({ baseUrl: emulator.apiUrl, auth: data.token, request: { fetch: loopbackFetch }, log: quiet });
}

function statusOf(error: unknown): number | undefined {
  return typeof error === "object" && error !== null && "status" in error && typeof error.status === "number" ? error.status : undefined;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The status of a request expected to fail. */
async function failure(promise: Promise<unknown>): Promise<{ status: number | undefined; message: string }> {
  try {
    await promise;
  } catch (error) {
    return { status: statusOf(error), message: messageOf(error) };
  }
  throw new Error("expected the request to fail");
}

describe("openapi-validator", () => {
  it("matches slash-containing refs and paths to the most specific template", () => {
    const ref = validateRequest({ method: "GET", path: "/repos/o/r/git/ref/afk/lock", query: {}, body: undefined });
    expect(ref).toMatchObject({ ok: true, operationId: "git/get-ref", params: { ref: "afk/lock" } });
    const refs = validateRequest({ method: "PATCH", path: "/repos/o/r/git/refs/afk%2Flock", query: {}, body: { sha: "a".repeat(40) } });
    expect(refs).toMatchObject({ ok: true, operationId: "git/update-ref", params: { ref: "afk/lock" } });
    const contents = validateRequest({ method: "GET", path: "/repos/o/r/contents/.github/afk.yml", query: { ref: "main" }, body: undefined });
    expect(contents).toMatchObject({ ok: true, operationId: "repos/get-content", params: { path: ".github/afk.yml" } });
    const comment = validateRequest({ method: "GET", path: "/repos/o/r/issues/comments/5", query: {}, body: undefined });
    expect(comment).toMatchObject({ ok: true, operationId: "issues/get-comment" });
  });

  it("rejects bad query parameters, missing bodies and OpenAPI-nullable mistakes, but accepts null where nullable", () => {
    const query = validateRequest({ method: "GET", path: "/repos/o/r/issues", query: { state: "bogus", per_page: "many" }, body: undefined });
    expect(query.ok).toBe(false);
    if (!query.ok) expect(query.error).toMatch(/state.*per_page/s);
    const missing = validateRequest({ method: "POST", path: "/repos/o/r/git/refs", query: {}, body: undefined });
    expect(missing).toMatchObject({ ok: false });
    const nullable = validateRequest({ method: "PATCH", path: "/repos/o/r/issues/1", query: {}, body: { body: null, state_reason: null, milestone: null } });
    expect(nullable).toMatchObject({ ok: true });
    const wrongMethod = validateRequest({ method: "POST", path: "/repos/o/r/issues/1", query: {}, body: {} });
    expect(wrongMethod.ok).toBe(false);
  });

  it("knows every route the emulator implements", () => {
    for (const key of emulator.implementedRoutes) {
      const [method = "", template = ""] = key.split(" ");
      expect(operationIdOf(method, template), key).toBeDefined();
    }
  });
});

describe("GitHubEmulator", () => {
  it("refuses request bodies the description does not allow, and records them", async () => {
    emulator.addIssue(FULL, { title: "Bug" });
    const octokit = await installationOctokit();
    const empty = await failure(octokit.request(`POST /repos/${FULL}/issues/1/comments`, { data: {} }));
    expect(empty.status).toBe(400);
    const numeric = await failure(octokit.request(`POST /repos/${FULL}/issues/1/comments`, { data: { body: 5 } }));
    expect(numeric.status).toBe(400);
    const violations = emulator.takeViolations();
    expect(violations).toHaveLength(2);
    expect(violations[0]).toMatch(/POST .*issues\/1\/comments.*issues\/create-comment.*must have required property 'body'/);
    expect(violations[1]).toMatch(/body\/body must be string/);
    expect(emulator.comments(FULL, 1)).toEqual([]);
  });

  it("records unknown and unimplemented routes as violations", async () => {
    const octokit = await installationOctokit();
    expect((await failure(octokit.request(`GET /repos/${FULL}/no-such-thing`))).status).toBe(400);
    expect((await failure(octokit.request(`GET /repos/${FULL}/releases`))).status).toBe(501);
    const violations = emulator.takeViolations();
    expect(violations[0]).toMatch(/no path in GitHub's OpenAPI description/);
    expect(violations[1]).toMatch(/repos\/list-releases .*not implemented/);
    expect(() => emulator.assertNoViolations()).not.toThrow();
  });

  it("paginates comments with Link headers Octokit follows", async () => {
    emulator.addIssue(FULL, { title: "Chatty" });
    for (let i = 1; i <= 75; i++) emulator.addComment(FULL, 1, { body: `comment ${i}`, user: "alice" });
    const octokit = await installationOctokit();
    const first = await octokit.rest.issues.listComments({ owner: OWNER, repo: REPO, issue_number: 1, per_page: 20 });
    expect(first.headers.link).toContain('page=2>; rel="next"');
    expect(first.headers.link).toContain('page=4>; rel="last"');
    const all = await octokit.paginate(octokit.rest.issues.listComments, { owner: OWNER, repo: REPO, issue_number: 1, per_page: 20 });
    expect(all.map((comment) => comment.body)).toEqual(Array.from({ length: 75 }, (_, i) => `comment ${i + 1}`));
    const ids = all.map((comment) => comment.id);
    expect([...ids].sort((a, b) => a - b)).toEqual(ids);
    expect(emulator.requests.filter((r) => r.operationId === "issues/list-comments")).toHaveLength(5);
  });

  it("keeps refs as a compare-and-swap: create once, fast-forward only, delete once", async () => {
    const octokit = await installationOctokit();
    const git = octokit.rest.git;
    const main = await git.getRef({ owner: OWNER, repo: REPO, ref: "heads/main" });
    expect(main.data.object.sha).toBe(emulator.ref(FULL, "heads/main"));

    const tree = await git.createTree({ owner: OWNER, repo: REPO, tree: [{ path: "README.md", mode: "100644", type: "blob", content: "hello\n" }] });
    // Real git object ids: `printf 'hello\n' | git hash-object --stdin`.
    expect(tree.data.tree[0]?.sha).toBe("ce013625030ba8dba906f756967f9e9ca394464a");
    const commit = async (message: string, parents: string[]): Promise<string> =>
      (await git.createCommit({ owner: OWNER, repo: REPO, message, tree: tree.data.sha, parents })).data.sha;

    const a = await commit("A", []);
    const created = await git.createRef({ owner: OWNER, repo: REPO, ref: "refs/afk/lock", sha: a });
    expect(created.status).toBe(201);
    expect(created.data).toMatchObject({ ref: "refs/afk/lock", object: { sha: a, type: "commit" } });
    const again = await failure(git.createRef({ owner: OWNER, repo: REPO, ref: "refs/afk/lock", sha: a }));
    expect(again).toMatchObject({ status: 422 });
    expect(again.message).toContain("Reference already exists");
    expect((await failure(git.createRef({ owner: OWNER, repo: REPO, ref: "refs/lock", sha: a }))).status).toBe(422);

    const b = await commit("B", [a]);
    expect((await git.updateRef({ owner: OWNER, repo: REPO, ref: "afk/lock", sha: b, force: false })).data.object.sha).toBe(b);
    const sibling = await commit("C", [a]);
    const stale = await failure(git.updateRef({ owner: OWNER, repo: REPO, ref: "afk/lock", sha: sibling, force: false }));
    expect(stale).toMatchObject({ status: 422 });
    expect(stale.message).toContain("Update is not a fast forward");
    expect(emulator.ref(FULL, "refs/afk/lock")).toBe(b);
    expect((await git.getRef({ owner: OWNER, repo: REPO, ref: "afk/lock" })).data.object.sha).toBe(b);

    const fetched = await git.getCommit({ owner: OWNER, repo: REPO, commit_sha: b });
    expect(fetched.data).toMatchObject({ message: "B", parents: [{ sha: a }] });
    expect(fetched.data.author.name).toBe("afk[bot]");

    await git.updateRef({ owner: OWNER, repo: REPO, ref: "afk/lock", sha: sibling, force: true });
    expect(emulator.ref(FULL, "afk/lock")).toBe(sibling);
    expect((await git.deleteRef({ owner: OWNER, repo: REPO, ref: "afk/lock" })).status).toBe(204);
    expect((await failure(git.deleteRef({ owner: OWNER, repo: REPO, ref: "afk/lock" }))).status).toBe(422);
    expect((await failure(git.getRef({ owner: OWNER, repo: REPO, ref: "afk/lock" }))).status).toBe(404);
  });

  it("lets exactly one of many concurrent fast-forwards from the same parent win", async () => {
    const octokit = await installationOctokit();
    const git = octokit.rest.git;
    const tree = (await git.createTree({ owner: OWNER, repo: REPO, tree: [] })).data.sha;
    expect(tree).toBe("4b825dc642cb6eb9a060e54bf8d69288fbee4904");
    const root = (await git.createCommit({ owner: OWNER, repo: REPO, message: "root", tree, parents: [] })).data.sha;
    await git.createRef({ owner: OWNER, repo: REPO, ref: "refs/afk/lock", sha: root });
    const children = await Promise.all(
      Array.from({ length: 20 }, async (_, i) => (await git.createCommit({ owner: OWNER, repo: REPO, message: `child ${i}`, tree, parents: [root] })).data.sha),
    );
    const outcomes = await Promise.allSettled(children.map((sha) => git.updateRef({ owner: OWNER, repo: REPO, ref: "afk/lock", sha })));
    const winners = outcomes.flatMap((outcome, i) => (outcome.status === "fulfilled" ? [children[i]] : []));
    expect(winners).toHaveLength(1);
    expect(emulator.ref(FULL, "afk/lock")).toBe(winners[0]);
    expect(outcomes.filter((outcome) => outcome.status === "rejected").map((outcome) => (outcome.status === "rejected" ? statusOf(outcome.reason) : 0))).toEqual(
      Array.from({ length: 19 }, () => 422),
    );
  });

  it("answers raw contents as text/plain and JSON contents as base64, 404 when absent", async () => {
    const octokit = await installationOctokit();
    const raw = await octokit.rest.repos.getContent({ owner: OWNER, repo: REPO, path: ".github/afk.yml", mediaType: { format: "raw" } });
    expect(raw.headers["content-type"]).toBe("text/plain; charset=utf-8");
    expect(raw.data).toBe("test: npm test\n");
    const json = await octokit.rest.repos.getContent({ owner: OWNER, repo: REPO, path: ".github/afk.yml", ref: "main" });
    expect(Array.isArray(json.data)).toBe(false);
    if (!Array.isArray(json.data) && json.data.type === "file" && "content" in json.data) {
      expect(Buffer.from(json.data.content, "base64").toString("utf8")).toBe("test: npm test\n");
    } else {
      throw new Error("expected a file");
    }
    emulator.setFile(FULL, ".github/afk.yml", null);
    expect((await failure(octokit.rest.repos.getContent({ owner: OWNER, repo: REPO, path: ".github/afk.yml" }))).status).toBe(404);
    expect(emulator.file(FULL, "README.md")).toBe("hello\n");
  });

  it("maps roles to GitHub's legacy permission names", async () => {
    emulator.addUser("tria");
    emulator.addUser("maint");
    emulator.addUser("stranger");
    emulator.setPermission(FULL, "tria", "triage");
    emulator.setPermission(FULL, "maint", "maintain");
    const octokit = await installationOctokit();
    const level = async (username: string): Promise<{ permission: string; role_name: string }> => {
      const { data } = await octokit.rest.repos.getCollaboratorPermissionLevel({ owner: OWNER, repo: REPO, username });
      return { permission: data.permission, role_name: data.role_name };
    };
    expect(await level("tria")).toEqual({ permission: "read", role_name: "triage" });
    expect(await level("maint")).toEqual({ permission: "write", role_name: "maintain" });
    expect(await level("stranger")).toEqual({ permission: "read", role_name: "read" });
    const unknown = await failure(level("nobody-at-all"));
    expect(unknown.status).toBe(404);
    expect(unknown.message).toContain("nobody-at-all is not a user");

    emulator.addRepo({ owner: OWNER, name: "secret", installationId: INSTALLATION, private: true });
    const { data } = await octokit.rest.repos.getCollaboratorPermissionLevel({ owner: OWNER, repo: "secret", username: "stranger" });
    expect(data.permission).toBe("none");
  });

  it("scopes tokens: other repositories, other installations, missing and app credentials", async () => {
    emulator.addRepo({ owner: OWNER, name: "other", installationId: INSTALLATION });
    emulator.addInstallation(12, "elsewhere");
    emulator.addRepo({ owner: "elsewhere", name: "thing", installationId: 12 });

    const scoped = await installationOctokit(INSTALLATION, { repositories: [REPO], permissions: { issues: "read", metadata: "read" } });
    expect(emulator.tokens.at(-1)).toMatchObject({ installationId: INSTALLATION, repositories: [REPO], permissions: { issues: "read", metadata: "read" } });
    expect((await scoped.rest.repos.get({ owner: OWNER, repo: REPO })).data.full_name).toBe(FULL);
    expect((await failure(scoped.rest.repos.get({ owner: OWNER, repo: "other" }))).status).toBe(403);
    expect((await failure(scoped.rest.repos.get({ owner: "elsewhere", repo: "thing" }))).status).toBe(404);
    emulator.addIssue(FULL, { title: "Read only" });
    expect((await failure(scoped.rest.issues.createComment({ owner: OWNER, repo: REPO, issue_number: 1, body: "hi" }))).status).toBe(403);

    const anonymous = new Octokit({ baseUrl: emulator.apiUrl, request: { fetch: loopbackFetch }, log: quiet });
    expect((await failure(anonymous.rest.repos.get({ owner: OWNER, repo: REPO }))).status).toBe(401);
    const wrongApp = new Octokit({ baseUrl: emulator.apiUrl, auth: appJwt(7), request: { fetch: loopbackFetch }, log: quiet });
    expect((await failure(wrongApp.rest.apps.getAuthenticated())).status).toBe(401);
    expect((await failure(appOctokit().rest.apps.createInstallationAccessToken({ installation_id: INSTALLATION, repositories: ["thing"] }))).status).toBe(422);

    const app = await appOctokit().rest.apps.getAuthenticated();
    expect(app.data).toMatchObject({ id: 42, slug: "afk" });
    const installation = await appOctokit().rest.apps.getRepoInstallation({ owner: OWNER, repo: REPO });
    expect(installation.data.id).toBe(INSTALLATION);
    expect(emulator.requests.find((r) => r.operationId === "apps/get-authenticated" && r.status === 200)?.auth).toBe("app-jwt");
  });

  it("authors comments and reactions as the App's bot", async () => {
    const seeded = emulator.addIssue(FULL, { title: "Do it", body: "please", labels: ["afk"], user: "alice" });
    expect(seeded.number).toBe(1);
    const octokit = await installationOctokit();
    const { data: comment } = await octokit.rest.issues.createComment({ owner: OWNER, repo: REPO, issue_number: 1, body: "On it" });
    expect(comment.user).toMatchObject({ login: "afk[bot]", type: "Bot" });
    expect(comment.performed_via_github_app).toMatchObject({ id: 42, slug: "afk" });
    expect(comment.html_url).toBe(`${emulator.webUrl}/${FULL}/issues/1#issuecomment-${comment.id}`);

    const first = await octokit.rest.reactions.createForIssue({ owner: OWNER, repo: REPO, issue_number: 1, content: "eyes" });
    const second = await octokit.rest.reactions.createForIssue({ owner: OWNER, repo: REPO, issue_number: 1, content: "eyes" });
    expect([first.status, second.status]).toEqual([201, 200]);
    expect(second.data.id).toBe(first.data.id);
    const human = emulator.addComment(FULL, 1, { body: "/afk stop", user: "alice" });
    expect((await octokit.rest.reactions.createForIssueComment({ owner: OWNER, repo: REPO, comment_id: human.id, content: "+1" })).status).toBe(201);
    expect(emulator.reactions(FULL, 1).map((r) => [r.user.login, r.content])).toEqual([["afk[bot]", "eyes"]]);
    expect(emulator.commentReactions(FULL, human.id).map((r) => r.content)).toEqual(["+1"]);

    await octokit.rest.issues.updateComment({ owner: OWNER, repo: REPO, comment_id: comment.id, body: "Done" });
    expect(emulator.comments(FULL, 1).map((c) => c.body)).toEqual(["Done", "/afk stop"]);
    await octokit.rest.issues.deleteComment({ owner: OWNER, repo: REPO, comment_id: comment.id });
    expect(emulator.comments(FULL, 1)).toHaveLength(1);
  });

  it("manages labels, issue state, listing filters and blocked-by dependencies", async () => {
    emulator.addIssue(FULL, { title: "One", labels: ["afk"] });
    emulator.addIssue(FULL, { title: "Two", labels: ["afk", "bug"] });
    emulator.addIssue(FULL, { title: "Three", state: "closed", labels: ["afk"] });
    emulator.addBlockedBy(FULL, 2, 1);
    emulator.addBlockedBy(FULL, 2, 3);
    const octokit = await installationOctokit();

    const labels = await octokit.rest.issues.addLabels({ owner: OWNER, repo: REPO, issue_number: 1, labels: ["afk:running"] });
    expect(labels.data.map((label) => label.name)).toEqual(["afk", "afk:running"]);
    await octokit.rest.issues.removeLabel({ owner: OWNER, repo: REPO, issue_number: 1, name: "afk" });
    expect(emulator.labels(FULL, 1)).toEqual(["afk:running"]);
    expect((await failure(octokit.rest.issues.removeLabel({ owner: OWNER, repo: REPO, issue_number: 1, name: "afk" }))).status).toBe(404);
    await octokit.rest.issues.setLabels({ owner: OWNER, repo: REPO, issue_number: 1, labels: ["done"] });
    expect(emulator.labels(FULL, 1)).toEqual(["done"]);

    const open = await octokit.rest.issues.listForRepo({ owner: OWNER, repo: REPO });
    expect(open.data.map((issue) => issue.number)).toEqual([2, 1]);
    const ascending = await octokit.rest.issues.listForRepo({ owner: OWNER, repo: REPO, state: "all", labels: "afk", sort: "created", direction: "asc" });
    expect(ascending.data.map((issue) => issue.number)).toEqual([2, 3]);

    const blockers = await octokit.request("GET /repos/{owner}/{repo}/issues/{issue_number}/dependencies/blocked_by", { owner: OWNER, repo: REPO, issue_number: 2 });
    expect(blockers.data.map((issue) => [issue.number, issue.state])).toEqual([
      [1, "open"],
      [3, "closed"],
    ]);
    expect(emulator.issue(FULL, 2).issue_dependencies_summary).toMatchObject({ blocked_by: 1, total_blocked_by: 2 });

    const closed = await octokit.rest.issues.update({ owner: OWNER, repo: REPO, issue_number: 1, state: "closed", state_reason: "not_planned" });
    expect(closed.data).toMatchObject({ state: "closed", state_reason: "not_planned" });
    expect(emulator.issue(FULL, 1).closed_by?.login).toBe("afk[bot]");
    emulator.setIssueState(FULL, 1, "open");
    expect(emulator.issue(FULL, 1).state).toBe("open");
  });

  it("creates and completes check runs on existing commits only", async () => {
    const octokit = await installationOctokit();
    const head = emulator.ref(FULL, "heads/main") ?? "";
    const created = await octokit.rest.checks.create({ owner: OWNER, repo: REPO, name: "afk", head_sha: head, status: "in_progress" });
    expect(created.data).toMatchObject({ status: "in_progress", conclusion: null, app: { slug: "afk" } });
    const done = await octokit.rest.checks.update({
      owner: OWNER,
      repo: REPO,
      check_run_id: created.data.id,
      conclusion: "success",
      output: { title: "Tests pass", summary: "All green" },
    });
    expect(done.data).toMatchObject({ status: "completed", conclusion: "success", output: { title: "Tests pass" } });
    expect((await octokit.rest.checks.get({ owner: OWNER, repo: REPO, check_run_id: created.data.id })).data.completed_at).not.toBeNull();
    expect(emulator.checkRuns(FULL)).toHaveLength(1);
    expect((await failure(octokit.rest.checks.create({ owner: OWNER, repo: REPO, name: "afk", head_sha: "f".repeat(40) }))).status).toBe(422);
  });

  it("supports fault injection and latency", async () => {
    const octokit = await installationOctokit();
    emulator.onRequest = (r) => (r.path.endsWith("/git/ref/heads/main") ? { status: 502, body: { message: "Server Error" } } : undefined);
    emulator.latencyMs = 20;
    expect((await failure(octokit.rest.git.getRef({ owner: OWNER, repo: REPO, ref: "heads/main" }))).status).toBe(502);
    emulator.onRequest = undefined;
    expect((await octokit.rest.git.getRef({ owner: OWNER, repo: REPO, ref: "heads/main" })).status).toBe(200);
  });
});

describe("webhook-payloads", () => {
  it("clones real examples", () => {
    const a = examplePayload("issues", "labeled");
    const b = examplePayload("issues", "labeled");
    expect(a).toEqual(b);
    expect(a).not.toBe(b);
    expect(() => examplePayload("issues", "no-such-action")).toThrow(/no "issues" example/);
  });

  it("builds consistent issues.labeled and issue_comment.created payloads", () => {
    const labeled = issuesLabeledPayload({
      owner: OWNER,
      repo: REPO,
      installationId: INSTALLATION,
      issue: { number: 7, title: "Add a flag", labels: ["bug"] },
      label: "afk",
      sender: { login: "alice" },
    });
    expect(labeled).toMatchObject({
      action: "labeled",
      installation: { id: INSTALLATION },
      repository: { name: REPO, full_name: FULL, owner: { login: OWNER } },
      issue: { number: 7, title: "Add a flag" },
      label: { name: "afk" },
      sender: { login: "alice", type: "User" },
    });
    expect(labeled.issue.labels.map((label) => label.name)).toEqual(["bug", "afk"]);
    expect(JSON.stringify(labeled)).not.toContain("Hello-World");

    const comment = issueCommentCreatedPayload({
      owner: OWNER,
      repo: REPO,
      installationId: INSTALLATION,
      issue: { number: 7 },
      comment: { body: "/afk stop", id: 99 },
      sender: { login: "renovate[bot]", type: "Bot" },
    });
    expect(comment).toMatchObject({ action: "created", comment: { id: 99, body: "/afk stop", user: { login: "renovate[bot]", type: "Bot" } } });
    expect(comment.issue.number).toBe(7);
    expect("pull_request" in comment.issue).toBe(false);
  });
});
