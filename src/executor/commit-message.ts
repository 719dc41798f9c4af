import { keepHeadAndTail } from "./keep-head-and-tail.js";
import { withoutCiSkipMarkers } from "./change-policy.js";

const SUBJECT_MAX = 72;
const BODY_MAX = 4_000;

/** The trailer that ties a commit to the afk run that made it. */
export const RUN_TRAILER = "Afk-Run";

/**
 * The message of the commit afk makes: a subject naming the issue, the agent's summary, `Closes #N`
 * and a trailer with the run id. A commit pushed straight to the default branch (direct mode) says
 * `Refs #N` instead, so GitHub does not close the issue before CI has judged the commit. Text from
 * the issue and the agent is stripped of CI-skip markers. Pure.
 */
export function commitMessage(input: { issue: number | undefined; title: string; summary: string; runId: string; closesIssue?: boolean }): string {
  const title = withoutCiSkipMarkers(input.title).replace(/\s+/g, " ").trim();
  const prefix = input.issue === undefined ? "" : `#${input.issue}: `;
  const subject = prefix + (prefix.length + title.length > SUBJECT_MAX ? `${title.slice(0, SUBJECT_MAX - prefix.length - 1).trimEnd()}…` : title);
  const summary = keepHeadAndTail(withoutCiSkipMarkers(input.summary).trim(), BODY_MAX).text;
  return [subject, summary, input.issue === undefined ? "" : `${input.closesIssue === false ? "Refs" : "Closes"} #${input.issue}`, `${RUN_TRAILER}: ${input.runId}`].filter((part) => part.length > 0).join("\n\n") + "\n";
}

/** The branch afk pushes for an issue: `afk/<issue>-<slug of the title>` (`afk/<slug>` for a local task). Pure. */
export function branchName(issue: number | undefined, title: string): string {
  const slug = title
    .normalize("NFKD")
    .replace(/\p{M}/gu, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 40)
    .replace(/-+$/g, "");
  if (issue === undefined) return `afk/${slug.length > 0 ? slug : "task"}`;
  return slug.length > 0 ? `afk/${issue}-${slug}` : `afk/${issue}`;
}

/** The issue number an afk branch names (`afk/<issue>-<slug>`), or undefined for any other branch. Pure. */
export function issueOfBranch(ref: string): number | undefined {
  const issue = /^afk\/(\d+)(?:-|$)/.exec(ref)?.[1];
  return issue === undefined ? undefined : Number(issue);
}

/**
 * The issue an afk commit is about, read from its message: the `#N: ` subject and the run trailer
 * afk writes. Only routes an event to an issue; the run's state decides whether the commit is
 * really the one afk pushed (a person can write the same message). Pure.
 */
export function issueOfAfkCommit(message: string): number | undefined {
  if (!new RegExp(`^${RUN_TRAILER}: \\S+$`, "m").test(message)) return undefined;
  const issue = /^#(\d+): /.exec(message)?.[1];
  return issue === undefined ? undefined : Number(issue);
}
