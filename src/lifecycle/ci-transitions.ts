import type { CiVerdict } from "../github/ci-verdict.js";
import type { RunState } from "./run-state.js";
import { formatDuration } from "./transitions.js";
import { finished, ignore, queued, RED_HANDOFF, type CiPassed, type Effect, type LifecyclePolicy, type Transition } from "./transition.js";
import { inertText } from "../trust/inert-text.js";

/**
 * While CI on the awaited head is still running, afk looks again this often, so a verdict whose
 * webhook never arrives (GitHub drops deliveries; an App can be down) is still read.
 */
export const CI_PENDING_RECHECK_MINUTES = 5;

/**
 * Whether CI on `head` can move this run: it waits on CI there, or it counted CI there as passing
 * and is in review (a check that turns red later on that head reopens the fix-forward loop).
 */
export function watchesCiOn(state: RunState, head: string): boolean {
  if (state.status !== "waiting" || state.ci?.head !== head) return false;
  return state.phase === "ci" || (state.phase === "review" && state.ci.passed !== undefined);
}

/** Starting to wait on CI on `head`: read what it already reported, and look again when the no-CI grace period ends. */
export function awaitCi(head: string, policy: LifecyclePolicy, now: Date): Effect[] {
  return [
    { kind: "read-ci", head },
    { kind: "recheck-ci", head, at: new Date(now.getTime() + policy.ci.grace_minutes * 60_000).toISOString() },
  ];
}

export function ciReported(state: RunState, head: string, verdict: CiVerdict, policy: LifecyclePolicy, now: Date): Transition {
  if (state.status !== "waiting" || (state.phase !== "ci" && state.phase !== "review") || state.ci === undefined)
    return ignore(state, "the run is not waiting for CI");
  if (state.ci.head !== head) return ignore(state, `CI reported on ${head.slice(0, 7)}, not on afk's latest commit ${state.ci.head.slice(0, 7)}`);
  if (state.phase === "review") return ciInReview(state, head, verdict, policy, now);
  const short = head.slice(0, 7);
  switch (verdict.kind) {
    case "pending":
      return {
        state,
        effects: [{ kind: "recheck-ci", head, at: new Date(now.getTime() + CI_PENDING_RECHECK_MINUTES * 60_000).toISOString() }],
        ignored: "CI is still running",
      };
    case "none": {
      const graceEnds = Date.parse(state.ci.pushedAt) + policy.ci.grace_minutes * 60_000;
      if (now.getTime() < graceEnds)
        return { state, effects: [{ kind: "recheck-ci", head, at: new Date(graceEnds).toISOString() }], ignored: "no CI yet; waiting out the grace period" };
      return green(
        state,
        "no-ci",
        now,
        `No CI reported on ${short} within ${formatMinutes(policy.ci.grace_minutes)} (\`ci.grace_minutes\`), so afk counts it as passing.`,
      );
    }
    case "green":
      return green(state, "green", now, `CI is green on ${short}.`);
    case "red": {
      const ours = verdict.failing.filter((name) => !verdict.redOnBase.includes(name));
      if (ours.length === 0) return green(state, "red-on-base", now, redOnBaseMessage(verdict.failing, short));
      return red(state, head, ours, policy, now, false);
    }
  }
}

/**
 * CI on the head afk counted as passing, read again while the pull request is in review: a check
 * that turned red there since (a slower workflow, a re-run) means the count was early, so afk fixes
 * forward; green read where afk had only counted no CI, or CI red only where the base is red too, is recorded.
 */
function ciInReview(state: RunState, head: string, verdict: CiVerdict, policy: LifecyclePolicy, now: Date): Transition {
  const passed = state.ci?.passed;
  if (passed === undefined) return ignore(state, "the pull request is with its reviewers; afk no longer waits on CI for this commit");
  const short = head.slice(0, 7);
  // A check already red is enough here, even while another still runs: afk said CI passed, and it no longer does.
  if (verdict.kind === "red" || verdict.kind === "pending") {
    const ours = (verdict.failing ?? []).filter((name) => !(verdict.redOnBase ?? []).includes(name));
    if (ours.length > 0) return red(state, head, ours, policy, now, true);
  }
  if (verdict.kind === "green" && passed !== "green" && state.ci !== undefined) {
    return {
      state: {
        ...state,
        ci: { ...state.ci, passed: "green" },
        outcome: { message: `CI is green on ${short}. Pull request #${state.pullRequest?.number ?? "?"} is ready for review.`, retryable: false },
      },
      effects: [],
    };
  }
  return ignore(state, `CI on ${short} still agrees with what afk counted`);
}

