import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseRepoConfig } from "../../src/config/load-repo-config.js";
import type { RunOutcome } from "../../src/run-contract/executor.js";
import { CI_PENDING_RECHECK_MINUTES, decide, watchesCiOn, type Effect, type LifecycleEvent, type LifecyclePolicy } from "../../src/lifecycle/lifecycle.js";
import type { CiVerdict } from "../../src/github/ci-verdict.js";
import type { RunState } from "../../src/lifecycle/run-state.js";
import { startedState } from "../../src/lifecycle/transitions.js";
import { newHolder } from "../../src/lock/lock-record.js";

function policyOf(yaml: Record<string, unknown> = {}): LifecyclePolicy {
  const parsed = parseRepoConfig({ test: "npm test", ...yaml });
  if (parsed.kind !== "ok") throw new Error("bad test config");
  return parsed.config;
}

const POLICY = policyOf();
const T0 = Date.parse("2026-11-24T10:00:00.000Z");
const at = (minutes: number) => new Date(T0 + minutes * 60_000);
const HEADS = ["a".repeat(40), "b".repeat(40), "c".repeat(40), "d".repeat(40)] as const;
const PR = { number: 7, url: "https://github.com/o/r/pull/7", draft: true };

const running: RunState = startedState(
  {
    v: 1,
    runId: "r-1",
    issue: 3,
    status: "queued",
    phase: "queued",
    trigger: { actor: "ada", source: "label", at: at(0).toISOString() },
    deliveries: [],
    job: "implement",
    loop: { fixAttempts: 0, reviewCycles: 0 },
  },
  "replica-a",
  at(0),
);

const pushed = (head: string): RunOutcome => ({ status: "waiting", message: "pushed", headSha: head, pullRequest: PR, branch: "afk/3-x" });
const REMOTE = { runnerRepo: "ops/afk-runner", workflowRunId: 4242, baseSha: "b".repeat(40) };
const dispatched: RunOutcome = { status: "dispatched", message: "The job runs as workflow run 4242 of ops/afk-runner.", remote: REMOTE };

/** Whether the run holds the lock after `effects`: a release must free a lock it held. */
function lockAfter(held: boolean, effects: readonly Effect[]): boolean {
  if (!effects.some((effect) => effect.kind === "release-lock")) return held;
  expect(held, "released a lock it did not hold").toBe(true);
  return false;
}

function kinds(effects: Effect[]): string[] {
  return effects.map((effect) => effect.kind);
}

