import type { RunOutcome } from "../run-contract/executor.js";
import type { RunState } from "./run-state.js";
import { isActive } from "./run-state.js";
import { pullRequestClosedState, settledState, stoppedState, type SettledOutcome } from "./transitions.js";
import { renderReviewReply } from "../progress/render-replies.js";
import { awaitCi, ciReported } from "./ci-transitions.js";
import { blocked, interrupted, requested, started } from "./queue-transitions.js";
import {
  finished,
  ignore,
  queued,
  RED_HANDOFF,
  type Effect,
  type LifecycleEvent,
  type LifecyclePolicy,
  type RequestEvent,
  type Transition,
} from "./transition.js";

export { CI_PENDING_RECHECK_MINUTES, watchesCiOn } from "./ci-transitions.js";
export type { CiPassed, Effect, LabelRole, LifecycleEvent, LifecyclePolicy, RequestEvent, RequestVerdict, Transition } from "./transition.js";

/**
 * The whole life of a run, from the request to the end, as one pure function: the state and an
 * event in, the next state and what to do out (labels, reactions, comments, the lock, the check run,
 * the job itself). No I/O, no clock (the time is an argument), so every path is testable and a
 * restart loses nothing (attempts, cycles and times are in the state). The shell writes the new state
 * to the progress comment before it carries out any effect. The lock is held exactly while the status
 * is `running`: every transition out of `running` releases it. Only a request can find no run yet.
 */
export function decide(state: RunState | undefined, event: RequestEvent, policy: LifecyclePolicy, now: Date): Transition;
export function decide(state: RunState, event: LifecycleEvent, policy: LifecyclePolicy, now: Date): Transition;
export function decide(state: RunState | undefined, event: LifecycleEvent, policy: LifecyclePolicy, now: Date): Transition {
  if (event.kind === "requested") return requested(state, event, now);
  if (state === undefined) throw new Error(`a ${event.kind} event needs a run; only a request starts one`);
  switch (event.kind) {
    case "blocked":
      return blocked(state, event.runId, event.blockers);
    case "started":
      return started(state, event.runId, event.replica, now);
    case "interrupted":
      return interrupted(state, event.holder, now);
    case "abandoned":
      return state.status === "running" ? { state: stoppedState(state, "afk", now, event.reason), effects: [] } : ignore(state, "the run is not running");
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

function jobFinished(state: RunState, outcome: RunOutcome, policy: LifecyclePolicy, now: Date): Transition {
  if (state.status !== "running") return ignore(state, `a job finished but the run is ${state.status}`);
  // Dispatched to afk's runner repository: the run goes on there, holding the lock, until its result or its lease's end.
  // The dispatcher then finds the lock held by a run no process of afk's holds, and looks again when its lease ends.
  if (outcome.status === "dispatched") {
    if (state.remote !== undefined) return ignore(state, `the job already runs as workflow run ${state.remote.workflowRunId}`);
    return { state: { ...state, remote: outcome.remote, outcome: { message: outcome.message, retryable: false } }, effects: [{ kind: "dispatch" }] };
  }
  const leaving: Effect[] = [{ kind: "release-lock" }, { kind: "remove-labels", labels: ["in_progress", "trigger"] }];
  const settled = settledState(state, outcome, now);
  const transition = settle(state, settled, outcome, policy, now, leaving);
  // The check run goes on the commit the job pushed, whatever came of the job.
  return outcome.headSha === undefined
    ? transition
    : { ...transition, before: [{ kind: "publish-check-run", head: outcome.headSha, evidence: outcome.evidence ?? {} }] };
}

function settle(state: RunState, settled: RunState, outcome: SettledOutcome, policy: LifecyclePolicy, now: Date, leaving: Effect[]): Transition {
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

/**
 * A job cut short by its process shutting down goes back in the queue as it was (same run, job and
 * loop counters; its partial work is discarded), the lock is released at once rather than left to
 * its lease, and the trigger label stays on: it is the queue. Any replica, or this one restarted, starts it.
 */
function handedBack(state: RunState, reason: string): Transition {
  if (state.status !== "running") return ignore(state, `the run is ${state.status}, not running`);
  // A process shutting down hands back only what it runs itself; a job in the runner repository goes on.
  if (state.remote !== undefined) return ignore(state, `the job runs as workflow run ${state.remote.workflowRunId}, not in this process`);
  const { replica: _replica, startedAt: _started, ...rest } = state;
  return {
    state: queued(rest, state.job, {
      outcome: { message: `The run was interrupted: ${reason} It is queued again and starts when a replica of afk is free.`, retryable: false },
    }),
    // `enqueue` puts the trigger label back should anything have taken it off: it is the queue.
    effects: [{ kind: "release-lock" }, { kind: "remove-labels", labels: ["in_progress"] }, { kind: "enqueue" }],
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
  // No process of afk's holds a job that runs in the runner repository: afk cancels it and ends the run itself.
  if (state.status === "running" && state.remote !== undefined) {
    return {
      state: stoppedState(state, by, now, reason),
      effects: [
        { kind: "cancel-workflow-run", remote: state.remote },
        { kind: "release-lock" },
        { kind: "remove-labels", labels: ["in_progress", "trigger", "plan_review"] },
        { kind: "dispatch" },
      ],
    };
  }
  if (state.status === "running") return { state, effects: [{ kind: "abort-run", reason }] };
  return { state: stoppedState(state, by, now, reason), effects: [{ kind: "remove-labels", labels: ["trigger", "plan_review"] }, { kind: "dispatch" }] };
}
