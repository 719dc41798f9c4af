import type { CiVerdict } from "../github/ci-verdict.js";
import type { RepoConfig } from "../config/repo-config.js";
import type { Job } from "../run-contract/job.js";
import type { RemoteJob, RunOutcome } from "../run-contract/executor.js";
import type { CheckRunDetails } from "../run-contract/evidence.js";
import type { Notice, RunState } from "./run-state.js";
import type { LockHolder } from "../lock/lock-record.js";
import type { Trigger } from "./transitions.js";

/**
 * Everything that moves a run, from the request to the end. Each comes from a webhook (through the
 * shell's gate), the dispatcher, the executor, or afk's own timer.
 */
export type LifecycleEvent =
  /** Someone asked for a run; the shell's gate (trust, kill switch, config, permissions) judged it. A new run only starts from this event. */
  | RequestEvent
  /** The dispatcher found issues this queued run waits on still open (new work waits for its "Blocked by" issues). */
  | { kind: "blocked"; runId: string; blockers: number[] }
  /** The dispatcher took the repository lock for this queued run and starts its job in `replica`. */
  | { kind: "started"; runId: string; replica: string }
  /** The lock of this run's job was taken back after its lease expired: the process running it died. */
  | { kind: "interrupted"; holder: LockHolder }
  /** Asked to stop, the run's job turned out to be held by no process any more: it is settled as stopped. */
  | { kind: "abandoned"; reason: string }
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
  /** React to the issue itself (👀: afk saw the request). */
  | { kind: "react-on-issue" }
  /** Start the queued job in this process: the dispatcher holds the lock for it. */
  | { kind: "run-job" }
  /** Publish the `afk` check run on the commit the job pushed, with the job's evidence (before the state is written: the state records its id). */
  | { kind: "publish-check-run"; head: string; evidence: CheckRunDetails }
  /** The run held the repository lock and no longer does. */
  | { kind: "release-lock" }
  /** A follow-up job is queued: put the issue back in the queue (trigger label) and dispatch. */
  | { kind: "enqueue" }
  /** Start whatever is queued next in the repository. */
  | { kind: "dispatch" }
  /** Abort the job running in some afk process; it settles as stopped. */
  | { kind: "abort-run"; reason: string }
  /** Cancel the workflow run of afk's runner repository that runs (or ran) the job; one already finished is left as it is. */
  | { kind: "cancel-workflow-run"; remote: RemoteJob }
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
  /** Carried out before the state is written, which records what they made (the check run's id). */
  before?: Effect[];
  effects: Effect[];
  /** Why nothing changed, when nothing did (for the log). */
  ignored?: string;
}

/** The parts of `.github/afk.yml` the lifecycle reads. */
export type LifecyclePolicy = Pick<RepoConfig, "fix_forward" | "review" | "ci" | "mode">;

/** A request to run, as the gate judged it. */
export interface RequestEvent {
  kind: "requested";
  /** The new run's id, should the request queue one. */
  runId: string;
  issueNumber: number;
  trigger: Trigger;
  job: Job;
  followUp?: RunState["followUp"];
  /** The issue whose approved plan this issue is a step of. */
  parent?: number;
  verdict: RequestVerdict;
}

/** What the gate said of a request, and what the shell knows that the state does not. */
export type RequestVerdict =
  | { kind: "refused"; notice: Notice }
  | {
      kind: "accepted";
      /** The issue whose run holds the repository lock, when it is another issue's. */
      queuedBehind?: number;
      /** Put 👀 on the issue (a label request: a command's comment already got its reaction). */
      react: boolean;
      /** The issue's progress comment could not be read: why, said on the issue as the run starts over. */
      corrupt?: string;
    };

/** How afk let a run past CI on `ci.head`, recorded so nothing says "green" that was not read green. */
export type CiPassed = NonNullable<NonNullable<RunState["ci"]>["passed"]>;

export const RED_HANDOFF: Effect[] = [{ kind: "add-label", label: "human" }];

/** A run that finished its issue: a sub-issue also tells its parent. */
export function finished(state: RunState, effects: Effect[]): Effect[] {
  return state.parent === undefined ? effects : [...effects, { kind: "report-to-parent", parent: state.parent }];
}

export function ignore(state: RunState, why: string): Transition {
  return { state, effects: [], ignored: why };
}

/** A follow-up job of the same run: it keeps the run's id, branch, pull request, loop counters and plan. */
export function queued(state: RunState, job: RunState["job"], extra: Partial<RunState>): RunState {
  const { queuedBehind: _behind, blockedBy: _blocked, endedAt: _ended, ...rest } = state;
  return { ...rest, status: "queued", phase: "queued", job, ...extra };
}