describe("the run lifecycle (pure)", () => {
  it("a pushed change waits for CI with the lock released, reads CI already reported on it, and schedules the end of the no-CI grace period", () => {
    const { state, effects } = decide(running, { kind: "job-finished", outcome: pushed(HEADS[0]) }, POLICY, at(5));
    expect(state).toMatchObject({ status: "waiting", phase: "ci", ci: { head: HEADS[0], pushedAt: at(5).toISOString() }, pullRequest: PR });
    expect(effects).toEqual([
      { kind: "release-lock" },
      { kind: "remove-labels", labels: ["in_progress", "trigger"] },
      { kind: "read-ci", head: HEADS[0] },
      { kind: "recheck-ci", head: HEADS[0], at: at(7).toISOString() },
      { kind: "dispatch" },
    ]);
  });

  it("green CI marks the draft ready and asks the requester for review", () => {
    const waiting = decide(running, { kind: "job-finished", outcome: pushed(HEADS[0]) }, POLICY, at(5)).state;
    const { state, effects } = decide(waiting, { kind: "ci", head: HEADS[0], verdict: { kind: "green" } }, POLICY, at(9));
    expect(state).toMatchObject({ status: "waiting", phase: "review", pullRequest: { draft: false } });
    expect(effects).toEqual([{ kind: "mark-ready-for-review" }, { kind: "request-review", reviewer: "ada" }]);
  });

  it("direct mode: green CI on afk's commit on the default branch ends the run and closes the issue; red CI is judged against the commit afk started from", () => {
    const direct = policyOf({ mode: "direct" });
    const onMain: RunOutcome = { status: "waiting", message: "pushed", headSha: HEADS[1], baseSha: HEADS[0], branch: "main" };
    const waiting = decide(running, { kind: "job-finished", outcome: onMain }, direct, at(5)).state;
    expect(waiting).toMatchObject({ status: "waiting", phase: "ci", branch: "main", ci: { head: HEADS[1], base: HEADS[0] } });
    const red = decide(waiting, { kind: "ci", head: HEADS[1], verdict: { kind: "red", failing: ["build"], redOnBase: [] } }, direct, at(6)).state;
    expect(red).toMatchObject({ status: "queued", job: "fix-ci", ci: { head: HEADS[1], base: HEADS[0] } });
    const fixed = decide(
      startedState(red, "replica-a", at(6)),
      { kind: "job-finished", outcome: { status: "waiting", message: "fixed", headSha: HEADS[2], branch: "main" } },
      direct,
      at(8),
    ).state;
    expect(fixed.ci).toMatchObject({ head: HEADS[2], base: HEADS[0] });
    const { state, effects } = decide(fixed, { kind: "ci", head: HEADS[2], verdict: { kind: "green" } }, direct, at(9));
    expect(state).toMatchObject({ status: "done", phase: "merged", endedAt: at(9).toISOString() });
    expect(state.outcome?.message).toContain("The change is on `main`.");
    expect(effects).toEqual([{ kind: "remove-labels", labels: ["human"] }, { kind: "close-issue" }]);
  });

  it("a person's push while waiting moves the awaited head; in review it is only recorded; during a job it changes nothing", () => {
    const waiting = decide(running, { kind: "job-finished", outcome: pushed(HEADS[0]) }, POLICY, at(5)).state;
    const pushedByPerson = decide(waiting, { kind: "pushed", number: PR.number, head: HEADS[1], by: "max" }, POLICY, at(6));
    expect(pushedByPerson.state).toMatchObject({ status: "waiting", phase: "ci", ci: { head: HEADS[1], pushedAt: at(6).toISOString() } });
    expect(pushedByPerson.effects).toEqual([
      { kind: "read-ci", head: HEADS[1] },
      { kind: "recheck-ci", head: HEADS[1], at: at(8).toISOString() },
    ]);
    expect(
      decide(pushedByPerson.state, { kind: "ci", head: HEADS[0], verdict: { kind: "red", failing: ["x"], redOnBase: [] } }, POLICY, at(7)).ignored,
    ).toBeDefined();

    const inReview = decide(pushedByPerson.state, { kind: "ci", head: HEADS[1], verdict: { kind: "green" } }, POLICY, at(7)).state;
    const later = decide(inReview, { kind: "pushed", number: PR.number, head: HEADS[2], by: "max" }, POLICY, at(8));
    expect(later.state).toMatchObject({ phase: "review", ci: { head: HEADS[2] } });
    expect(later.effects).toEqual([]);
    // The person's commit is theirs and their reviewers': CI on it, red or green, moves nothing.
    expect(later.state.ci?.passed).toBeUndefined();
    expect(decide(later.state, { kind: "ci", head: HEADS[2], verdict: { kind: "red", failing: ["x"], redOnBase: [] } }, POLICY, at(9)).ignored).toBeDefined();

    expect(decide(running, { kind: "pushed", number: PR.number, head: HEADS[2], by: "max" }, POLICY, at(8)).ignored).toBeDefined();
    expect(decide(waiting, { kind: "pushed", number: PR.number + 1, head: HEADS[2], by: "max" }, POLICY, at(8)).ignored).toBeDefined();
  });

  it("a plan approved as sub-issues waits on them and closes once none is open; a finished sub-issue reports to its parent", () => {
    const planned = decide(
      startedState({ ...running, status: "queued", job: "plan" }, "replica-a", at(0)),
      { kind: "job-finished", outcome: { status: "planned", message: "plan", planCommentId: 9 } },
      POLICY,
      at(1),
    ).state;
    const split = decide(planned, { kind: "approve", by: "max", subIssues: [11, 12] }, POLICY, at(2));
    expect(split.state).toMatchObject({ status: "waiting", split: { issues: [11, 12] }, plan: { approvedBy: "max" } });
    expect(split.effects).toEqual([{ kind: "remove-labels", labels: ["plan_review"] }]);
    expect(decide(split.state, { kind: "approve", by: "max" }, POLICY, at(3)).ignored).toBeDefined();
    const one = decide(split.state, { kind: "sub-issue-closed", issue: 11, stillOpen: [12] }, POLICY, at(4));
    expect(one.state.status).toBe("waiting");
    expect(one.effects).toEqual([]);
    const all = decide(one.state, { kind: "sub-issue-closed", issue: 12, stillOpen: [] }, POLICY, at(5));
    expect(all.state).toMatchObject({ status: "done", endedAt: at(5).toISOString() });
    expect(kinds(all.effects)).toEqual(["remove-labels", "close-issue"]);
    expect(decide(all.state, { kind: "sub-issue-closed", issue: 12, stillOpen: [] }, POLICY, at(6)).ignored).toBeDefined();

    const step = decide(running, { kind: "job-finished", outcome: pushed(HEADS[0]) }, POLICY, at(1)).state;
    const merged = decide({ ...step, parent: 3 }, { kind: "pull-request-closed", number: PR.number, merged: true, by: "ada" }, POLICY, at(2));
    expect(merged.effects).toContainEqual({ kind: "report-to-parent", parent: 3 });
    expect(
      decide(step, { kind: "pull-request-closed", number: PR.number, merged: true, by: "ada" }, POLICY, at(2)).effects.some(
        (effect) => effect.kind === "report-to-parent",
      ),
    ).toBe(false);
  });

  it("a review past review.max_cycles hands the pull request to a person, ending the run then", () => {
    const policy = policyOf({ review: { max_cycles: 1 } });
    const waiting = decide(running, { kind: "job-finished", outcome: pushed(HEADS[0]) }, policy, at(1)).state;
    const inReview = decide(waiting, { kind: "ci", head: HEADS[0], verdict: { kind: "green" } }, policy, at(2)).state;
    const reworkQueued = decide(
      inReview,
      { kind: "review", by: "rev", trusted: true, reviewId: 1, changesRequested: true, asksFix: false },
      policy,
      at(3),
    ).state;
    expect(reworkQueued).toMatchObject({ status: "queued", job: "rework", loop: { reviewCycles: 1 } });
    const reworked = decide(startedState(reworkQueued, "replica-a", at(3)), { kind: "job-finished", outcome: pushed(HEADS[1]) }, policy, at(4)).state;
    const green = decide(reworked, { kind: "ci", head: HEADS[1], verdict: { kind: "green" } }, policy, at(5)).state;
    const { state, effects } = decide(green, { kind: "review", by: "rev", trusted: true, reviewId: 2, changesRequested: true, asksFix: false }, policy, at(9));
    expect(state).toMatchObject({ status: "escalated", endedAt: at(9).toISOString(), loop: { reviewCycles: 1 } });
    expect(state.outcome?.message).toContain("already reworked this pull request 1 time");
    expect(effects).toEqual([
      { kind: "add-label", label: "human" },
      { kind: "comment", on: "pull-request", body: state.outcome?.message },
    ]);
  });

  it("no CI at all counts as green only once the grace period is over", () => {
    const waiting = decide(running, { kind: "job-finished", outcome: pushed(HEADS[0]) }, POLICY, at(5)).state;
    const early = decide(waiting, { kind: "ci", head: HEADS[0], verdict: { kind: "none" } }, POLICY, at(6));
    expect(early.state).toBe(waiting);
    expect(early.effects).toEqual([{ kind: "recheck-ci", head: HEADS[0], at: at(7).toISOString() }]);
    const late = decide(waiting, { kind: "ci", head: HEADS[0], verdict: { kind: "none" } }, POLICY, at(7));
    expect(late.state.phase).toBe("review");
    expect(late.state.outcome?.message).toContain("No CI reported");
  });

  it("red CI queues a fix attempt; the fifth red after five attempts hands the run to a person", () => {
    let state = decide(running, { kind: "job-finished", outcome: pushed(HEADS[0]) }, POLICY, at(1)).state;
    for (let attempt = 1; attempt <= 5; attempt += 1) {
      const head = state.ci?.head ?? "";
      const red = decide(state, { kind: "ci", head, verdict: { kind: "red", failing: ["build"], redOnBase: [] } }, POLICY, at(attempt * 2));
      expect(red.state).toMatchObject({ status: "queued", job: "fix-ci", loop: { fixAttempts: attempt } });
      expect(kinds(red.effects)).toEqual(["enqueue"]);
      const started = startedState(red.state, "replica-a", at(attempt * 2));
      state = decide(started, { kind: "job-finished", outcome: pushed(HEADS[attempt % 4] ?? HEADS[0]) }, POLICY, at(attempt * 2 + 1)).state;
    }
    const frozen = decide(state, { kind: "ci", head: state.ci?.head ?? "", verdict: { kind: "red", failing: ["build"], redOnBase: [] } }, POLICY, at(12));
    expect(frozen.state.status).toBe("escalated");
    expect(frozen.state.outcome?.message).toMatch(/after 5 fix attempts/);
    expect(frozen.effects).toContainEqual({ kind: "add-label", label: "human" });
  });

  it("stops fixing forward after fix_forward.max_minutes even with attempts left", () => {
    const waiting = decide(running, { kind: "job-finished", outcome: pushed(HEADS[0]) }, POLICY, at(1)).state;
    const first = decide(waiting, { kind: "ci", head: HEADS[0], verdict: { kind: "red", failing: ["build"], redOnBase: [] } }, POLICY, at(2)).state;
    const again = decide(startedState(first, "r", at(2)), { kind: "job-finished", outcome: pushed(HEADS[1]) }, POLICY, at(50)).state;
    const late = decide(again, { kind: "ci", head: HEADS[1], verdict: { kind: "red", failing: ["build"], redOnBase: [] } }, POLICY, at(62));
    expect(late.state.status).toBe("escalated");
    expect(late.state.outcome?.message).toMatch(/1 h 0 min of fixing forward \(`fix_forward.max_minutes` is 60\)/);
  });

  it("does not chase checks that are red on the base branch too", () => {
    const waiting = decide(running, { kind: "job-finished", outcome: pushed(HEADS[0]) }, POLICY, at(1)).state;
    const { state } = decide(waiting, { kind: "ci", head: HEADS[0], verdict: { kind: "red", failing: ["lint"], redOnBase: ["lint"] } }, POLICY, at(3));
    expect(state.phase).toBe("review");
    expect(state.loop.fixAttempts).toBe(0);
    expect(state.outcome?.message).toMatch(/red on the base branch too/);
  });

  it("ignores CI about any commit but the one afk pushed last", () => {
    const waiting = decide(running, { kind: "job-finished", outcome: pushed(HEADS[0]) }, POLICY, at(1)).state;
    const stale = decide(waiting, { kind: "ci", head: HEADS[1], verdict: { kind: "red", failing: ["build"], redOnBase: [] } }, POLICY, at(3));
    expect(stale.state).toBe(waiting);
    expect(stale.ignored).toMatch(/not on afk's latest commit/);
  });

  it("reworks on changes requested by a trusted reviewer, never for an untrusted one", () => {
    const inReview = decide(
      decide(running, { kind: "job-finished", outcome: pushed(HEADS[0]) }, POLICY, at(1)).state,
      { kind: "ci", head: HEADS[0], verdict: { kind: "green" } },
      POLICY,
      at(2),
    ).state;
    const untrusted = decide(inReview, { kind: "review", by: "mallory", trusted: false, reviewId: 9, changesRequested: true, asksFix: false }, POLICY, at(3));
    expect(untrusted.state).toBe(inReview);
    const trusted = decide(inReview, { kind: "review", by: "max", trusted: true, reviewId: 9, changesRequested: true, asksFix: false }, POLICY, at(3));
    expect(trusted.state).toMatchObject({ status: "queued", job: "rework", followUp: { by: "max", reviewId: 9 }, loop: { reviewCycles: 1 } });
    const approved = decide(inReview, { kind: "review", by: "max", trusted: true, reviewId: 10, changesRequested: false, asksFix: false }, POLICY, at(3));
    expect(approved.state).toBe(inReview);
  });

  it("after a rework, replies on the pull request with what changed and waits for CI on the new head", () => {
    const inReview = decide(
      decide(running, { kind: "job-finished", outcome: pushed(HEADS[0]) }, POLICY, at(1)).state,
      { kind: "ci", head: HEADS[0], verdict: { kind: "green" } },
      POLICY,
      at(2),
    ).state;
    const rework = startedState(decide(inReview, { kind: "fix-command", by: "max", commentId: 44 }, POLICY, at(3)).state, "r", at(3));
    const { state, effects } = decide(rework, { kind: "job-finished", outcome: { ...pushed(HEADS[1]), message: "renamed the flag" } }, POLICY, at(4));
    expect(state).toMatchObject({ status: "waiting", phase: "ci", ci: { head: HEADS[1] } });
    expect(state.followUp).toBeUndefined();
    expect(effects).toContainEqual({ kind: "comment", on: "pull-request", body: expect.stringContaining("renamed the flag") });
  });

  it("a plan waits for approval, and approval queues the implementation with the plan", () => {
    const planning = { ...running, job: "plan" as const };
    const planned = decide(planning, { kind: "job-finished", outcome: { status: "planned", message: "plan posted", planCommentId: 55 } }, POLICY, at(2));
    expect(planned.state).toMatchObject({ status: "waiting", phase: "plan", plan: { commentId: 55 } });
    expect(planned.effects).toContainEqual({ kind: "add-label", label: "plan_review" });
    const approved = decide(planned.state, { kind: "approve", by: "max" }, POLICY, at(3));
    expect(approved.state).toMatchObject({ status: "queued", job: "implement", plan: { commentId: 55, approvedBy: "max" } });
    expect(approved.effects).toEqual([{ kind: "remove-labels", labels: ["plan_review"] }, { kind: "enqueue" }]);
  });

  it("in direct mode green CI ends the run (there is no pull request)", () => {
    const direct = policyOf({ mode: "direct" });
    const waiting = decide(
      running,
      { kind: "job-finished", outcome: { status: "waiting", message: "pushed to main", headSha: HEADS[0] } },
      direct,
      at(1),
    ).state;
    const { state } = decide(waiting, { kind: "ci", head: HEADS[0], verdict: { kind: "green" } }, direct, at(2));
    expect(state.status).toBe("done");
  });

  it("records how CI let the run past: read green, no CI after the grace period, or red only where the base is red too", () => {
    const waiting = decide(running, { kind: "job-finished", outcome: pushed(HEADS[0]) }, POLICY, at(5)).state;
    expect(decide(waiting, { kind: "ci", head: HEADS[0], verdict: { kind: "green" } }, POLICY, at(6)).state.ci).toMatchObject({
      head: HEADS[0],
      passed: "green",
    });
    const noCi = decide(waiting, { kind: "ci", head: HEADS[0], verdict: { kind: "none" } }, POLICY, at(7)).state;
    expect(noCi.ci?.passed).toBe("no-ci");
    expect(noCi.outcome?.message).not.toMatch(/green/i);
    const onBase = decide(waiting, { kind: "ci", head: HEADS[0], verdict: { kind: "red", failing: ["lint"], redOnBase: ["lint"] } }, POLICY, at(6)).state;
    expect(onBase.ci?.passed).toBe("red-on-base");
  });

  it("while CI still runs, looks again in CI_PENDING_RECHECK_MINUTES, so a verdict whose webhook is lost is still read", () => {
    const waiting = decide(running, { kind: "job-finished", outcome: pushed(HEADS[0]) }, POLICY, at(5));
    expect(waiting.effects).toContainEqual({ kind: "read-ci", head: HEADS[0] });
    const pending = decide(waiting.state, { kind: "ci", head: HEADS[0], verdict: { kind: "pending" } }, POLICY, at(6));
    expect(pending.state).toBe(waiting.state);
    expect(pending.effects).toEqual([{ kind: "recheck-ci", head: HEADS[0], at: at(6 + CI_PENDING_RECHECK_MINUTES).toISOString() }]);
  });

  it("a check that turns red on the head afk counted as passing reopens the fix-forward loop; green after no CI is recorded as green", () => {
    const waiting = decide(running, { kind: "job-finished", outcome: pushed(HEADS[0]) }, POLICY, at(1)).state;
    const counted = decide(waiting, { kind: "ci", head: HEADS[0], verdict: { kind: "none" } }, POLICY, at(3)).state;
    expect(counted).toMatchObject({ status: "waiting", phase: "review", ci: { passed: "no-ci" } });
    expect(watchesCiOn(counted, HEADS[0])).toBe(true);
    expect(watchesCiOn(counted, HEADS[1])).toBe(false);

    const late = decide(counted, { kind: "ci", head: HEADS[0], verdict: { kind: "red", failing: ["e2e"], redOnBase: [] } }, POLICY, at(9));
    expect(late.state).toMatchObject({ status: "queued", job: "fix-ci", loop: { fixAttempts: 1 }, ci: { head: HEADS[0], failing: ["e2e"] } });
    expect(late.state.ci?.passed).toBeUndefined();
    expect(late.state.outcome?.message).toMatch(/turned red on aaaaaaa after afk had counted it as passing/);
    expect(late.effects).toEqual([{ kind: "enqueue" }]);

    const green = decide(counted, { kind: "ci", head: HEADS[0], verdict: { kind: "green" } }, POLICY, at(9));
    expect(green.state).toMatchObject({ status: "waiting", phase: "review", ci: { passed: "green" } });
    expect(green.effects).toEqual([]);
    // Once read green, a second green or a still-running re-run changes nothing.
    expect(decide(green.state, { kind: "ci", head: HEADS[0], verdict: { kind: "green" } }, POLICY, at(10)).ignored).toBeDefined();
    expect(decide(green.state, { kind: "ci", head: HEADS[0], verdict: { kind: "pending" } }, POLICY, at(10)).ignored).toBeDefined();
    // Red only where the base is red too stays afk's "not mine" after review began.
    expect(
      decide(green.state, { kind: "ci", head: HEADS[0], verdict: { kind: "red", failing: ["lint"], redOnBase: ["lint"] } }, POLICY, at(10)).ignored,
    ).toBeDefined();
  });

  it("a job cut short by a shutdown goes back in the queue as it was, its lock released at once; anything but a running job is left alone", () => {
    const fixing = startedState(
      decide(
        decide(running, { kind: "job-finished", outcome: pushed(HEADS[0]) }, POLICY, at(1)).state,
        { kind: "ci", head: HEADS[0], verdict: { kind: "red", failing: ["build"], redOnBase: [] } },
        POLICY,
        at(2),
      ).state,
      "replica-a",
      at(3),
    );
    const { state, effects } = decide(fixing, { kind: "handed-back", reason: "afk was shut down (SIGTERM) before the run finished." }, POLICY, at(4));
    expect(state).toMatchObject({ status: "queued", phase: "queued", job: "fix-ci", runId: fixing.runId, loop: { fixAttempts: 1 }, ci: { head: HEADS[0] } });
    expect(state.replica).toBeUndefined();
    expect(state.outcome?.message).toBe(
      "The run was interrupted: afk was shut down (SIGTERM) before the run finished. It is queued again and starts when a replica of afk is free.",
    );
    expect(effects).toEqual([{ kind: "release-lock" }, { kind: "remove-labels", labels: ["in_progress"] }, { kind: "enqueue" }]);
    const waiting = decide(running, { kind: "job-finished", outcome: pushed(HEADS[0]) }, POLICY, at(1)).state;
    expect(decide(waiting, { kind: "handed-back", reason: "x" }, POLICY, at(2)).ignored).toBeDefined();
  });

  it("a merged pull request ends the run done and closes the issue; a stop while running aborts the job", () => {
    const waiting = decide(running, { kind: "job-finished", outcome: pushed(HEADS[0]) }, POLICY, at(1)).state;
    const merged = decide(waiting, { kind: "pull-request-closed", number: 7, merged: true, by: "ada" }, POLICY, at(30));
    expect(merged.state.status).toBe("done");
    expect(kinds(merged.effects)).toEqual(["remove-labels", "close-issue", "dispatch"]);
    const stopping = decide(running, { kind: "stop", by: "ada", reason: "Stopped by @ada." }, POLICY, at(1));
    expect(stopping.state).toBe(running);
    expect(stopping.effects).toEqual([{ kind: "abort-run", reason: "Stopped by @ada." }]);
  });
});

// ---------------------------------------------------------------------------
// Properties: any sequence of events

const verdict: fc.Arbitrary<CiVerdict> = fc.oneof(
  fc.constant<CiVerdict>({ kind: "pending" }),
  fc.constant<CiVerdict>({ kind: "none" }),
  fc.constant<CiVerdict>({ kind: "green" }),
  fc
    .record({ failing: fc.subarray(["build", "lint", "e2e"], { minLength: 1 }), redOnBase: fc.subarray(["build", "lint", "e2e"]) })
    .map((red): CiVerdict => ({ kind: "red", ...red })),
);

const outcome: fc.Arbitrary<RunOutcome> = fc.oneof(
  fc.constantFrom(...HEADS).map((head) => pushed(head)),
  fc.constantFrom(...HEADS).map((head): RunOutcome => ({ status: "waiting", message: "pushed to main", headSha: head, baseSha: HEADS[3], branch: "main" })),
  fc.constant<RunOutcome>({ status: "escalated", message: "tests still fail" }),
  fc.constant<RunOutcome>({ status: "failed", message: "model down", retryable: true }),
  fc.constant<RunOutcome>({ status: "stopped", message: "stopped" }),
  fc.constant<RunOutcome>({ status: "done", message: "answered" }),
  fc.constant<RunOutcome>({ status: "planned", message: "plan", planCommentId: 5 }),
  fc.constant<RunOutcome>({ status: "dispatched", message: "runs in the runner repository", remote: REMOTE }),
);

/** An event, or `dispatch` (the shell starting a queued job under the lock), or time passing. */
type Step = { event: LifecycleEvent } | { dispatch: true } | { wait: number } | { ciOnHead: CiVerdict };

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 3, arbitrary: verdict.map((v): Step => ({ ciOnHead: v })) },
  { weight: 2, arbitrary: fc.constant<Step>({ dispatch: true }) },
  { weight: 2, arbitrary: fc.integer({ min: 1, max: 30 }).map((minutes): Step => ({ wait: minutes })) },
  {
    weight: 3,
    arbitrary: fc
      .oneof(
        outcome.map((o): LifecycleEvent => ({ kind: "job-finished", outcome: o })),
        fc.record({ head: fc.constantFrom(...HEADS), verdict }).map((e): LifecycleEvent => ({ kind: "ci", ...e })),
        fc
          .record({ trusted: fc.boolean(), changesRequested: fc.boolean(), asksFix: fc.boolean() })
          .map((r): LifecycleEvent => ({ kind: "review", by: "rev", reviewId: 1, ...r })),
        fc.constant<LifecycleEvent>({ kind: "fix-command", by: "max", commentId: 2 }),
        fc.constant<LifecycleEvent>({ kind: "approve", by: "max" }),
        fc.record({ number: fc.constantFrom(7, 8), merged: fc.boolean() }).map((c): LifecycleEvent => ({ kind: "pull-request-closed", by: "ada", ...c })),
        fc.constant<LifecycleEvent>({ kind: "stop", by: "ada", reason: "stop" }),
        fc.constant<LifecycleEvent>({ kind: "handed-back", reason: "afk was shut down (SIGTERM) before the run finished." }),
        fc.record({ number: fc.constantFrom(7, 8), head: fc.constantFrom(...HEADS) }).map((p): LifecycleEvent => ({ kind: "pushed", by: "max", ...p })),
        fc.constant<LifecycleEvent>({ kind: "approve", by: "max", subIssues: [11, 12] }),
        fc.record({ issue: fc.constantFrom(11, 12), stillOpen: fc.subarray([11, 12]) }).map((e): LifecycleEvent => ({ kind: "sub-issue-closed", ...e })),
      )
      .map((event): Step => ({ event })),
  },
);

