import { describe, expect, it } from "vitest";
import { refusalMarker } from "../../src/trust/refusal-throttle.js";
import { FULL_NAME, useScenario, type Scenario } from "../helpers/scenario.js";

// The attacker: an outsider who writes `/afk run` again and again, to make afk fill the thread with
// refusals and spend the installation's rate limit on them.

const start = useScenario();

/** afk's clock, moved by the test; GitHub (the emulator) keeps the real time. */
function movableClock(): { now: () => Date; advance: (ms: number) => void } {
  let offset = 0;
  return { now: () => new Date(Date.now() + offset), advance: (ms) => void (offset += ms) };
}

function refusalsTo(scenario: Scenario, issue: number, login: string): string[] {
  return scenario.afkComments(issue).filter((body) => body.startsWith(`@${login} afk did not run`));
}

/** Comments afk posted on the issue, deleted ones included: each one notified people. */
function commentsPosted(scenario: Scenario, issue: number): number {
  return scenario.github.requests.filter((request) => request.method === "POST" && request.path === `/repos/${FULL_NAME}/issues/${issue}/comments`).length;
}

describe("refusals to untrusted people", () => {
  it("three /afk run by an outsider within a minute get one refusal; another outsider still gets theirs; an hour later a new one", async () => {
    const clock = movableClock();
    const scenario = await start({ now: clock.now });
    const issue = scenario.issue();
    await scenario.comment(issue, "outsider", "/afk run");
    clock.advance(20_000);
    await scenario.comment(issue, "outsider", "/afk run");
    clock.advance(20_000);
    await scenario.comment(issue, "outsider", "/afk run");
    expect(refusalsTo(scenario, issue, "outsider")).toHaveLength(1);
    expect(refusalsTo(scenario, issue, "outsider")[0]).toContain(refusalMarker("outsider"));
    // Silence, not a comment posted and taken back: nobody was notified twice.
    expect(commentsPosted(scenario, issue)).toBe(1);

    await scenario.comment(issue, "rex-read", "/afk run");
    expect(refusalsTo(scenario, issue, "rex-read")).toHaveLength(1);
    expect(refusalsTo(scenario, issue, "outsider")).toHaveLength(1);

    // 58 minutes 40 seconds after the refusal: still quiet.
    clock.advance(58 * 60_000);
    await scenario.comment(issue, "outsider", "/afk retry");
    expect(refusalsTo(scenario, issue, "outsider")).toHaveLength(1);

    // Over an hour after it: a new one.
    clock.advance(2 * 60_000);
    await scenario.comment(issue, "outsider", "/afk run");
    expect(refusalsTo(scenario, issue, "outsider")).toHaveLength(2);
    expect(scenario.afkComments(issue)).toHaveLength(3);
    expect(commentsPosted(scenario, issue)).toBe(3);
  });

  it("refuses once even when the commands arrive together, and each issue gets its own refusal", async () => {
    const scenario = await start();
    const issue = scenario.issue();
    const other = scenario.issue();
    await Promise.all(Array.from({ length: 4 }, () => scenario.comment(issue, "outsider", "/afk run", { wait: false })));
    await scenario.comment(other, "outsider", "/afk run", { wait: false });
    await scenario.afk.idle();
    expect(refusalsTo(scenario, issue, "outsider")).toHaveLength(1);
    expect(refusalsTo(scenario, other, "outsider")).toHaveLength(1);
  });

  it("a refusal marker written by someone else does not silence afk", async () => {
    const scenario = await start();
    const issue = scenario.issue();
    scenario.github.addComment(FULL_NAME, issue, { body: `hello\n\n${refusalMarker("outsider")}`, user: "outsider" });
    await scenario.comment(issue, "outsider", "/afk run");
    expect(refusalsTo(scenario, issue, "outsider")).toHaveLength(1);
  });
});
