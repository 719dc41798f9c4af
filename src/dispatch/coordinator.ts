import { randomUUID } from "node:crypto";
import type { Logger } from "probot";
import { isRepositoryAllowed, type OperatorSettings } from "../config/operator-settings.js";
import { GITHUB_RETRY, retryTransient, type RetryPolicy } from "../github/transient.js";
import { issueOfBranch } from "../run-contract/branch.js";
import { readRepoConfig } from "../config/read-repo-config.js";
import { DEFAULT_MODEL, repoConfigSchema, type RepoConfig } from "../config/repo-config.js";
import type { RepoConfigResult } from "../config/load-repo-config.js";
import type { Executor, JobContext, RunOutcome, RunReporter } from "../run-contract/executor.js";
import { ciVerdict } from "../github/ci-status.js";
import { markReadyForReview, requestReview } from "../github/pull-request.js";
import { decide, watchesCiOn, type Effect, type LabelRole, type LifecycleEvent, type Transition } from "../lifecycle/lifecycle.js";
import { openBlockers, type QueuedIssue } from "../github/issue-queue.js";
import { errorMessage, errorStatus, fullName, type Actor, type GitHub, type RepoRef } from "../github/types.js";
import { extendLease, newHolder, type LockHolder } from "../lock/lock-record.js";
import { acquireLock, readLock, releaseLock, renewLock, requestStop } from "../lock/repo-lock.js";
import type { LockView } from "../lock/lock-record.js";
import { isActive, type Notice, type RunState } from "../lifecycle/run-state.js";
import { type Job } from "../run-contract/job.js";
import type { PlanStep } from "../run-contract/plan.js";
import { issueTextDigest } from "../github/issue-context.js";
import { sanitizeUntrustedText } from "../trust/sanitize-untrusted-text.js";
import { inertText } from "../trust/inert-text.js";
import {
  blockedState,
  interruptedState,
  NOTICES,
  phaseState,
  queuedState,
  refusedState,
  spendState,
  startedState,
  stoppedState,
  triggerOf,
  type Trigger,
} from "../lifecycle/transitions.js";
import { publishCheckRun } from "../progress/check-run.js";
import { installationMissingPermissions } from "../github/app-permissions.js";
import { findProgressComment, writeProgressComment } from "../progress/progress-comment.js";
import type { ProgressComment } from "../lifecycle/run-state.js";
import { renderCheckRun } from "../progress/render-check-run.js";
import { checkTrust, type TrustDecision } from "../trust/trust-gate.js";
import { isFollowUp, readQueue } from "./queue-reader.js";
import { RunQueue } from "./run-queue.js";
import { YieldingQueue } from "./yielding-queue.js";
import type { AfkMetrics, RunOutcomeLabel } from "../observability/metrics.js";
import { runEndRecord, runStartRecord } from "../observability/run-record.js";
import { notifyStateWritten, type StateObserver } from "../observability/state-observer.js";

export interface CoordinatorDeps {
  settings: OperatorSettings;
  executor: Executor;
  log: Logger;
  /** An Octokit authenticated as the installation, usable outside a webhook. */
  octokitFor(installationId: number): Promise<GitHub>;
  /** The App-authenticated Octokit (what an installation was granted is asked as the App). */
  appOctokit(): Promise<GitHub>;
  /** afk's own bot login (`<slug>[bot]`), the author of its progress comments. */
  botLogin(): Promise<string>;
  now?: () => Date;
  /** How often a running run renews its lease; defaults to a third of the lease. */
  renewEveryMs?: number;
  /** How afk's own steps retry a GitHub call that failed transiently (after Octokit's own retries); `GITHUB_RETRY` by default. */
  retry?: RetryPolicy;
  /** Counts runs, their outcomes, duration and spend (afk's `/metrics`). */
  metrics?: AfkMetrics;
  /** Told of every run state afk writes (before → after); never awaited, its errors only logged. */
  observer?: StateObserver;
}

/** What a trusted-or-not actor asked for, already pulled out of the webhook payload. */
export interface IssueRequest {
  repo: RepoRef;
  octokit: GitHub;
  issue: { number: number; open: boolean };
  actor: Actor;
  trigger: Trigger;
}

export type Gate = { kind: "pass"; config: RepoConfig; previous: ProgressComment | undefined } | { kind: "stop" };

/** Webhook intakes and dispatches processed at once; the rest wait their turn in arrival order. */
const INTAKE_CONCURRENCY = 4;
/** Intake starts once no delivery has arrived for this long... */
const INTAKE_QUIET_MS = 5;
/** ...or once the oldest waiting intake has waited this long. */
const INTAKE_MAX_HOLD_MS = 100;

/** The progress comment shows the growing spend, written at most this often. */
const SPEND_WRITE_EVERY_MS = 15_000;

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

function abortMessage(signal: AbortSignal): string {
  return signal.reason instanceof Error ? signal.reason.message : String(signal.reason);
}

interface ActiveRun {
  controller: AbortController;
  repo: RepoRef;
  issue: number;
}

/**
 * Decides, records and dispatches runs. Every decision is written to GitHub
 * (progress comment, labels, lock ref) before anything depends on it, so a
 * second replica, or this one after a restart, reaches the same conclusions.
 */
export class Coordinator {
  readonly #deps: CoordinatorDeps;
  readonly #queue: RunQueue;
  readonly #intake: YieldingQueue;
  readonly #active = new Map<string, ActiveRun>();
  /** Per issue, the lifecycle event being handled; the next one waits for it. */
  readonly #issueTurns = new Map<string, Promise<void>>();
  /** The end of each no-CI grace period this process waits for. */
  readonly #timers = new Map<string, { timer: NodeJS.Timeout; at: number }>();
  readonly #now: () => Date;
  #closing = false;