const TERMINAL = new Set(["done", "escalated", "failed", "stopped"]);

describe("a job dispatched to afk's runner repository (ADR 0008)", () => {
  it("keeps the run running and its lock held until the job's result, which settles it as any job's outcome does", () => {
    const remote = decide(running, { kind: "job-finished", outcome: dispatched }, POLICY, at(1));
    expect(remote.state).toMatchObject({ status: "running", remote: REMOTE, outcome: { message: dispatched.message } });
    // No release, no label change; the dispatcher looks again when the lease ends (heartbeats renew it).
    expect(remote.effects).toEqual([{ kind: "dispatch" }]);
    expect(decide(remote.state, { kind: "job-finished", outcome: dispatched }, POLICY, at(2)).ignored).toMatch(/already runs as workflow run 4242/);
    const settled = decide(remote.state, { kind: "job-finished", outcome: pushed(HEADS[0]) }, POLICY, at(9));
    expect(settled.state.status).toBe("waiting");
    expect(settled.state.remote).toBeUndefined();
    expect(kinds(settled.effects)).toContain("release-lock");
  });

  it("whose heartbeats stopped is cancelled when its lease is taken back, and the issue told it was interrupted", () => {
    const remote = decide(running, { kind: "job-finished", outcome: dispatched }, POLICY, at(1)).state;
    const holder = newHolder({ issue: 3, runId: "r-1", replica: "replica-a", now: at(1), leaseSeconds: 60 });
    const { state, effects } = decide(remote, { kind: "interrupted", holder }, POLICY, at(5));
    expect(state.status).toBe("interrupted");
    expect(state.remote).toBeUndefined();
    expect(effects).toContainEqual({ kind: "cancel-workflow-run", remote: REMOTE });
  });

  it("is cancelled by /afk stop, and the run ends at once: no afk process holds it to settle it later", () => {
    const remote = decide(running, { kind: "job-finished", outcome: dispatched }, POLICY, at(1)).state;
    const { state, effects } = decide(remote, { kind: "stop", by: "ada", reason: "Stopped by @ada." }, POLICY, at(3));
    expect(state).toMatchObject({ status: "stopped", stoppedBy: "ada", outcome: { message: "Stopped by @ada.", retryable: true } });
    expect(state.remote).toBeUndefined();
    expect(kinds(effects)).toEqual(["cancel-workflow-run", "release-lock", "remove-labels", "dispatch"]);
    // A result that comes after that changes nothing.
    expect(decide(state, { kind: "job-finished", outcome: pushed(HEADS[0]) }, POLICY, at(4)).ignored).toBeDefined();
  });
});

