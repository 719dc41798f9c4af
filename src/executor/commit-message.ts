import { RUN_TRAILER } from "../run-contract/branch.js";
import { keepHeadAndTail } from "../text/keep-head-and-tail.js";
import { withoutCiSkipMarkers } from "./change-policy.js";
import { inertText } from "../trust/inert-text.js";
import { withoutHiddenCharacters } from "../trust/sanitize-untrusted-text.js";

const SUBJECT_MAX = 72;
const BODY_MAX = 4_000;

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
