import type { PullRequestRef } from "../executor/executor.js";
import { errorMessage, errorStatus, type GitHub, type RepoRef } from "./types.js";

/**
 * Opens afk's pull request for a pushed branch, or updates the one already open for that branch
 * (a retried run pushes to the same branch). Returns the pull request.
 */
export async function openPullRequest(
  octokit: GitHub,
  repo: RepoRef,
  input: { head: string; base: string; title: string; body: string; draft: boolean },
): Promise<PullRequestRef> {
  const existing = await octokit.rest.pulls.list({ owner: repo.owner, repo: repo.repo, head: `${repo.owner}:${input.head}`, state: "open", per_page: 1 });
  const open = existing.data[0];
  if (open !== undefined) {
    const { data } = await octokit.rest.pulls.update({ owner: repo.owner, repo: repo.repo, pull_number: open.number, title: input.title, body: input.body });
    return { number: data.number, url: data.html_url, draft: data.draft ?? false };
  }
  const { data } = await octokit.rest.pulls.create({ owner: repo.owner, repo: repo.repo, head: input.head, base: input.base, title: input.title, body: input.body, draft: input.draft, maintainer_can_modify: true });
  return { number: data.number, url: data.html_url, draft: data.draft ?? false };
}

/**
 * Asks the person who requested the run to review its pull request. GitHub refuses a review request
 * to the pull request's author or to someone without access; that is reported, never fatal.
 */
export async function requestReview(octokit: GitHub, repo: RepoRef, pullNumber: number, reviewer: string): Promise<{ requested: boolean; reason?: string }> {
  try {
    await octokit.rest.pulls.requestReviewers({ owner: repo.owner, repo: repo.repo, pull_number: pullNumber, reviewers: [reviewer] });
    return { requested: true };
  } catch (error) {
    return { requested: false, reason: `GitHub refused to request a review from @${reviewer} (${errorStatus(error) ?? "error"}: ${errorMessage(error)})` };
  }
}
