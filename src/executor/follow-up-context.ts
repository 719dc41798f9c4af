import type { TrustLists } from "../trust/trust-gate.js";
import { trustChecker } from "../trust/trust-gate.js";
import { PLAN_END, PLAN_START, planSteps } from "../run-contract/plan.js";
import { readComment } from "../github/comments.js";
import { sanitizeUntrustedText } from "../trust/sanitize-untrusted-text.js";
import { inertText } from "../trust/inert-text.js";
import { failingChecks } from "../github/ci-status.js";
import type { GitHub, RepoRef } from "../github/types.js";
import { parseCommands } from "../commands/parse-commands.js";
import { keepHeadAndTail } from "../text/keep-head-and-tail.js";

/** Inline review comments afk reads for one rework, newest kept. */
const MAX_REVIEW_COMMENTS = 50;
const REVIEW_CHARS = 30_000;
const CHECKS_CHARS = 40_000;

/**
 * The red checks on afk's commit, as the fix-forward prompt shows them: each check's report and, for
 * GitHub Actions, the end of the failed job's log. All of it is program output, so it is sanitised.
 */
export async function describeFailingChecks(octokit: GitHub, repo: RepoRef, sha: string, ownAppSlug: string): Promise<{ text: string; names: string[] }> {
  const checks = await failingChecks(octokit, repo, sha, ownAppSlug);
  if (checks.length === 0)
    return {
      text: "(GitHub lists no failing check on this commit any more; it may have been re-run. Look for anything broken and otherwise change nothing.)",
      names: [],
    };
  const parts = checks.map((check) =>
    [
      `### ${check.name} (${check.kind}: ${check.conclusion})`,
      check.detailsUrl === undefined ? "" : `Details: ${check.detailsUrl}`,
      sanitizeUntrustedText(check.report),
      check.logTail === undefined ? "" : `Log (end):\n${fence(sanitizeUntrustedText(check.logTail))}`,
    ]
      .filter((part) => part.length > 0)
      .join("\n"),
  );
  return { text: keepHeadAndTail(parts.join("\n\n"), CHECKS_CHARS).text, names: checks.map((check) => check.name) };
}

/**
 * What a rework must address: the review that requested changes (its body and inline comments), or
 * the comment that said `/afk fix` together with the inline review comments of trusted reviewers.
 * Text by people who are not trusted is never included.
 */
export async function describeReviewRequest(
  octokit: GitHub,
  repo: RepoRef,
  input: { pullNumber: number; reviewId: number | undefined; commentId: number | undefined; trust: TrustLists; botLogin: string },
): Promise<string> {
  const isTrusted = trustChecker(octokit, repo, input.trust);
  // afk's own replies on the pull request are not review.
  const trusted = (login: string, type: string): Promise<boolean> =>
    login.toLowerCase() === input.botLogin.toLowerCase() ? Promise.resolve(false) : isTrusted(login, type);
  const parts: string[] = [];
  let inline;
  if (input.reviewId !== undefined) {
    const { data: review } = await octokit.rest.pulls.getReview({
      owner: repo.owner,
      repo: repo.repo,
      pull_number: input.pullNumber,
      review_id: input.reviewId,
    });
    if (review.user !== null && (await trusted(review.user.login, review.user.type))) {
      parts.push(
        `Review by @${review.user.login} (${review.state.toLowerCase().replace(/_/g, " ")}):\n${sanitizeUntrustedText(review.body.trim().length > 0 ? review.body : "(no summary; see the inline comments)")}`,
      );
    }
    inline = await octokit.paginate(octokit.rest.pulls.listCommentsForReview, {
      owner: repo.owner,
      repo: repo.repo,
      pull_number: input.pullNumber,
      review_id: input.reviewId,
      per_page: 100,
    });
  } else {
    if (input.commentId !== undefined) {
      const comment = await readComment(octokit, repo, input.commentId);
      if (comment !== undefined && (await trusted(comment.login, comment.type)))
        parts.push(`Comment by @${comment.login}:\n${sanitizeUntrustedText(comment.body)}`);
    }
    inline = await octokit.paginate(octokit.rest.pulls.listReviewComments, {
      owner: repo.owner,
      repo: repo.repo,
      pull_number: input.pullNumber,
      per_page: 100,
    });
  }
  for (const comment of inline.slice(-MAX_REVIEW_COMMENTS)) {
    if (comment.user === null || !(await trusted(comment.user.login, comment.user.type))) continue;
    const where = comment.line === null || comment.line === undefined ? comment.path : `${comment.path}:${comment.line}`;
    parts.push(`On \`${where}\`, @${comment.user.login}:\n${sanitizeUntrustedText(comment.body)}`);
  }
  if (parts.length === 0) return "(The request names no change a trusted person wrote. Change nothing and say so.)";
  return keepHeadAndTail(parts.join("\n\n"), REVIEW_CHARS).text;
}

/** The question of an `/afk ask` comment: the words after the command and any lines below it. */
export async function readQuestion(octokit: GitHub, repo: RepoRef, commentId: number): Promise<string | undefined> {
  const comment = await readComment(octokit, repo, commentId);
  if (comment === undefined) return undefined;
  const command = parseCommands(comment.body).find((candidate) => candidate.kind === "command" && candidate.name === "ask");
  if (command?.kind !== "command") return undefined;
  const below = comment.body.split(/\r?\n/).slice(command.line).join("\n").trim();
  const question = [command.args, below].filter((part) => part.length > 0).join("\n");
  return question.length === 0 ? undefined : sanitizeUntrustedText(question);
}

/** afk's plan comment: the agent's plan between markers, and how to approve it. */
export function renderPlanComment(input: { issue: number; plan: string; requestedBy: string }): string {
  return [
    `### 📝 afk's plan for #${input.issue}`,
    PLAN_START,
    // Model output: hidden characters and HTML comments (a forged marker) removed, then made inert.
    inertText(sanitizeUntrustedText(input.plan)),
    PLAN_END,
    `@${input.requestedBy} comment \`/afk approve\` to implement this plan${splitHint(input.plan)}, or edit the issue and comment \`/afk plan\` for a new one.`,
  ].join("\n\n");
}

function splitHint(plan: string): string {
  const steps = planSteps(plan).length;
  return steps < 2
    ? ""
    : ` in one pull request, \`/afk approve split\` to make its ${steps} steps sub-issues implemented one after the other (this issue closes when all are done)`;
}

/** afk's answer to `/afk ask`: the asker is mentioned by afk, the model's answer is made inert. */
export function renderAnswerComment(input: { askedBy: string; answer: string; usd: number }): string {
  return [
    `@${input.askedBy} ${inertText(sanitizeUntrustedText(input.answer), { inline: true })}`,
    `<sub>afk looked at the code read-only; nothing was changed. Model cost $${input.usd.toFixed(2)}.</sub>`,
  ].join("\n\n");
}

function fence(text: string): string {
  const longest = Math.max(2, ...Array.from(text.matchAll(/`+/g), (match) => match[0].length));
  const ticks = "`".repeat(longest + 1);
  return `${ticks}text\n${text}\n${ticks}`;
}
