import { describe, expect, it } from "vitest";
import {
  checkRunCompletedPayload,
  checkSuiteCompletedPayload,
  examplePayload,
  issueCommentCreatedPayload,
  issuesLabeledPayload,
  pullRequestReviewSubmittedPayload,
  pullRequestSynchronizePayload,
  statusPayload,
} from "../webhook-payloads.js";
import { FULL, INSTALLATION, OWNER, REPO } from "./test-kit.js";

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
