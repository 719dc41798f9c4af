import type { RunState } from "../lifecycle/run-state.js";

/** Where a run log's `run.md` shows on GitHub: the file at the log's commit (GitHub Enterprise's host comes with `repoUrl`). */
export function runLogUrl(repoUrl: string, commit: string): string {
  return `${repoUrl}/blob/${commit}/run.md`;
}

/**
 * The run log (`refs/afk/runs/<run id>`) as a link and the command that prints it, once the job that
 * wrote it has ended (undefined before, or when there is none). The state's `repoUrl` and `runLog`
 * were checked (a URL, a commit id) when it was read. Pure.
 */
export function runLogLink(state: RunState): string | undefined {
  if (state.runLog === undefined || state.repoUrl === undefined || state.status === "queued" || state.status === "running") return undefined;
  return `[Run log](${runLogUrl(state.repoUrl, state.runLog)}) (\`afk log ${state.runId}\`)`;
}
