import type { RepoConfig } from "../config/repo-config.js";
import type { RunOutcome } from "../run-contract/executor.js";
import type { CiVerdict } from "../github/ci-verdict.js";
import type { RunState } from "./run-state.js";
import { isActive } from "./run-state.js";
import { formatDuration, pullRequestClosedState, settledState, stoppedState } from "./transitions.js";
import { renderReviewReply } from "../progress/render-replies.js";
import { inertText } from "../trust/inert-text.js";

/** Everything that moves a run after it was queued. Each comes from a webhook, the executor, or afk's own timer. */
export type LifecycleEvent =
  | { kind: "job-finished"; outcome: RunOutcome }
  /** The process running the job shut down before it finished (SIGTERM, past `AFK_SHUTDOWN_GRACE_SECONDS`): the job goes back in the queue. */
  | { kind: "handed-back"; reason: string }
  | { kind: "ci"; head: string; verdict: CiVerdict }
  | { kind: "review"; by: string; trusted: boolean; reviewId: number; changesRequested: boolean; asksFix: boolean }
  | { kind: "fix-command"; by: string; commentId: number }
  /** `subIssues`: the plan was approved as these sub-issues (already opened and queued by the shell), in order. */
  | { kind: "approve"; by: string; subIssues?: number[] }
  /** A sub-issue of this run's approved plan was closed; `stillOpen` are the plan's sub-issues still open. */
  | { kind: "sub-issue-closed"; issue: number; stillOpen: number[] }
  | { kind: "pull-request-closed"; number: number; merged: boolean; by: string }
  /** Someone other than afk pushed `head` to afk's pull request. */
  | { kind: "pushed"; number: number; head: string; by: string }
  | { kind: "stop"; by: string; reason: string };

/** afk's labels, by role; the effect shell maps them to the repository's names. */
export type LabelRole = "trigger" | "in_progress" | "human" | "plan_review";

/**
 * What the shell must do after a transition, in order. The new state is written to the progress
 * comment before any effect runs, so a crash between effects loses no decision.
 */
export type Effect =
  /** The run held the repository lock and no longer does. */
  | { kind: "release-lock" }
  /** A follow-up job is queued: put the issue back in the queue (trigger label) and dispatch. */
  | { kind: "enqueue" }
  /** Start whatever is queued next in the repository. */
  | { kind: "dispatch" }
  /** Abort the job running in some afk process; it settles as stopped. */
  | { kind: "abort-run"; reason: string }
  | { kind: "mark-ready-for-review" }
  | { kind: "request-review"; reviewer: string }
  | { kind: "add-label"; label: LabelRole }
  | { kind: "remove-labels"; labels: LabelRole[] }
  | { kind: "close-issue" }
  | { kind: "comment"; on: "issue" | "pull-request"; body: string }
  /** This issue is a step of another's plan and is finished: the parent looks at its sub-issues again. */
  | { kind: "report-to-parent"; parent: number }
  /**
   * Read CI on `head` now, in the issue's next turn: afk has just started waiting on it, and what CI
   * reported before that (a fast check finishing while afk was still pushing) is acted on, not lost.
   */
  | { kind: "read-ci"; head: string }
  /** Look at CI on `head` again at `at` (the end of the no-CI grace period, or the next look at CI still running). */
  | { kind: "recheck-ci"; head: string; at: string };

export interface Transition {
  state: RunState;
  effects: Effect[];
  /** Why nothing changed, when nothing did (for the log). */
  ignored?: string;
}

/** The parts of `.github/afk.yml` the lifecycle reads. */
export type LifecyclePolicy = Pick<RepoConfig, "fix_forward" | "review" | "ci" | "mode">;

const RED_HANDOFF: Effect[] = [{ kind: "add-label", label: "human" }];

/**
 * While CI on the awaited head is still running, afk looks again this often, so a verdict whose
 * webhook never arrives (GitHub drops deliveries; an App can be down) is still read.
 */
export const CI_PENDING_RECHECK_MINUTES = 5;

/** How afk let a run past CI on `ci.head`, recorded so nothing says "green" that was not read green. */
export type CiPassed = NonNullable<NonNullable<RunState["ci"]>["passed"]>;

