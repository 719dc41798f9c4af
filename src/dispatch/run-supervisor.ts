import { fullName, errorMessage, type RepoRef } from "../github/types.js";
import { DEFAULT_MODEL, type RepoConfig } from "../config/repo-config.js";
import type { LifecycleEvent } from "../lifecycle/lifecycle.js";
import type { RunState } from "../lifecycle/run-state.js";
import { extendLease } from "../lock/lock-record.js";
import { readLock, renewLock, requestStop } from "../lock/repo-lock.js";
import type { RunOutcomeLabel } from "../observability/metrics.js";
import { runEndRecord, runStartRecord } from "../observability/run-record.js";
import type { JobContext, RunJob, RunOutcome } from "../run-contract/executor.js";
import type { DeliveryContext } from "./delivery-context.js";
import { ProgressWriter } from "./progress-writer.js";
import { RunQueue } from "./run-queue.js";
import type { Lease, Runtime } from "./runtime.js";

/** How long a dispatched job has for a runner to pick it up and send its first heartbeat. */
export const JOB_PICKUP_SECONDS = 600;

/** Why a run's signal was aborted. */
export class RunAbort extends Error {
  constructor(
    readonly kind: "stop" | "lost-lock" | "shutdown",
    message: string,
  ) {
    super(message);
    this.name = "RunAbort";
  }
}

/**
 * Runs the jobs this process started, at most `AFK_MAX_CONCURRENT_RUNS` at once: renews each one's
 * lease, reports its phases and spend on the issue, and settles it through the lifecycle when the
 * executor returns. Stops them on `/afk stop` (here or, through the lock, on another replica), on a
 * lost lock, and at shutdown, when a cut-short job is handed back to the queue.
 */
export class RunSupervisor {
  readonly #rt: Runtime;
  readonly #queue: RunQueue;
  readonly #active = new Map<string, AbortController>();

  constructor(rt: Runtime) {
    this.#rt = rt;
    this.#queue = new RunQueue(rt.services.settings.maxConcurrentRuns, (error) => rt.services.log.error({ err: error }, "afk run task failed"));
  }

