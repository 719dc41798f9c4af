import type { Logger } from "probot";
import { fullName, type RepoRef } from "../github/types.js";
import type { RunState } from "../lifecycle/run-state.js";

/**
 * Sees every run state afk writes to a progress comment, after GitHub accepted the write.
 * `before` is the state the comment held before (undefined when afk wrote the issue's first one);
 * `after` is what it holds now. An observer must not change the run: it is called without being
 * awaited, and whatever it throws or rejects with is logged, never passed on.
 */
export interface StateObserver {
  stateWritten(repo: RepoRef, before: RunState | undefined, after: RunState): void | Promise<void>;
}

/** Tells `observer` about a written state; never throws, never waits for it. */
export function notifyStateWritten(observer: StateObserver | undefined, log: Logger, repo: RepoRef, before: RunState | undefined, after: RunState): void {
  if (observer === undefined) return;
  const failed = (error: unknown) =>
    log.warn({ err: error, repo: fullName(repo), issue: after.issue, runId: after.runId }, "afk: a run-state observer failed; the run goes on");
  try {
    const pending = observer.stateWritten(repo, before, after);
    if (pending !== undefined) pending.catch(failed);
  } catch (error) {
    failed(error);
  }
}