/**
 * Whether CI on `head` can move this run: it waits on CI there, or it counted CI there as passing
 * and is in review (a check that turns red later on that head reopens the fix-forward loop).
 */
export function watchesCiOn(state: RunState, head: string): boolean {
  if (state.status !== "waiting" || state.ci?.head !== head) return false;
  return state.phase === "ci" || (state.phase === "review" && state.ci.passed !== undefined);
}

/**
 * The run lifecycle after dispatch, as one pure function: the state and an event in, the next state
 * and what to do out. No I/O, no clock (the time is an argument), so every path is testable and a
 * restart loses nothing (attempts, cycles and times are in the state). The lock is held exactly
 * while the status is `running`: every transition out of `running` releases it.
 */
export function decide(state: RunState, event: LifecycleEvent, policy: LifecyclePolicy, now: Date): Transition {
  switch (event.kind) {
    case "job-finished":
      return jobFinished(state, event.outcome, policy, now);
    case "handed-back":
      return handedBack(state, event.reason);
    case "ci":
      return ciReported(state, event.head, event.verdict, policy, now);
    case "review":
      if (!event.trusted) return ignore(state, `@${event.by} is not trusted to steer afk`);
      if (!event.changesRequested && !event.asksFix) return ignore(state, "the review neither requests changes nor says /afk fix");
      return rework(state, { by: event.by, reviewId: event.reviewId }, policy, now);
    case "fix-command":
      return rework(state, { by: event.by, commentId: event.commentId }, policy, now);
    case "approve":
      if (!awaitsApproval(state) || state.plan === undefined) return ignore(state, "there is no plan waiting for approval");
      if (event.subIssues !== undefined && event.subIssues.length > 0) {
        const list = event.subIssues.map((number) => `#${number}`).join(" → ");
        return {
          state: {
            ...state,
            plan: { ...state.plan, approvedBy: event.by },
            split: { issues: event.subIssues },
            outcome: {
              message: `Plan approved by @${event.by} as ${event.subIssues.length} sub-issues, implemented one after the other: ${list}. This issue closes when all of them are done.`,
              retryable: false,
            },
          },
          effects: [{ kind: "remove-labels", labels: ["plan_review"] }],
        };
      }
      return {
        state: queued(state, "implement", {
          plan: { ...state.plan, approvedBy: event.by },
          outcome: { message: `Plan approved by @${event.by}; implementing it.`, retryable: false },
        }),
        effects: [{ kind: "remove-labels", labels: ["plan_review"] }, { kind: "enqueue" }],
      };
    case "sub-issue-closed":
      return subIssueClosed(state, event, now);
    case "pull-request-closed":
      return pullRequestClosed(state, event, now);
    case "pushed":
      return pushedByPerson(state, event, policy, now);
    case "stop":
      return stop(state, event.by, event.reason, now);
  }
}

/** A posted plan waits for `/afk approve` (not yet approved, not yet split). */
export function awaitsApproval(state: RunState): boolean {
  return state.status === "waiting" && state.phase === "plan" && state.plan !== undefined && state.plan.approvedBy === undefined && state.split === undefined;
}

/** A run that finished its issue: a sub-issue also tells its parent. */
function finished(state: RunState, effects: Effect[]): Effect[] {
  return state.parent === undefined ? effects : [...effects, { kind: "report-to-parent", parent: state.parent }];
}

