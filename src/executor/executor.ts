import type { RepoConfig } from "../config/repo-config.js";
import type { RepoRef } from "../github/types.js";
import type { Phase } from "../lifecycle/run-state.js";

/** Everything an executor gets to do one run. It never sees a webhook payload. */
export interface RunJob {
  repo: RepoRef;
  issue: number;
  runId: string;
  config: RepoConfig;
  /** The model to use (repository config, then operator default). */
  model: string;
  /** Aborted when the run is stopped, its lock is lost, or the App shuts down. */
  signal: AbortSignal;
}

/** How an executor reports progress; each call edits the progress comment. */
export interface RunReporter {
  phase(phase: Phase): Promise<void>;
}

export type RunOutcome =
  | { status: "done"; message: string }
  | { status: "failed"; message: string; retryable: boolean }
  | { status: "stopped"; message: string };

/** Runs the agent for one issue. Implementations: none yet (see `noExecutor`). */
export interface Executor {
  readonly name: string;
  execute(job: RunJob, reporter: RunReporter): Promise<RunOutcome>;
}

/**
 * The executor used until a real one is configured. It fails every run
 * honestly, so a labeled issue never shows a success that did not happen.
 */
export const noExecutor: Executor = {
  name: "none",
  async execute() {
    return {
      status: "failed",
      message:
        "No executor is configured in this afk installation, so nothing was implemented. The operator must enable an executor; then comment `/afk retry`.",
      retryable: true,
    };
  },
};
