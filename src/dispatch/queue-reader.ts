import { listLabeledIssues, type QueuedIssue } from "../github/issue-queue.js";
import type { GitHub, RepoRef } from "../github/types.js";
import type { RunState } from "../lifecycle/run-state.js";
import { orderCandidates } from "./priority.js";

/** A run waiting in a repository's queue: the issue (its labels give its priority) and the state its progress comment holds. */
export interface QueuedRun {
  issue: QueuedIssue;
  state: RunState;
}

/** A follow-up continues work afk already started on an open pull request (fix-forward, rework). */
export function isFollowUp(state: RunState): boolean {
  return state.job === "fix-ci" || state.job === "rework";
}

/** The order afk starts queued runs in: follow-ups first, then new work; each by priority as listed. Pure. */
export function dispatchOrder(runs: readonly QueuedRun[]): QueuedRun[] {
  return [...runs.filter((run) => isFollowUp(run.state)), ...runs.filter((run) => !isFollowUp(run.state))];
}

/**
 * A repository's queue as afk takes it, read once for the dispatcher and for `/afk status` alike: the
 * issues carrying the trigger label and not in progress, by priority, whose progress comment says
 * queued, in dispatch order. (Which new work is blocked is for the dispatcher to check when it comes to it.)
 */
export async function readQueue(
  octokit: GitHub,
  repo: RepoRef,
  labels: { trigger: string; inProgress: string },
  queuedState: (issue: number) => Promise<RunState | undefined>,
): Promise<QueuedRun[]> {
  const queued: QueuedRun[] = [];
  for (const issue of orderCandidates(await listLabeledIssues(octokit, repo, labels.trigger, labels.inProgress))) {
    const state = await queuedState(issue.number);
    if (state?.status === "queued") queued.push({ issue, state });
  }
  return dispatchOrder(queued);
}
