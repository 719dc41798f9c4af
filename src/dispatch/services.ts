import type { Logger } from "probot";
import type { OperatorSettings } from "../config/operator-settings.js";
import type { RetryPolicy } from "../github/transient.js";
import type { GitHub } from "../github/types.js";
import type { AfkMetrics } from "../observability/metrics.js";
import type { StateObserver } from "../observability/state-observer.js";
import type { Executor } from "../run-contract/executor.js";

/** What the App gives dispatch: settings, clients, the executor, the clock, and where to report. */
export interface AfkServices {
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