  /** Run ids of the jobs this process runs. */
  get activeRuns(): ReadonlySet<string> {
    return new Set(this.#active.keys());
  }

  /** Runs this process started that wait for a free slot. */
  get waiting(): number {
    return this.#queue.waiting;
  }

  get running(): number {
    return this.#queue.running;
  }

  idle(): Promise<void> {
    return this.#queue.idle();
  }

  /** Aborts every job of this process; each settles (handed back to the queue when it delivered nothing). */
  abortAll(reason: string): number {
    for (const controller of this.#active.values()) controller.abort(new RunAbort("shutdown", reason));
    return this.#active.size;
  }

  /** Runs the job of a run just recorded as started, under `lease`, with `config` as read at dispatch. */
  run(context: DeliveryContext, started: RunState, commentId: number, lease: Lease, config: RepoConfig): void {
    const { services } = this.#rt;
    const identity = { repository: fullName(context.repo), issue: started.issue, runId: started.runId, job: started.job };
    services.log.info(runStartRecord({ ...identity, replica: services.settings.replicaId }), "afk run started");
    services.metrics?.runStarted(started.job);
    const startedAt = performance.now();
    const controller = new AbortController();
    this.#active.set(started.runId, controller);
    // One renewal at a time: two from the same commit would see each other's write and call the lock lost.
    let renewing = false;
    const heartbeat = setInterval(
      () => {
        if (renewing) return;
        renewing = true;
        void this.#renew(context, lease, controller)
          .catch((error: unknown) => services.log.warn({ err: error, repo: fullName(context.repo) }, "afk lock renewal failed; retrying"))
          .finally(() => {
            renewing = false;
          });
      },
      services.renewEveryMs ?? (services.settings.lockLeaseSeconds * 1000) / 3,
    );
    heartbeat.unref();
    const progress = new ProgressWriter(
      {
        write: (before, after) => context.runs.write(before, after, commentId),
        failed: (error) => services.log.warn({ err: error, repo: fullName(context.repo), issue: started.issue }, "afk could not update the progress comment"),
      },
      started,
    );

    this.#queue.push(async () => {
      let outcome: RunOutcome;
      try {
        outcome = controller.signal.aborted
          ? { status: "failed", message: `The run was aborted before it began: ${abortMessage(controller.signal)}`, retryable: true }
          : await services.executor.execute(runJobOf(context.repo, started, config, services.settings.model, controller.signal), progress.reporter());
      } catch (error) {
        outcome = { status: "failed", message: `The executor crashed: ${errorMessage(error)}`, retryable: true };
      } finally {
        clearInterval(heartbeat);
        this.#active.delete(started.runId);
      }
      await progress.close();
      const abort = controller.signal.reason instanceof RunAbort ? controller.signal.reason : undefined;
      if (outcome.status === "dispatched") {
        // The job runs on in afk's runner repository (its heartbeats hold the lock from now on): recorded, not ended.
        services.log.info({ ...identity, runnerRepo: outcome.remote.runnerRepo, workflowRunId: outcome.remote.workflowRunId }, "afk run dispatched");
        await this.#leaseForPickup(context, lease);
        await this.#settle(context, progress, commentId, { kind: "job-finished", outcome }, lease);
        // A stop that came while it was being dispatched reaches it now: the workflow run is cancelled and the run ends.
        if (abort?.kind === "stop" && !lease.lost)
          await this.#rt.move(context, started.issue, async () => ({ kind: "stop", by: "afk", reason: abort.message }));
        return;
      }
      if (abort?.kind === "stop") outcome = { status: "stopped", message: abort.message };
      // Cut short by this process shutting down, with nothing delivered: the job goes back in the queue.
      const handBack = abort?.kind === "shutdown" && (outcome.status === "failed" || outcome.status === "stopped") ? abort.message : undefined;
      const seconds = (performance.now() - startedAt) / 1000;
      const ended: RunOutcomeLabel = lease.lost ? "lost-lock" : handBack !== undefined ? "handed-back" : outcome.status;
      const cost = outcome.spend ?? progress.state.spend;
      services.log.info(runEndRecord({ ...identity, outcome: ended, cost, turns: cost?.turns, durationSeconds: seconds }), "afk run ended");
      services.metrics?.runEnded({ job: progress.state.job, outcome: ended, seconds, cost });
      // Token counts are for the metrics; the run state (and its marker on the issue) keeps dollars and turns.
      const recorded: RunOutcome = outcome.spend === undefined ? outcome : { ...outcome, spend: { usd: outcome.spend.usd, turns: outcome.spend.turns } };
      const event: LifecycleEvent = handBack === undefined ? { kind: "job-finished", outcome: recorded } : { kind: "handed-back", reason: handBack };
      await this.#settle(context, progress, commentId, event, lease);
    });
  }

  /** Stops a running job: here, through the lock on another replica, or (nobody holds it) by settling it as stopped. */
  async abort(context: DeliveryContext, state: RunState, reason: string): Promise<"stopping" | "stopped" | "nobody"> {
    const local = this.#active.get(state.runId);
    if (local !== undefined) {
      local.abort(new RunAbort("stop", reason));
      return "stopping";
    }
    // Running on another replica: flag the lock; that replica's next renewal sees it and stops.
    if (await requestStop(context.octokit, context.repo, state.runId, context.now())) {
      // If that replica is gone, the run ends when its lease does: the lock is taken back then and the issue told.
      const lock = await readLock(context.octokit, context.repo, context.now());
      if (lock.status === "held") this.#rt.dispatchAt(context.repo, Date.parse(lock.holder.expiresAt));
      return "stopping";
    }
    return "nobody";
  }

  /** A runner may take minutes to pick a dispatched job up: the lease covers that; the job's heartbeats renew it from there. */
  async #leaseForPickup(context: DeliveryContext, lease: Lease): Promise<void> {
    if (lease.lost) return;
    const seconds = Math.max(this.#rt.services.settings.lockLeaseSeconds, JOB_PICKUP_SECONDS);
    const next = extendLease(lease.holder, context.now(), seconds);
    try {
      const result = await renewLock(context.octokit, context.repo, lease.sha, next, context.now());
      if (result.kind === "renewed") {
        lease.sha = result.sha;
        lease.holder = next;
      }
    } catch (error) {
      context.log.warn(
        { err: error, repo: fullName(context.repo) },
        "afk could not lengthen a dispatched job's lease; it ends at the usual time unless the job heartbeats first",
      );
    }
  }

