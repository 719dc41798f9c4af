import { afterEach, describe, expect, it } from "vitest";
import { ConditionalRequests } from "../../src/github/conditional-requests.js";
import { createAfkOctokit, GITHUB_REQUEST_POLICY } from "../../src/github/octokit.js";
import type { GitHubEmulator } from "../helpers/emulator/index.js";
import { loopbackFetch } from "../helpers/emulator/loopback-fetch.js";
import { installationToken } from "../helpers/emulator/test-kit.js";
import { ACTIONS } from "../helpers/lifecycle-events.js";
import { FULL_NAME, INSTALLATION_ID, OWNER, REPO, useScenario } from "../helpers/scenario.js";
import { checkSuiteCompletedPayload } from "../helpers/webhook-payloads.js";

const start = useScenario();

describe("conditional requests (If-None-Match), as afk's Octokit sends every GET", () => {
  let github: GitHubEmulator | undefined;
  afterEach(() => github?.assertNoViolations());

  /** An installation client of afk's Octokit, as Probot makes one, with answers kept for this test alone. */
  async function afkClient(): Promise<{ github: GitHubEmulator; kept: ConditionalRequests; octokit: InstanceType<ReturnType<typeof createAfkOctokit>> }> {
    const { github: emulator } = await start();
    const kept = new ConditionalRequests();
    const Octokit = createAfkOctokit({ ...GITHUB_REQUEST_POLICY, secondMs: 5 }, kept);
    const octokit = new Octokit({
      baseUrl: emulator.apiUrl,
      auth: { token: await installationToken(emulator, INSTALLATION_ID) },
      request: { fetch: loopbackFetch },
    });
    return { github: emulator, kept, octokit };
  }

  it("asks again with the ETag: unchanged, GitHub answers 304 and the kept answer is returned; changed, the new answer", async () => {
    const { github: emulator, kept, octokit } = await afkClient();
    github = emulator;
    const issue = github.addIssue(FULL_NAME, { title: "Annotate math", body: "", user: "wes-write" }).number;
    github.addComment(FULL_NAME, issue, { body: "first", user: "wes-write" });
    const list = () => octokit.rest.issues.listComments({ owner: OWNER, repo: REPO, issue_number: issue, per_page: 100 });

    const first = await list();
    const second = await list();
    expect(second.data.map((comment) => comment.body)).toEqual(["first"]);
    const asked = github.requests.filter((request) => request.method === "GET" && request.path.endsWith(`/issues/${issue}/comments`));
    expect(asked.map((request) => request.status)).toEqual([200, 304]);
    expect(kept.notModified).toBe(1);
    expect(second.data).toEqual(first.data);

    // A change is never hidden: GitHub's ETag no longer matches, and the new list is returned (and kept).
    github.addComment(FULL_NAME, issue, { body: "second", user: "wes-write" });
    expect((await list()).data.map((comment) => comment.body)).toEqual(["first", "second"]);
    expect((await list()).data.map((comment) => comment.body)).toEqual(["first", "second"]);
    const all = github.requests.filter((request) => request.method === "GET" && request.path.endsWith(`/issues/${issue}/comments`));
    expect(all.map((request) => request.status)).toEqual([200, 304, 200, 304]);
    expect(kept.notModified).toBe(2);
  });

  it("hands each caller its own copy: a caller that rewrites its answer (pagination replaces a list's data with its items) changes no later 304", async () => {
    const { github: emulator, kept, octokit } = await afkClient();
    github = emulator;
    const sha = "c".repeat(40);
    github.addForeignCheckRun(FULL_NAME, { headSha: sha, name: "test (node 20)", appSlug: "github-actions", conclusion: "failure" });
    const list = () => octokit.rest.checks.listForRef({ owner: OWNER, repo: REPO, ref: sha, per_page: 100 });
    for (let call = 0; call < 3; call++) {
      const answer = await list();
      expect(answer.data.check_runs.map((run) => run.name)).toEqual(["test (node 20)"]);
      // What the pagination plugin does to a list answer.
      answer.data.check_runs = [];
      answer.data.total_count = 0;
    }
    expect(kept.notModified).toBe(2);
  });
});

describe("afk's own echoes cost no request", () => {
  it("ignores the check_suite events of its own check run (its gate is not CI); another app's suite is read", async () => {
    const scenario = await start();
    const { github: emulator } = scenario;
    const branch = "afk/7-annotate-math";
    const sha = "a".repeat(40);
    const suite = (app: { id: number; slug: string }) =>
      checkSuiteCompletedPayload({
        owner: OWNER,
        repo: REPO,
        installationId: INSTALLATION_ID,
        headSha: sha,
        headBranch: branch,
        conclusion: "success",
        app,
        pullRequests: [{ number: 8, headRef: branch, headSha: sha, baseRef: "main" }],
        sender: { login: emulator.botLogin, type: "Bot" },
      });
    // The bot login is known (read once per process) before counting.
    await scenario.afk.coordinator.botLogin();
    const before = emulator.requests.length;
    await scenario.afk.deliver("check_suite", suite({ id: emulator.appId, slug: emulator.appSlug }));
    await scenario.afk.idle();
    expect(emulator.requests.slice(before)).toEqual([]);
    await scenario.afk.deliver("check_suite", suite(ACTIONS));
    await scenario.afk.idle();
    // Another app's CI on afk's branch is looked at: the issue's progress comment says whether a run waits on it.
    expect(emulator.requests.slice(before).some((request) => request.path.endsWith("/issues/7/comments"))).toBe(true);
  });
});
