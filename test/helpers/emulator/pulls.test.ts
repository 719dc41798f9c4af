import { commitToBareRepo } from "../git-http-server.js";
import { describe, expect, it } from "vitest";
import { failure, FULL, gitBacking, INSTALLATION, installationOctokit, MATH, OWNER, REPO, useEmulator } from "./test-kit.js";

const current = useEmulator();

describe("pull requests and reviews", () => {
  it("keeps a pull request on its branch's head as pushes land, reports its node id, and merges it", async () => {
    const emulator = current();
    const { gitDir, mainSha, featureSha } = gitBacking(emulator);
    const octokit = await installationOctokit(emulator);
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
    const emulator = current();
    const { featureSha } = gitBacking(emulator);
    const octokit = await installationOctokit(emulator);
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
    const readOnly = await installationOctokit(emulator, INSTALLATION, { permissions: { metadata: "read", pull_requests: "read" } });
    expect((await readOnly.rest.pulls.listReviews({ owner: OWNER, repo: REPO, pull_number: pull.number })).data).toHaveLength(3);
    expect(
      (await failure(readOnly.rest.pulls.createReplyForReviewComment({ owner: OWNER, repo: REPO, pull_number: pull.number, comment_id: first, body: "no" })))
        .status,
    ).toBe(403);
  });
});
