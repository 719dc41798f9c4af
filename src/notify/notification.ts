import type { RunState } from "../lifecycle/run-state.js";
import { formatDuration } from "../lifecycle/transitions.js";
import type { RepoRef } from "../github/types.js";
import { withoutHiddenCharacters } from "../trust/sanitize-untrusted-text.js";

/** The run endings a person hears about: it needs a person, it failed, it was cut off, its pull request was merged. */
export type NotificationKind = "escalated" | "failed" | "interrupted" | "merged";

/** A Slack Block Kit block, as much of it as afk sends. */
export type SlackBlock = { type: "section"; text: { type: "mrkdwn"; text: string } } | { type: "context"; elements: { type: "mrkdwn"; text: string }[] };

/** The body of a Slack-compatible incoming-webhook POST. */
export interface SlackMessage {
  /** Shown in notifications and by receivers that ignore blocks; carries everything on its own. */
  text: string;
  blocks: SlackBlock[];
}

/** One message to send, with what afk logs about it (the body is never logged). */
export interface Notification {
  kind: NotificationKind;
  /** `owner/repo#N`, for log lines. */
  subject: string;
  message: SlackMessage;
}

/** The outcome is cut to this many characters once escaped, so a section block (3,000 at most) always holds it. */
export const MAX_OUTCOME_CHARACTERS = 1_500;

const HEADLINES: Record<NotificationKind, string> = {
  escalated: "needs a person (ready-for-human)",
  failed: "failed",
  interrupted: "was interrupted",
  merged: "was merged",
};

/**
 * The message to send when a run state is written, or nothing. A message goes out only on the
 * write that moves a run into one of the notified endings; rewriting a state already there (a
 * reply, a spend update, a redelivery) sends nothing, and neither do refusals, queueing, stops or
 * progress. Merged means done through a merged pull request; a direct-mode push or a split plan
 * finishing is done without one and sends nothing.
 *
 * The message holds only the repository, the issue and its link, the status, the outcome, the
 * model cost and the duration. The outcome is untrusted (it can quote the model), so it is made
 * inert for Slack and its kin and cut to a bound. Pure.
 */
export function notificationFor(before: RunState | undefined, after: RunState, repo: Pick<RepoRef, "owner" | "repo">): Notification | undefined {
  const kind = notifiedKind(after);
  if (kind === undefined || (before !== undefined && before.runId === after.runId && notifiedKind(before) === kind)) return undefined;

  const subject = `${repo.owner}/${repo.repo}#${after.issue}`;
  const link = issueLink(after);
  const named = link === undefined ? slackEscape(subject) : `<${link}|${slackEscape(subject)}>`;
  const headline = `afk: ${named} ${HEADLINES[kind]}`;
  const outcome = after.outcome === undefined ? "" : inertForSlack(after.outcome.message, MAX_OUTCOME_CHARACTERS);
  const facts = [`Status: ${after.status}`, costText(after), durationText(after)].filter((fact): fact is string => fact !== undefined).join(" · ");

  const text = [headline, outcome, facts].filter((part) => part.length > 0).join("\n");
  const blocks: SlackBlock[] = [{ type: "section", text: { type: "mrkdwn", text: `*${headline}*` } }];
  if (outcome.length > 0) blocks.push({ type: "section", text: { type: "mrkdwn", text: outcome } });
  blocks.push({ type: "context", elements: [{ type: "mrkdwn", text: facts }] });
  return { kind, subject, message: { text, blocks } };
}

function notifiedKind(state: RunState): NotificationKind | undefined {
  switch (state.status) {
    case "escalated":
    case "failed":
    case "interrupted":
      return state.status;
    case "done":
      return state.phase === "merged" && state.pullRequest !== undefined ? "merged" : undefined;
    default:
      return undefined;
  }
}

/**
 * The issue's web address, from the repository address the state carries. Only an http(s) address
 * whose text cannot end Slack's `<url|label>` early is used; otherwise the message names the issue without a link.
 */
function issueLink(state: RunState): string | undefined {
  if (state.repoUrl === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(`${state.repoUrl.replace(/\/+$/, "")}/issues/${state.issue}`);
  } catch {
    return undefined;
  }
  if ((url.protocol !== "https:" && url.protocol !== "http:") || url.username !== "" || url.password !== "") return undefined;
  return /[\s<>|]/.test(url.href) ? undefined : url.href.replace(/&/g, "&amp;");
}

function costText(state: RunState): string {
  if (state.spend === undefined) return "Model cost: none recorded";
  return `Model cost: $${state.spend.usd.toFixed(2)} over ${state.spend.turns} turn${state.spend.turns === 1 ? "" : "s"}`;
}

function durationText(state: RunState): string | undefined {
  if (state.startedAt === undefined || state.endedAt === undefined) return undefined;
  return `Duration: ${formatDuration(Date.parse(state.endedAt) - Date.parse(state.startedAt))}`;
}

/** Escapes the three characters Slack's message formatting gives meaning to, as Slack documents. */
function slackEscape(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** The zero-width space that keeps `@here`, `@channel` and `@user` from being read as mentions. */
const MENTION_BREAK = "\u200B";

/**
 * Text afk did not write, made inert for a Slack-compatible receiver: no `<!channel>`, `<@U…>`,
 * `<#C…>` or `<url|label>` (`&`, `<`, `>` escaped as Slack documents), no `@here`, `@channel` or
 * `@user` that Mattermost, Discord or Slack with `link_names` would read as a mention (a zero-width
 * space follows each `@`), no hidden or control characters. Cut at a character boundary so the
 * escaped text has at most `limit` characters, never inside an escape, with `…` when cut. Pure.
 */
export function inertForSlack(text: string, limit: number): string {
  const pieces = [...withoutHiddenCharacters(text).trim()].map(inertCharacter);
  const whole = pieces.join("");
  if (whole.length <= limit) return whole;
  let out = "";
  for (const piece of pieces) {
    if (out.length + piece.length > limit - 1) break;
    out += piece;
  }
  return `${out}…`;
}

function inertCharacter(character: string): string {
  switch (character) {
    case "&":
      return "&amp;";
    case "<":
      return "&lt;";
    case ">":
      return "&gt;";
    case "@":
      return `@${MENTION_BREAK}`;
    default:
      return character;
  }
}
