import type { Executor, RunJob, RunOutcome, RunReporter } from "../../src/run-contract/executor.js";
import type { Phase } from "../../src/run-contract/job.js";

/** One call of `execute`, as the executor saw it. */
export interface RecordedRun {
  /** `owner/repo`. */
  repo: string;
  issue: number;
  runId: string;
  /** The afk instance (replica) whose executor ran it. */
  replica: string;
  /** Wall-clock milliseconds (sub-millisecond, comparable across processes on one machine). */
  startedAt: number;
  endedAt: number | undefined;
  /** The ledger's clock at start and end (by default the same as the times above). */
  startTick: number;
  endTick: number | undefined;
  outcome: RunOutcome["status"] | undefined;
}

export type RunEvent = { kind: "start"; run: RecordedRun } | { kind: "end"; run: RecordedRun };

/** Milliseconds since the epoch with the precision of `performance.now()`. */
export function preciseNow(): number {
  return performance.timeOrigin + performance.now();
}

/**
 * What every recording executor sharing it saw: each start and end, the runs active in each
 * repository right now and the most that ever were at once. Share one ledger between the executors
 * of several afk instances in one process to see across them.
 */
export class RunLedger {
  readonly runs: RecordedRun[] = [];
  /** The clock runs are placed on; a test can pass one that orders runs against other events (the emulator's request log, say). */
  readonly clock: () => number;
  readonly #active = new Map<string, number>();
  readonly #peak = new Map<string, number>();
  readonly #listeners: Array<(event: RunEvent) => void> = [];
  #finished = 0;

  constructor(options: { clock?: () => number } = {}) {
    this.clock = options.clock ?? preciseNow;
  }

  /** Calls `listener` on every start and end (a child process reports them over stdout, say). */
  onEvent(listener: (event: RunEvent) => void): void {
    this.#listeners.push(listener);
  }

  started(run: RecordedRun): void {
    this.runs.push(run);
    const active = (this.#active.get(run.repo) ?? 0) + 1;
    this.#active.set(run.repo, active);
    this.#peak.set(run.repo, Math.max(this.#peak.get(run.repo) ?? 0, active));
    for (const listener of this.#listeners) listener({ kind: "start", run });
  }

  ended(run: RecordedRun): void {
    this.#active.set(run.repo, (this.#active.get(run.repo) ?? 1) - 1);
    this.#finished++;
    for (const listener of this.#listeners) listener({ kind: "end", run });
  }

  /** Runs that have returned from `execute`. */
  get finished(): number {
    return this.#finished;
  }

  /** Runs active in `repo` right now. */
  activeIn(repo: string): number {
    return this.#active.get(repo) ?? 0;
  }

  /** The most runs ever active at once in one repository, per repository. */
  get peakPerRepo(): ReadonlyMap<string, number> {
    return this.#peak;
  }

  /** The most runs ever active at once in any one repository (0 before any run). */
  get maxActivePerRepo(): number {
    return Math.max(0, ...this.#peak.values());
  }

  /** Every (repository, issue) started more than once, with its runs. */
  doubleStarts(): Array<{ repo: string; issue: number; runs: RecordedRun[] }> {
    const byIssue = new Map<string, RecordedRun[]>();
    for (const run of this.runs) {
      const key = `${run.repo}#${run.issue}`;
      byIssue.set(key, [...(byIssue.get(key) ?? []), run]);
    }
    return [...byIssue.values()].filter((runs) => runs.length > 1).map((runs) => ({ repo: runs[0]?.repo ?? "", issue: runs[0]?.issue ?? 0, runs }));
  }

  /** The runs of `repo` in the order they started. */
  startOrder(repo: string): RecordedRun[] {
    return this.runs.filter((run) => run.repo === repo).sort((a, b) => a.startTick - b.startTick);
  }
}

export interface RecordingExecutorOptions {
  /** Names the afk instance this executor belongs to, recorded on each run. */
  replica: string;
  /** Shared with the other instances' executors to see across them; a fresh one by default. */
  ledger?: RunLedger;
  /** How long each run takes before it ends `done` (default 5 ms). */
  delayMs?: number;
  /** Phases reported (each edits the progress comment, as a real run's do) before the delay; default `workspace`. */
  phases?: readonly Phase[];
  /** When given, every run waits for it before its delay starts (a test holds the first runs until a burst is queued). */
  hold?: Promise<void>;
}

/**
 * An executor for load tests: records every start and end in its ledger, reports its phases,
 * waits a short configurable delay and finishes `{ status: "done" }`. A stop, a lost lock or a
 * shutdown (the job's signal) ends the run `stopped` at once.
 */
export class RecordingExecutor implements Executor {
  readonly name = "recording";
  readonly ledger: RunLedger;
  readonly #replica: string;
  readonly #delayMs: number;
  readonly #phases: readonly Phase[];
  readonly #hold: Promise<void> | undefined;

  constructor(options: RecordingExecutorOptions) {
    this.#replica = options.replica;
    this.ledger = options.ledger ?? new RunLedger();
    this.#delayMs = options.delayMs ?? 5;
    this.#phases = options.phases ?? ["workspace"];
    this.#hold = options.hold;
  }

  async execute(job: RunJob, reporter: RunReporter): Promise<RunOutcome> {
    const run: RecordedRun = {
      repo: `${job.repo.owner}/${job.repo.repo}`,
      issue: job.issue,
      runId: job.runId,
      replica: this.#replica,
      startedAt: preciseNow(),
      endedAt: undefined,
      startTick: this.ledger.clock(),
      endTick: undefined,
      outcome: undefined,
    };
    this.ledger.started(run);
    let outcome: RunOutcome | undefined;
    try {
      for (const phase of this.#phases) await reporter.phase(phase);
      if (this.#hold !== undefined) await this.#hold;
      const stopped = await waitOrAbort(this.#delayMs, job.signal);
      outcome = stopped
        ? { status: "stopped", message: `The run was aborted: ${String(job.signal.reason)}` }
        : { status: "done", message: `Recorded run ${job.runId} of ${run.repo}#${job.issue} on ${this.#replica}.` };
      return outcome;
    } finally {
      // Recorded before afk settles the run and releases the lock: a repository's runs never overlap on the ledger's clock.
      run.outcome = outcome?.status;
      run.endedAt = preciseNow();
      run.endTick = this.ledger.clock();
      this.ledger.ended(run);
    }
  }
}

/** Waits `ms`; resolves `true` early if `signal` aborts. */
function waitOrAbort(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(true);
  return new Promise((resolve) => {
    const onAbort = () => {
      clearTimeout(timer);
      resolve(true);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve(false);
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
