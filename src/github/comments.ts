import { planInComment } from "../run-contract/plan.js";
import { errorStatus, type GitHub, type RepoRef } from "./types.js";

/** One issue comment's text and author, or undefined when it is gone or its author is (a deleted account). */
export async function readComment(octokit: GitHub, repo: RepoRef, commentId: number): Promise<{ body: string; login: string; type: string } | undefined> {
  try {
    const { data } = await octokit.rest.issues.getComment({ owner: repo.owner, repo: repo.repo, comment_id: commentId });
    if (data.user === null || data.user === undefined) return undefined;
    return { body: data.body ?? "", login: data.user.login, type: data.user.type };
  } catch (error) {
    if (errorStatus(error) === 404) return undefined;
    throw error;
  }
}

/** The plan afk posted (its own comment), without afk's framing around it. */
export async function readPlan(octokit: GitHub, repo: RepoRef, commentId: number, botLogin: string): Promise<string | undefined> {
  const comment = await readComment(octokit, repo, commentId);
  if (comment === undefined || comment.login !== botLogin) return undefined;
  return planInComment(comment.body);
}
