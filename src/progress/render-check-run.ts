import type { RunState } from "../lifecycle/run-state.js";
import { inertText } from "../trust/inert-text.js";
import type { CheckRunDetails, GateEvidence } from "../run-contract/evidence.js";
import { runLogLink } from "./render-run-log-link.js";

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

export const STOP_ACTION: CheckRunAction = { label: "Stop", description: "Stop this afk run", identifier: "afk-stop" };
export const RETRY_ACTION: CheckRunAction = { label: "Retry", description: "Run afk again on this issue", identifier: "afk-retry" };

/**
 * Renders the `afk` check run for a run's state, within GitHub's limits. The outcome message, the
 * agent's summary, the test output and the transcript are not afk's words, so they are made inert. Pure.
 */
export function renderCheckRun(state: RunState, details: CheckRunDetails = {}): CheckRunView {
  const status = state.status === "queued" ? "queued" : state.status === "running" ? "in_progress" : "completed";
  const conclusion = conclusionOf(state);
  const gate = details.gate;
  const summaryLines = [
    `Issue #${state.issue} · run \`${state.runId}\` · phase **${state.phase}** · status **${state.status}**`,
    gate === undefined
      ? ""
      : `Tests: \`${gate.command}\` ${gate.exitCode === 0 ? "passed" : `failed (exit ${gate.exitCode ?? "killed"})`} in afk's sandbox in ${(gate.durationMs / 1000).toFixed(1)} s, after ${gate.rounds} gate round${gate.rounds === 1 ? "" : "s"}.`,
    state.spend === undefined ? "" : `Model cost: $${state.spend.usd.toFixed(2)} over ${state.spend.turns} turn${state.spend.turns === 1 ? "" : "s"}.`,
    runLogLink(state) ?? "",
    inertText(state.outcome?.message ?? ""),
    details.summary === undefined || details.summary.length === 0 ? "" : `### What the agent says it did\n\n${inertText(details.summary)}`,
  ].filter((line) => line.length > 0);
  const output: CheckRunView["output"] = {
    title: truncateEnd(titleOf(state, gate), 255),
    summary: truncateEnd(summaryLines.join("\n\n"), CHECK_RUN_LIMITS.outputChars),
  };
  const sections: string[] = [];
  if (gate !== undefined && gate.output.length > 0) sections.push(`### Test output (tail)\n\n${fenced(inertTail(gate.output, 20_000))}`);
  if (details.transcriptTail !== undefined && details.transcriptTail.length > 0) {
    // The transcript gets what the limit leaves, newest lines kept; 100 characters cover its heading and fence.
    const room = CHECK_RUN_LIMITS.outputChars - sections.reduce((sum, section) => sum + Array.from(section).length + 2, 0) - 100;
    sections.push(`### Transcript (tail)\n\n${fenced(inertTail(details.transcriptTail, room))}`);
  }
  if (sections.length > 0) output.text = sections.join("\n\n");
  const actions = status === "completed" ? (state.status === "done" || state.status === "waiting" ? [] : [RETRY_ACTION]) : [STOP_ACTION];
  return { name: "afk", status, ...(conclusion === undefined ? {} : { conclusion }), output, actions: actions.slice(0, CHECK_RUN_LIMITS.actions) };
}

function titleOf(state: RunState, gate: GateEvidence | undefined): string {
  if (state.status === "waiting") return "afk: tests pass, pull request open";
  if (state.status === "escalated") return gate !== undefined && gate.exitCode !== 0 ? "afk: tests fail, handed to a person" : "afk: handed to a person";
  return `afk: ${state.status} (${state.phase})`;
}

/** A code fence long enough that no backticks inside can close it. */
export function fenced(text: string): string {
  const longest = Math.max(2, ...Array.from(text.matchAll(/`+/g), (match) => match[0].length));
  const fence = "`".repeat(longest + 1);
  return `${fence}text\n${text}\n${fence}`;
}

function conclusionOf(state: RunState): CheckRunView["conclusion"] {
  switch (state.status) {
    case "done":
    case "waiting":
      return "success";
    case "escalated":
      return "action_required";
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

/**
 * The end of a text, made inert, in at most `max` characters. Inert text grows (a break after each
 * mention), so the tail is taken of the inert text; a cut can only expose a line-start slash at the
 * cut, which the second pass escapes with one more character, so one character is kept spare.
 */
function inertTail(text: string, max: number): string {
  const inert = inertText(text);
  return Array.from(inert).length <= max ? inert : inertText(keepTail(inert, max - 1));
}

export function keepTail(text: string, max: number): string {
  const chars = Array.from(text);
  if (chars.length <= max) return text;
  const marker = "…(earlier output truncated)\n";
  return marker + chars.slice(chars.length - (max - marker.length)).join("");
}
