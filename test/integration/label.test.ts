import { describe, expect, it } from "vitest";
import { decodeStateMarker } from "../../src/lifecycle/run-state.js";
import { FULL_NAME, useScenario } from "../helpers/scenario.js";

const start = useScenario();

describe("a trusted label", () => {
  it("gets 👀, one progress comment edited in place, and an honest 'no executor' failure; lock released, labels cleaned", async () => {
    const scenario = await start();
    const { github } = scenario;
    const issue = scenario.issue();
    await scenario.label(issue, "wes-write");

    expect(github.reactions(FULL_NAME, issue).map((reaction) => [reaction.content, reaction.user?.login])).toEqual([["eyes", github.botLogin]]);
    const comments = scenario.afkComments(issue);
    expect(comments).toHaveLength(1);
    const body = comments[0] ?? "";
    expect(body).toContain("### ❌ afk's run failed");
    expect(body).toContain("ANTHROPIC_API_KEY is not set");
    expect(body).toContain("- [x] Queued");
    expect(body).toContain("[configuration](https://github.com/octo-org/app/blob/HEAD/.github/afk.yml)");
    const decoded = decodeStateMarker(body);
    expect(decoded.kind === "state" && decoded.state).toMatchObject({
      status: "failed",
      issue,
      trigger: { actor: "wes-write", source: "label" },
      replica: "replica-test",
    });

    // The comment was created once and then edited: started, then settled.
    const created = github.requests.filter((request) => request.method === "POST" && request.path.endsWith(`/issues/${issue}/comments`));
    const edited = github.requests.filter((request) => request.method === "PATCH" && request.path.includes("/issues/comments/"));
    expect(created).toHaveLength(1);
    expect(edited.length).toBeGreaterThanOrEqual(2);
    const bodies = edited.map((request) =>
      typeof request.body === "object" && request.body !== null && "body" in request.body ? String(request.body.body) : "",
    );
    expect(bodies.some((text) => text.includes("### 🤖 afk picked this up"))).toBe(true);

    // The in-progress label was set during the run and both labels are gone after it.
    expect(github.requests.some((request) => request.method === "POST" && request.path.endsWith(`/issues/${issue}/labels`))).toBe(true);
    expect(github.labels(FULL_NAME, issue)).toEqual([]);

    // The lock ref exists and says free.
    const lockSha = github.ref(FULL_NAME, "refs/afk/lock");
    expect(lockSha).toBeDefined();
    expect(github.commit(FULL_NAME, lockSha ?? "")?.message).toMatch(/^afk lock: free since/);
  });

  it("ignores other labels and issues that are closed", async () => {
    const scenario = await start();
    const issue = scenario.issue();
    await scenario.label(issue, "wes-write", { label: "bug" });
    expect(scenario.afkComments(issue)).toEqual([]);
    scenario.github.setIssueState(FULL_NAME, issue, "closed");
    await scenario.label(issue, "wes-write");
    expect(scenario.afkComments(issue)).toEqual([]);
    expect(scenario.github.reactions(FULL_NAME, issue)).toEqual([]);
  });

  it("uses the trigger label the repository configured", async () => {
    const scenario = await start({ config: "test: make test\nlabels:\n  trigger: afk\n" });
    const issue = scenario.issue();
    await scenario.label(issue, "wes-write");
    expect(scenario.afkComments(issue)).toEqual([]);
    await scenario.label(issue, "wes-write", { label: "afk" });
    expect(scenario.afkComments(issue)).toHaveLength(1);
  });

  it("acts once on a redelivered webhook", async () => {
    const scenario = await start();
    const issue = scenario.issue();
    await scenario.label(issue, "wes-write", { deliveryId: "same-delivery" });
    const requestsAfterFirst = scenario.github.requests.filter((request) => request.method !== "GET").length;
    await scenario.label(issue, "wes-write", { deliveryId: "same-delivery" });
    const writes = scenario.github.requests.filter((request) => request.method !== "GET");
    // The label is re-added by the test itself (not a request); afk writes nothing for the redelivery.
    expect(writes.length).toBe(requestsAfterFirst);
    expect(scenario.afkComments(issue)).toHaveLength(1);
  });
});
