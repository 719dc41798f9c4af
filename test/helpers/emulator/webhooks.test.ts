import { Probot } from "probot";
import { describe, expect, it } from "vitest";
import { validateWebhook } from "../openapi-validator.js";
import {
  checkRunCompletedPayload,
  checkRunPayload,
  checkSuiteCompletedPayload,
  examplePayload,
  issueCommentCreatedPayload,
  issuesLabeledPayload,
  pullRequestClosedPayload,
  pullRequestReviewSubmittedPayload,
  pullRequestSynchronizePayload,
  statusPayload,
} from "../webhook-payloads.js";
import { draftPullWithoutGit, FULL, gitBacking, INSTALLATION, installationOctokit, OWNER, REPO, useEmulator } from "./test-kit.js";
import { probotReceiver, type WebhookDelivery } from "./webhooks.js";

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

describe("webhook-payloads, built by the emulator", () => {
  it("builds pull_request.closed from a fork, and check_run button presses, from a scratch emulator", () => {
    const target = { owner: OWNER, repo: REPO, installationId: INSTALLATION };
    const sha = "d".repeat(40);
    const author = { login: "afk[bot]", type: "Bot" as const };
    const fork = pullRequestClosedPayload({
      ...target,
      pull: { number: 5, head: "afk/3-x", headSha: sha, merged: true, author, fromFork: true },
      sender: { login: "ada" },
    });
    expect(fork).toMatchObject({
      action: "closed",
      number: 5,
      pull_request: { state: "closed", merged: true, merged_by: { login: "ada" }, user: { login: "afk[bot]", type: "Bot" }, head: { ref: "afk/3-x", sha } },
      repository: { full_name: FULL },
    });
    expect(fork.pull_request).toMatchObject({ head: { repo: { full_name: `someone-else/${REPO}` } }, base: { repo: { full_name: FULL } } });
    const same = pullRequestClosedPayload({ ...target, pull: { number: 5, head: "afk/3-x", headSha: sha, merged: false, author }, sender: { login: "ada" } });
    expect(same.pull_request).toMatchObject({ state: "closed", merged: false, merged_by: null, head: { repo: { full_name: FULL } } });

    const pressed = checkRunPayload(
      { ...target, checkRun: { id: 61, headSha: sha, headBranch: "afk/3-x", appSlug: "afk" }, sender: { login: "wes" } },
      "requested_action",
      "afk-stop",
    );
    expect(pressed).toMatchObject({
      action: "requested_action",
      requested_action: { identifier: "afk-stop" },
      check_run: { id: 61, name: "afk", head_sha: sha, app: { slug: "afk" }, check_suite: { head_branch: "afk/3-x", head_sha: sha } },
    });
    const rerun = checkRunPayload(
      { ...target, checkRun: { id: 62, headSha: sha, headBranch: "afk/3-x", appSlug: "other-app" }, sender: { login: "wes" } },
      "rerequested",
    );
    expect(rerun).toMatchObject({ action: "rerequested", check_run: { id: 62, app: { slug: "other-app" } } });
    expect("requested_action" in rerun).toBe(false);
  });
});

