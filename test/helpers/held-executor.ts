import type { Executor, RunJob, RunOutcome, RunReporter } from "../../src/run-contract/executor.js";

interface HeldRun {
  job: RunJob;
  finish(outcome: RunOutcome): void;
}

/**
 * An executor whose runs last until the test finishes them, so a test can
 * look at the world while a run holds the lock. Records every start, and the
 * most runs active at once (all tests here use one repository).
 */
export class HeldExecutor implements Executor {
  readonly name = "held";
  /** Runs active at once, counted across every executor sharing this object (one per App instance). */
  readonly shared: { active: number; peak: number };
  readonly started: Array<{ repo: string; issue: number; runId: string }> = [];
  readonly #running = new Map<string, HeldRun>();
  readonly #waiters: Array<() => void> = [];
  #held = 0;

  constructor(shared: { active: number; peak: number } = { active: 0, peak: 0 }) {
    this.shared = shared;
  }

  async execute(job: RunJob, reporter: RunReporter): Promise<RunOutcome> {
    const repo = `${job.repo.owner}/${job.repo.repo}`;
    this.started.push({ repo, issue: job.issue, runId: job.runId });
    this.shared.active++;
    this.shared.peak = Math.max(this.shared.peak, this.shared.active);
    await reporter.phase("workspace");
    const outcome = await new Promise<RunOutcome>((resolve) => {
      if (job.signal.aborted) resolve({ status: "stopped", message: String(job.signal.reason) });
      this.#running.set(job.runId, { job, finish: resolve });
      this.#held++;
      job.signal.addEventListener("abort", () => resolve({ status: "stopped", message: String(job.signal.reason) }), { once: true });
      for (const wake of this.#waiters.splice(0)) wake();
    });
    this.#running.delete(job.runId);
    this.shared.active--;
    return outcome;
  }

  get running(): RunJob[] {
    return [...this.#running.values()].map((run) => run.job);
  }

  /** Resolves once `count` runs in total have started and are holding. */
  async waitForStarts(count: number, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.#held < count) {
      if (Date.now() > deadline) throw new Error(`expected ${count} runs to start, saw ${this.started.length}`);
      await new Promise<void>((resolve) => {
        this.#waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
  }

  /** Finishes the run on `issue` with `outcome`. */
  finish(issue: number, outcome: RunOutcome = { status: "failed", message: "test run finished", retryable: true }): void {
    const run = [...this.#running.values()].find((candidate) => candidate.job.issue === issue);
    if (run === undefined) throw new Error(`no run in progress for #${issue}; running: ${this.running.map((job) => job.issue).join(", ")}`);
    run.finish(outcome);
  }
}