  constructor(deps: CoordinatorDeps) {
    this.#deps = deps;
    this.#now = deps.now ?? (() => new Date());
    this.#queue = new RunQueue(deps.settings.maxConcurrentRuns, (error) => deps.log.error({ err: error }, "afk run task failed"));
    this.#intake = new YieldingQueue({
      limit: INTAKE_CONCURRENCY,
      onError: (error) => deps.log.error({ err: error }, "afk background task failed"),
      quietMs: INTAKE_QUIET_MS,
      maxHoldMs: INTAKE_MAX_HOLD_MS,
    });
  }

  get settings(): OperatorSettings {
    return this.#deps.settings;
  }

  get log(): Logger {
    return this.#deps.log;
  }

  /**
   * Takes the work a webhook asked for, to do after the webhook is answered. Errors are logged,
   * never thrown. The work waits while more deliveries are arriving (ADR 0002), then runs with at
   * most `INTAKE_CONCURRENCY` others, installations taking turns for the free slots.
   */
  background(what: string, work: () => Promise<void>, installationId?: number): void {
    this.#intake.push(this.#logged(what, work), true, installationId === undefined ? "" : String(installationId));
  }

  /** Resolves once no intake or dispatch is in flight (runs may still be executing). */
  quiet(): Promise<void> {
    return this.#intake.idle();
  }

  /** Resolves once no intake, dispatch or run is in flight in this process. */
  async idle(): Promise<void> {
    while (this.#intake.pending + this.#queue.running + this.#queue.waiting > 0) {
      await this.#intake.idle();
      await this.#queue.idle();
    }
  }

  /** Queues follow-up work of afk's own (not started by a delivery). */
  #later(what: string, work: () => Promise<void>): void {
    this.#intake.push(this.#logged(what, work), false);
  }

  /** Background work is retried while GitHub fails transiently (every step is safe to repeat), then logged. */
  #logged(what: string, work: () => Promise<void>): () => Promise<void> {
    return () => this.#retrying(work, what).catch((error: unknown) => this.#deps.log.error({ err: error }, `afk: ${what} failed`));
  }

  /**
   * Repeats a whole step only when its GitHub call failed with a transient answer the request-level
   * retries (the Octokit plugins) already gave up on; bounded by the policy, each repeat logged.
   */
  #retrying<T>(work: () => Promise<T>, what = "a lifecycle step"): Promise<T> {
    return retryTransient(work, this.retryPolicy, { log: this.#deps.log, what });
  }

  /** How afk retries a GitHub call that failed transiently. */
  get retryPolicy(): RetryPolicy {
    return this.#deps.retry ?? GITHUB_RETRY;
  }

  /**
   * App shutdown at once: starts nothing new and aborts every run in this process; each still
   * settles, frees its lock and, having delivered nothing, is queued again for any replica.
   */
  shutdown(reason: string): void {
    this.#stopStarting();
    for (const run of this.#active.values()) run.controller.abort(new RunAbort("shutdown", reason));
  }

  /**
   * Graceful shutdown (SIGTERM): starts nothing new (deliveries are still taken and recorded, as
   * queued work for any replica), lets the runs in this process go on for up to `graceMs`, then
   * aborts the rest, which settle as queued again with their locks released at once, not left to
   * their leases. Resolves once every run has settled and every pending step is done.
   */
  async drain(graceMs: number, reason: string): Promise<{ finished: number; handedBack: number }> {
    this.#stopStarting();
    const before = this.#active.size;
    let timer: NodeJS.Timeout | undefined;
    const graceOver = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, graceMs);
    });
    await Promise.race([this.#queue.idle(), graceOver]);
    clearTimeout(timer);
    const left = [...this.#active.values()];
    for (const run of left) run.controller.abort(new RunAbort("shutdown", reason));
    await this.idle();
    return { finished: before - left.length, handedBack: left.length };
  }

  #stopStarting(): void {
    this.#closing = true;
    for (const { timer } of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
  }

  botLogin(): Promise<string> {
    return this.#deps.botLogin();
  }

  /** Runs this process started that wait for a free slot (`AFK_MAX_CONCURRENT_RUNS`). */
  get queueLength(): number {
    return this.#queue.waiting;
  }

  /** Repository locks held by runs of this process (one per active run). */
  get locksHeld(): number {
    return this.#active.size;
  }

  /**
   * Writes a run state to the issue's progress comment and, once GitHub took it, tells the
   * observer what the comment held before and holds now.
   */
  async #writeState(
    octokit: GitHub,
    repo: RepoRef,
    before: RunState | undefined,
    after: RunState,
    botLogin: string,
    commentId?: number,
  ): Promise<{ id: number; state: RunState }> {
    const written = await writeProgressComment(octokit, repo, after, botLogin, commentId);
    // A concurrent creation may have kept another process's comment instead: then this state was not written.
    if (written.state === after) notifyStateWritten(this.#deps.observer, this.#deps.log, repo, before, after);
    return written;
  }

  /** The time afk decides by (injected in tests). */
  now(): Date {
    return this.#now();
  }

  /**
   * The checks every request to run goes through once intake has matched the
   * allowlist, in order: trust, kill switch, repository config. A refusal is
   * written to the issue's progress comment, or posted as a reply when a run is
   * already active there, so an active run's state is never overwritten.
   */
  async gate(
    request: IssueRequest,
    options: { config: RepoConfigResult; trust?: TrustDecision; progress?: { comment: ProgressComment | undefined } },
  ): Promise<Gate> {
    const { repo, octokit, actor } = request;
    const previous = options.progress === undefined ? await this.progressOf(octokit, repo, request.issue.number) : options.progress.comment;
    const activeState = previous?.kind === "state" && isActive(previous.state) ? previous.state : undefined;
    const refuse = async (notice: Notice): Promise<Gate> => {
      this.#deps.log.info({ repo: fullName(repo), issue: request.issue.number, notice: notice.kind }, "afk refused a request");
      if (activeState === undefined) {
        const earlier = previous?.kind === "state" ? previous.state : undefined;
        const state = refusedState({ runId: newRunId(), issue: request.issue.number, trigger: request.trigger, now: this.#now(), notice, previous: earlier });
        await this.#writeState(octokit, repo, earlier, state, await this.botLogin(), previous?.id);
      } else {
        await octokit.rest.issues.createComment({
          owner: repo.owner,
          repo: repo.repo,
          issue_number: request.issue.number,
          body: `@${actor.login} ${notice.message}`,
        });
      }
      return { kind: "stop" };
    };

    const trust = options.trust ?? (await checkTrust(octokit, repo, actor, trustLists(options.config)));
    if (!trust.trusted) return refuse(NOTICES.untrusted(trust.reason));
    if (this.#deps.settings.killSwitch) return refuse(NOTICES.paused());
    switch (options.config.kind) {
      case "missing":
        return refuse(NOTICES.notConfigured());
      case "invalid":
        return refuse(NOTICES.configInvalid(options.config.problems));
      case "unreadable":
        return refuse(NOTICES.configUnreadable(options.config.message));
      case "ok": {
        // An installation can lack a permission the App asks for (an owner must accept new ones); without it the lock cannot even be taken.
        const missing = await installationMissingPermissions(await this.#deps.appOctokit(), repo);
        if (missing.length > 0) return refuse(NOTICES.missingPermissions(fullName(repo), missing));
        return { kind: "pass", config: options.config.config, previous };
      }
    }
  }

  /** Records a trusted request as a queued run (idempotent per delivery) and dispatches the repository's queue. */
  async enqueue(
    request: IssueRequest,
    gate: Extract<Gate, { kind: "pass" }>,
    options: { reactOnIssue: boolean; job?: Job; followUp?: RunState["followUp"]; parent?: number },
  ): Promise<"queued" | "duplicate" | "active"> {
    const { repo, octokit } = request;
    const previous = gate.previous;
    if (previous?.kind === "state") {
      if (previous.state.deliveries.includes(request.trigger.deliveryId)) {
        // A redelivery, or a retry after this delivery was recorded: whatever it queued may still need dispatching.
        this.#later("dispatch the next queued issue", () => this.dispatchNext(repo));
        return "duplicate";
      }
      if (isActive(previous.state)) return "active";
    }
    if (options.reactOnIssue) {
      await octokit.rest.reactions.createForIssue({ owner: repo.owner, repo: repo.repo, issue_number: request.issue.number, content: "eyes" });
    }
    if (previous?.kind === "corrupt") {
      this.#deps.log.warn({ repo: fullName(repo), issue: request.issue.number, reason: previous.reason }, "afk progress marker is corrupt; starting over");
      await octokit.rest.issues.createComment({
        owner: repo.owner,
        repo: repo.repo,
        issue_number: request.issue.number,
        body: `afk could not read the state in its progress comment (${previous.reason}), so it does not trust it and starts over from the queue.`,
      });
    }
    const lock = await readLock(octokit, repo, this.#now());
    const queuedBehind = lock.status === "held" && !lock.expired && lock.holder.issue !== request.issue.number ? lock.holder.issue : undefined;
    const state = queuedState({
      runId: newRunId(),
      issue: request.issue.number,
      trigger: request.trigger,
      now: this.#now(),
      queuedBehind,
      previous: previous?.kind === "state" ? previous.state : undefined,
      // With `plan_approval`, an implementation starts as a plan a person approves.
      job: options.job ?? (gate.config.plan_approval ? "plan" : "implement"),
      ...(options.followUp === undefined ? {} : { followUp: options.followUp }),
      ...(options.parent === undefined ? {} : { parent: options.parent }),
    });
    const written = await this.#writeState(octokit, repo, previous?.kind === "state" ? previous.state : undefined, state, await this.botLogin(), previous?.id);
    if (written.state.runId !== state.runId) return "duplicate";
    if (request.trigger.source === "command") {
      // The queue is the set of issues carrying the trigger label; a command puts the issue in it.
      await octokit.rest.issues.addLabels({ owner: repo.owner, repo: repo.repo, issue_number: request.issue.number, labels: [gate.config.labels.trigger] });
    }
    await this.dispatchNext(repo, { octokit, config: gate.config });
    return "queued";
  }

  /**
   * Starts the next queued issue in the repository if its lock is free: by
   * priority, skipping blocked issues. A lock whose lease expired is taken back
   * first and its issue told the run was interrupted. Safe to call from any
   * event on any replica: the lock's compare-and-swap lets exactly one win.
   */
  async dispatchNext(repo: RepoRef, known?: { octokit: GitHub; config: RepoConfig }): Promise<void> {
    if (this.#closing) return;
    const octokit = known?.octokit ?? (await this.#deps.octokitFor(repo.installationId));
    let lock = await readLock(octokit, repo, this.#now());
    if (lock.status === "held" && !lock.expired) {
      // Held by a run this process does not have: if that process died, nothing else would look
      // again before the next event, so look when its lease ends (a live holder will have renewed).
      if (!this.#active.has(lock.holder.runId)) this.#dispatchAt(repo, Date.parse(lock.holder.expiresAt));
      return;
    }
    const config = known?.config ?? (await this.#usableConfig(octokit, repo));
    if (config === undefined) return;
    const botLogin = await this.botLogin();
    // With the kill switch on, queued issues wait; an expired lock is still taken back so its issue learns the run died.
    // Work on afk's open pull requests (fix-forward, rework) goes before new issues; `/afk status` reads the same queue.
    const ordered = this.#deps.settings.killSwitch
      ? []
      : await readQueue(octokit, repo, { trigger: config.labels.trigger, inProgress: config.labels.in_progress }, botLogin);
    for (const { issue: candidate, state: listed } of ordered) {
      // A follow-up continues an issue afk already worked on; only new work waits for blocking issues.
      const blockers = isFollowUp(listed) ? [] : await openBlockers(octokit, repo, candidate);
      if (blockers.length > 0) {
        if (listed.blockedBy?.join(",") !== blockers.join(",")) {
          const current = await findProgressComment(octokit, repo, candidate.number, botLogin);
          if (current?.kind === "state" && current.state.runId === listed.runId && current.state.status === "queued") {
            await this.#writeState(octokit, repo, current.state, blockedState(current.state, blockers), botLogin, current.id);
          }
        }
        continue;
      }
      const holder = newHolder({
        issue: candidate.number,
        runId: listed.runId,
        replica: this.#deps.settings.replicaId,
        now: this.#now(),
        leaseSeconds: this.#deps.settings.lockLeaseSeconds,
      });
      // Only if the lock is where it was when the queue above was read: otherwise a run came and went
      // meanwhile, the queue may have changed (a better issue, this one already run), so read it again.
      const taken = await acquireLock(octokit, repo, holder, this.#now(), lock.status === "absent" ? null : lock.sha);
      if (!taken.acquired) {
        if (taken.moved === true) this.#later("dispatch the next queued issue", () => this.dispatchNext(repo));
        return;
      }
      try {
        if (taken.reclaimed !== undefined) await this.#markInterrupted(octokit, repo, config, taken.reclaimed);
        // Re-read under the lock: another replica may have run or stopped this issue since the listing.
        const confirmed = await findProgressComment(octokit, repo, candidate.number, botLogin);
        if (confirmed?.kind === "state" && confirmed.state.status === "queued" && confirmed.state.runId === holder.runId) {
          await this.#start(octokit, repo, config, candidate, confirmed.id, confirmed.state, holder, taken.sha);
          return;
        }
      } catch (error) {
        // Nothing started: give the lock back so this dispatch can be tried again (or the next one goes ahead).
        await releaseLock(octokit, repo, holder.runId, this.#now()).catch((release: unknown) =>
          this.#deps.log.warn({ err: release, repo: fullName(repo) }, "afk could not give back a lock it took; its lease frees it"),
        );
        throw error;
      }
      await releaseLock(octokit, repo, holder.runId, this.#now());
      lock = await readLock(octokit, repo, this.#now());
      if (lock.status === "held") return;
    }
    if (lock.status === "held" && lock.expired) await this.#reclaimIdle(octokit, repo, config, lock);
  }

  /**
   * Stops the queued, running or waiting work on an issue; `why` says what asked for it (default:
   * "Stopped by @actor."). Returns what happened, for the reply.
   */
  async stop(request: IssueRequest, why?: string): Promise<"stopped" | "stopping" | "nothing"> {
    const reason = why ?? `Stopped by @${request.actor.login}.`;
    const result = await this.advance(request.repo, request.octokit, request.issue.number, async () => ({ kind: "stop", by: request.actor.login, reason }));
    if (result === undefined || result.transition.ignored !== undefined) return "nothing";
    return result.abort ?? "stopped";
  }

  /**
   * afk's pull request for an issue was closed. Only a pull request the issue's own state names is
   * acted on. Merged: the run is done, afk's labels are cleaned and the issue is closed if GitHub has
   * not already closed it. Unmerged: the run ends. Then the repository's queue moves on.
   */
  async pullRequestClosed(
    request: { repo: RepoRef; octokit: GitHub; issue: number; actor: Actor },
    pull: { number: number; merged: boolean },
  ): Promise<"done" | "ended" | "not-ours"> {
    const result = await this.advance(request.repo, request.octokit, request.issue, async () => ({
      kind: "pull-request-closed",
      number: pull.number,
      merged: pull.merged,
      by: request.actor.login,
    }));
    if (result === undefined || result.transition.ignored !== undefined) return "not-ours";
    return pull.merged ? "done" : "ended";
  }

  /**
   * CI reported on a commit of afk's branch for `issue` (or afk looks on its own, after a hand-off, at
   * the end of a grace period, at start-up): if the run watches CI on that commit, CI is read fresh
   * from GitHub (an event only says something changed) and the lifecycle decides.
   */
  async ciChanged(repo: RepoRef, octokit: GitHub, issue: number, sha: string): Promise<Transition | undefined> {
    const result = await this.advance(repo, octokit, issue, async (state) => {
      if (!watchesCiOn(state, sha) || state.ci === undefined) return undefined;
      // Red on the base too means not afk's failure: the default branch's head, or in direct mode the commit afk started from.
      const started = state.ci.base;
      const baseRef = async () => started ?? (await octokit.rest.repos.get({ owner: repo.owner, repo: repo.repo })).data.default_branch;
      // Once afk counted CI as passing (in review), a check already red counts while others still run; waiting on CI, afk waits for all of it.
      const redWhileRunning = state.phase === "review";
      const verdict = await ciVerdict(octokit, repo, { sha, baseRef, ownAppSlug: (await this.botLogin()).replace(/\[bot\]$/, ""), redWhileRunning });
      return { kind: "ci", head: sha, verdict };
    });
    return result?.transition;
  }

  /**
   * Opens one issue per step of an approved plan, each a sub-issue of `parent` on GitHub and
   * "Blocked by" the one before (so the queue takes them in order), and queues each as if the
   * approver had asked for it. Returns their numbers in order. The steps are model output: titles
   * and details are sanitized and made inert, and every issue says whose plan it comes from.
   */
  async openSubIssues(
    request: { repo: RepoRef; octokit: GitHub; parent: number; approver: Actor; deliveryId: string; repoUrl: string },
    config: RepoConfig,
    steps: readonly PlanStep[],
  ): Promise<number[]> {
    const { repo, octokit } = request;
    const numbers: number[] = [];
    for (const [index, step] of steps.entries()) {
      const previous = numbers.at(-1);
      const title = inertText(sanitizeUntrustedText(step.title).replace(/\s+/g, " ").trim()) || `Step ${index + 1} of #${request.parent}`;
      const body = [
        `Step ${index + 1} of ${steps.length} of #${request.parent}, from afk's plan approved by @${request.approver.login}.`,
        // afk's own "Blocked by" line orders the steps; one in the model's words would block on any issue it names.
        step.details.length > 0 ? inertText(sanitizeUntrustedText(step.details)).replace(/blocked(\s+)by/gi, "blocked\u200B$1by") : "",
        previous === undefined ? "" : `Blocked by #${previous}`,
      ]
        .filter((part) => part.length > 0)
        .join("\n\n");
      const { data: created } = await octokit.rest.issues.create({ owner: repo.owner, repo: repo.repo, title, body });
      numbers.push(created.number);
      try {
        await octokit.request("POST /repos/{owner}/{repo}/issues/{issue_number}/sub_issues", {
          owner: repo.owner,
          repo: repo.repo,
          issue_number: request.parent,
          sub_issue_id: created.id,
        });
      } catch (error) {
        // Sub-issues are GitHub's view of the link; afk's own order and parent live in the issues' bodies and states.
        this.#deps.log.warn(
          { err: error, repo: fullName(repo), parent: request.parent, issue: created.number },
          "afk could not link a sub-issue to its parent",
        );
      }
      const trigger = triggerOf(request.approver, "command", {
        deliveryId: `${request.deliveryId}:step-${index + 1}`,
        repoUrl: request.repoUrl,
        bodyDigest: issueTextDigest(created.title, created.body),
      });
      await this.enqueue(
        { repo, octokit, issue: { number: created.number, open: true }, actor: request.approver, trigger },
        { kind: "pass", config, previous: undefined },
        { reactOnIssue: false, job: "implement", parent: request.parent },
      );
    }
    return numbers;
  }

  /** A sub-issue of `parent`'s plan finished (or was closed): the parent's run learns which of its sub-issues are still open. */
  async subIssueFinished(repo: RepoRef, octokit: GitHub, parent: number, issue: number): Promise<Transition | undefined> {
    const result = await this.advance(repo, octokit, parent, async (state) => {
      if (state.split === undefined || !state.split.issues.includes(issue)) return undefined;
      const stillOpen: number[] = [];
      for (const number of state.split.issues) {
        const { data } = await octokit.rest.issues.get({ owner: repo.owner, repo: repo.repo, issue_number: number });
        if (data.state === "open") stillOpen.push(number);
      }
      return { kind: "sub-issue-closed", issue, stillOpen };
    });
    return result?.transition;
  }

  /**
   * Moves an issue's run by one lifecycle event: reads the state from its progress comment, lets
   * `decide` choose, writes the new state, then carries out the effects. `eventFor` sees the state
   * first and may return undefined when the event is not about it. Events about one issue are
   * handled one at a time in this process; across processes the lock and the state's run id decide.
   */
  async advance(
    repo: RepoRef,
    octokit: GitHub,
    issue: number,
    eventFor: (state: RunState) => Promise<LifecycleEvent | undefined>,
  ): Promise<{ transition: Transition; abort?: "stopping" | "stopped" } | undefined> {
    return this.#inIssueTurn(repo, issue, async () => {
      const progress = await this.progressOf(octokit, repo, issue);
      if (progress?.kind !== "state") return undefined;
      const event = await eventFor(progress.state);
      if (event === undefined) return undefined;
      const config = (await this.#usableConfig(octokit, repo)) ?? FALLBACK_CONFIG;
      const transition = decide(progress.state, event, config, this.#now());
      if (transition.ignored !== undefined) {
        this.#deps.log.debug({ repo: fullName(repo), issue, event: event.kind, why: transition.ignored }, "afk: lifecycle event changed nothing");
      }
      if (transition.state !== progress.state) await this.#writeState(octokit, repo, progress.state, transition.state, await this.botLogin(), progress.id);
      const abort = await this.#carryOut(repo, octokit, config, transition.state, progress.id, transition.effects);
      return { transition, ...(abort === undefined ? {} : { abort }) };
    });
  }

  /**
   * Runs `work` when every earlier turn for the same issue in this process has finished: a state
   * written and its effects carried out are one step, so an event never lands between them (a fix
   * queued by red CI while the finishing job was still removing its labels lost its label).
   */
  #inIssueTurn<T>(repo: RepoRef, issue: number, work: () => Promise<T>): Promise<T> {
    const key = `${fullName(repo)}#${issue}`;
    const previous = this.#issueTurns.get(key) ?? Promise.resolve();
    const turn = previous.then(work);
    const settled = turn.then(
      () => undefined,
      () => undefined,
    );
    this.#issueTurns.set(key, settled);
    void settled.then(() => {
      if (this.#issueTurns.get(key) === settled) this.#issueTurns.delete(key);
    });
    return turn;
  }

  /**
   * Carries out a transition's effects in order. Each is tried on its own: one failing (GitHub
   * down for a label) is logged and the rest still happen, so the lock is always released.
   */
  async #carryOut(
    repo: RepoRef,
    octokit: GitHub,
    config: RepoConfig,
    state: RunState,
    commentId: number,
    effects: Effect[],
  ): Promise<"stopping" | "stopped" | undefined> {
    const log = this.#deps.log.child({ repo: fullName(repo), issue: state.issue, runId: state.runId });
    let abort: "stopping" | "stopped" | undefined;
    for (const effect of effects) {
      try {
        const stopped = await this.#retrying(
          () => this.#carryOutOne(repo, octokit, config, state, commentId, effect),
          `carry out ${effect.kind} on ${fullName(repo)}#${state.issue}`,
        );
        if (stopped !== undefined) abort = stopped;
      } catch (error) {
        log.error({ err: error, effect: effect.kind }, "afk could not carry out a lifecycle step");
      }
    }
    return abort;
  }

  /** One effect of a transition; repeated as a whole when GitHub fails transiently (each is safe to repeat). */
  async #carryOutOne(
    repo: RepoRef,
    octokit: GitHub,
    config: RepoConfig,
    state: RunState,
    commentId: number,
    effect: Effect,
  ): Promise<"stopping" | "stopped" | undefined> {
    const log = this.#deps.log.child({ repo: fullName(repo), issue: state.issue, runId: state.runId });
    const labelName = (role: LabelRole) => config.labels[role];
    switch (effect.kind) {
      case "release-lock":
        await releaseLock(octokit, repo, state.runId, this.#now());
        log.info({ status: state.status }, "afk released the repository lock");
        break;
      case "enqueue":
        // The queue is the set of issues carrying the trigger label (afk's own label event is ignored as its echo).
        await octokit.rest.issues.addLabels({ owner: repo.owner, repo: repo.repo, issue_number: state.issue, labels: [config.labels.trigger] });
        this.#later("dispatch the next queued issue", () => this.dispatchNext(repo));
        break;
      case "dispatch":
        this.#later("dispatch the next queued issue", () => this.dispatchNext(repo));
        break;
      case "abort-run":
        return this.#abortRun(repo, octokit, state, commentId, effect.reason);
      case "mark-ready-for-review":
        if (state.pullRequest !== undefined) await markReadyForReview(octokit, repo, state.pullRequest.number);
        break;
      case "request-review":
        if (state.pullRequest !== undefined) {
          const review = await requestReview(octokit, repo, state.pullRequest.number, effect.reviewer);
          if (!review.requested) log.info({ reason: review.reason }, "afk could not request a review");
        }
        break;
      case "add-label":
        await octokit.rest.issues.addLabels({ owner: repo.owner, repo: repo.repo, issue_number: state.issue, labels: [labelName(effect.label)] });
        break;
      case "remove-labels":
        for (const role of effect.labels) {
          // The trigger label is the queue: if another replica queued a follow-up meanwhile, it stays.
          if (role === "trigger" && (await this.#queuedAgain(octokit, repo, state))) continue;
          await removeLabel(octokit, repo, state.issue, labelName(role));
        }
        break;
      case "close-issue": {
        const { data: issue } = await octokit.rest.issues.get({ owner: repo.owner, repo: repo.repo, issue_number: state.issue });
        if (issue.state === "open")
          await octokit.rest.issues.update({ owner: repo.owner, repo: repo.repo, issue_number: state.issue, state: "closed", state_reason: "completed" });
        break;
      }
      case "comment": {
        const thread = effect.on === "pull-request" && state.pullRequest !== undefined ? state.pullRequest.number : state.issue;
        await octokit.rest.issues.createComment({ owner: repo.owner, repo: repo.repo, issue_number: thread, body: effect.body });
        break;
      }
      case "report-to-parent":
        // After this turn: the parent's turn reads this issue as closed.
        this.#later("report a finished sub-issue to its parent", async () => void (await this.subIssueFinished(repo, octokit, effect.parent, state.issue)));
        break;
      case "read-ci":
        // A turn of its own, after this one: the state that waits on the head is written by then, so
        // whatever CI said before (its events were judged against the old state) is read and acted on.
        this.#later("read CI on the commit afk now waits on", async () => void (await this.ciChanged(repo, octokit, state.issue, effect.head)));
        break;
      case "recheck-ci":
        this.#recheckAt(repo, state.issue, effect.head, Date.parse(effect.at));
        break;
    }
    return undefined;
  }

  /** Whether the issue's run was queued again after `state` was decided (by another process: this one serialises its turns). */
  async #queuedAgain(octokit: GitHub, repo: RepoRef, state: RunState): Promise<boolean> {
    if (state.status === "queued") return false;
    const current = await this.progressOf(octokit, repo, state.issue);
    return current?.kind === "state" && current.state.status === "queued";
  }

  /** Stops a running job: here, through the lock on another replica, or (nobody holds it) by settling it. */
  async #abortRun(repo: RepoRef, octokit: GitHub, state: RunState, commentId: number, reason: string): Promise<"stopping" | "stopped"> {
    const local = this.#active.get(state.runId);
    if (local !== undefined) {
      local.controller.abort(new RunAbort("stop", reason));
      return "stopping";
    }
    // Running on another replica: flag the lock; that replica's next renewal sees it and stops.
    if (await requestStop(octokit, repo, state.runId, this.#now())) {
      // If that replica is gone, the run ends when its lease does: the lock is taken back then and the issue told.
      const lock = await readLock(octokit, repo, this.#now());
      if (lock.status === "held") this.#dispatchAt(repo, Date.parse(lock.holder.expiresAt));
      return "stopping";
    }
    // Nobody holds the lock for this run any more: it is settled in fact, so settle it on the issue.
    await this.#writeState(octokit, repo, state, stoppedState(state, "afk", this.#now(), reason), await this.botLogin(), commentId);
    return "stopped";
  }

  /**
   * Picks up what a previous process left, since afk keeps nothing on disk: in every allowed
   * repository of every installation it dispatches queued work (taking back a lock whose holder
   * died, or looking again when its lease ends) and looks at CI on afk's open pull requests, which
   * re-arms the no-CI grace period. Runs once at start-up, in the background; a repository that
   * fails is logged and the rest still recover.
   */
  async recover(): Promise<{ repositories: number; pullRequests: number }> {
    const app = await this.#deps.appOctokit();
    const installations = await app.paginate(app.rest.apps.listInstallations, { per_page: 100 });
    const botLogin = await this.botLogin();
    let repositories = 0;
    let pullRequests = 0;
    for (const installation of installations) {
      if (this.#closing) break;
      const octokit = await this.#deps.octokitFor(installation.id);
      const repos = await octokit.paginate(octokit.rest.apps.listReposAccessibleToInstallation, { per_page: 100 });
      for (const repository of repos) {
        const repo: RepoRef = { owner: repository.owner.login, repo: repository.name, installationId: installation.id };
        if (this.#closing || !isRepositoryAllowed(this.#deps.settings, fullName(repo))) continue;
        repositories += 1;
        try {
          const lock = await readLock(octokit, repo, this.#now());
          if (lock.status === "held" && !lock.expired) this.#dispatchAt(repo, Date.parse(lock.holder.expiresAt));
          else await this.dispatchNext(repo);
          const pulls = await octokit.paginate(octokit.rest.pulls.list, { owner: repo.owner, repo: repo.repo, state: "open", per_page: 100 });
          for (const pull of pulls) {
            const issue = issueOfBranch(pull.head.ref);
            if (issue === undefined || pull.user?.login !== botLogin || pull.head.repo?.full_name !== pull.base.repo.full_name) continue;
            pullRequests += 1;
            await this.ciChanged(repo, octokit, issue, pull.head.sha);
          }
        } catch (error) {
          this.#deps.log.warn({ err: error, repo: fullName(repo) }, "afk could not recover a repository's work after start-up");
        }
      }
    }
    this.#deps.log.info({ repositories, pullRequests }, "afk looked at the work earlier processes left");
    return { repositories, pullRequests };
  }

  /** Dispatches when a lock's lease ends: a holder that died is taken back then; a live one has renewed and keeps it. */
  #dispatchAt(repo: RepoRef, at: number): void {
    this.#timerAt(`${fullName(repo)}:dispatch@${at}`, at, () => this.#later("dispatch when a lock's lease ends", () => this.dispatchNext(repo)));
  }

  /** Looks at CI again at `at` (the end of the no-CI grace period, or the next look at CI still running); any CI event also triggers a look. */
  #recheckAt(repo: RepoRef, issue: number, head: string, at: number): void {
    this.#timerAt(`${fullName(repo)}#${issue}@${head}`, at, () =>
      this.#later("look at CI again", async () => {
        await this.ciChanged(repo, await this.#deps.octokitFor(repo.installationId), issue, head);
      }),
    );
  }

  /** One timer per key in this process, at the earliest time asked for; it does not keep the process alive. */
  #timerAt(key: string, at: number, fire: () => void): void {
    const existing = this.#timers.get(key);
    if (this.#closing || (existing !== undefined && existing.at <= at)) return;
    if (existing !== undefined) clearTimeout(existing.timer);
    const timer = setTimeout(
      () => {
        this.#timers.delete(key);
        fire();
      },
      Math.max(0, at - this.#now().getTime()) + 50,
    );
    timer.unref();
    this.#timers.set(key, { timer, at });
  }

  async progressOf(octokit: GitHub, repo: RepoRef, issue: number): Promise<ProgressComment | undefined> {
    return findProgressComment(octokit, repo, issue, await this.botLogin());
  }

  async lockOf(octokit: GitHub, repo: RepoRef): Promise<LockView> {
    return readLock(octokit, repo, this.#now());
  }

  async #start(
    octokit: GitHub,
    repo: RepoRef,
    config: RepoConfig,
    issue: QueuedIssue,
    commentId: number,
    queued: RunState,
    holder: LockHolder,
    lockSha: string,
  ): Promise<void> {
    const botLogin = await this.botLogin();
    let state = startedState(queued, this.#deps.settings.replicaId, this.#now());
    const started = state;
    await this.#retrying(() => this.#writeState(octokit, repo, queued, started, botLogin, commentId));
    const startedAt = performance.now();
    const identity = { repository: fullName(repo), issue: issue.number, runId: holder.runId, job: started.job };
    this.#deps.log.info(runStartRecord({ ...identity, replica: this.#deps.settings.replicaId }), "afk run started");
    this.#deps.metrics?.runStarted(started.job);
    // From here the run is recorded as started, so it must run: the label is only a signal.
    await this.#retrying(() =>
      octokit.rest.issues.addLabels({ owner: repo.owner, repo: repo.repo, issue_number: issue.number, labels: [config.labels.in_progress] }),
    ).catch((error: unknown) => this.#deps.log.warn({ err: error, repo: fullName(repo), issue: issue.number }, "afk could not add its in-progress label"));

    const controller = new AbortController();
    this.#active.set(holder.runId, { controller, repo, issue: issue.number });
    const lease = { holder, sha: lockSha, lost: false };
    const heartbeat = setInterval(
      () => {
        void this.#renew(repo, lease, controller).catch((error: unknown) =>
          this.#deps.log.warn({ err: error, repo: fullName(repo) }, "afk lock renewal failed; retrying"),
        );
      },
      this.#deps.renewEveryMs ?? (this.#deps.settings.lockLeaseSeconds * 1000) / 3,
    );
    heartbeat.unref();

    // Writes of the progress comment are chained, so a spend update never overtakes a phase.
    let writes = Promise.resolve();
    /** What the progress comment holds: the observer's `before`. */
    let written = started;
    const report = (next: RunState): Promise<void> => {
      state = next;
      writes = writes
        .then(async () => {
          const writing = state;
          await this.#reportPhase(repo, commentId, botLogin, written, writing);
          written = writing;
        })
        .catch((error: unknown) => {
          this.#deps.log.warn({ err: error, repo: fullName(repo), issue: issue.number }, "afk could not update the progress comment");
        });
      return writes;
    };
    let lastSpendWrite = 0;
    const reporter: RunReporter = {
      phase: (phase) => report(phaseState(state, phase)),
      spend: (spend) => {
        state = spendState(state, spend);
        if (this.#now().getTime() - lastSpendWrite < SPEND_WRITE_EVERY_MS) return;
        lastSpendWrite = this.#now().getTime();
        void report(state);
      },
    };

    this.#queue.push(async () => {
      let outcome: RunOutcome;
      try {
        outcome = controller.signal.aborted
          ? { status: "failed", message: `The run was aborted before it began: ${abortMessage(controller.signal)}`, retryable: true }
          : await this.#deps.executor.execute(
              {
                repo,
                issue: issue.number,
                runId: holder.runId,
                trigger: { actor: queued.trigger.actor, at: queued.trigger.at, bodyDigest: queued.trigger.bodyDigest },
                config,
                model: config.model ?? this.#deps.settings.model ?? DEFAULT_MODEL,
                signal: controller.signal,
                kind: queued.job,
                context: jobContext(queued),
              },
              reporter,
            );
      } catch (error) {
        outcome = { status: "failed", message: `The executor crashed: ${errorMessage(error)}`, retryable: true };
      } finally {
        clearInterval(heartbeat);
        this.#active.delete(holder.runId);
      }
      await writes;
      const abort = controller.signal.reason instanceof RunAbort ? controller.signal.reason : undefined;
      if (abort?.kind === "stop") outcome = { status: "stopped", message: abort.message };
      // Cut short by this process shutting down, with nothing delivered: the job goes back in the queue.
      const handBack = abort?.kind === "shutdown" && (outcome.status === "failed" || outcome.status === "stopped") ? abort.message : undefined;
      const seconds = (performance.now() - startedAt) / 1000;
      const ended: RunOutcomeLabel = lease.lost ? "lost-lock" : handBack !== undefined ? "handed-back" : outcome.status;
      const cost = outcome.spend ?? state.spend;
      this.#deps.log.info(runEndRecord({ ...identity, outcome: ended, cost, turns: cost?.turns, durationSeconds: seconds }), "afk run ended");
      this.#deps.metrics?.runEnded({ job: state.job, outcome: ended, seconds, cost });
      // Token counts are for the metrics; the run state (and its marker on the issue) keeps dollars and turns.
      const recorded: RunOutcome = outcome.spend === undefined ? outcome : { ...outcome, spend: { usd: outcome.spend.usd, turns: outcome.spend.turns } };
      await this.#settle(repo, config, state, written, commentId, recorded, lease, handBack);
    });
  }

  async #reportPhase(repo: RepoRef, commentId: number, botLogin: string, before: RunState, state: RunState): Promise<void> {
    const octokit = await this.#deps.octokitFor(repo.installationId);
    await this.#writeState(octokit, repo, before, state, botLogin, commentId);
  }

  async #renew(repo: RepoRef, lease: { holder: LockHolder; sha: string; lost: boolean }, controller: AbortController): Promise<void> {
    if (lease.lost || controller.signal.aborted) return;
    const octokit = await this.#deps.octokitFor(repo.installationId);
    const next = extendLease(lease.holder, this.#now(), this.#deps.settings.lockLeaseSeconds);
    const result = await renewLock(octokit, repo, lease.sha, next, this.#now());
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

  async #settle(
    repo: RepoRef,
    config: RepoConfig,
    state: RunState,
    written: RunState,
    commentId: number,
    outcome: RunOutcome,
    lease: { holder: LockHolder; lost: boolean },
    handBack?: string,
  ): Promise<void> {
    const octokit = await this.#retrying(() => this.#deps.octokitFor(repo.installationId));
    const log = this.#deps.log.child({ repo: fullName(repo), issue: state.issue, runId: state.runId });
    if (lease.lost) {
      // Another process took the lock back and already marked this run interrupted; writing now would contradict it.
      log.warn("afk run ended after losing its lock; leaving the issue to the process that reclaimed it");
      return;
    }
    await this.#inIssueTurn(repo, state.issue, async () => {
      const event: LifecycleEvent = handBack === undefined ? { kind: "job-finished", outcome } : { kind: "handed-back", reason: handBack };
      const transition = decide(state, event, config, this.#now());
      let settled = transition.state;
      const headSha = handBack === undefined ? outcome.headSha : undefined;
      if (headSha !== undefined) {
        // The check run first, so the state written next records its id.
        try {
          const view = renderCheckRun(settled, outcome.evidence ?? {});
          const detailsUrl = settled.repoUrl === undefined ? undefined : `${settled.repoUrl}/issues/${settled.issue}`;
          const checkRunId = await this.#retrying(() => publishCheckRun(octokit, repo, { headSha, view, ...(detailsUrl === undefined ? {} : { detailsUrl }) }));
          settled = { ...settled, checkRunId };
        } catch (error) {
          log.error({ err: error }, "afk could not publish its check run");
        }
      }
      try {
        const botLogin = await this.botLogin();
        await this.#retrying(() => this.#writeState(octokit, repo, written, settled, botLogin, commentId));
      } catch (error) {
        // The issue would say "running" with nobody running it: keep the lock instead, so when its lease
        // ends it is taken back and the issue says the run was interrupted (with a retry hint).
        log.error({ err: error }, "afk could not record how the run ended; the lock is left to its lease, which marks the run interrupted");
        this.#dispatchAt(repo, Date.parse(lease.holder.expiresAt));
        return;
      }
      // The effects release the lock and dispatch what is queued next; if they never ran, the lease would free the repository.
      await this.#carryOut(repo, octokit, config, settled, commentId, transition.effects);
      log.info({ outcome: handBack === undefined ? outcome.status : "handed-back", job: state.job }, "afk run settled");
    });
  }

  async #usableConfig(octokit: GitHub, repo: RepoRef): Promise<RepoConfig | undefined> {
    const result = await readRepoConfig(octokit, repo);
    if (result.kind === "ok") return result.config;
    this.#deps.log.warn({ repo: fullName(repo), config: result.kind }, "afk cannot dispatch: repository config is not usable");
    return undefined;
  }

  async #markInterrupted(octokit: GitHub, repo: RepoRef, config: RepoConfig, holder: LockHolder): Promise<void> {
    this.#deps.log.warn(
      { repo: fullName(repo), issue: holder.issue, runId: holder.runId, replica: holder.replica },
      "afk reclaimed an expired repository lock",
    );
    const progress = await this.progressOf(octokit, repo, holder.issue);
    if (progress?.kind !== "state" || progress.state.runId !== holder.runId || !isActive(progress.state)) return;
    await this.#writeState(octokit, repo, progress.state, interruptedState(progress.state, holder, this.#now()), await this.botLogin(), progress.id);
    await removeLabel(octokit, repo, holder.issue, config.labels.in_progress);
  }

  /** An expired lock with nothing queued behind it: take it back so the issue learns its run was interrupted. */
  async #reclaimIdle(octokit: GitHub, repo: RepoRef, config: RepoConfig, lock: Extract<LockView, { status: "held" }>): Promise<void> {
    const sweeper = newHolder({
      issue: lock.holder.issue,
      runId: `reclaim-${newRunId()}`,
      replica: this.#deps.settings.replicaId,
      now: this.#now(),
      leaseSeconds: 30,
    });
    const taken = await acquireLock(octokit, repo, sweeper, this.#now());
    if (!taken.acquired) return;
    try {
      if (taken.reclaimed !== undefined) await this.#markInterrupted(octokit, repo, config, taken.reclaimed);
    } finally {
      await releaseLock(octokit, repo, sweeper.runId, this.#now());
    }
  }
}

/** The lifecycle's limits when `.github/afk.yml` is broken mid-run: the documented defaults. */
const FALLBACK_CONFIG: RepoConfig = repoConfigSchema.parse({ test: "true" });

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

/** The config's trust lists, or none when the config is not usable (then only repository roles count). */
export function trustLists(config: RepoConfigResult): RepoConfig["trusted"] {
  return config.kind === "ok" ? config.config.trusted : { users: [], bots: [] };
}

async function removeLabel(octokit: GitHub, repo: RepoRef, issue: number, name: string): Promise<void> {
  try {
    await octokit.rest.issues.removeLabel({ owner: repo.owner, repo: repo.repo, issue_number: issue, name });
  } catch (error) {
    if (errorStatus(error) !== 404) throw error;
  }
}

export function newRunId(): string {
  return `r-${Date.now().toString(36)}-${randomUUID().slice(0, 8)}`;
}
