import { keepHeadAndTail } from "./keep-head-and-tail.js";
import { withoutCiSkipMarkers } from "./change-policy.js";
import { inertText } from "../trust/inert-text.js";
import { withoutHiddenCharacters } from "../trust/sanitize-untrusted-text.js";

const SUBJECT_MAX = 72;
const BODY_MAX = 4_000;

/** The trailer that ties a commit to the afk run that made it. */
export const RUN_TRAILER = "Afk-Run";

/**
 * The message of the commit afk makes: a subject naming the issue, the agent's summary, `Closes #N`
 * and a trailer with the run id. A commit pushed straight to the default branch (direct mode) says
 * `Refs #N` instead, so GitHub does not close the issue before CI has judged the commit. Text from
 * the issue and the agent is made inert (no mention, slash command or closing reference: only afk's
 * own `Closes`/`Refs` line closes anything) and stripped of CI-skip markers. Pure.
 */
export function commitMessage(input: { issue: number | undefined; title: string; summary: string; runId: string; closesIssue?: boolean }): string {
  // Whitespace is made single spaces first: done after, it would join `[skip\tci]` into a marker that blocks every push.
  const title = fromOthers(input.title.replace(/\s+/g, " ")).trim();
  const prefix = input.issue === undefined ? "" : `#${input.issue}: `;
  // The start of inert text is inert too: a cut can only expose a slash by removing what comes before it.
  const subject = prefix + (prefix.length + title.length > SUBJECT_MAX ? `${title.slice(0, SUBJECT_MAX - prefix.length - 1).trimEnd()}…` : title);
  const summary = fromOthers(keepHeadAndTail(input.summary.trim(), BODY_MAX).text).trim();
  return (
    [subject, summary, input.issue === undefined ? "" : `${input.closesIssue === false ? "Refs" : "Closes"} #${input.issue}`, `${RUN_TRAILER}: ${input.runId}`]
      .filter((part) => part.length > 0)
      .join("\n\n") + "\n"
  );
}

/**
 * Text afk did not write, ready for a commit message. Hidden characters go first (removing one
 * could join a CI-skip marker, `[skip\u200B ci]`), then CI-skip markers (removing one could join a
 * mention, `@[skip ci]user`), and the text is made inert last: that only adds breaks and escapes,
 * which make no marker.
 */
function fromOthers(text: string): string {
  return inertText(withoutCiSkipMarkers(withoutHiddenCharacters(text)));
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
