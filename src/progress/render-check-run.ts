import type { RunState } from "../lifecycle/run-state.js";

/** GitHub's limits on a check run's output and actions (from the REST description). */
export const CHECK_RUN_LIMITS = {
  outputChars: 65_535,
  actions: 3,
  actionLabel: 20,
  actionDescription: 40,
  actionIdentifier: 20,
} as const;

export interface CheckRunAction {
  label: string;
  description: string;
  identifier: string;
}

export interface CheckRunView {
  name: "afk";
  status: "queued" | "in_progress" | "completed";
  conclusion?: "success" | "failure" | "neutral" | "cancelled" | "action_required";
  output: { title: string; summary: string; text?: string };
  actions: CheckRunAction[];
}

export interface CheckRunDetails {
  /** Dollars spent on the model so far. */
  costUsd?: number;
  /** The end of the agent's transcript, newest last. */
  transcriptTail?: string;
}

export const STOP_ACTION: CheckRunAction = { label: "Stop", description: "Stop this afk run", identifier: "afk-stop" };
export const RETRY_ACTION: CheckRunAction = { label: "Retry", description: "Run afk again on this issue", identifier: "afk-retry" };

/** Renders the `afk` check run for a run's state, within GitHub's limits. Pure. */
export function renderCheckRun(state: RunState, details: CheckRunDetails = {}): CheckRunView {
  const status = state.status === "queued" ? "queued" : state.status === "running" ? "in_progress" : "completed";
  const conclusion = conclusionOf(state);
  const summaryLines = [
    `Issue #${state.issue} · run \`${state.runId}\` · phase **${state.phase}** · status **${state.status}**`,
    details.costUsd === undefined ? "" : `Model cost so far: $${details.costUsd.toFixed(2)}`,
    state.outcome?.message ?? "",
  ].filter((line) => line.length > 0);
  const output: CheckRunView["output"] = {
    title: truncateEnd(`afk: ${state.status} (${state.phase})`, 255),
    summary: truncateEnd(summaryLines.join("\n\n"), CHECK_RUN_LIMITS.outputChars),
  };
  if (details.transcriptTail !== undefined && details.transcriptTail.length > 0) {
    const open = "### Transcript (tail)\n\n```text\n";
    const close = "\n```";
    output.text = open + keepTail(details.transcriptTail, CHECK_RUN_LIMITS.outputChars - open.length - close.length) + close;
  }
  const actions = status === "completed" ? (state.status === "done" ? [] : [RETRY_ACTION]) : [STOP_ACTION];
  return { name: "afk", status, ...(conclusion === undefined ? {} : { conclusion }), output, actions: actions.slice(0, CHECK_RUN_LIMITS.actions) };
}

function conclusionOf(state: RunState): CheckRunView["conclusion"] {
  switch (state.status) {
    case "done":
      return "success";
    case "failed":
    case "interrupted":
      return "failure";
    case "stopped":
      return "cancelled";
    case "refused":
      return "action_required";
    default:
      return undefined;
  }
}

const ELLIPSIS = "\n…(truncated)";

export function truncateEnd(text: string, max: number): string {
  const chars = Array.from(text);
  if (chars.length <= max) return text;
  return chars.slice(0, max - ELLIPSIS.length).join("") + ELLIPSIS;
}

export function keepTail(text: string, max: number): string {
  const chars = Array.from(text);
  if (chars.length <= max) return text;
  const marker = "…(earlier output truncated)\n";
  return marker + chars.slice(chars.length - (max - marker.length)).join("");
}
