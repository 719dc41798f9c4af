import { fenced, keepTail } from "./render-check-run.js";
import type { GateEvidence } from "../run-contract/evidence.js";
import type { Spend } from "../run-contract/executor.js";
import { inertText } from "../trust/inert-text.js";

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
  const files = facts.changedFiles.slice(0, 50).map((file) => `- \`${inertText(file.replace(/`/g, "'"), { inline: true })}\``);
  if (facts.changedFiles.length > 50) files.push(`- …and ${facts.changedFiles.length - 50} more`);
  const sections = [
    facts.notPassing === undefined ? "" : `> [!WARNING]\n> **Not passing.** ${facts.notPassing} This draft keeps the work so far for a person to pick up.`,
    `Closes #${facts.issue}`,
    `## What changed and why\n\n${inertSummary(facts.summary)}`,
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
