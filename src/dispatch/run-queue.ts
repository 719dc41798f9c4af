/**
 * Runs tasks with at most `limit` at once. Tasks carry a lane (afk uses the installation); a free
 * slot goes to the lanes in turn, and within a lane tasks run in arrival order. So a burst from
 * one installation never makes another installation's delivery wait behind all of it. With one
 * lane this is plain arrival order. A task that still throws is reported to `onError` and the
 * queue moves on.
 */
export class RunQueue {
  readonly #limit: number;
  readonly #onError: (error: unknown) => void;
  /** Waiting tasks by lane; a lane is removed when it empties, so the map's order is the turn order. */
  readonly #lanes = new Map<string, Array<() => Promise<void>>>();
  #waiting = 0;
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
    return this.#waiting;
  }

  push(task: () => Promise<void>, lane = ""): void {
    const tasks = this.#lanes.get(lane);
    if (tasks === undefined) this.#lanes.set(lane, [task]);
    else tasks.push(task);
    this.#waiting++;
    this.#drain();
  }

  /** Resolves when nothing is running or waiting. */
  idle(): Promise<void> {
    if (this.#running === 0 && this.#waiting === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /** The next task: the first of the lane whose turn it is; that lane then goes to the back. */
  #next(): (() => Promise<void>) | undefined {
    for (const [lane, tasks] of this.#lanes) {
      const task = tasks.shift();
      this.#lanes.delete(lane);
      if (tasks.length > 0) this.#lanes.set(lane, tasks);
      if (task !== undefined) {
        this.#waiting--;
        return task;
      }
    }
    return undefined;
  }

  #drain(): void {
    while (this.#running < this.#limit) {
      const task = this.#next();
      if (task === undefined) break;
      this.#running++;
      void task()
        .catch(this.#onError)
        .finally(() => {
          this.#running--;
          this.#drain();
          if (this.#running === 0 && this.#waiting === 0) {
            const waiters = this.#idleWaiters;
            this.#idleWaiters = [];
            for (const resolve of waiters) resolve();
          }
        });
    }
  }
}
