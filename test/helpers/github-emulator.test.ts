import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { graphql, GraphqlResponseError } from "@octokit/graphql";
import { Octokit } from "@octokit/rest";
import nock from "nock";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { commitToBareRepo, createBareRepo } from "./git-http-server.js";
import { GitHubEmulator, loopbackFetch } from "./github-emulator.js";
import { operationIdOf, validateRequest } from "./openapi-validator.js";
import {
  checkRunCompletedPayload,
  checkSuiteCompletedPayload,
  examplePayload,
  issueCommentCreatedPayload,
  issuesLabeledPayload,
  pullRequestReviewSubmittedPayload,
  pullRequestSynchronizePayload,
  statusPayload,
} from "./webhook-payloads.js";

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

const tempDirs: string[] = [];

afterEach(async () => {
  try {
    emulator.assertNoViolations();
  } finally {
    await emulator.close();
    for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
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

async function installationToken(
  installationId = INSTALLATION,
  scope: { repositories?: string[]; permissions?: Record<string, "read" | "write"> } = {},
): Promise<string> {
  const { data } = await appOctokit().rest.apps.createInstallationAccessToken({ installation_id: installationId, ...scope });
  return data.token;
}

async function installationOctokit(
  installationId = INSTALLATION,
  scope: { repositories?: string[]; permissions?: Record<string, "read" | "write"> } = {},
): Promise<Octokit> {
  return new Octokit({ baseUrl: emulator.apiUrl, auth: await installationToken(installationId, scope), request: { fetch: loopbackFetch }, log: quiet });
}

const MATH = "export function add(a, b) {\n  return a + b;\n}\n";

/**
 * Puts a real bare repository behind FULL, with a `feature` branch one commit ahead of `main`
 * (`src/math.js` changed), as afk's pushes leave it.
 */
function gitBacking(): { gitDir: string; mainSha: string; featureSha: string } {
  const root = mkdtempSync(join(tmpdir(), "emulator-test-"));
  tempDirs.push(root);
  const { path, headSha } = createBareRepo(root, FULL, { "README.md": "hello\n", "src/math.js": MATH });
  execFileSync("git", ["--git-dir", path, "branch", "feature", "main"]);
  const featureSha = commitToBareRepo(path, { "src/math.js": MATH.replace("a + b", "a + b + 0") + "export const one = 1;\n" }, "Change add", "feature");
  emulator.connectGit(FULL, { cloneUrl: `http://127.0.0.1:9/${FULL}.git`, gitDir: path });
  return { gitDir: path, mainSha: headSha, featureSha };
}

/** A pull request from a `feature` branch made with the REST git database (no git backing). */
async function draftPullWithoutGit(octokit: Octokit): Promise<{ number: number; nodeId: string }> {
  await octokit.rest.git.createRef({ owner: OWNER, repo: REPO, ref: "refs/heads/feature", sha: emulator.ref(FULL, "heads/main") ?? "" });
  const { data } = await octokit.rest.pulls.create({ owner: OWNER, repo: REPO, head: "feature", base: "main", title: "Feature", draft: true });
  return { number: data.number, nodeId: data.node_id };
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
    expect(
      outcomes.filter((outcome) => outcome.status === "rejected").map((outcome) => (outcome.status === "rejected" ? statusOf(outcome.reason) : 0)),
    ).toEqual(Array.from({ length: 19 }, () => 422));
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

    const blockers = await octokit.request("GET /repos/{owner}/{repo}/issues/{issue_number}/dependencies/blocked_by", {
      owner: OWNER,
      repo: REPO,
      issue_number: 2,
    });
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

describe("GitHubEmulator after the pull request", () => {
  it("lists afk's and other Apps' check runs for a sha or a branch, with GitHub's filters, and rolls them into suites", async () => {
    const octokit = await installationOctokit();
    const head = emulator.ref(FULL, "heads/main") ?? "";
    const ours = await octokit.rest.checks.create({ owner: OWNER, repo: REPO, name: "afk", head_sha: head, status: "in_progress" });
    const failed = emulator.addForeignCheckRun(FULL, {
      headSha: head,
      name: "test",
      appSlug: "github-actions",
      conclusion: "failure",
      output: { title: "1 test failed" },
    });
    expect(failed).toMatchObject({
      status: "completed",
      conclusion: "failure",
      app: { id: 15368, slug: "github-actions", name: "GitHub Actions", owner: { login: "github" } },
    });
    expect(failed.details_url).toBe(`${emulator.webUrl}/${FULL}/actions/runs/${failed.check_suite.id}/job/${failed.id}`);
    const rerun = emulator.addForeignCheckRun(FULL, { headSha: head, name: "test", appSlug: "github-actions", conclusion: "success" });
    const lint = emulator.addForeignCheckRun(FULL, { headSha: head, name: "lint", appSlug: "octo-linter", detailsUrl: "https://lint.example.com/1" });
    expect(lint).toMatchObject({
      status: "queued",
      conclusion: null,
      completed_at: null,
      details_url: "https://lint.example.com/1",
      app: { slug: "octo-linter" },
    });
    expect(lint.app.id).not.toBe(15368);
    expect(lint.app.id).not.toBe(emulator.appId);
    expect(emulator.addForeignCheckRun(FULL, { headSha: head, name: "lint-2", appSlug: "octo-linter" }).app.id).toBe(lint.app.id);
    expect(rerun.check_suite.id).toBe(failed.check_suite.id);
    expect(lint.check_suite.id).not.toBe(failed.check_suite.id);

    const list = async (params: Record<string, string | number> = {}): Promise<Array<[string, string, string | null]>> => {
      const { data } = await octokit.rest.checks.listForRef({ owner: OWNER, repo: REPO, ref: "main", ...params });
      expect(data.total_count).toBeGreaterThanOrEqual(data.check_runs.length);
      return data.check_runs.map((run) => [run.name, run.app?.slug ?? "", run.conclusion]);
    };
    // Newest first; `latest` (the default) keeps the newest run per name and App.
    expect(await list()).toEqual([
      ["lint-2", "octo-linter", null],
      ["lint", "octo-linter", null],
      ["test", "github-actions", "success"],
      ["afk", "afk", null],
    ]);
    expect(await list({ filter: "all", check_name: "test" })).toEqual([
      ["test", "github-actions", "success"],
      ["test", "github-actions", "failure"],
    ]);
    expect(await list({ status: "in_progress" })).toEqual([["afk", "afk", null]]);
    expect(await list({ app_id: 15368, filter: "all" })).toHaveLength(2);
    const paged = await octokit.rest.checks.listForRef({ owner: OWNER, repo: REPO, ref: head, per_page: 1, page: 2 });
    expect(paged.data.total_count).toBe(4);
    expect(paged.data.check_runs.map((run) => run.name)).toEqual(["lint"]);
    expect(paged.headers.link).toContain('rel="next"');

    emulator.updateForeignCheckRun(FULL, lint.id, { status: "in_progress" });
    const finished = emulator.updateForeignCheckRun(FULL, lint.id, { conclusion: "neutral", output: { summary: "2 warnings" } });
    expect(finished).toMatchObject({ status: "completed", conclusion: "neutral", output: { summary: "2 warnings" } });
    expect(finished.completed_at).not.toBeNull();
    expect((await octokit.rest.checks.get({ owner: OWNER, repo: REPO, check_run_id: lint.id })).data.conclusion).toBe("neutral");
    // An App can only change its own check runs.
    expect((await failure(octokit.rest.checks.update({ owner: OWNER, repo: REPO, check_run_id: lint.id, conclusion: "success" }))).status).toBe(403);
    expect((await octokit.rest.checks.update({ owner: OWNER, repo: REPO, check_run_id: ours.data.id, conclusion: "success" })).data.app?.slug).toBe("afk");

    const suites = await octokit.rest.checks.listSuitesForRef({ owner: OWNER, repo: REPO, ref: "main" });
    expect(suites.data.total_count).toBe(3);
    expect(
      suites.data.check_suites.map((suite) => [suite.app?.slug, suite.status, suite.conclusion, suite.latest_check_runs_count, suite.head_branch]),
    ).toEqual([
      ["afk", "completed", "success", 1, "main"],
      ["github-actions", "completed", "success", 1, "main"],
      ["octo-linter", "in_progress", null, 2, "main"],
    ]);
    expect(suites.data.check_suites[0]?.head_commit).toMatchObject({ id: head, message: "Initial commit" });
    emulator.updateForeignCheckRun(FULL, lint.id + 1, { conclusion: "failure" });
    const linter = await octokit.rest.checks.listSuitesForRef({ owner: OWNER, repo: REPO, ref: head, app_id: lint.app.id });
    expect(linter.data.check_suites.map((suite) => [suite.status, suite.conclusion])).toEqual([["completed", "failure"]]);

    expect((await failure(octokit.rest.checks.listForRef({ owner: OWNER, repo: REPO, ref: "no-such-branch" }))).status).toBe(422);
    const noChecks = await installationOctokit(INSTALLATION, { permissions: { metadata: "read", issues: "write" } });
    expect((await failure(noChecks.rest.checks.listForRef({ owner: OWNER, repo: REPO, ref: "main" }))).status).toBe(403);
    expect((await failure(noChecks.rest.checks.listSuitesForRef({ owner: OWNER, repo: REPO, ref: "main" }))).status).toBe(403);
  });

  it("answers commit statuses: the combined state of each context's newest status, and the full history", async () => {
    const octokit = await installationOctokit();
    const head = emulator.ref(FULL, "heads/main") ?? "";
    const empty = await octokit.rest.repos.getCombinedStatusForRef({ owner: OWNER, repo: REPO, ref: "main" });
    expect(empty.data).toMatchObject({ state: "pending", total_count: 0, sha: head, statuses: [] });

    emulator.setCommitStatus(FULL, head, { context: "ci/jenkins", state: "pending", description: "Building" });
    emulator.setCommitStatus(FULL, head, { context: "ci/jenkins", state: "success", targetUrl: "https://ci.example.com/1", creator: "jenkins-bot" });
    const lint = emulator.setCommitStatus(FULL, head, { context: "ci/lint", state: "error" });
    expect(lint).toMatchObject({ state: "error", context: "ci/lint", description: null, creator: { login: OWNER } });
    const combined = await octokit.rest.repos.getCombinedStatusForRef({ owner: OWNER, repo: REPO, ref: head });
    expect(combined.data.state).toBe("failure");
    expect(combined.data.statuses.map((status) => [status.context, status.state, status.target_url])).toEqual([
      ["ci/jenkins", "success", "https://ci.example.com/1"],
      ["ci/lint", "error", null],
    ]);
    emulator.setCommitStatus(FULL, head, { context: "ci/lint", state: "success" });
    expect((await octokit.rest.repos.getCombinedStatusForRef({ owner: OWNER, repo: REPO, ref: "main" })).data).toMatchObject({
      state: "success",
      total_count: 2,
    });

    const history = await octokit.rest.repos.listCommitStatusesForRef({ owner: OWNER, repo: REPO, ref: "main" });
    expect(history.data.map((status) => [status.context, status.state, status.creator?.login])).toEqual([
      ["ci/lint", "success", OWNER],
      ["ci/lint", "error", OWNER],
      ["ci/jenkins", "success", "jenkins-bot"],
      ["ci/jenkins", "pending", OWNER],
    ]);
    expect((await failure(octokit.rest.repos.getCombinedStatusForRef({ owner: OWNER, repo: REPO, ref: "gone" }))).status).toBe(404);
    const noStatuses = await installationOctokit(INSTALLATION, { permissions: { metadata: "read", checks: "read" } });
    expect((await failure(noStatuses.rest.repos.getCombinedStatusForRef({ owner: OWNER, repo: REPO, ref: "main" }))).status).toBe(403);
    expect((await failure(noStatuses.rest.repos.listCommitStatusesForRef({ owner: OWNER, repo: REPO, ref: "main" }))).status).toBe(403);
  });

  it("redirects an Actions job's logs to a plain-text download that Octokit follows", async () => {
    const octokit = await installationOctokit();
    const head = emulator.ref(FULL, "heads/main") ?? "";
    const job = emulator.addForeignCheckRun(FULL, { headSha: head, name: "test", appSlug: "github-actions", conclusion: "failure" });
    const log = "2026-01-01T00:00:00.0000000Z npm test\n2026-01-01T00:00:01.0000000Z Error: expected 5, got 4\n";
    emulator.setJobLog(FULL, job.id, log);

    const followed = await octokit.rest.actions.downloadJobLogsForWorkflowRun({ owner: OWNER, repo: REPO, job_id: job.id });
    expect(followed.status).toBe(200);
    expect(followed.data).toBe(log);
    // Octokit without a custom fetch (as Probot runs it) follows the redirect too.
    const plain = new Octokit({ baseUrl: emulator.apiUrl, auth: await installationToken(), log: quiet });
    expect((await plain.rest.actions.downloadJobLogsForWorkflowRun({ owner: OWNER, repo: REPO, job_id: job.id })).data).toBe(log);

    const manual = await octokit.request("GET /repos/{owner}/{repo}/actions/jobs/{job_id}/logs", {
      owner: OWNER,
      repo: REPO,
      job_id: job.id,
      request: { redirect: "manual" },
    });
    expect(manual.status).toBe(302);
    const location = String(manual.headers.location);
    expect(location.startsWith(`${emulator.webUrl}/_logs/`)).toBe(true);
    const download = await loopbackFetch(location);
    expect(download.headers.get("content-type")).toBe("text/plain; charset=utf-8");
    expect(await download.text()).toBe(log);
    expect(emulator.requests.filter((r) => r.operationId === "actions/download-job-logs-for-workflow-run").map((r) => r.status)).toEqual([302, 302, 302]);

    expect((await failure(octokit.rest.actions.downloadJobLogsForWorkflowRun({ owner: OWNER, repo: REPO, job_id: job.id + 1000 }))).status).toBe(404);
    expect((await loopbackFetch(`${emulator.webUrl}/_logs/nonsense`)).status).toBe(404);
    const noActions = await installationOctokit(INSTALLATION, { permissions: { metadata: "read", checks: "read" } });
    expect((await failure(noActions.rest.actions.downloadJobLogsForWorkflowRun({ owner: OWNER, repo: REPO, job_id: job.id }))).status).toBe(403);
  });

  it("keeps a pull request on its branch's head as pushes land, reports its node id, and merges it", async () => {
    const { gitDir, mainSha, featureSha } = gitBacking();
    const octokit = await installationOctokit();
    const created = await octokit.rest.pulls.create({ owner: OWNER, repo: REPO, head: "feature", base: "main", title: "Change add", draft: true });
    expect(created.data.head.sha).toBe(featureSha);
    expect(created.data.base.sha).toBe(mainSha);
    expect(emulator.pulls(FULL)).toMatchObject([
      { number: created.data.number, nodeId: created.data.node_id, headSha: featureSha, draft: true, merged: false },
    ]);

    const pushed = commitToBareRepo(gitDir, { "src/math.js": `${MATH}export const two = 2;\n` }, "Address review", "feature");
    expect(emulator.pulls(FULL)[0]?.headSha).toBe(pushed);
    const fetched = await octokit.rest.pulls.get({ owner: OWNER, repo: REPO, pull_number: created.data.number });
    expect(fetched.data.head.sha).toBe(pushed);
    expect(fetched.data.statuses_url).toBe(`${emulator.apiUrl}/repos/${FULL}/statuses/${pushed}`);

    // A check run on the new head lists the pull request, and a branch name finds it.
    emulator.addForeignCheckRun(FULL, { headSha: pushed, name: "test", appSlug: "github-actions", status: "in_progress" });
    const runs = await octokit.rest.checks.listForRef({ owner: OWNER, repo: REPO, ref: "feature" });
    expect(runs.data.check_runs.map((run) => run.pull_requests.map((pull) => [pull.number, pull.head.sha]))).toEqual([[[created.data.number, pushed]]]);
    const suites = await octokit.rest.checks.listSuitesForRef({ owner: OWNER, repo: REPO, ref: "feature" });
    expect(suites.data.check_suites[0]).toMatchObject({
      head_branch: "feature",
      head_sha: pushed,
      before: featureSha,
      head_commit: { message: "Address review", author: { email: "seeder@example.com" } },
    });

    emulator.mergePull(FULL, created.data.number, "ada");
    const merged = await octokit.rest.pulls.get({ owner: OWNER, repo: REPO, pull_number: created.data.number });
    expect(merged.data).toMatchObject({ state: "closed", merged: true, merged_by: { login: "ada" }, merge_commit_sha: pushed, head: { sha: pushed } });
    expect(merged.data.merged_at).not.toBeNull();
    expect(merged.data.closed_at).toBe(merged.data.merged_at);
    expect(emulator.pulls(FULL)[0]).toMatchObject({ state: "closed", merged: true });
    const reopen = await failure(octokit.rest.pulls.update({ owner: OWNER, repo: REPO, pull_number: created.data.number, state: "open" }));
    expect(reopen.status).toBe(422);
    expect(() => emulator.mergePull(FULL, created.data.number, "ada")).toThrow(/not open/);
  });

  it("serves reviews, their line comments with diff hunks, and replies from the App's bot", async () => {
    const { featureSha } = gitBacking();
    const octokit = await installationOctokit();
    const { data: pull } = await octokit.rest.pulls.create({ owner: OWNER, repo: REPO, head: "feature", base: "main", title: "Change add" });
    emulator.setPermission(FULL, "rita", "write");

    const { review, comments } = emulator.submitReview(FULL, pull.number, {
      user: "rita",
      state: "CHANGES_REQUESTED",
      body: "Two things",
      comments: [
        { path: "src/math.js", line: 2, body: "Why `+ 0`?" },
        { path: "src/math.js", line: 4, body: "Unused" },
      ],
    });
    expect(review).toMatchObject({
      state: "CHANGES_REQUESTED",
      body: "Two things",
      commit_id: featureSha,
      user: { login: "rita", type: "User" },
      author_association: "COLLABORATOR",
    });
    expect(review.html_url).toBe(`${emulator.webUrl}/${FULL}/pull/${pull.number}#pullrequestreview-${review.id}`);
    expect(comments[0]?.diff_hunk).toBe("@@ -1,3 +1,4 @@\n export function add(a, b) {\n-  return a + b;\n+  return a + b + 0;");
    expect(comments[1]?.diff_hunk.split("\n").at(-1)).toBe("+export const one = 1;");
    expect(comments[0]).toMatchObject({ pull_request_review_id: review.id, path: "src/math.js", line: 2, side: "RIGHT", commit_id: featureSha });
    expect(() => emulator.submitReview(FULL, pull.number, { user: "rita", state: "COMMENTED", comments: [{ path: "nope.js", line: 1, body: "?" }] })).toThrow(
      /does not exist/,
    );
    // A reviewer the emulator has never seen is added as a User; the pull request's author cannot approve it.
    expect(emulator.submitReview(FULL, pull.number, { user: "newcomer", state: "APPROVED" }).review).toMatchObject({
      body: "",
      author_association: "NONE",
      user: { login: "newcomer" },
    });
    expect(() => emulator.submitReview(FULL, pull.number, { user: emulator.botLogin, state: "APPROVED" })).toThrow(/own pull request/);

    const reviews = await octokit.rest.pulls.listReviews({ owner: OWNER, repo: REPO, pull_number: pull.number });
    expect(reviews.data.map((r) => [r.user?.login, r.state])).toEqual([
      ["rita", "CHANGES_REQUESTED"],
      ["newcomer", "APPROVED"],
    ]);
    expect((await octokit.rest.pulls.getReview({ owner: OWNER, repo: REPO, pull_number: pull.number, review_id: review.id })).data.body).toBe("Two things");
    expect((await failure(octokit.rest.pulls.getReview({ owner: OWNER, repo: REPO, pull_number: pull.number + 1, review_id: review.id }))).status).toBe(404);
    const forReview = await octokit.rest.pulls.listCommentsForReview({ owner: OWNER, repo: REPO, pull_number: pull.number, review_id: review.id });
    expect(forReview.data.map((comment) => comment.body)).toEqual(["Why `+ 0`?", "Unused"]);

    const first = comments[0]?.id ?? 0;
    const reply = await octokit.rest.pulls.createReplyForReviewComment({
      owner: OWNER,
      repo: REPO,
      pull_number: pull.number,
      comment_id: first,
      body: "Removed it",
    });
    expect(reply.status).toBe(201);
    expect(reply.data).toMatchObject({ in_reply_to_id: first, user: { login: "afk[bot]", type: "Bot" }, path: "src/math.js", line: 2, body: "Removed it" });
    expect(reply.data.pull_request_review_id).not.toBe(review.id);
    const all = await octokit.rest.pulls.listReviewComments({ owner: OWNER, repo: REPO, pull_number: pull.number });
    expect(all.data.map((comment) => [comment.body, comment.in_reply_to_id ?? null])).toEqual([
      ["Why `+ 0`?", null],
      ["Unused", null],
      ["Removed it", first],
    ]);
    expect((await octokit.rest.pulls.listReviews({ owner: OWNER, repo: REPO, pull_number: pull.number })).data.at(-1)).toMatchObject({
      state: "COMMENTED",
      user: { login: "afk[bot]" },
    });
    expect(emulator.reviewComments(FULL, pull.number)).toHaveLength(3);
    expect(emulator.reviews(FULL, pull.number)).toHaveLength(3);

    expect(
      (await failure(octokit.rest.pulls.createReplyForReviewComment({ owner: OWNER, repo: REPO, pull_number: pull.number, comment_id: 1, body: "?" }))).status,
    ).toBe(404);
    const readOnly = await installationOctokit(INSTALLATION, { permissions: { metadata: "read", pull_requests: "read" } });
    expect((await readOnly.rest.pulls.listReviews({ owner: OWNER, repo: REPO, pull_number: pull.number })).data).toHaveLength(3);
    expect(
      (await failure(readOnly.rest.pulls.createReplyForReviewComment({ owner: OWNER, repo: REPO, pull_number: pull.number, comment_id: first, body: "no" })))
        .status,
    ).toBe(403);
  });

  it("flips a pull request's draft state through GraphQL at /api/graphql, as on GitHub Enterprise Server", async () => {
    const octokit = await installationOctokit();
    const pull = await draftPullWithoutGit(octokit);
    const token = await installationToken();
    const client = graphql.defaults({ baseUrl: emulator.apiUrl, headers: { authorization: `token ${token}` }, request: { fetch: loopbackFetch } });

    const ready = await client<{ markPullRequestReadyForReview: { pullRequest: { number: number; isDraft: boolean } } }>(
      `mutation Ready($id: ID!) {
        markPullRequestReadyForReview(input: { pullRequestId: $id }) { pullRequest { number isDraft } }
      }`,
      { id: pull.nodeId },
    );
    expect(ready).toEqual({ markPullRequestReadyForReview: { pullRequest: { number: pull.number, isDraft: false } } });
    expect(emulator.pulls(FULL)[0]?.draft).toBe(false);
    expect((await octokit.rest.pulls.get({ owner: OWNER, repo: REPO, pull_number: pull.number })).data.draft).toBe(false);

    const bearer = graphql.defaults({ baseUrl: emulator.apiUrl, headers: { authorization: `bearer ${token}` }, request: { fetch: loopbackFetch } });
    const draft = await bearer<{ toDraft: { clientMutationId: string; pullRequest: { draft: boolean; __typename: string } } }>(
      `mutation { toDraft: convertPullRequestToDraft(input: { pullRequestId: "${pull.nodeId}", clientMutationId: "x1" }) { clientMutationId pullRequest { draft: isDraft __typename } } }`,
    );
    expect(draft).toEqual({ toDraft: { clientMutationId: "x1", pullRequest: { draft: true, __typename: "PullRequest" } } });
    expect(emulator.pulls(FULL)[0]?.draft).toBe(true);
    const recorded = emulator.requests.filter((r) => r.path === "/graphql");
    expect(recorded.map((r) => [r.method, r.status, r.auth])).toEqual([
      ["POST", 200, "installation"],
      ["POST", 200, "installation"],
    ]);
    expect(recorded[0]?.body).toMatchObject({ variables: { id: pull.nodeId } });

    const graphqlErrors = async (promise: Promise<unknown>): Promise<Array<{ type?: string; message: string }>> => {
      try {
        await promise;
      } catch (error) {
        if (error instanceof GraphqlResponseError) return error.errors ?? [];
        throw error;
      }
      throw new Error("expected GraphQL errors");
    };
    const mutation = "mutation($id: ID!) { markPullRequestReadyForReview(input: { pullRequestId: $id }) { pullRequest { isDraft } } }";
    expect(await graphqlErrors(client(mutation, { id: "PR_bm9wZQ" }))).toMatchObject([
      { type: "NOT_FOUND", message: "Could not resolve to a node with the global id of 'PR_bm9wZQ'" },
    ]);
    const readOnly = graphql.defaults({
      baseUrl: emulator.apiUrl,
      headers: { authorization: `token ${await installationToken(INSTALLATION, { permissions: { pull_requests: "read" } })}` },
      request: { fetch: loopbackFetch },
    });
    expect(await graphqlErrors(readOnly(mutation, { id: pull.nodeId }))).toMatchObject([
      { type: "FORBIDDEN", message: "Resource not accessible by integration" },
    ]);
    expect(emulator.pulls(FULL)[0]?.draft).toBe(true);
    const badToken = graphql.defaults({ baseUrl: emulator.apiUrl, headers: { authorization: "token ghs_nope" }, request: { fetch: loopbackFetch } });
    expect(statusOf(await badToken(mutation, { id: pull.nodeId }).catch((error: unknown) => error))).toBe(401);
    expect(emulator.takeViolations()).toEqual([]);

    // What the emulator does not implement answers with errors and fails the test loudly.
    expect((await graphqlErrors(client("query { viewer { login } }")))[0]?.message).toContain("not answered by the GitHub emulator");
    expect((await graphqlErrors(client(mutation, {})))[0]?.message).toBe("Variable $id of type ID! was provided invalid value");
    expect(
      (
        await graphqlErrors(
          client("mutation($id: ID!) { markPullRequestReadyForReview(input: { pullRequestId: $id }) { pullRequest { mergeable } } }", { id: pull.nodeId }),
        )
      )[0]?.message,
    ).toContain("mergeable");
    expect((await graphqlErrors(client('mutation { closePullRequest(input: { pullRequestId: "x" }) { clientMutationId } }')))[0]?.message).toBe(
      "Field 'closePullRequest' doesn't exist on type 'Mutation'",
    );
    expect((await graphqlErrors(client("mutation { markPullRequestReadyForReview(input: {")))[0]?.message).toMatch(/^Parse error on end of file/);
    const violations = emulator.takeViolations();
    expect(violations).toHaveLength(5);
    expect(violations[0]).toMatch(/^POST \/graphql: .*viewer/);
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

  it("builds check_suite.completed and check_run.completed payloads from the real examples", () => {
    const sha = "a".repeat(40);
    const pulls = [{ number: 12, headRef: "afk/7-add-a-flag", headSha: sha, baseRef: "main" }];
    const suite = checkSuiteCompletedPayload({
      owner: OWNER,
      repo: REPO,
      installationId: INSTALLATION,
      headSha: sha,
      headBranch: "afk/7-add-a-flag",
      conclusion: "failure",
      app: { slug: "github-actions", id: 15368 },
      pullRequests: pulls,
      sender: { login: "github-actions[bot]", type: "Bot" },
    });
    expect(suite).toMatchObject({
      action: "completed",
      installation: { id: INSTALLATION },
      repository: { full_name: FULL },
      sender: { login: "github-actions[bot]", type: "Bot" },
      check_suite: {
        head_sha: sha,
        head_branch: "afk/7-add-a-flag",
        status: "completed",
        conclusion: "failure",
        after: sha,
        app: { id: 15368, slug: "github-actions", name: "GitHub Actions", owner: { login: "github" } },
        pull_requests: [{ number: 12, head: { ref: "afk/7-add-a-flag", sha, repo: { name: REPO } }, base: { ref: "main" } }],
        head_commit: { id: sha },
      },
    });
    // The example's other fields are kept.
    expect(suite.check_suite).toHaveProperty("latest_check_runs_count");
    expect(suite.check_suite).toHaveProperty("before");
    expect(JSON.stringify(suite)).not.toContain("Hello-World");

    const run = checkRunCompletedPayload({
      owner: OWNER,
      repo: REPO,
      installationId: INSTALLATION,
      checkRun: { id: 555, name: "test (20.x)", headSha: sha, conclusion: "success", app: { slug: "octo-linter", id: 321 } },
      headBranch: "afk/7-add-a-flag",
      pullRequests: pulls,
      sender: { login: "alice" },
    });
    expect(run).toMatchObject({
      action: "completed",
      installation: { id: INSTALLATION },
      check_run: {
        id: 555,
        name: "test (20.x)",
        head_sha: sha,
        status: "completed",
        conclusion: "success",
        app: { id: 321, slug: "octo-linter" },
        check_suite: { head_branch: "afk/7-add-a-flag", head_sha: sha, app: { slug: "octo-linter" }, pull_requests: [{ number: 12 }] },
        pull_requests: [{ number: 12, head: { sha } }],
      },
    });
    expect(run.check_run).toHaveProperty("started_at");
    expect(run.check_run.html_url).toBe(`https://github.com/${FULL}/runs/555`);
    expect(JSON.stringify(run)).not.toContain("Hello-World");
  });

  it("builds status, pull_request_review.submitted and pull_request.synchronize payloads from the real examples", () => {
    const sha = "b".repeat(40);
    const status = statusPayload({
      owner: OWNER,
      repo: REPO,
      installationId: INSTALLATION,
      sha,
      state: "failure",
      context: "ci/jenkins",
      branches: ["afk/7-add-a-flag"],
      sender: { login: "jenkins-bot" },
    });
    expect(status).toMatchObject({
      sha,
      state: "failure",
      context: "ci/jenkins",
      name: FULL,
      installation: { id: INSTALLATION },
      commit: { sha },
      branches: [{ name: "afk/7-add-a-flag", commit: { sha } }],
      sender: { login: "jenkins-bot" },
    });
    expect(status).toHaveProperty("created_at");
    expect("action" in status).toBe(false);
    expect(JSON.stringify(status)).not.toContain("Hello-World");

    const pull = { number: 12, headRef: "afk/7-add-a-flag", headSha: sha, baseRef: "main", user: "afk[bot]", draft: true };
    const review = pullRequestReviewSubmittedPayload({
      owner: OWNER,
      repo: REPO,
      installationId: INSTALLATION,
      pull,
      review: { id: 77, state: "changes_requested", body: "Please rename it", user: "rita" },
      sender: { login: "rita" },
    });
    expect(review).toMatchObject({
      action: "submitted",
      installation: { id: INSTALLATION },
      review: { id: 77, state: "changes_requested", body: "Please rename it", user: { login: "rita", type: "User" }, commit_id: sha },
      pull_request: {
        number: 12,
        draft: true,
        state: "open",
        user: { login: "afk[bot]", type: "Bot" },
        head: { ref: "afk/7-add-a-flag", sha },
        base: { ref: "main" },
      },
      sender: { login: "rita" },
    });
    expect(review.review.html_url).toBe(`https://github.com/${FULL}/pull/12#pullrequestreview-77`);
    expect(review.pull_request).toHaveProperty("requested_reviewers");
    expect(JSON.stringify(review)).not.toContain("Hello-World");

    const after = "c".repeat(40);
    const sync = pullRequestSynchronizePayload({
      owner: OWNER,
      repo: REPO,
      installationId: INSTALLATION,
      pull: { ...pull, draft: false },
      before: sha,
      after,
      sender: { login: "afk[bot]", type: "Bot" },
    });
    expect(sync).toMatchObject({
      action: "synchronize",
      number: 12,
      before: sha,
      after,
      installation: { id: INSTALLATION },
      pull_request: { number: 12, draft: false, head: { sha: after } },
    });
    expect(sync.pull_request).toHaveProperty("mergeable_state");
    expect(sync.pull_request.statuses_url).toBe(`https://api.github.com/repos/${FULL}/statuses/${after}`);
    expect(JSON.stringify(sync)).not.toContain("Hello-World");
  });
});