describe("the run lifecycle, for every sequence of events (fast-check)", () => {
  it("holds the lock exactly while running, keeps attempts and cycles within their caps, and never strands a run", () => {
    const policy = policyOf({ fix_forward: { max_attempts: 3, max_minutes: 45 }, review: { max_cycles: 2 } });
    fc.assert(
      fc.property(fc.array(step, { maxLength: 60 }), (steps) => {
        let state = running;
        let lockHeld = true;
        let minutes = 0;
        let terminalSince: RunState | undefined;
        for (const next of steps) {
          if ("wait" in next) {
            minutes += next.wait;
            continue;
          }
          if ("dispatch" in next) {
            if (state.status === "queued") {
              expect(lockHeld).toBe(false);
              state = startedState(state, "replica-a", at(minutes));
              lockHeld = true;
            }
            continue;
          }
          const event: LifecycleEvent = "ciOnHead" in next ? { kind: "ci", head: state.ci?.head ?? HEADS[0], verdict: next.ciOnHead } : next.event;
          const before = state;
          const transition = decide(state, event, policy, at(minutes));
          state = transition.state;
          lockHeld = lockAfter(lockHeld, transition.effects);
          // The lock is held exactly while a job runs, so no terminal or waiting state holds it.
          expect(lockHeld).toBe(state.status === "running");
          // A job in the runner repository is known only while its run runs; one that ends other than by its result is cancelled.
          if (state.status !== "running") expect(state.remote).toBeUndefined();
          if (before.remote !== undefined && state.status !== "running" && event.kind !== "job-finished")
            expect(transition.effects).toContainEqual({ kind: "cancel-workflow-run", remote: before.remote });
          expect(state.loop.fixAttempts).toBeLessThanOrEqual(policy.fix_forward.max_attempts);
          expect(state.loop.reviewCycles).toBeLessThanOrEqual(policy.review.max_cycles);
          // A run newly queued is put in the repository's queue, or it would never start.
          if (state.status === "queued" && before.status !== "queued") expect(kinds(transition.effects)).toContain("enqueue");
          // Every state is settled, or waits for something that will come: the lock, the job, CI, a review or an approval.
          if (state.status === "waiting") expect(["ci", "review", "plan"]).toContain(state.phase);
          if (state.status === "waiting" && state.phase === "ci") expect(state.ci).toBeDefined();
          // Settled runs stay settled: a new run starts only through the trust gate.
          if (terminalSince !== undefined) expect(state).toBe(terminalSince);
          if (TERMINAL.has(state.status)) terminalSince = state;
          // A run that settles in this step says it ended now (the progress comment shows the duration from it).
          if (TERMINAL.has(state.status) && !TERMINAL.has(before.status))
            expect(state.endedAt, `${state.status} without this step's endedAt`).toBe(at(minutes).toISOString());
        }
      }),
      { numRuns: 400 },
    );
  });

  it("with CI red on every commit, reaches a person after at most max_attempts fixes", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 8 }), fc.array(fc.integer({ min: 0, max: 20 }), { minLength: 30, maxLength: 30 }), (maxAttempts, gaps) => {
        const policy = policyOf({ fix_forward: { max_attempts: maxAttempts, max_minutes: 600 } });
        let minutes = 0;
        let state = decide(running, { kind: "job-finished", outcome: pushed(HEADS[0]) }, policy, at(minutes)).state;
        let fixes = 0;
        for (const gap of gaps) {
          minutes += gap;
          if (state.status !== "waiting") break;
          state = decide(
            state,
            { kind: "ci", head: state.ci?.head ?? "", verdict: { kind: "red", failing: ["build"], redOnBase: [] } },
            policy,
            at(minutes),
          ).state;
          if (state.status !== "queued") break;
          fixes += 1;
          state = decide(
            startedState(state, "r", at(minutes)),
            { kind: "job-finished", outcome: pushed(HEADS[fixes % 4] ?? HEADS[0]) },
            policy,
            at(minutes),
          ).state;
        }
        expect(state.status).toBe("escalated");
        expect(fixes).toBe(maxAttempts);
      }),
    );
  });
});