  async #renew(context: DeliveryContext, lease: Lease, controller: AbortController): Promise<void> {
    if (lease.lost || controller.signal.aborted) return;
    const { settings } = this.#rt.services;
    const next = extendLease(lease.holder, context.now(), settings.lockLeaseSeconds);
    const result = await renewLock(context.octokit, context.repo, lease.sha, next, context.now());
    if (result.kind === "renewed") {
      lease.sha = result.sha;
      lease.holder = next;
    } else if (result.kind === "stop-requested") {
      lease.sha = result.sha;
      controller.abort(new RunAbort("stop", "Stopped by a `/afk stop` handled on another afk replica."));
    } else {
      lease.lost = true;
      controller.abort(new RunAbort("lost-lock", "This run lost the repository lock."));
    }
  }

  /** The job ended: the lifecycle decides what comes of it, from the state the job last reported. */
  async #settle(context: DeliveryContext, progress: ProgressWriter, commentId: number, event: LifecycleEvent, lease: Lease): Promise<void> {
    const last = progress.state;
    const log = context.log.child({ repo: fullName(context.repo), issue: last.issue, runId: last.runId });
    if (lease.lost) {
      // Another process took the lock back and already marked this run interrupted; writing now would contradict it.
      log.warn("afk run ended after losing its lock; leaving the issue to the process that reclaimed it");
      return;
    }
    try {
      // What the job last reported is the run's state, whether or not it was written (a report within
      // the write gap is not); the observer is told what the comment showed.
      context.runs.assume({ id: commentId, kind: "state", state: last }, progress.written);
      await this.#rt.move(context, last.issue, async () => event, { lease });
    } catch (error) {
      // The issue would say "running" with nobody running it: keep the lock instead, so when its lease
      // ends it is taken back and the issue says the run was interrupted (with a retry hint).
      log.error({ err: error }, "afk could not record how the run ended; the lock is left to its lease, which marks the run interrupted");
      this.#rt.dispatchAt(context.repo, Date.parse(lease.holder.expiresAt));
      return;
    }
    log.info({ outcome: event.kind === "job-finished" ? event.outcome.status : "handed-back", job: last.job }, "afk run settled");
  }
}

function abortMessage(signal: AbortSignal): string {
  return signal.reason instanceof Error ? signal.reason.message : String(signal.reason);
}

/** The job of a run as an executor gets it, from the run's state and the repository's config. */
export function runJobOf(repo: RepoRef, state: RunState, config: RepoConfig, operatorModel: string | undefined, signal: AbortSignal): RunJob {
  return {
    repo,
    issue: state.issue,
    runId: state.runId,
    trigger: { actor: state.trigger.actor, at: state.trigger.at, bodyDigest: state.trigger.bodyDigest },
    config,
    model: config.model ?? operatorModel ?? DEFAULT_MODEL,
    signal,
    kind: state.job,
    context: jobContext(state),
  };
}

/** What a queued job continues, from its run's state. */
function jobContext(state: RunState): JobContext {
  return {
    ...(state.branch === undefined ? {} : { branch: state.branch }),
    ...(state.pullRequest === undefined ? {} : { pullRequest: state.pullRequest }),
    ...(state.ci === undefined ? {} : { ciHead: state.ci.head }),
    ...(state.followUp === undefined ? {} : { requestedBy: state.followUp.by }),
    ...(state.followUp?.reviewId === undefined ? {} : { reviewId: state.followUp.reviewId }),
    ...(state.followUp?.commentId === undefined ? {} : { commentId: state.followUp.commentId }),
    ...(state.plan?.approvedBy === undefined ? {} : { planCommentId: state.plan.commentId }),
    ...(state.supersedes === undefined || state.job !== "implement" ? {} : { supersedes: state.supersedes }),
    ...(state.job === "fix-ci" ? { attempt: state.loop.fixAttempts } : state.job === "rework" ? { attempt: state.loop.reviewCycles } : {}),
  };
}
