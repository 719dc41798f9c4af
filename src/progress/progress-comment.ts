import type { GitHub, RepoRef } from "../github/types.js";
import { decodeStateMarker, hasStateMarker, type ProgressComment, type RunState } from "../lifecycle/run-state.js";
import { renderProgressComment } from "./render-progress-comment.js";

/**
 * Finds afk's progress comment: the oldest comment by afk's own bot account
 * that carries a state marker. Markers in anyone else's comments are ignored,
 * so nobody can forge afk's state by pasting one.
 */
export async function findProgressComment(octokit: GitHub, repo: RepoRef, issue: number, botLogin: string): Promise<ProgressComment | undefined> {
  const ours = await listOwnMarkerComments(octokit, repo, issue, botLogin);
  const first = ours[0];
  if (first === undefined) return undefined;
  const decoded = decodeStateMarker(first.body);
  if (decoded.kind === "state") return { id: first.id, kind: "state", state: decoded.state };
  return { id: first.id, kind: "corrupt", reason: decoded.kind === "corrupt" ? decoded.reason : "the state marker is missing" };
}

/**
 * Writes the run state into the progress comment, editing it in place. When
 * there is none yet it is created; if two processes created one at the same
 * moment, the newer copies are deleted so the issue converges on one comment,
 * and the state returned is the one that comment holds.
 */
export async function writeProgressComment(
  octokit: GitHub,
  repo: RepoRef,
  state: RunState,
  botLogin: string,
  existingId?: number,
): Promise<{ id: number; state: RunState }> {
  const body = renderProgressComment(state);
  if (existingId !== undefined) {
    await octokit.rest.issues.updateComment({ owner: repo.owner, repo: repo.repo, comment_id: existingId, body });
    return { id: existingId, state };
  }
  const { data: created } = await octokit.rest.issues.createComment({ owner: repo.owner, repo: repo.repo, issue_number: state.issue, body });
  const ours = await listOwnMarkerComments(octokit, repo, state.issue, botLogin);
  const keeper = ours[0];
  if (keeper !== undefined && keeper.id !== created.id) {
    await octokit.rest.issues.deleteComment({ owner: repo.owner, repo: repo.repo, comment_id: created.id });
    const decoded = decodeStateMarker(keeper.body);
    return { id: keeper.id, state: decoded.kind === "state" ? decoded.state : state };
  }
  return { id: created.id, state };
}

async function listOwnMarkerComments(octokit: GitHub, repo: RepoRef, issue: number, botLogin: string): Promise<Array<{ id: number; body: string }>> {
  const comments = await octokit.paginate(octokit.rest.issues.listComments, { owner: repo.owner, repo: repo.repo, issue_number: issue, per_page: 100 });
  return comments
    .filter((comment) => comment.user?.login === botLogin && hasStateMarker(comment.body ?? ""))
    .map((comment) => ({ id: comment.id, body: comment.body ?? "" }))
    .sort((a, b) => a.id - b.id);
}
