import { setTimeout as sleep } from "node:timers/promises";
import { RunQueue } from "./run-queue.js";

/**
 * A `RunQueue` that holds new tasks back while webhooks are still arriving, so
 * acknowledging a burst of deliveries never waits behind the GitHub calls the
 * earlier ones started. Tasks are released once no delivery has arrived for
 * `quietMs`, or once the oldest has waited `maxHoldMs`, so a steady stream of
 * deliveries still makes progress.
 */
export class YieldingQueue {
  readonly #queue: RunQueue;
  readonly #held: Array<{ task: () => Promise<void>; lane: string }> = [];
  readonly #quietMs: number;
  readonly #maxHoldMs: number;
  #lastArrival = Number.NEGATIVE_INFINITY;
  #heldSince = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(options: { limit: number; onError: (error: unknown) => void; quietMs: number; maxHoldMs: number }) {
    this.#queue = new RunQueue(options.limit, options.onError);
    this.#quietMs = options.quietMs;
    this.#maxHoldMs = options.maxHoldMs;
  }

  /** Adds a task; `arrival` marks it as started by an incoming webhook; `lane` shares slots fairly (see `RunQueue`). */
  push(task: () => Promise<void>, arrival: boolean, lane = ""): void {
    const now = performance.now();
    if (arrival) this.#lastArrival = now;
    if (this.#held.length === 0) this.#heldSince = now;
    this.#held.push({ task, lane });
    this.#timer ??= setTimeout(() => this.#release(), this.#quietMs);
  }

  /** Tasks held, running or waiting for a slot. */
  get pending(): number {
    return this.#held.length + this.#queue.running + this.#queue.waiting;
  }

  /** Resolves once every task pushed so far, and every task they pushed, has finished. */
  async idle(): Promise<void> {
    while (this.pending > 0) {
      if (this.#held.length > 0) await sleep(this.#quietMs);
      else await this.#queue.idle();
    }
  }

  #release(): void {
    this.#timer = undefined;
    const now = performance.now();
    if (now - this.#lastArrival >= this.#quietMs || now - this.#heldSince >= this.#maxHoldMs) {
      for (const { task, lane } of this.#held.splice(0)) this.#queue.push(task, lane);
    } else {
      this.#timer = setTimeout(() => this.#release(), this.#quietMs);
    }
  }
}
