import { createHash } from "node:crypto";
import { keepHeadAndTail } from "../text/keep-head-and-tail.js";
import { sanitizeUntrustedText } from "../trust/sanitize-untrusted-text.js";
import { trustChecker, type TrustLists } from "../trust/trust-gate.js";
import type { GitHub, RepoRef } from "./types.js";

/** What the agent is told about an issue: sanitised text, and only what trusted people wrote. */
export interface IssueContext {
  number: number;
  title: string;
  body: string;
  /** Comments by trusted people, oldest first, each headed by its author. */
  comments: Array<{ author: string; body: string }>;
  /** Why comments were left out, one line per reason (shown to the model and in the logs). */
  omitted: string[];
}

/** The newest comments read; older ones are left out and counted. */
const MAX_COMMENTS = 50;
/** A body or comment longer than this keeps its head and tail. */
const MAX_TEXT_CHARS = 20_000;

/**
 * Reads an issue and its discussion for the prompt. Comments count only when their author passes
 * the trust gate (the same one that guards starting afk), when they are not afk's own, and when
 * they were not edited after the run was requested: what the trusted person saw is what the agent
 * reads. The issue's title and body are checked against the digest taken when the run was requested
 * (`bodyDigest`, kept in the run state), by every job of the run: the first, and the fixes, reworks
 * and approved plans that follow with nobody watching. A title or body changed since then is not
 * used (REST does not say who edited it), nor is an issue whose digest the run never recorded; the
 * job ends asking for the request to be repeated.
 */
export async function readIssueContext(
  octokit: GitHub,
  repo: RepoRef,
  issueNumber: number,
  options: { trust: TrustLists; botLogin: string; requestedAt: string; bodyDigest: string | undefined },
): Promise<IssueContext> {
  const { data: issue } = await octokit.rest.issues.get({ owner: repo.owner, repo: repo.repo, issue_number: issueNumber });
  // Fails closed: a run without a digest (a state written before afk kept one) cannot tell what was approved.
  if (options.bodyDigest === undefined || issueTextDigest(issue.title, issue.body) !== options.bodyDigest) throw new IssueChangedError();
  const all = await octokit.paginate(octokit.rest.issues.listComments, { owner: repo.owner, repo: repo.repo, issue_number: issueNumber, per_page: 100 });
  const requestedAt = Date.parse(options.requestedAt);
  const trusted = trustChecker(octokit, repo, options.trust);

  const comments: IssueContext["comments"] = [];
  let untrusted = 0;
  let editedLater = 0;
  const recent = all.slice(-MAX_COMMENTS);
  for (const comment of recent) {
    const author = comment.user;
    if (author === null || author === undefined) continue;
    if (author.login.toLowerCase() === options.botLogin.toLowerCase()) continue;
    // A comment written before the request but changed after it is not what the trusted person saw.
    if (Date.parse(comment.created_at) <= requestedAt && Date.parse(comment.updated_at) > requestedAt) {
      editedLater += 1;
      continue;
    }
    if (!(await trusted(author.login, author.type))) {
      untrusted += 1;
      continue;
    }
    const body = sanitizeUntrustedText(comment.body ?? "");
    if (body.length > 0) comments.push({ author: author.login, body: keepHeadAndTail(body, MAX_TEXT_CHARS).text });
  }

  const omitted: string[] = [];
  const countOf = (count: number): string => `${count} comment${count === 1 ? "" : "s"}`;
  const were = (count: number): string => (count === 1 ? "was" : "were");
  if (all.length > recent.length)
    omitted.push(`${countOf(all.length - recent.length)} older ${were(all.length - recent.length)} not read (only the newest ${MAX_COMMENTS} are).`);
  if (untrusted > 0) omitted.push(`${countOf(untrusted)} by people without write access ${were(untrusted)} left out.`);
  if (editedLater > 0) omitted.push(`${countOf(editedLater)} edited after the run was requested ${were(editedLater)} left out.`);
  return {
    number: issue.number,
    title: sanitizeUntrustedText(issue.title).replace(/\s+/g, " "),
    body: keepHeadAndTail(sanitizeUntrustedText(issue.body ?? ""), MAX_TEXT_CHARS).text,
    comments,
    omitted,
  };
}

/** The discussion as the prompt shows it: each trusted comment under its author, then what was left out. */
export function formatDiscussion(context: IssueContext): string {
  const parts = context.comments.map((comment) => `@${comment.author} wrote:\n${comment.body}`);
  if (parts.length === 0) parts.push("(no comments from trusted people)");
  return [...parts, ...context.omitted].join("\n\n---\n\n");
}

/** The issue's title or body changed after a trusted person asked afk to run (or the run never recorded them). */
export class IssueChangedError extends Error {
  constructor() {
    super(
      "The issue's title or body changed after afk was asked to run. afk works only from the text a trusted person saw when they asked, so this job did nothing and pushed nothing; to confirm the new text, add the label again or comment `/afk run`.",
    );
    this.name = "IssueChangedError";
  }
}

/** A digest of what the issue said when a run was requested, kept in the run state and compared before the agent reads it. */
export function issueTextDigest(title: string, body: string | null | undefined): string {
  return createHash("sha256")
    .update(title)
    .update("\u0000")
    .update(body ?? "")
    .digest("hex")
    .slice(0, 32);
}
