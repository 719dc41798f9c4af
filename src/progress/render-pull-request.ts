import { fenced, keepTail } from "./render-check-run.js";
import type { GateEvidence } from "../run-contract/evidence.js";
import type { Spend } from "../run-contract/executor.js";
import { inertText } from "../trust/inert-text.js";
import type { OutOfScopeFile } from "../text/out-of-scope-files.js";

export interface PullRequestFacts {
  issue: number;
  issueTitle: string;
  runId: string;
  requestedBy: string;
  model: string;
  /** The agent's own account of the change; model output, so published inert (see `inertText`). */
  summary: string;
  gate: GateEvidence;
  changedFiles: readonly string[];
  /** New files that look outside the change's scope (`outOfScopeFiles`); their names are the agent's, so published inert. */
  outOfScope?: readonly OutOfScopeFile[];
  spend: Spend;
  /** Set when the change is pushed without passing tests, for a person to pick up. */
  notPassing?: string;
}

const SUMMARY_MAX = 20_000;
const OUTPUT_MAX = 8_000;

/**
 * The pull request afk opens: what changed and why, the test evidence, the cost. Everything afk did
 * not write (the issue title, the agent's summary, the test output, the file names the agent chose)
 * is made inert; afk's own `Closes #N` and the requester's mention stay live. Pure.
 */
export function renderPullRequest(facts: PullRequestFacts): { title: string; body: string } {
  const title = `${facts.notPassing === undefined ? "" : "[not passing] "}${inertText(facts.issueTitle)} (#${facts.issue})`.slice(0, 256);
  const passed = facts.gate.exitCode === 0;
  const files = facts.changedFiles.slice(0, 50).map((file) => `- ${inertPath(file)}`);
  if (facts.changedFiles.length > 50) files.push(`- …and ${facts.changedFiles.length - 50} more`);
  const sections = [
    facts.notPassing === undefined ? "" : `> [!WARNING]\n> **Not passing.** ${facts.notPassing} This draft keeps the work so far for a person to pick up.`,
    `Closes #${facts.issue}`,
    `## What changed and why\n\n${inertSummary(facts.summary)}`,
    outOfScopeSection(facts.outOfScope ?? []),
    [
      "## Evidence",
      "",
      `- Tests: \`${facts.gate.command}\` ${passed ? "passed" : `failed (exit ${facts.gate.exitCode ?? "killed"})`} in afk's sandbox, gate round ${facts.gate.rounds}.`,
      `- Model: ${facts.model}, $${facts.spend.usd.toFixed(2)} over ${facts.spend.turns} turns.`,
      `- Requested by @${facts.requestedBy}; run \`${facts.runId}\`.`,
    ].join("\n"),
    `<details><summary>Test output (tail)</summary>\n\n${fenced(inertText(keepTail(facts.gate.output, OUTPUT_MAX)))}\n\n</details>`,
    `<details><summary>Files changed (${facts.changedFiles.length})</summary>\n\n${files.join("\n")}\n\n</details>`,
  ];
  return { title, body: sections.filter((section) => section.length > 0).join("\n\n") };
}

/** Model output: cut to size first, then made inert, so no cut can undo an escape. */
function inertSummary(summary: string): string {
  const text = inertText(summary.trim().slice(0, SUMMARY_MAX)).trim();
  return text.length > 0 ? text : "(the agent gave no summary)";
}

const OUT_OF_SCOPE_SHOWN = 20;

/** The new files a reviewer should check are meant to stay; nothing when there are none. */
function outOfScopeSection(files: readonly OutOfScopeFile[]): string {
  if (files.length === 0) return "";
  const lines = files.slice(0, OUT_OF_SCOPE_SHOWN).map((file) => `- ${inertPath(file.path)}: ${file.why}`);
  if (files.length > OUT_OF_SCOPE_SHOWN) lines.push(`- …and ${files.length - OUT_OF_SCOPE_SHOWN} more`);
  return [
    "## Files to check",
    "",
    "These new files look outside the change's evident scope (scratch, logs, debugging or reproduction scripts, files at the root unlike any there). Check that each is meant to stay:",
    "",
    ...lines,
  ].join("\n");
}

/** A path the agent chose, as inline code: backticks replaced so it cannot close the span, then made inert. */
function inertPath(path: string): string {
  return `\`${inertText(path.replace(/`/g, "'"), { inline: true })}\``;
}