// ---------------------------------------------------------------------------
// Property: CI as GitHub reports it, racing afk's hand-off

/** One check on a commit, as the world (GitHub) holds it. */
type Check = "running" | "green" | "red";

/** What afk reads on a commit: the verdict `readCi` would give (no check is red on the base here). */
function verdictIn(checks: readonly Check[] | undefined): CiVerdict {
  if (checks === undefined || checks.length === 0) return { kind: "none" };
  if (checks.includes("running")) return checks.includes("red") ? { kind: "pending", failing: ["ci"] } : { kind: "pending" };
  return checks.includes("red") ? { kind: "red", failing: ["ci"], redOnBase: [] } : { kind: "green" };
}

/**
 * A step of the world or of afk's shell: the running job pushes its commit (not yet recorded), the job
 * settles (the hand-off), CI reports on a commit (afk's pushed one, the awaited one, or an older one)
 * and sends its webhook, a webhook is delivered (possibly out of order) or lost, time passes, the
 * shell dispatches a queued job.
 */
type RaceStep =
  | { push: true }
  | { settle: true }
  | { check: Check; on: "pushed" | "awaited" | "older"; slot: number }
  | { deliver: number }
  | { lose: number }
  | { wait: number }
  | { dispatch: true };

const raceStep: fc.Arbitrary<RaceStep> = fc.oneof(
  { weight: 2, arbitrary: fc.constant<RaceStep>({ push: true }) },
  { weight: 2, arbitrary: fc.constant<RaceStep>({ settle: true }) },
  {
    weight: 4,
    arbitrary: fc.record({
      check: fc.constantFrom<Check>("running", "green", "red"),
      on: fc.constantFrom("pushed" as const, "awaited" as const, "older" as const),
      slot: fc.integer({ min: 0, max: 1 }),
    }),
  },
  { weight: 3, arbitrary: fc.nat(5).map((index): RaceStep => ({ deliver: index })) },
  { weight: 1, arbitrary: fc.nat(5).map((index): RaceStep => ({ lose: index })) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 7 }).map((minutes): RaceStep => ({ wait: minutes })) },
  { weight: 1, arbitrary: fc.constant<RaceStep>({ dispatch: true }) },
);

