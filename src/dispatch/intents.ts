import { issueOfAfkCommit, issueOfBranch } from "../run-contract/branch.js";
import { issueTextDigest } from "../github/issue-context.js";
import type { Actor, RepoRef } from "../github/types.js";

/** The parts of a webhook payload afk acts on, checked rather than assumed. */
export interface IssueIntent {
  repo: RepoRef;
  /** The repository's web address (on GitHub Enterprise Server, that server's). */
  repoUrl: string;
  issue: { number: number; open: boolean; isPullRequest: boolean };
  actor: Actor;
  deliveryId: string;
  /** Digest of the issue's title and body as the actor saw them (see `issueTextDigest`). */
  bodyDigest: string;
}

export interface LabelIntent extends IssueIntent {
  label: string;
}

export interface CommentIntent extends IssueIntent {
  comment: { id: number; body: string };
}

interface IssuesPayloadShape {
  installation?: { id: number } | undefined;
  repository: { name: string; html_url: string; owner: { login: string } };
  issue: { number: number; title: string; body?: string | null | undefined; state?: string | undefined; pull_request?: unknown };
  sender: { login: string; type: string };
}

/** `issues.labeled` → the label and who added it, or `null` when the event is not actionable. */
export function labelIntent(payload: IssuesPayloadShape & { label?: { name: string } | undefined }, deliveryId: string): LabelIntent | null {
  const base = issueIntent(payload, deliveryId);
  if (base === null || payload.label === undefined) return null;
  return { ...base, label: payload.label.name };
}

/** `issue_comment.created` → the comment and its author, or `null` when the event is not actionable. */
export function commentIntent(
  payload: IssuesPayloadShape & { comment: { id: number; body?: string | null | undefined } },
  deliveryId: string,
): CommentIntent | null {
  const base = issueIntent(payload, deliveryId);
  if (base === null) return null;
  return { ...base, comment: { id: payload.comment.id, body: payload.comment.body ?? "" } };
}

/** Any issue event → the repository, the issue and the sender, or `null` when it names no installation. */
export function issueIntent(payload: IssuesPayloadShape, deliveryId: string): IssueIntent | null {
  const installationId = payload.installation?.id;
  if (typeof installationId !== "number") return null;
  return {
    repo: { owner: payload.repository.owner.login, repo: payload.repository.name, installationId },
    repoUrl: payload.repository.html_url,
    issue: {
      number: payload.issue.number,
      open: payload.issue.state !== "closed",
      isPullRequest: payload.issue.pull_request !== undefined && payload.issue.pull_request !== null,
    },
    actor: { login: payload.sender.login, type: payload.sender.type },
    deliveryId,
    bodyDigest: issueTextDigest(payload.issue.title, payload.issue.body),
  };
}

/** A pull request that may be afk's (closed, or pushed to): which issue its branch names, and its head. */
export interface PullRequestIntent {
  repo: RepoRef;
  pull: { number: number; merged: boolean; author: string; headSha: string };
  /** The issue number in afk's branch name (`afk/<N>-…`). */
  issue: number;
  actor: Actor;
  deliveryId: string;
}

interface PullRequestShape {
  installation?: { id: number } | undefined;
  repository: { name: string; full_name: string; owner: { login: string } };
  pull_request: {
    number: number;
    merged?: boolean | null;
    user: { login: string } | null;
    head: { ref: string; sha: string; repo: { full_name: string } | null };
  };
  sender: { login: string; type: string };
}

/**
 * `pull_request.closed` and `pull_request.synchronize` → the issue afk's branch names, or `null` for
 * a pull request that cannot be afk's: from a fork, or from a branch not named `afk/<issue>-…`. The
 * caller still checks the author and the issue's state.
 */
export function pullRequestIntent(payload: PullRequestShape, deliveryId: string): PullRequestIntent | null {
  const installationId = payload.installation?.id;
  if (typeof installationId !== "number") return null;
  const head = payload.pull_request.head;
  if (head.repo === null || head.repo.full_name !== payload.repository.full_name) return null;
  const issue = issueOfBranch(head.ref);
  if (issue === undefined) return null;
  return {
    repo: { owner: payload.repository.owner.login, repo: payload.repository.name, installationId },
    pull: {
      number: payload.pull_request.number,
      merged: payload.pull_request.merged === true,
      author: payload.pull_request.user?.login ?? "",
      headSha: head.sha,
    },
    issue,
    actor: { login: payload.sender.login, type: payload.sender.type },
    deliveryId,
  };
}

/** A click on afk's check run (its Retry or Stop button, or GitHub's "Re-run"), about the issue its branch names. */
export interface CheckRunIntent {
  repo: RepoRef;
  repoUrl: string;
  checkRun: { id: number; appSlug: string | undefined };
  issue: number;
  request: "retry" | "stop";
  actor: Actor;
  deliveryId: string;
}

