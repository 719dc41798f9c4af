/**
 * Runs tasks with at most `limit` at once, in arrival order. Tasks handle their
 * own errors; a task that still throws is reported to `onError` and the queue
 * moves on.
 */
export class RunQueue {
  readonly #limit: number;
  readonly #onError: (error: unknown) => void;
  readonly #waiting: Array<() => Promise<void>> = [];
  #running = 0;
  #idleWaiters: Array<() => void> = [];

  constructor(limit: number, onError: (error: unknown) => void) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`RunQueue limit must be a whole number ≥ 1, got ${limit}`);
    this.#limit = limit;
    this.#onError = onError;
  }

  get running(): number {
    return this.#running;
  }

  get waiting(): number {
    return this.#waiting.length;
  }

  push(task: () => Promise<void>): void {
    this.#waiting.push(task);
    this.#drain();
  }

  /** Resolves when nothing is running or waiting. */
  idle(): Promise<void> {
    if (this.#running === 0 && this.#waiting.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  #drain(): void {
    while (this.#running < this.#limit) {
      const task = this.#waiting.shift();
      if (task === undefined) break;
      this.#running++;
      void task()
        .catch(this.#onError)
        .finally(() => {
          this.#running--;
          this.#drain();
          if (this.#running === 0 && this.#waiting.length === 0) {
            const waiters = this.#idleWaiters;
            this.#idleWaiters = [];
            for (const resolve of waiters) resolve();
          }
        });
    }
  }
}