describe("CI racing the hand-off, for every interleaving (fast-check)", () => {
  it("no event sequence ends with CI counted as passing while a check on the awaited head is red, and no finished verdict is left unread", () => {
    fc.assert(
      fc.property(fc.boolean(), fc.array(raceStep, { maxLength: 50 }), (direct, steps) => {
        const policy = policyOf({ fix_forward: { max_attempts: 3, max_minutes: 600 }, ...(direct ? { mode: "direct" } : {}) });
        const world = new Map<string, Check[]>();
        let state = running;
        let minutes = 0;
        let commits = 0;
        let pushedHead: string | undefined;
        const heads: string[] = [];
        /** Webhooks GitHub has sent and afk has not handled yet, each naming a commit. */
        const deliveries: string[] = [];
        /** The commits some of whose webhooks were lost. */
        const lost = new Set<string>();
        /** `read-ci` turns the shell queued: they run after the transition that asked, and are never lost. */
        const turns: string[] = [];
        /** The shell's timers: per commit, the earliest time it looks at CI again. */
        const timers = new Map<string, number>();

        const apply = (event: LifecycleEvent) => {
          const before = state;
          const transition = decide(state, event, policy, at(minutes));
          state = transition.state;
          const passedNow = state.ci?.passed;
          if (passedNow !== undefined && (before.ci?.passed === undefined || before.ci.head !== state.ci?.head) && state.ci !== undefined) {
            // afk counts CI as passing only on what it read at that moment.
            const checks = world.get(state.ci.head) ?? [];
            expect(checks, `counted ${passedNow} with ${checks.join(",")} on the head`).not.toContain("red");
            expect(checks).not.toContain("running");
            if (passedNow === "no-ci") expect(checks).toEqual([]);
          }
          for (const effect of transition.effects) {
            if (effect.kind === "read-ci") turns.push(effect.head);
            if (effect.kind === "recheck-ci") {
              const when = (Date.parse(effect.at) - T0) / 60_000;
              timers.set(effect.head, Math.min(when, timers.get(effect.head) ?? Infinity));
            }
          }
        };
        /** The shell's `ciChanged`: skip unless the run watches CI on `head`, else read CI fresh and decide. */
        const look = (head: string) => {
          if (watchesCiOn(state, head)) apply({ kind: "ci", head, verdict: verdictIn(world.get(head)) });
        };
        const fireTimersUntil = (until: number) => {
          for (;;) {
            const due = [...timers.entries()].filter(([, when]) => when <= until).sort((a, b) => a[1] - b[1])[0];
            if (due === undefined) break;
            timers.delete(due[0]);
            minutes = Math.max(minutes, due[1]);
            look(due[0]);
          }
          minutes = Math.max(minutes, until);
        };
        const report = (head: string | undefined, check: Check, slot: number) => {
          if (head === undefined) return;
          const checks = [...(world.get(head) ?? [])];
          checks[Math.min(slot, checks.length)] = check;
          world.set(head, checks);
          deliveries.push(head);
        };

        for (const next of steps) {
          if ("push" in next) {
            if (state.status === "running" && pushedHead === undefined) {
              commits += 1;
              pushedHead = commits.toString(16).padStart(40, "0");
              heads.push(pushedHead);
            }
          } else if ("settle" in next) {
            if (state.status === "running" && pushedHead !== undefined) {
              const outcome: RunOutcome = direct
                ? { status: "waiting", message: "pushed to main", headSha: pushedHead, baseSha: HEADS[3], branch: "main" }
                : pushed(pushedHead);
              pushedHead = undefined;
              apply({ kind: "job-finished", outcome });
            }
          } else if ("check" in next) {
            const head = next.on === "pushed" ? pushedHead : next.on === "awaited" ? state.ci?.head : heads[0];
            report(head, next.check, next.slot);
          } else if ("deliver" in next) {
            // afk's own turns and GitHub's deliveries interleave in any order.
            if (turns.length > 0 && next.deliver % 2 === 0) look(turns.shift() ?? "");
            else if (deliveries.length > 0) look(deliveries.splice(next.deliver % deliveries.length, 1)[0] ?? "");
          } else if ("lose" in next) {
            if (deliveries.length > 0) for (const head of deliveries.splice(next.lose % deliveries.length, 1)) lost.add(head);
          } else if ("wait" in next) {
            fireTimersUntil(minutes + next.wait);
          } else if (state.status === "queued") {
            state = startedState(state, "replica-a", at(minutes));
          }
        }
        // Whatever is in flight lands: first afk's turns and the webhooks not lost, with no timer firing...
        while (turns.length > 0 || deliveries.length > 0) look((turns.length > 0 ? turns.shift() : deliveries.shift()) ?? "");
        if (state.status === "waiting" && state.phase === "ci" && state.ci !== undefined && !lost.has(state.ci.head)) {
          // ...and a verdict CI gave on the awaited head, whenever it came (before, during or after the
          // hand-off), has been acted on at once, without waiting for a timer: unless its webhook was lost.
          const verdict = verdictIn(world.get(state.ci.head)).kind;
          expect(verdict === "green" || verdict === "red", `still waits on CI that reads ${verdict}`).toBe(false);
        }
        // ...then afk's timers over the next half hour.
        fireTimersUntil(minutes + 30);

        const awaited = state.ci?.head;
        if (awaited === undefined || state.status !== "waiting") return;
        const checks = world.get(awaited) ?? [];
        if (state.ci?.passed !== undefined) expect(checks, "counted as passing while a check on the awaited head is red").not.toContain("red");
        if (state.phase === "ci") {
          // Still waiting on CI is right only while a check still runs there: a finished verdict, or none past the grace period, was read.
          expect(checks, `waits on CI while it reads ${verdictIn(checks).kind}`).toContain("running");
        }
      }),
      { numRuns: 1500 },
    );
  });
});