interface CheckRunShape {
  installation?: { id: number } | undefined;
  repository: { name: string; html_url: string; owner: { login: string } };
  check_run: { id: number; app?: { slug?: string | undefined } | null; check_suite?: { head_branch?: string | null } | null };
  requested_action?: { identifier?: string } | null;
  sender: { login: string; type: string };
}

/** `check_run.requested_action` (afk-retry, afk-stop) and `check_run.rerequested` (retry) → what was asked, or `null`. */
export function checkRunIntent(payload: CheckRunShape, action: "requested_action" | "rerequested", deliveryId: string): CheckRunIntent | null {
  const installationId = payload.installation?.id;
  if (typeof installationId !== "number") return null;
  const identifier = payload.requested_action?.identifier;
  const request = action === "rerequested" ? "retry" : identifier === "afk-retry" ? "retry" : identifier === "afk-stop" ? "stop" : undefined;
  if (request === undefined) return null;
  const headBranch: unknown = payload.check_run.check_suite?.head_branch;
  const issue = typeof headBranch === "string" ? issueOfBranch(headBranch) : undefined;
  if (issue === undefined) return null;
  return {
    repo: { owner: payload.repository.owner.login, repo: payload.repository.name, installationId },
    repoUrl: payload.repository.html_url,
    checkRun: { id: payload.check_run.id, appSlug: payload.check_run.app?.slug ?? undefined },
    issue,
    request,
    actor: { login: payload.sender.login, type: payload.sender.type },
    deliveryId,
  };
}

/** CI changed on a commit of a branch that may be afk's: which issue the branch names, and the commit. */
export interface CiIntent {
  repo: RepoRef;
  issue: number;
  sha: string;
  deliveryId: string;
  /** The app whose check run or suite it is (none for a commit status). */
  app?: string;
}

interface CiShape {
  installation?: { id: number } | undefined;
  repository: { name: string; owner: { login: string }; default_branch: string };
}

/**
 * `check_suite.completed`, `check_run.completed` and `status` → the afk branch and commit they are
 * about, or `null`. Any app's CI counts, and so does afk's own event (GitHub names afk as sender of
 * events on commits it pushed): the lifecycle reads CI from GitHub and ignores afk's own check run.
 * A commit on the default branch (direct mode) is afk's when its message names an issue the way
 * afk's commits do (`message`, when the payload carries it); the run's state has the last word.
 */
export function ciIntent(
  payload: CiShape,
  about: { sha: string; branches: Array<string | null | undefined>; message?: string | null | undefined; app?: string | undefined },
  deliveryId: string,
): CiIntent | null {
  const installationId = payload.installation?.id;
  if (typeof installationId !== "number") return null;
  const onDefaultBranch = about.branches.includes(payload.repository.default_branch);
  const issue =
    about.branches.map((branch: unknown) => (typeof branch === "string" ? issueOfBranch(branch) : undefined)).find((number) => number !== undefined) ??
    (onDefaultBranch && typeof about.message === "string" ? issueOfAfkCommit(about.message) : undefined);
  if (issue === undefined) return null;
  return {
    repo: { owner: payload.repository.owner.login, repo: payload.repository.name, installationId },
    issue,
    sha: about.sha,
    deliveryId,
    ...(about.app === undefined ? {} : { app: about.app }),
  };
}

/** A review submitted on a pull request that may be afk's. */
export interface ReviewIntent {
  repo: RepoRef;
  pull: { number: number; author: string; fromFork: boolean };
  issue: number;
  review: { id: number; state: string; body: string };
  actor: Actor;
  deliveryId: string;
}

interface ReviewShape {
  installation?: { id: number } | undefined;
  repository: { name: string; full_name: string; owner: { login: string } };
  pull_request: { number: number; user: { login: string } | null; head: { ref: string; repo: { full_name: string } | null } };
  review: { id: number; state: string; body?: string | null; user: { login: string; type?: string | undefined } | null };
  sender: { login: string; type: string };
}

/** `pull_request_review.submitted` → the review, its author and the issue afk's branch names, or `null`. */
export function reviewIntent(payload: ReviewShape, deliveryId: string): ReviewIntent | null {
  const installationId = payload.installation?.id;
  if (typeof installationId !== "number") return null;
  const issue = issueOfBranch(payload.pull_request.head.ref);
  if (issue === undefined) return null;
  const reviewer = payload.review.user ?? payload.sender;
  return {
    repo: { owner: payload.repository.owner.login, repo: payload.repository.name, installationId },
    pull: {
      number: payload.pull_request.number,
      author: payload.pull_request.user?.login ?? "",
      fromFork: payload.pull_request.head.repo?.full_name !== payload.repository.full_name,
    },
    issue,
    review: { id: payload.review.id, state: payload.review.state.toLowerCase(), body: payload.review.body ?? "" },
    actor: { login: reviewer.login, type: reviewer.type ?? "User" },
    deliveryId,
  };
}
