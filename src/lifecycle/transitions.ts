import type { ConfigProblem } from "../config/repo-config.js";
import type { RunOutcome } from "../run-contract/executor.js";
import type { LockHolder } from "../lock/lock-record.js";
import { rememberDelivery, type Notice, type RunState } from "./run-state.js";
import { type Job, type Phase } from "../run-contract/job.js";

/** Who asked for a run, and how. */
export interface Trigger {
  actor: string;
  source: "label" | "command";
  deliveryId: string;
  /** Web address of the repository, for links in the progress comment. */
  repoUrl: string;
  /** Digest of the issue's title and body when the run was requested. */
  bodyDigest: string;
}

/** The Trigger of a request: who asked, how, in which delivery, and the digest of the issue text they approved. */
export function triggerOf(by: { login: string }, source: Trigger["source"], request: { deliveryId: string; repoUrl: string; bodyDigest: string }): Trigger {
  return { actor: by.login, source, deliveryId: request.deliveryId, repoUrl: request.repoUrl, bodyDigest: request.bodyDigest };
}

/** A new run waiting for the repository lock. */
export function queuedState(input: {
  runId: string;
  issue: number;
  trigger: Trigger;
  now: Date;
  queuedBehind: number | undefined;
  previous: RunState | undefined;
  /** `implement` unless the request is a plan or a question. */
  job?: Job;
  followUp?: RunState["followUp"];
  /** The issue whose approved plan this issue is a step of. */
  parent?: number;
}): RunState {
  return {
    v: 1,
    runId: input.runId,
    issue: input.issue,
    status: "queued",
    phase: "queued",
    trigger: { actor: input.trigger.actor, source: input.trigger.source, at: input.now.toISOString(), bodyDigest: input.trigger.bodyDigest },
    repoUrl: input.trigger.repoUrl,
    deliveries: rememberDelivery(input.previous?.deliveries ?? [], input.trigger.deliveryId),
    ...(input.queuedBehind === undefined ? {} : { queuedBehind: input.queuedBehind }),
    job: input.job ?? "implement",
    loop: { fixAttempts: 0, reviewCycles: 0 },
    ...(input.followUp === undefined ? {} : { followUp: input.followUp }),
    ...(input.parent === undefined ? {} : { parent: input.parent }),
    // A new run of an issue whose earlier run left a pull request replaces it instead of leaving two open.
    ...(supersededBy(input.previous) === undefined ? {} : { supersedes: supersededBy(input.previous) }),
  };
}

function supersededBy(previous: RunState | undefined): number | undefined {
  return previous?.pullRequest?.number ?? previous?.supersedes;
}

/** afk declined to start; the notice says why. */
export function refusedState(input: { runId: string; issue: number; trigger: Trigger; now: Date; notice: Notice; previous: RunState | undefined }): RunState {
  return {
    v: 1,
    runId: input.runId,
    issue: input.issue,
    status: "refused",
    phase: "queued",
    trigger: { actor: input.trigger.actor, source: input.trigger.source, at: input.now.toISOString() },
    repoUrl: input.trigger.repoUrl,
    deliveries: rememberDelivery(input.previous?.deliveries ?? [], input.trigger.deliveryId),
    notice: input.notice,
    job: "implement",
    loop: { fixAttempts: 0, reviewCycles: 0 },
    // A refusal changes nothing on GitHub: the earlier run's branch, pull request and check run are still there.
    ...productsOf(input.previous),
  };
}

function productsOf(previous: RunState | undefined): Pick<RunState, "branch" | "pullRequest" | "checkRunId"> {
  if (previous === undefined) return {};
  return {
    ...(previous.branch === undefined ? {} : { branch: previous.branch }),
    ...(previous.pullRequest === undefined ? {} : { pullRequest: previous.pullRequest }),
    ...(previous.checkRunId === undefined ? {} : { checkRunId: previous.checkRunId }),
  };
}

export function startedState(state: RunState, replica: string, now: Date): RunState {
  const { queuedBehind: _behind, blockedBy: _blocked, ...rest } = state;
  return { ...rest, status: "running", phase: "started", replica, startedAt: now.toISOString() };
}

export function phaseState(state: RunState, phase: Phase): RunState {
  return { ...state, phase };
}

export function blockedState(state: RunState, blockers: number[]): RunState {
  return { ...state, blockedBy: blockers };
}

/** How a job that ran to its end ended (a dispatched one has not: see `jobFinished`). */
export type SettledOutcome = Exclude<RunOutcome, { status: "dispatched" }>;

/** The run as its job leaves it: a job that ran in afk's runner repository (`remote`) is named only while it runs. */
function jobLeft(running: RunState): RunState {
  const { remote: _remote, ...state } = running;
  return state;
}

