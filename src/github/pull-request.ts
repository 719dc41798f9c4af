import { issueOfBranch } from "../run-contract/branch.js";
import type { PullRequestRef } from "../run-contract/executor.js";
import { errorMessage, errorStatus, type GitHub, type RepoRef } from "./types.js";

/**
 * Opens afk's pull request for a pushed branch, or updates the one already open for that branch
 * (a retried run pushes to the same branch: GitHub refuses a second one, 422). Returns the pull request.
 */
export async function openPullRequest(
  octokit: GitHub,
  repo: RepoRef,
  input: { head: string; base: string; title: string; body: string; draft: boolean },
): Promise<PullRequestRef> {
  try {
    const { data } = await octokit.rest.pulls.create({
      owner: repo.owner,
      repo: repo.repo,
      head: input.head,
      base: input.base,
      title: input.title,
      body: input.body,
      draft: input.draft,
      maintainer_can_modify: true,
    });
    return { number: data.number, url: data.html_url, draft: data.draft ?? false, nodeId: data.node_id };
  } catch (error) {
    if (errorStatus(error) !== 422) throw error;
    const existing = await octokit.rest.pulls.list({ owner: repo.owner, repo: repo.repo, head: `${repo.owner}:${input.head}`, state: "open", per_page: 1 });
    const open = existing.data[0];
    // A 422 for anything but a pull request already open for the branch is the caller's to see.
    if (open === undefined) throw error;
    const { data } = await octokit.rest.pulls.update({ owner: repo.owner, repo: repo.repo, pull_number: open.number, title: input.title, body: input.body });
    return { number: data.number, url: data.html_url, draft: data.draft ?? false, nodeId: data.node_id };
  }
}

/**
 * The issue an afk pull request works on: its branch is `afk/<issue>-…` in this repository (not a
 * fork) and afk's bot opened it. Undefined for any other pull request.
 */
export async function issueOfAfkPullRequest(octokit: GitHub, repo: RepoRef, pullNumber: number, botLogin: string): Promise<number | undefined> {
  let data;
  try {
    ({ data } = await octokit.rest.pulls.get({ owner: repo.owner, repo: repo.repo, pull_number: pullNumber }));
  } catch (error) {
    if (errorStatus(error) === 404) return undefined;
    throw error;
  }
  if (data.user.login !== botLogin || data.head.repo?.full_name !== data.base.repo.full_name) return undefined;
  return issueOfBranch(data.head.ref);
}

/**
 * Closes afk's pull request from an earlier run of an issue, now replaced by `replacement`: only
 * when it is still open, authored by afk's bot, from afk's branch for that issue in the same
 * repository. The branch stays (nothing is deleted); the pull request says what replaced it.
 */
export async function closeSupersededPullRequest(
  octokit: GitHub,
  repo: RepoRef,
  input: { number: number; issue: number; replacement: string; botLogin: string },
): Promise<boolean> {
  let data;
  try {
    ({ data } = await octokit.rest.pulls.get({ owner: repo.owner, repo: repo.repo, pull_number: input.number }));
  } catch (error) {
    if (errorStatus(error) === 404) return false;
    throw error;
  }
  if (
    data.state !== "open" ||
    data.user.login !== input.botLogin ||
    data.head.repo?.full_name !== data.base.repo.full_name ||
    issueOfBranch(data.head.ref) !== input.issue
  )
    return false;
  await octokit.rest.issues.createComment({
    owner: repo.owner,
    repo: repo.repo,
    issue_number: input.number,
    body: `Superseded by ${input.replacement} from a new run of #${input.issue}; afk closes this pull request and leaves its branch \`${data.head.ref}\` as it is.`,
  });
  await octokit.rest.pulls.update({ owner: repo.owner, repo: repo.repo, pull_number: input.number, state: "closed" });
  return true;
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

/**
 * Marks afk's draft pull request ready for review. REST cannot do this; GitHub's GraphQL mutation
 * `markPullRequestReadyForReview` can, by the pull request's node id: the one afk kept when it opened
 * the pull request, else read. A pull request that is no longer a draft is left alone.
 */
export async function markReadyForReview(octokit: GitHub, repo: RepoRef, pull: { number: number; nodeId?: string | undefined }): Promise<void> {
  if (pull.nodeId !== undefined) {
    try {
      await markReady(octokit, pull.nodeId);
      return;
    } catch {
      // A person may have marked it ready (or closed it) meanwhile: look at it, and ask again only if it is still a draft.
    }
  }
  const { data } = await octokit.rest.pulls.get({ owner: repo.owner, repo: repo.repo, pull_number: pull.number });
  if (data.draft !== true) return;
  await markReady(octokit, data.node_id);
}

async function markReady(octokit: GitHub, nodeId: string): Promise<void> {
  await octokit.graphql(
    `mutation MarkReady($id: ID!) {
      markPullRequestReadyForReview(input: { pullRequestId: $id }) { pullRequest { number isDraft } }
    }`,
    { id: nodeId },
  );
}