// The whole life of a run, from the request: the queue, blocking, start and interruption, through
// decide() with a model of the shell (the repository lock, the dispatcher, the issue's blockers).

/** A step of the whole life: a request as the gate judged it, a dispatch, blockers opening or closing, the running process dying, or a lifecycle event. */
type LifeStep =
  | { request: { source: "label" | "command"; delivery: string; accepted: boolean; queuedBehind?: number } }
  | { dispatch: true }
  | { blockers: number[] }
  | { processDied: true }
  | { abandoned: true }
  | { step: Exclude<Step, { dispatch: true }> };

const lifeStep: fc.Arbitrary<LifeStep> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc
      .record({
        source: fc.constantFrom<"label" | "command">("label", "command"),
        delivery: fc.constantFrom("d-1", "d-2", "d-3", "d-4"),
        accepted: fc.boolean(),
        queuedBehind: fc.option(fc.constant(9), { nil: undefined }),
      })
      .map(({ queuedBehind, ...request }): LifeStep => ({ request: queuedBehind === undefined ? request : { ...request, queuedBehind } })),
  },
  { weight: 3, arbitrary: fc.constant<LifeStep>({ dispatch: true }) },
  { weight: 1, arbitrary: fc.constantFrom<number[]>([], [], [5], [5, 6]).map((blockers): LifeStep => ({ blockers })) },
  { weight: 1, arbitrary: fc.constant<LifeStep>({ processDied: true }) },
  { weight: 1, arbitrary: fc.constant<LifeStep>({ abandoned: true }) },
  { weight: 4, arbitrary: step.filter((s): s is Exclude<Step, { dispatch: true }> => !("dispatch" in s)).map((s): LifeStep => ({ step: s })) },
);

