import { describe, expect, it } from "vitest";
import { failure, FULL, installationOctokit, OWNER, REPO, useEmulator } from "./test-kit.js";

const current = useEmulator();

describe("issues, comments, reactions and labels", () => {
  it("authors comments and reactions as the App's bot", async () => {
    const emulator = current();
    const seeded = emulator.addIssue(FULL, { title: "Do it", body: "please", labels: ["afk"], user: "alice" });
    expect(seeded.number).toBe(1);
    const octokit = await installationOctokit(emulator);
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
    const emulator = current();
    emulator.addIssue(FULL, { title: "One", labels: ["afk"] });
    emulator.addIssue(FULL, { title: "Two", labels: ["afk", "bug"] });
    emulator.addIssue(FULL, { title: "Three", state: "closed", labels: ["afk"] });
    emulator.addBlockedBy(FULL, 2, 1);
    emulator.addBlockedBy(FULL, 2, 3);
    const octokit = await installationOctokit(emulator);

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
});
