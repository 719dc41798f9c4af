import type { Logger } from "probot";
import type { OperatorSettings } from "../config/operator-settings.js";
import { ciVerdict } from "../github/ci-status.js";
import { fullName, type GitHub, type RepoRef } from "../github/types.js";
import { decide, watchesCiOn, type Transition } from "../lifecycle/lifecycle.js";
import type { ProgressComment, RunState } from "../lifecycle/run-state.js";
import { Background } from "./background.js";
import { DeliveryContext } from "./delivery-context.js";
import { dispatchNext } from "./dispatcher.js";
import { lifecyclePolicy, move } from "./effects.js";
import { IssueTurns } from "./issue-turns.js";
import { subIssueFinished } from "./plan-split.js";
import { recover } from "./recovery.js";
import { RunSupervisor } from "./run-supervisor.js";
import type { EventFor, Lease, Moved, Runtime } from "./runtime.js";
import type { AfkServices } from "./services.js";

export type { AfkServices as CoordinatorDeps } from "./services.js";
export { RunAbort } from "./run-supervisor.js";

/**
 * Wires dispatch together and is its face to the App: webhook handlers hand work to `background`,
 * which intake turns into lifecycle events; the dispatcher starts queued runs, the run supervisor
 * runs and settles them, the effect shell carries out what the lifecycle decided. Every decision is
 * written to GitHub (progress comment, labels, lock ref) before anything depends on it, so a second
 * replica, or this one after a restart, reaches the same conclusions.
 */
export class Coordinator implements Runtime {
  readonly services: AfkServices;
  readonly tasks: Background;
  readonly turns = new IssueTurns();
  readonly #supervisor: RunSupervisor;
  #closing = false;

  constructor(services: AfkServices) {
    this.services = services;
    this.tasks = new Background({ log: services.log, ...(services.retry === undefined ? {} : { retry: services.retry }), now: () => this.now() });
    this.#supervisor = new RunSupervisor(this);
  }

  get settings(): OperatorSettings {
    return this.services.settings;
  }

  get log(): Logger {
    return this.services.log;
  }

  get closing(): boolean {
    return this.#closing;
  }

  /** The time afk decides by (injected in tests). */
  now(): Date {
    return this.services.now?.() ?? new Date();
  }

  botLogin(): Promise<string> {
    return this.services.botLogin();
  }

  /** Runs this process started that wait for a free slot (`AFK_MAX_CONCURRENT_RUNS`). */
  get queueLength(): number {
    return this.#supervisor.waiting;
  }

  /** Repository locks held by runs of this process (one per active run). */
  get locksHeld(): number {
    return this.#supervisor.activeRuns.size;
  }

  /**
   * Takes the work a webhook asked for, to do after the webhook is answered. Errors are logged,
   * never thrown. The work waits while more deliveries are arriving (ADR 0002).
   */
  background(what: string, work: () => Promise<void>, installationId?: number): void {
    this.tasks.delivery(what, work, installationId);
  }

  /** A delivery's context: its installation client, and what it reads once (bot login, config, trust, progress comments). */
  deliveryContext(repo: RepoRef, octokit: GitHub): DeliveryContext {
    return new DeliveryContext(this.services, this.turns, repo, octokit);
  }

  async contextFor(repo: RepoRef): Promise<DeliveryContext> {
    return this.deliveryContext(repo, await this.services.octokitFor(repo.installationId));
  }

  /** Resolves once no intake or dispatch is in flight (runs may still be executing). */
  quiet(): Promise<void> {
    return this.tasks.idle();
  }

  /** Resolves once no intake, dispatch or run is in flight in this process. */
  async idle(): Promise<void> {
    while (this.tasks.pending + this.#supervisor.running + this.#supervisor.waiting > 0) {
      await this.tasks.idle();
      await this.#supervisor.idle();
    }
  }

  /**
   * App shutdown at once: starts nothing new and aborts every run in this process; each still
   * settles, frees its lock and, having delivered nothing, is queued again for any replica.
   */
  shutdown(reason: string): void {
    this.#stopStarting();
    this.#supervisor.abortAll(reason);
  }

