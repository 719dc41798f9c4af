import type { Logger } from "probot";
import { GITHUB_RETRY, retryTransient, type RetryPolicy } from "../github/transient.js";
import { YieldingQueue } from "./yielding-queue.js";

/** Webhook intakes and dispatches processed at once; the rest wait their turn in arrival order. */
const INTAKE_CONCURRENCY = 4;
/** Intake starts once no delivery has arrived for this long... */
const INTAKE_QUIET_MS = 5;
/** ...or once the oldest waiting intake has waited this long. */
const INTAKE_MAX_HOLD_MS = 100;

/**
 * Everything afk does after a webhook is answered, and its own follow-up work: queued behind
 * arriving deliveries (ADR 0002), at most `INTAKE_CONCURRENCY` at once with installations taking
 * turns, each repeated while GitHub fails transiently and then logged, never thrown. Also the timers
 * afk sets for itself (a lease's end, the next look at CI), one per key at the earliest time asked.
 */
export class Background {
  readonly #log: Logger;
  readonly #retry: RetryPolicy;
  readonly #now: () => Date;
  readonly #queue: YieldingQueue;
  readonly #timers = new Map<string, { timer: NodeJS.Timeout; at: number }>();
  #stopped = false;

  constructor(options: { log: Logger; retry?: RetryPolicy; now: () => Date }) {
    this.#log = options.log;
    this.#retry = options.retry ?? GITHUB_RETRY;
    this.#now = options.now;
    this.#queue = new YieldingQueue({
      limit: INTAKE_CONCURRENCY,
      onError: (error) => options.log.error({ err: error }, "afk background task failed"),
      quietMs: INTAKE_QUIET_MS,
      maxHoldMs: INTAKE_MAX_HOLD_MS,
    });
  }

  /** Work a webhook asked for; it waits while more deliveries are arriving. */
  delivery(what: string, work: () => Promise<void>, installationId?: number): void {
    this.#queue.push(this.#logged(what, work), true, installationId === undefined ? "" : String(installationId));
  }

  /** Follow-up work of afk's own (not started by a delivery). */
  later(what: string, work: () => Promise<void>): void {
    this.#queue.push(this.#logged(what, work), false);
  }

  /**
   * Repeats a whole step only when its GitHub call failed with a transient answer the request-level
   * retries (the Octokit plugins) already gave up on; bounded by the policy, each repeat logged.
   */
  retrying<T>(work: () => Promise<T>, what = "a lifecycle step"): Promise<T> {
    return retryTransient(work, this.#retry, { log: this.#log, what });
  }

  /** Tasks queued or running. */
  get pending(): number {
    return this.#queue.pending;
  }

  idle(): Promise<void> {
    return this.#queue.idle();
  }

  /** Runs `fire` as afk's own work at `at`; one timer per key, at the earliest time asked for; it does not keep the process alive. */
  at(key: string, at: number, what: string, work: () => Promise<void>): void {
    const existing = this.#timers.get(key);
    if (this.#stopped || (existing !== undefined && existing.at <= at)) return;
    if (existing !== undefined) clearTimeout(existing.timer);
    const timer = setTimeout(
      () => {
        this.#timers.delete(key);
        this.later(what, work);
      },
      Math.max(0, at - this.#now().getTime()) + 50,
    );
    timer.unref();
    this.#timers.set(key, { timer, at });
  }

  /** Clears every timer and sets no new one (shutdown); queued work still runs. */
  stopTimers(): void {
    this.#stopped = true;
    for (const { timer } of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
  }

  #logged(what: string, work: () => Promise<void>): () => Promise<void> {
    return () => this.retrying(work, what).catch((error: unknown) => this.#log.error({ err: error }, `afk: ${what} failed`));
  }
}
