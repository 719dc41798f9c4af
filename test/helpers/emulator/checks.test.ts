import { Octokit } from "@octokit/rest";
import { loopbackFetch } from "./loopback-fetch.js";
import { describe, expect, it } from "vitest";
import { failure, FULL, INSTALLATION, installationOctokit, installationToken, OWNER, quiet, REPO, useEmulator } from "./test-kit.js";

const current = useEmulator();

describe("check runs, suites, statuses and job logs", () => {
  it("creates and completes check runs on existing commits only", async () => {
    const emulator = current();
    const octokit = await installationOctokit(emulator);
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

  it("lists afk's and other Apps' check runs for a sha or a branch, with GitHub's filters, and rolls them into suites", async () => {
    const emulator = current();
    const octokit = await installationOctokit(emulator);
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
    const noChecks = await installationOctokit(emulator, INSTALLATION, { permissions: { metadata: "read", issues: "write" } });
    expect((await failure(noChecks.rest.checks.listForRef({ owner: OWNER, repo: REPO, ref: "main" }))).status).toBe(403);
    expect((await failure(noChecks.rest.checks.listSuitesForRef({ owner: OWNER, repo: REPO, ref: "main" }))).status).toBe(403);
  });

  it("answers commit statuses: the combined state of each context's newest status, and the full history", async () => {
    const emulator = current();
    const octokit = await installationOctokit(emulator);
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
    const noStatuses = await installationOctokit(emulator, INSTALLATION, { permissions: { metadata: "read", checks: "read" } });
    expect((await failure(noStatuses.rest.repos.getCombinedStatusForRef({ owner: OWNER, repo: REPO, ref: "main" }))).status).toBe(403);
    expect((await failure(noStatuses.rest.repos.listCommitStatusesForRef({ owner: OWNER, repo: REPO, ref: "main" }))).status).toBe(403);
  });

  it("redirects an Actions job's logs to a plain-text download that Octokit follows", async () => {
    const emulator = current();
    const octokit = await installationOctokit(emulator);
    const head = emulator.ref(FULL, "heads/main") ?? "";
    const job = emulator.addForeignCheckRun(FULL, { headSha: head, name: "test", appSlug: "github-actions", conclusion: "failure" });
    const log = "2026-01-01T00:00:00.0000000Z npm test\n2026-01-01T00:00:01.0000000Z Error: expected 5, got 4\n";
    emulator.setJobLog(FULL, job.id, log);

    const followed = await octokit.rest.actions.downloadJobLogsForWorkflowRun({ owner: OWNER, repo: REPO, job_id: job.id });
    expect(followed.status).toBe(200);
    expect(followed.data).toBe(log);
    // Octokit without a custom fetch (as Probot runs it) follows the redirect too.
    const plain = new Octokit({ baseUrl: emulator.apiUrl, auth: await installationToken(emulator), log: quiet });
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
    const noActions = await installationOctokit(emulator, INSTALLATION, { permissions: { metadata: "read", checks: "read" } });
    expect((await failure(noActions.rest.actions.downloadJobLogsForWorkflowRun({ owner: OWNER, repo: REPO, job_id: job.id }))).status).toBe(403);
  });
});
