import type { Job } from "../run-contract/job.js";
import type { RunCost, RunOutcomeLabel } from "./metrics.js";

/** Who a run is for: the fields both of a run's log lines carry. */
export interface RunIdentity {
  repository: string;
  issue: number;
  runId: string;
  job: Job;
}

/** The structured fields of the "afk run started" log line. */
export function runStartRecord(run: RunIdentity & { replica: string }): Record<string, string | number> {
  return { event: "run-start", repository: run.repository, issue: run.issue, runId: run.runId, job: run.job, replica: run.replica };
}

/** The structured fields of the "afk run ended" log line: outcome, cost in dollars and tokens, and wall-clock duration. */
export function runEndRecord(
  run: RunIdentity & { outcome: RunOutcomeLabel; cost: RunCost | undefined; turns: number | undefined; durationSeconds: number },
): Record<string, string | number> {
  const tokens = run.cost?.tokens;
  return {
    event: "run-end",
    repository: run.repository,
    issue: run.issue,
    runId: run.runId,
    job: run.job,
    outcome: run.outcome,
    costUsd: Math.round((run.cost?.usd ?? 0) * 10_000) / 10_000,
    turns: run.turns ?? 0,
    durationSeconds: Math.round(run.durationSeconds * 1000) / 1000,
    ...(tokens === undefined
      ? {}
      : { inputTokens: tokens.input, outputTokens: tokens.output, cacheWriteTokens: tokens.cacheWrite, cacheReadTokens: tokens.cacheRead }),
  };
}