describe("emulator.deliver", () => {
  const current = useEmulator();

  it("builds issues.labeled from the issue as the emulator holds it: the JSON its REST API answers, checked against GitHub's schema", async () => {
    const emulator = current();
    emulator.addUser("alice");
    emulator.addIssue(FULL, { title: "Add a flag", body: "Please.", labels: ["bug"], user: "alice" });
    emulator.seedLabels(FULL, 1, ["afk"]);
    const delivery = await emulator.deliver("issues", "labeled", { repo: FULL, issue: 1, label: "afk", sender: "alice" });
    expect(delivery.name).toBe("issues");
    expect(delivery.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(delivery.payload).toMatchObject({
      action: "labeled",
      label: { name: "afk" },
      sender: { login: "alice", type: "User" },
      installation: { id: INSTALLATION },
      repository: { full_name: FULL, html_url: `${emulator.webUrl}/${FULL}` },
      organization: { login: OWNER },
    });
    expect(delivery.payload.issue).toEqual(emulator.issue(FULL, 1));
    expect(emulator.labels(FULL, 1)).toEqual(["bug", "afk"]);
    // The builders for tests without an emulator shape the same objects (on github.com's hosts).
    const built = issuesLabeledPayload({
      owner: OWNER,
      repo: REPO,
      installationId: INSTALLATION,
      issue: { number: 1, labels: ["bug"] },
      label: "afk",
      sender: { login: "alice" },
    });
    expect(Object.keys(built.issue).sort()).toEqual(Object.keys(emulator.issue(FULL, 1)).sort());
    expect(Object.keys(built).sort()).toEqual(Object.keys(delivery.payload).sort());

    // The other issue events read the issue as it is when they are delivered.
    emulator.setIssueState(FULL, 1, "closed");
    expect((await emulator.deliver("issues", "closed", { repo: FULL, issue: 1, sender: "alice" })).payload).toMatchObject({
      action: "closed",
      issue: { state: "closed" },
    });
    emulator.setIssueState(FULL, 1, "open");
    expect((await emulator.deliver("issues", "reopened", { repo: FULL, issue: 1, sender: "alice" })).payload).toMatchObject({ issue: { state: "open" } });
    await (await installationOctokit(emulator)).rest.issues.removeLabel({ owner: OWNER, repo: REPO, issue_number: 1, name: "bug" });
    const unlabeled = await emulator.deliver("issues", "unlabeled", { repo: FULL, issue: 1, label: "bug", sender: "alice" });
    expect(unlabeled.payload).toMatchObject({ action: "unlabeled", label: { name: "bug" }, issue: { labels: [{ name: "afk" }] } });
  });

  it("hands each delivery to the configured receiver: here Probot's webhooks, verifying its signature as Probot's server does", async () => {
    const emulator = current();
    emulator.addIssue(FULL, { title: "Stop it" });
    const comment = emulator.addComment(FULL, 1, { body: "/afk stop", user: "wes" });
    const probot = await new Probot({ githubToken: "unused", secret: "s3cret", logLevel: "fatal" }).ready();
    const seen: Array<{ id: string; name: string; body: string | undefined; login: string }> = [];
    probot.webhooks.on("issue_comment.created", ({ id, name, payload }) => {
      seen.push({ id, name, body: payload.comment.body, login: payload.sender.login });
    });
    emulator.webhookReceiver = probotReceiver(probot.webhooks);
    const delivery = await emulator.deliver("issue_comment", "created", { repo: FULL, comment: comment.id });
    expect(seen).toEqual([{ id: delivery.id, name: "issue_comment", body: "/afk stop", login: "wes" }]);
    expect(delivery.payload).toMatchObject({ comment: { id: comment.id, user: { login: "wes" } }, issue: { number: 1 } });

    const wrongSecret = await new Probot({ githubToken: "unused", secret: "other", logLevel: "fatal" }).ready();
    const signedElsewhere = probotReceiver({
      sign: (payload) => wrongSecret.webhooks.sign(payload),
      verifyAndReceive: (event) => probot.webhooks.verifyAndReceive(event),
    });
    emulator.webhookReceiver = signedElsewhere;
    await expect(emulator.deliver("issue_comment", "created", { repo: FULL, comment: comment.id })).rejects.toThrow(/signature does not match/);
    expect(seen).toHaveLength(1);
  });

  it("builds every event afk handles from the emulator's state: pull requests, reviews, check runs and suites, statuses", async () => {
    const emulator = current();
    const { featureSha } = gitBacking(emulator);
    const octokit = await installationOctokit(emulator);
    const { data: pull } = await octokit.rest.pulls.create({ owner: OWNER, repo: REPO, head: "feature", base: "main", title: "Change add", draft: true });
    const payloads: WebhookDelivery[] = [];
    emulator.webhookReceiver = async (delivery) => {
      payloads.push(delivery);
    };

    const sync = await emulator.deliver("pull_request", "synchronize", { repo: FULL, pull: pull.number, before: "a".repeat(40), sender: emulator.botLogin });
    expect(sync.payload).toMatchObject({
      action: "synchronize",
      number: pull.number,
      before: "a".repeat(40),
      after: featureSha,
      pull_request: { draft: true, head: { sha: featureSha } },
    });
    expect(sync.payload.sender).toMatchObject({ login: emulator.botLogin, type: "Bot" });

    emulator.setPermission(FULL, "rita", "write");
    const { review } = emulator.submitReview(FULL, pull.number, { user: "rita", state: "CHANGES_REQUESTED", body: "Rename it" });
    const reviewed = await emulator.deliver("pull_request_review", "submitted", { repo: FULL, pull: pull.number, review: review.id });
    expect(reviewed.payload).toMatchObject({
      review: { id: review.id, state: "changes_requested", author_association: "COLLABORATOR", commit_id: featureSha },
      sender: { login: "rita" },
    });

    const failed = emulator.addForeignCheckRun(FULL, { headSha: featureSha, name: "test", appSlug: "github-actions", conclusion: "failure" });
    emulator.addForeignCheckRun(FULL, { headSha: featureSha, name: "lint", appSlug: "github-actions", conclusion: "success" });
    const run = await emulator.deliver("check_run", "completed", { repo: FULL, checkRun: failed.id, sender: "github-actions[bot]" });
    expect(run.payload).toMatchObject({
      check_run: {
        id: failed.id,
        conclusion: "failure",
        check_suite: { id: failed.check_suite.id, head_branch: "feature", conclusion: "failure" },
        pull_requests: [{ number: pull.number }],
      },
    });
    const suite = await emulator.deliver("check_suite", "completed", { repo: FULL, headSha: featureSha, app: "github-actions", sender: "github-actions[bot]" });
    expect(suite.payload).toMatchObject({
      check_suite: {
        head_sha: featureSha,
        head_branch: "feature",
        status: "completed",
        conclusion: "failure",
        latest_check_runs_count: 2,
        head_commit: { message: "Change add" },
      },
    });

    emulator.setCommitStatus(FULL, featureSha, { context: "ci/jenkins", state: "success", creator: "jenkins-bot" });
    const status = await emulator.deliver("status", null, { repo: FULL, sha: featureSha, context: "ci/jenkins" });
    expect(status.payload).toMatchObject({
      sha: featureSha,
      state: "success",
      context: "ci/jenkins",
      branches: [{ name: "feature" }],
      sender: { login: "jenkins-bot" },
    });
    expect("action" in status.payload).toBe(false);

    const ours = await octokit.rest.checks.create({ owner: OWNER, repo: REPO, name: "afk", head_sha: featureSha, status: "in_progress" });
    const pressed = await emulator.deliver("check_run", "requested_action", { repo: FULL, checkRun: ours.data.id, identifier: "afk-stop", sender: "rita" });
    expect(pressed.payload).toMatchObject({
      requested_action: { identifier: "afk-stop" },
      check_run: { app: { slug: "afk" }, check_suite: { head_branch: "feature" } },
    });

    emulator.mergePull(FULL, pull.number, "rita");
    const closed = await emulator.deliver("pull_request", "closed", { repo: FULL, pull: pull.number, sender: "rita" });
    expect(closed.payload).toMatchObject({ pull_request: { state: "closed", merged: true, merged_by: { login: "rita" }, head: { sha: featureSha } } });
    expect(payloads.map((delivery) => delivery.name)).toEqual([
      "pull_request",
      "pull_request_review",
      "check_run",
      "check_suite",
      "status",
      "check_run",
      "pull_request",
    ]);
  });

  it("refuses to build a payload about what the emulator does not hold, and only sends payloads GitHub's schema accepts", async () => {
    const emulator = current();
    await expect(emulator.deliver("issues", "closed", { repo: FULL, issue: 9, sender: "alice" })).rejects.toThrow(/no issue #9/);
    const pull = await draftPullWithoutGit(emulator, await installationOctokit(emulator));
    await expect(emulator.deliver("pull_request_review", "submitted", { repo: FULL, pull: pull.number, review: 1 })).rejects.toThrow(/no review 1/);
    await expect(emulator.deliver("check_suite", "completed", { repo: FULL, headSha: "e".repeat(40), app: "github-actions", sender: "x" })).rejects.toThrow(
      /no check suite/,
    );
    // The check every payload passes before it leaves: a payload that breaks GitHub's schema is refused, with why.
    const good = await emulator.deliver("pull_request", "opened", { repo: FULL, pull: pull.number, sender: "alice" });
    expect(validateWebhook("pull_request", "opened", good.payload)).toEqual({ ok: true });
    const broken = { ...good.payload, number: "one" };
    expect(validateWebhook("pull_request", "opened", broken)).toMatchObject({ ok: false, error: expect.stringMatching(/payload\/number must be integer/) });
  });
});