const ACTIVE = new Set(["queued", "running", "waiting"]);

describe("the whole life of a run, from the request (fast-check)", () => {
  it("starts only through an accepted request, never twice for one delivery, never while blocked, and holds the lock exactly while running", () => {
    const policy = policyOf({ fix_forward: { max_attempts: 3, max_minutes: 45 }, review: { max_cycles: 2 } });
    fc.assert(
      fc.property(fc.array(lifeStep, { maxLength: 80 }), (steps) => {
        let state: RunState | undefined;
        let lockHeld = false;
        let blockers: number[] = [];
        let minutes = 0;
        let runs = 0;
        for (const next of steps) {
          const now = at(minutes);
          const before = state;
          let transition: ReturnType<typeof decide> | undefined;
          if ("request" in next) {
            const { source, delivery, accepted, queuedBehind } = next.request;
            runs += 1;
            transition = decide(
              state,
              {
                kind: "requested",
                runId: `r-${runs}`,
                issueNumber: 3,
                trigger: { actor: "ada", source, deliveryId: delivery, repoUrl: "https://github.com/o/r", bodyDigest: "sha256:x" },
                job: "implement",
                verdict: accepted
                  ? { kind: "accepted", react: source === "label", ...(queuedBehind === undefined ? {} : { queuedBehind }) }
                  : { kind: "refused", notice: { kind: "untrusted", message: "no write access", problems: [] } },
              },
              policy,
              now,
            );
            const recorded = before?.deliveries.includes(delivery) === true;
            if (recorded) {
              // A redelivery changes nothing; it only dispatches again, in case the first try stopped after recording.
              expect(transition.state).toBe(before);
              expect(kinds(transition.effects)).toEqual(["dispatch"]);
            } else if (before !== undefined && ACTIVE.has(before.status)) {
              // An active run is never overwritten by a request: a refusal is a reply, an acceptance changes nothing.
              expect(transition.state).toBe(before);
              expect(kinds(transition.effects)).toEqual(accepted ? [] : ["comment"]);
            } else if (accepted) {
              expect(transition.state).toMatchObject({ status: "queued", runId: `r-${runs}`, job: "implement" });
              expect(transition.state.deliveries).toContain(delivery);
              // A new run is in the queue (the trigger label: a command adds it) and the queue is dispatched.
              expect(kinds(transition.effects)).toContain(source === "command" ? "enqueue" : "dispatch");
              expect(kinds(transition.effects).includes("react-on-issue")).toBe(source === "label");
            } else {
              expect(transition.state).toMatchObject({ status: "refused", notice: { kind: "untrusted" } });
              expect(transition.effects).toEqual([]);
            }
          } else if ("blockers" in next) {
            blockers = next.blockers;
            continue;
          } else if ("dispatch" in next) {
            if (state === undefined || state.status !== "queued" || lockHeld) continue;
            const newWork = state.job !== "fix-ci" && state.job !== "rework";
            if (newWork && blockers.length > 0) {
              transition = decide(state, { kind: "blocked", runId: state.runId, blockers }, policy, now);
              // A blocked run stays queued, showing what it waits for.
              expect(transition.state).toMatchObject({ status: "queued", blockedBy: blockers });
              expect(transition.effects).toEqual([]);
            } else {
              transition = decide(state, { kind: "started", runId: state.runId, replica: "replica-a" }, policy, now);
              lockHeld = true;
              expect(transition.state).toMatchObject({ status: "running", runId: state.runId, replica: "replica-a" });
              expect(transition.state.blockedBy).toBeUndefined();
              expect(kinds(transition.effects)).toEqual(["add-label", "run-job"]);
            }
          } else if ("processDied" in next) {
            if (state === undefined || state.status !== "running") continue;
            // The lease ends; another dispatch takes the lock back and tells the issue.
            lockHeld = false;
            const holder = newHolder({ issue: 3, runId: state.runId, replica: "replica-a", now, leaseSeconds: 60 });
            transition = decide(state, { kind: "interrupted", holder }, policy, now);
            expect(transition.state).toMatchObject({ status: "interrupted", outcome: { retryable: true } });
            // A job in the runner repository may still be going: it is cancelled.
            expect(transition.effects).toEqual([
              { kind: "remove-labels", labels: ["in_progress"] },
              ...(state.remote === undefined ? [] : [{ kind: "cancel-workflow-run", remote: state.remote }]),
            ]);
          } else if ("abandoned" in next) {
            if (state === undefined) continue;
            transition = decide(state, { kind: "abandoned", reason: "nobody runs it" }, policy, now);
            if (before?.status === "running") {
              lockHeld = false;
              expect(transition.state).toMatchObject({ status: "stopped", stoppedBy: "afk" });
            } else expect(transition.state).toBe(before);
          } else if ("wait" in next.step) {
            minutes += next.step.wait;
            continue;
          } else {
            if (state === undefined) continue;
            const event: LifecycleEvent =
              "ciOnHead" in next.step ? { kind: "ci", head: state.ci?.head ?? HEADS[0], verdict: next.step.ciOnHead } : next.step.event;
            transition = decide(state, event, policy, now);
          }
          if (transition === undefined) continue;
          state = transition.state;
          lockHeld = lockAfter(lockHeld, transition.effects);
          expect(lockHeld).toBe(state.status === "running");
          // A job in the runner repository is named only while its run runs (a process dying, a stop, a new request: none keeps it).
          if (state.status !== "running") expect(state.remote).toBeUndefined();
          // A settled run becomes active again only as a new run, through an accepted request.
          if (before !== undefined && !ACTIVE.has(before.status) && ACTIVE.has(state.status)) {
            expect("request" in next && next.request.accepted).toBe(true);
            expect(state.runId).not.toBe(before.runId);
          }
          // Only a dispatch starts a job.
          if (state.status === "running" && before?.status !== "running") expect("dispatch" in next).toBe(true);
        }
      }),
      { numRuns: 1_000 },
    );
  });
});
