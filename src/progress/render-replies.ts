import { COMMANDS } from "../commands/command-table.js";
import type { LockView } from "../lock/lock-record.js";
import type { ProgressComment } from "../lifecycle/run-state.js";
import { inertText } from "../trust/inert-text.js";

/** Replies to slash commands. Pure. */
export function renderHelp(prefix = ""): string {
  const rows = Object.values(COMMANDS).map((command) => `| \`${command.usage}\` | ${command.help} |`);
  return [prefix, "| command | what it does |", "| --- | --- |", ...rows, "", "Commands must start a line; only people with write access can use them."]
    .filter((line, index) => index > 0 || line.length > 0)
    .join("\n");
}

/** The reply to a command afk did not run; the command is quoted as its writer typed it, made inert. */
export function renderRefusal(login: string, command: string, reason: string): string {
  return `@${login} afk did not run \`${inertText(command, { inline: true })}\`: ${reason}.`;
}

/**
 * afk's reply on its pull request once a rework is pushed. The message is the agent's summary, so it
 * is made inert; the reviewer who asked is mentioned by afk.
 */
export function renderReviewReply(input: { reviewer: string | undefined; headSha: string; message: string }): string {
  return `afk addressed the review${input.reviewer === undefined ? "" : ` by @${input.reviewer}`} in ${input.headSha.slice(0, 7)}: ${inertText(input.message, { inline: true })}`;
}

/**
 * `/afk status`. `queue` is in the order afk starts queued runs (follow-ups first), each with what
 * the dispatcher last recorded as blocking it.
 */
export function renderStatus(input: {
  issue: number;
  progress: ProgressComment | undefined;
  lock: LockView;
  queue: Array<{ number: number; followUp: boolean; blockedBy: number[] }>;
}): string {
  const lines = [`**afk status for #${input.issue}**`, ""];
  const progress = input.progress;
  if (progress === undefined) lines.push("- This issue: afk has not worked on it.");
  else if (progress.kind === "corrupt") lines.push(`- This issue: afk's state marker is unreadable (${progress.reason}).`);
  else {
    const state = progress.state;
    lines.push(
      `- This issue: **${state.status}**, phase \`${state.phase}\`, run \`${state.runId}\`${state.outcome === undefined ? "" : ` — ${inertText(state.outcome.message, { inline: true })}`}`,
    );
  }
  switch (input.lock.status) {
    case "held":
      lines.push(
        `- Repository lock: held by #${input.lock.holder.issue} (run \`${input.lock.holder.runId}\` on \`${input.lock.holder.replica}\`), lease ${input.lock.expired ? "expired" : "until"} ${input.lock.holder.expiresAt}`,
      );
      break;
    case "corrupt":
      lines.push("- Repository lock: unreadable; the next event takes it back.");
      break;
    default:
      lines.push("- Repository lock: free");
  }
  const entry = (queued: (typeof input.queue)[number]) =>
    `#${queued.number}${queued.followUp ? " (follow-up)" : queued.blockedBy.length > 0 ? ` (blocked by ${queued.blockedBy.map((number) => `#${number}`).join(", ")})` : ""}`;
  lines.push(`- Queue, in the order afk starts it: ${input.queue.length === 0 ? "empty" : input.queue.map(entry).join(", ")}`);
  return lines.join("\n");
}