function redOnBaseMessage(failing: readonly string[], short: string): string {
  return `${listNames(failing)} ${failing.length === 1 ? "is" : "are"} red on ${short}, but red on the base branch too, so the failure is not afk's and afk does not chase it.`;
}

/**
 * CI passed (or has nothing to say): the pull request is ready for a person's review. Without a pull
 * request (direct mode) the change is already on the default branch, so the run is done and the issue closes.
 */
function green(state: RunState, passed: CiPassed, now: Date, message: string): Transition {
  const { fixSince: _since, ...loop } = state.loop;
  const calm = { ...state, loop: { ...loop, fixAttempts: 0 }, ...(state.ci === undefined ? {} : { ci: { ...state.ci, passed } }) };
  if (state.pullRequest === undefined) {
    const where = state.branch === undefined ? "" : ` The change is on \`${state.branch}\`.`;
    return {
      state: { ...calm, status: "done", phase: "merged", endedAt: now.toISOString(), outcome: { message: `${message}${where}`, retryable: false } },
      effects: finished(state, [{ kind: "remove-labels", labels: ["human"] }, { kind: "close-issue" }]),
    };
  }
  const effects: Effect[] = [];
  if (state.pullRequest.draft) effects.push({ kind: "mark-ready-for-review" });
  effects.push({ kind: "request-review", reviewer: state.trigger.actor });
  return {
    state: {
      ...calm,
      status: "waiting",
      phase: "review",
      pullRequest: { ...state.pullRequest, draft: false },
      outcome: { message: `${message} Pull request #${state.pullRequest.number} is ready for review.`, retryable: false },
    },
    effects,
  };
}

/** CI is red on `head` in checks not red on the base: fix forward within the budget, or hand to a person. `late`: afk had counted CI there as passing. */
function red(state: RunState, head: string, failing: string[], policy: LifecyclePolicy, now: Date, late: boolean): Transition {
  const short = head.slice(0, 7);
  const { max_attempts: maxAttempts, max_minutes: maxMinutes } = policy.fix_forward;
  const since = state.loop.fixSince ?? now.toISOString();
  const spentMinutes = (now.getTime() - Date.parse(since)) / 60_000;
  const names = listNames(failing);
  const { passed: _passed, ...awaited } = state.ci ?? { head, pushedAt: now.toISOString() };
  const ci = { ...awaited, head, failing: failing.slice(0, 30) };
  if (state.loop.fixAttempts >= maxAttempts || spentMinutes >= maxMinutes) {
    const why =
      state.loop.fixAttempts >= maxAttempts
        ? `after ${state.loop.fixAttempts} fix attempt${state.loop.fixAttempts === 1 ? "" : "s"} (\`fix_forward.max_attempts\`)`
        : `after ${formatMinutes(spentMinutes)} of fixing forward (\`fix_forward.max_minutes\` is ${maxMinutes})`;
    const message = `CI is ${late ? "red" : "still red"} on ${short} ${why}: ${names}. afk stopped fixing forward and left ${state.pullRequest === undefined && state.branch !== undefined ? `\`${state.branch}\`` : "the branch"} as it is for a person.`;
    return {
      state: { ...state, ci, status: "escalated", endedAt: now.toISOString(), outcome: { message, retryable: true } },
      effects: [...RED_HANDOFF, { kind: "comment", on: "pull-request", body: message }],
    };
  }
  const attempt = state.loop.fixAttempts + 1;
  return {
    state: queued(state, "fix-ci", {
      ci,
      loop: { ...state.loop, fixAttempts: attempt, fixSince: since },
      outcome: {
        message: `${late ? `CI turned red on ${short} after afk had counted it as passing` : `CI is red on ${short}`}: ${names}. Fix attempt ${attempt} of ${maxAttempts} is queued.`,
        retryable: false,
      },
    }),
    effects: [{ kind: "enqueue" }],
  };
}

function listNames(names: readonly string[]): string {
  // Check names come from whoever configured CI (the agent can edit workflows): quoted inert.
  const shown = names.slice(0, 5).map((name) => `\`${inertText(name.replace(/`/g, "'"), { inline: true })}\``);
  return names.length > 5 ? `${shown.join(", ")} and ${names.length - 5} more` : shown.join(", ");
}

function formatMinutes(minutes: number): string {
  return minutes < 1 ? `${Math.round(minutes * 60)} s` : formatDuration(minutes * 60_000);
}