  /**
   * Graceful shutdown (SIGTERM): starts nothing new (deliveries are still taken and recorded, as
   * queued work for any replica), lets the runs in this process go on for up to `graceMs`, then
   * aborts the rest, which settle as queued again with their locks released at once, not left to
   * their leases. Resolves once every run has settled and every pending step is done.
   */
  async drain(graceMs: number, reason: string): Promise<{ finished: number; handedBack: number }> {
    this.#stopStarting();
    const before = this.#supervisor.activeRuns.size;
    let timer: NodeJS.Timeout | undefined;
    const graceOver = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, graceMs);
    });
    await Promise.race([this.#supervisor.idle(), graceOver]);
    clearTimeout(timer);
    const handedBack = this.#supervisor.abortAll(reason);
    await this.idle();
    return { finished: before - handedBack, handedBack };
  }

  #stopStarting(): void {
    this.#closing = true;
    this.tasks.stopTimers();
  }

  move(context: DeliveryContext, issue: number, eventFor: EventFor, options: { lease?: Lease } = {}): Promise<Moved | undefined> {
    return move(this, context, issue, eventFor, options);
  }

  /** Moves an existing run (one whose progress comment holds a state) by one event. */
  advance(
    context: DeliveryContext,
    issue: number,
    eventFor: (state: RunState) => Promise<Parameters<typeof decide>[1] | undefined>,
  ): Promise<Moved | undefined> {
    return this.move(context, issue, async (comment) => (comment?.kind === "state" ? eventFor(comment.state) : undefined));
  }

  /** Starts the next queued issue in the repository if its lock is free (see `dispatchNext`). */
  async dispatchNext(repo: RepoRef): Promise<void> {
    await this.dispatch(await this.contextFor(repo));
  }

  dispatch(context: DeliveryContext): Promise<void> {
    return dispatchNext(this, context, this.#supervisor.activeRuns);
  }

  dispatchLater(repo: RepoRef, context?: DeliveryContext): void {
    this.tasks.later("dispatch the next queued issue", async () => (context === undefined ? this.dispatchNext(repo) : this.dispatch(context)));
  }

  dispatchAt(repo: RepoRef, at: number): void {
    this.tasks.at(`${fullName(repo)}:dispatch@${at}`, at, "dispatch when a lock's lease ends", () => this.dispatchNext(repo));
  }

  /**
   * CI reported on a commit of afk's branch for `issue` (or afk looks on its own, after a hand-off, at
   * the end of a grace period, at start-up): if the run watches CI on that commit, CI is read fresh
   * from GitHub (an event only says something changed) and the lifecycle decides.
   */
  async ciChanged(context: DeliveryContext, issue: number, sha: string): Promise<Transition | undefined> {
    const { octokit, repo } = context;
    const moved = await this.advance(context, issue, async (state) => {
      if (!watchesCiOn(state, sha) || state.ci === undefined) return undefined;
      // Red on the base too means not afk's failure: the default branch's head, or in direct mode the commit afk started from.
      const started = state.ci.base;
      const baseRef = async () => started ?? (await octokit.rest.repos.get({ owner: repo.owner, repo: repo.repo })).data.default_branch;
      // Once afk counted CI as passing (in review), a check already red counts while others still run; waiting on CI, afk waits for all of it.
      const redWhileRunning = state.phase === "review";
      const verdict = await ciVerdict(octokit, repo, { sha, baseRef, ownAppSlug: (await context.botLogin()).replace(/\[bot\]$/, ""), redWhileRunning });
      return { kind: "ci", head: sha, verdict };
    });
    return moved?.transition;
  }

  /** Looks at CI again at `at` (the end of the no-CI grace period, or the next look at CI still running); any CI event also triggers a look. */
  recheckAt(repo: RepoRef, issue: number, head: string, at: number): void {
    this.tasks.at(`${fullName(repo)}#${issue}@${head}`, at, "look at CI again", async () => {
      await this.ciChanged(await this.contextFor(repo), issue, head);
    });
  }

  subIssueFinished(context: DeliveryContext, parent: number, issue: number): Promise<Transition | undefined> {
    return subIssueFinished(this, context, parent, issue);
  }

  runJob(context: DeliveryContext, state: RunState, commentId: number, lease: Lease): void {
    void context.usableConfig().then(
      (config) => {
        if (config === undefined) throw new Error("the repository config became unusable as the run started");
        this.#supervisor.run(context, state, commentId, lease, config);
      },
      (error: unknown) => this.log.error({ err: error, repo: fullName(context.repo), issue: state.issue }, "afk could not start a run"),
    );
  }

  async abortRun(context: DeliveryContext, state: RunState, commentId: number, reason: string): Promise<"stopping" | "stopped"> {
    const where = await this.#supervisor.abort(context, state, reason);
    if (where !== "nobody") return where;
    // Nobody holds the lock for this run any more: it is settled in fact, so settle it on the issue (in this turn).
    const transition = decide(state, { kind: "abandoned", reason }, await lifecyclePolicy(context), this.now());
    if (transition.state !== state) await context.runs.write(state, transition.state, commentId);
    return "stopped";
  }

  /** Picks up what a previous process left (see `recover`). */
  recover(): Promise<{ repositories: number; pullRequests: number }> {
    return recover(this);
  }

  async progressOf(octokit: GitHub, repo: RepoRef, issue: number): Promise<ProgressComment | undefined> {
    return this.deliveryContext(repo, octokit).runs.read(issue);
  }
}
