import { parseBlockedBy } from "../text/blocked-by.js";
import { errorStatus, type GitHub, type RepoRef } from "./types.js";

export interface QueuedIssue {
  number: number;
  labels: string[];
  body: string;
  /** Open issues GitHub's issue dependencies say block it, as the listing counts them (absent where the server has no dependencies). */
  openNativeBlockers?: number;
}

/** Open issues (not pull requests) that carry the trigger label and not the in-progress label. */
export async function listLabeledIssues(octokit: GitHub, repo: RepoRef, triggerLabel: string, inProgressLabel: string): Promise<QueuedIssue[]> {
  const issues = await octokit.paginate(octokit.rest.issues.listForRepo, {
    owner: repo.owner,
    repo: repo.repo,
    state: "open",
    labels: triggerLabel,
    per_page: 100,
  });
  return issues
    .filter((issue) => issue.pull_request === undefined)
    .map((issue) => ({
      number: issue.number,
      labels: issue.labels.map((label) => (typeof label === "string" ? label : (label.name ?? ""))),
      body: issue.body ?? "",
      ...(issue.issue_dependencies_summary === undefined ? {} : { openNativeBlockers: issue.issue_dependencies_summary.blocked_by }),
    }))
    .filter((issue) => !issue.labels.includes(inProgressLabel));
}

/**
 * Open issues that block `issue`: GitHub's native issue dependencies plus
 * "Blocked by #N" lines in the body (a number that names no issue is ignored).
 */
export async function openBlockers(octokit: GitHub, repo: RepoRef, issue: QueuedIssue): Promise<number[]> {
  const open = new Set<number>();
  // The listing already says whether any open issue blocks it natively; only then are they read.
  if (issue.openNativeBlockers !== 0) await addOpenNativeBlockers(octokit, repo, issue.number, open);
  for (const number of parseBlockedBy(issue.body)) {
    if (open.has(number) || number === issue.number) continue;
    try {
      const { data } = await octokit.rest.issues.get({ owner: repo.owner, repo: repo.repo, issue_number: number });
      if (data.state === "open") open.add(number);
    } catch (error) {
      if (errorStatus(error) !== 404) throw error;
    }
  }
  return [...open].sort((a, b) => a - b);
}

async function addOpenNativeBlockers(octokit: GitHub, repo: RepoRef, issue: number, open: Set<number>): Promise<void> {
  try {
    const { data } = await octokit.request("GET /repos/{owner}/{repo}/issues/{issue_number}/dependencies/blocked_by", {
      owner: repo.owner,
      repo: repo.repo,
      issue_number: issue,
      per_page: 100,
    });
    for (const blocker of data) if (blocker.state === "open") open.add(blocker.number);
  } catch (error) {
    // Servers without issue dependencies (older GitHub Enterprise) answer 404: rely on the body then.
    if (errorStatus(error) !== 404) throw error;
  }
}