/** The state a run settles in once its executor returns. A run waiting for CI has not ended. */
export function settledState(running: RunState, outcome: SettledOutcome, now: Date): RunState {
  const state = jobLeft(running);
  const retryable = outcome.status === "failed" ? outcome.retryable : outcome.status === "stopped" || outcome.status === "escalated";
  const products = {
    ...(outcome.spend === undefined ? {} : { spend: outcome.spend }),
    ...(outcome.branch === undefined ? {} : { branch: outcome.branch }),
    ...(outcome.pullRequest === undefined ? {} : { pullRequest: outcome.pullRequest }),
    ...(outcome.checkRunId === undefined ? {} : { checkRunId: outcome.checkRunId }),
    ...(outcome.runLog === undefined ? {} : { runLog: outcome.runLog }),
  };
  if (outcome.status === "waiting") {
    return { ...state, ...products, status: "waiting", phase: "ci", outcome: { message: outcome.message, retryable: false } };
  }
  if (outcome.status === "planned") {
    return { ...state, ...products, status: "waiting", phase: "plan", outcome: { message: outcome.message, retryable: false } };
  }
  return { ...state, ...products, status: outcome.status, endedAt: now.toISOString(), outcome: { message: outcome.message, retryable } };
}

/** The spend so far, shown while the run goes on. */
export function spendState(state: RunState, spend: { usd: number; turns: number }): RunState {
  return { ...state, spend };
}

/**
 * afk's pull request was closed: merged, the run is done; closed unmerged, the run ends (a person
 * can `/afk retry`). The message gives the total model cost and the time from start to close.
 */
export function pullRequestClosedState(state: RunState, input: { number: number; merged: boolean; by: string; now: Date }): RunState {
  const spend = state.spend === undefined ? "" : ` Model cost in all: $${state.spend.usd.toFixed(2)} over ${state.spend.turns} turns.`;
  const since =
    state.startedAt === undefined
      ? ""
      : ` ${formatDuration(input.now.getTime() - Date.parse(state.startedAt))} from start to ${input.merged ? "merge" : "close"}.`;
  const base = {
    ...state,
    endedAt: input.now.toISOString(),
    ...(state.pullRequest === undefined ? {} : { pullRequest: { ...state.pullRequest, draft: false } }),
  };
  return input.merged
    ? {
        ...base,
        status: "done",
        phase: "merged",
        outcome: { message: `Pull request #${input.number} was merged by @${input.by}.${spend}${since}`, retryable: false },
      }
    : {
        ...base,
        status: "stopped",
        stoppedBy: input.by,
        outcome: { message: `Pull request #${input.number} was closed without merging by @${input.by}.${spend}${since}`, retryable: true },
      };
}

export function formatDuration(ms: number): string {
  const minutes = Math.max(0, Math.round(ms / 60_000));
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  return hours < 48 ? `${hours} h ${minutes % 60} min` : `${Math.floor(hours / 24)} days`;
}

export function stoppedState(state: RunState, by: string, now: Date, reason?: string): RunState {
  return {
    ...jobLeft(state),
    status: "stopped",
    stoppedBy: by,
    endedAt: now.toISOString(),
    ...(reason === undefined ? {} : { outcome: { message: reason, retryable: true } }),
  };
}

/** A run whose process died: another event found its lease expired and took the lock back. */
export function interruptedState(state: RunState, holder: LockHolder, now: Date): RunState {
  return {
    ...jobLeft(state),
    status: "interrupted",
    endedAt: now.toISOString(),
    outcome: {
      message: `The afk process running this (\`${holder.replica}\`) stopped renewing the repository lock; its lease expired at ${holder.expiresAt} and the lock was taken back, so the run was interrupted. Nothing more was pushed.`,
      retryable: true,
    },
  };
}

export const NOTICES = {
  untrusted: (reason: string): Notice => ({
    kind: "untrusted",
    message: `afk only acts for people with write access to this repository: ${reason}.`,
    problems: [],
  }),
  paused: (): Notice => ({
    kind: "paused",
    message: "afk is paused by its operator (kill switch), so it starts no new work. Add the label again, or comment `/afk run`, once it is resumed.",
    problems: [],
  }),
  notConfigured: (): Notice => ({
    kind: "not-configured",
    message:
      "afk is not set up in this repository: add `.github/afk.yml` with at least the test command, for example `test: npm test`. Then add the label again.",
    problems: [],
  }),
  configInvalid: (problems: ConfigProblem[]): Notice => ({
    kind: "config-invalid",
    // A long list is capped, its last row saying how many more there are: the count here says "problems" then.
    message: `\`.github/afk.yml\` has ${problems.length === 1 ? "a problem" : problems.some((problem) => / more problems like these/.test(problem.problem)) ? "many problems" : `${problems.length} problems`}, so afk did not start. Fix ${problems.length === 1 ? "it" : "them"} on the default branch, then add the label again.`,
    problems,
  }),
  missingPermissions: (repo: string, missing: string[]): Notice => ({
    kind: "missing-permissions",
    message: `afk's installation on ${repo} lacks ${missing.join(", ")}, which it needs to take the repository lock, push a branch, open a pull request and follow its CI. An owner must grant ${missing.length === 1 ? "it" : "them"} (the App's installation settings, or accept its pending permission request); then add the label again or comment \`/afk run\`.`,
    problems: [],
  }),
  configUnreadable: (message: string): Notice => ({
    kind: "config-unreadable",
    message: `afk could not read \`.github/afk.yml\` (${message}), so it did not start. Comment \`/afk retry\` to try again.`,
    problems: [],
  }),
};
