import type { RunState } from "../lifecycle/run-state.js";
import { phaseState, spendState } from "../lifecycle/transitions.js";
import type { RunReporter } from "../run-contract/executor.js";

/** While a job runs, its progress comment is edited at most this often: a phase reported sooner shows when the gap ends, or is replaced by the next. */
export const PROGRESS_WRITE_GAP_MS = 5_000;

/** The progress comment shows the growing spend, written at most this often. */
const SPEND_WRITE_EVERY_MS = 15_000;

/** Where a progress writer writes: the progress comment (the run store), and where a failed write is reported. */
export interface ProgressSink {
  write(before: RunState, after: RunState): Promise<unknown>;
  failed(error: unknown, state: RunState): void;
}

/**
 * Writes a running job's phases and spend to its progress comment: one write at a time, at most one
 * every `gapMs` (GitHub asks for a pause between writes, and a phase that lasts a second is not worth
 * one), always the latest state, so a spend update never overtakes a phase. The comment holds the
 * started state when the writer begins.
 */
export class ProgressWriter {
  /** The state the job last reported. */
  state: RunState;
  #written: RunState;
  #lastWriteAt: number;
  #lastSpendWrite: number;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #writing: Promise<void> | undefined;
  #closed = false;

  constructor(
    readonly sink: ProgressSink,
    started: RunState,
    readonly gapMs: number = PROGRESS_WRITE_GAP_MS,
    readonly clock: () => number = Date.now,
  ) {
    this.state = started;
    this.#written = started;
    // The started state was written just now; the first spend shows once the interval has passed (the phase says the agent works meanwhile).
    this.#lastWriteAt = clock();
    this.#lastSpendWrite = clock();
  }

  reporter(): RunReporter {
    return {
      phase: (phase) => this.#report(phaseState(this.state, phase)),
      spend: (spend) => {
        this.state = spendState(this.state, spend);
        if (this.clock() - this.#lastSpendWrite < SPEND_WRITE_EVERY_MS) return;
        this.#lastSpendWrite = this.clock();
        void this.#report(this.state);
      },
    };
  }

  /** What the progress comment holds: the last state written (the observer's `before`). */
  get written(): RunState {
    return this.#written;
  }

  /**
   * Stops writing: a write not yet begun is dropped (what the run records next supersedes it); one
   * under way is waited for. `state` stays what the job last reported.
   */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#writing;
  }

  /** Resolves when the state is written, when that is now; a write that must wait for the gap is left to its timer. */
  #report(next: RunState): Promise<void> {
    this.state = next;
    if (this.#closed || this.#timer !== undefined || this.#writing !== undefined) return Promise.resolve();
    const wait = this.#lastWriteAt + this.gapMs - this.clock();
    if (wait <= 0) return this.#write();
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.#write();
    }, wait);
    this.#timer.unref();
    return Promise.resolve();
  }

  #write(): Promise<void> {
    if (this.#closed || this.state === this.#written) return Promise.resolve();
    const writing = this.state;
    this.#writing = this.sink
      .write(this.#written, writing)
      .then(
        () => {
          this.#written = writing;
        },
        (error: unknown) => this.sink.failed(error, writing),
      )
      .finally(() => {
        this.#writing = undefined;
        this.#lastWriteAt = this.clock();
        // Reported while this write was under way: written when the gap allows (a failed one waits for the next report).
        if (this.state !== writing) void this.#report(this.state);
      });
    return this.#writing;
  }
}