function subIssueClosed(state: RunState, event: Extract<LifecycleEvent, { kind: "sub-issue-closed" }>, now: Date): Transition {
  if (state.split === undefined || state.status !== "waiting" || !state.split.issues.includes(event.issue))
    return ignore(state, `#${event.issue} is not a sub-issue this run waits on`);
  const total = state.split.issues.length;
  const open = state.split.issues.filter((number) => event.stillOpen.includes(number));
  if (open.length === 0) {
    return {
      state: {
        ...state,
        status: "done",
        phase: "merged",
        endedAt: now.toISOString(),
        outcome: { message: `All ${total} sub-issues are done (${state.split.issues.map((number) => `#${number}`).join(", ")}).`, retryable: false },
      },
      effects: finished(state, [{ kind: "remove-labels", labels: ["trigger", "in_progress", "plan_review", "human"] }, { kind: "close-issue" }]),
    };
  }
  return {
    state: { ...state, outcome: { message: `${total - open.length} of ${total} sub-issues done; #${open[0] ?? event.issue} is next.`, retryable: false } },
    effects: [],
  };
}

function ignore(state: RunState, why: string): Transition {
  return { state, effects: [], ignored: why };
}

/** A follow-up job of the same run: it keeps the run's id, branch, pull request, loop counters and plan. */
function queued(state: RunState, job: RunState["job"], extra: Partial<RunState>): RunState {
  const { queuedBehind: _behind, blockedBy: _blocked, endedAt: _ended, ...rest } = state;
  return { ...rest, status: "queued", phase: "queued", job, ...extra };
}

function jobFinished(state: RunState, outcome: RunOutcome, policy: LifecyclePolicy, now: Date): Transition {
  if (state.status !== "running") return ignore(state, `a job finished but the run is ${state.status}`);
  const leaving: Effect[] = [{ kind: "release-lock" }, { kind: "remove-labels", labels: ["in_progress", "trigger"] }];
  const settled = settledState(state, outcome, now);
  switch (outcome.status) {
    case "waiting": {
      const base = outcome.baseSha ?? state.ci?.base;
      const ci = { head: outcome.headSha, pushedAt: now.toISOString(), ...(base === undefined ? {} : { base }) };
      const { followUp: _done, ...rest } = settled;
      const next: RunState = { ...rest, ci };
      const effects: Effect[] = [...leaving];
      if (state.job === "rework" && state.pullRequest !== undefined) {
        effects.push({
          kind: "comment",
          on: "pull-request",
          body: renderReviewReply({ reviewer: state.followUp?.by, headSha: outcome.headSha, message: outcome.message }),
        });
      }
      effects.push(...awaitCi(outcome.headSha, policy, now), { kind: "dispatch" });
      return { state: next, effects };
    }
    case "planned":
      return {
        state: { ...settled, plan: { commentId: outcome.planCommentId } },
        effects: [...leaving, { kind: "add-label", label: "plan_review" }, { kind: "dispatch" }],
      };
    case "escalated":
      return { state: settled, effects: [...leaving, ...RED_HANDOFF, { kind: "dispatch" }] };
    case "done":
    case "failed":
    case "stopped":
      return { state: settled, effects: [...leaving, { kind: "dispatch" }] };
  }
}

/** Starting to wait on CI on `head`: read what it already reported, and look again when the no-CI grace period ends. */
function awaitCi(head: string, policy: LifecyclePolicy, now: Date): Effect[] {
  return [
    { kind: "read-ci", head },
    { kind: "recheck-ci", head, at: new Date(now.getTime() + policy.ci.grace_minutes * 60_000).toISOString() },
  ];
}

/**
 * A job cut short by its process shutting down goes back in the queue as it was (same run, job and
 * loop counters; its partial work is discarded), the lock is released at once rather than left to
 * its lease, and the trigger label stays on: it is the queue. Any replica, or this one restarted, starts it.
 */
function handedBack(state: RunState, reason: string): Transition {
  if (state.status !== "running") return ignore(state, `the run is ${state.status}, not running`);
  const { replica: _replica, startedAt: _started, ...rest } = state;
  return {
    state: queued(rest, state.job, {
      outcome: { message: `The run was interrupted: ${reason} It is queued again and starts when a replica of afk is free.`, retryable: false },
    }),
    // `enqueue` puts the trigger label back should anything have taken it off: it is the queue.
    effects: [{ kind: "release-lock" }, { kind: "remove-labels", labels: ["in_progress"] }, { kind: "enqueue" }],
  };
}

function ciReported(state: RunState, head: string, verdict: CiVerdict, policy: LifecyclePolicy, now: Date): Transition {
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

function rework(state: RunState, followUp: NonNullable<RunState["followUp"]>, policy: LifecyclePolicy, now: Date): Transition {
  if (state.status !== "waiting" || state.pullRequest === undefined || state.phase === "plan")
    return ignore(state, "there is no pull request of afk's waiting for review");
  const max = policy.review.max_cycles;
  if (state.loop.reviewCycles >= max) {
    const message = `@${followUp.by} asked for changes, but afk already reworked this pull request ${state.loop.reviewCycles} time${state.loop.reviewCycles === 1 ? "" : "s"} (\`review.max_cycles\`); a person takes it from here.`;
    return {
      state: { ...state, status: "escalated", endedAt: now.toISOString(), outcome: { message, retryable: true } },
      effects: [...RED_HANDOFF, { kind: "comment", on: "pull-request", body: message }],
    };
  }
  const cycle = state.loop.reviewCycles + 1;
  return {
    state: queued(state, "rework", {
      followUp,
      loop: { ...state.loop, reviewCycles: cycle },
      outcome: { message: `@${followUp.by} asked for changes; rework ${cycle} of ${max} is queued.`, retryable: false },
    }),
    effects: [{ kind: "enqueue" }],
  };
}

function pullRequestClosed(state: RunState, event: Extract<LifecycleEvent, { kind: "pull-request-closed" }>, now: Date): Transition {
  if (state.pullRequest?.number !== event.number || !isActive(state)) return ignore(state, `#${event.number} is not the pull request of an active afk run`);
  if (state.status === "running")
    return {
      state,
      effects: [
        { kind: "abort-run", reason: `Pull request #${event.number} was ${event.merged ? "merged" : "closed"} by @${event.by} while afk was working on it.` },
      ],
    };
  return {
    state: pullRequestClosedState(state, { number: event.number, merged: event.merged, by: event.by, now }),
    effects: event.merged
      ? finished(state, [{ kind: "remove-labels", labels: ["trigger", "in_progress", "human", "plan_review"] }, { kind: "close-issue" }, { kind: "dispatch" }])
      : [{ kind: "remove-labels", labels: ["trigger", "in_progress"] }, { kind: "dispatch" }],
  };
}

/**
 * A person pushed to afk's pull request while it waits: their commit is the head now, so CI is
 * awaited on it (red → fixed forward within the same budget, green → ready for review). Once the pull
 * request is in review the person's work is theirs: afk only records the new head. While afk's own
 * job runs nothing changes here; its push will be refused as not a fast-forward and say so.
 */
function pushedByPerson(state: RunState, event: Extract<LifecycleEvent, { kind: "pushed" }>, policy: LifecyclePolicy, now: Date): Transition {
  if (state.pullRequest?.number !== event.number || state.status !== "waiting" || state.ci === undefined)
    return ignore(state, `#${event.number} is not afk's pull request waiting on CI or review`);
  if (state.ci.head === event.head) return ignore(state, "afk already waits on that commit");
  const { failing: _old, passed: _passed, ...ci } = state.ci;
  const short = event.head.slice(0, 7);
  if (state.phase === "review") {
    return {
      state: {
        ...state,
        ci: { ...ci, head: event.head, pushedAt: now.toISOString() },
        outcome: { message: `@${event.by} pushed ${short} to pull request #${event.number}; it stays with its reviewers.`, retryable: false },
      },
      effects: [],
    };
  }
  if (state.phase !== "ci") return ignore(state, "the run is not waiting on CI or review");
  return {
    state: {
      ...state,
      ci: { ...ci, head: event.head, pushedAt: now.toISOString() },
      outcome: { message: `@${event.by} pushed ${short} to pull request #${event.number}; afk waits for CI on it.`, retryable: false },
    },
    effects: awaitCi(event.head, policy, now),
  };
}

function stop(state: RunState, by: string, reason: string, now: Date): Transition {
  if (!isActive(state)) return ignore(state, "nothing is queued, running or waiting");
  if (state.status === "running") return { state, effects: [{ kind: "abort-run", reason }] };
  return { state: stoppedState(state, by, now, reason), effects: [{ kind: "remove-labels", labels: ["trigger", "plan_review"] }, { kind: "dispatch" }] };
}

function listNames(names: readonly string[]): string {
  // Check names come from whoever configured CI (the agent can edit workflows): quoted inert.
  const shown = names.slice(0, 5).map((name) => `\`${inertText(name.replace(/`/g, "'"), { inline: true })}\``);
  return names.length > 5 ? `${shown.join(", ")} and ${names.length - 5} more` : shown.join(", ");
}

function formatMinutes(minutes: number): string {
  return minutes < 1 ? `${Math.round(minutes * 60)} s` : formatDuration(minutes * 60_000);
}
