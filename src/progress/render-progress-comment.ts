import { COMMANDS } from "../commands/command-table.js";
import type { CiPassed } from "../lifecycle/lifecycle.js";
import { encodeStateMarker, type RunState } from "../lifecycle/run-state.js";
import { PHASES, type Phase } from "../run-contract/job.js";
import { runLogLink } from "./render-run-log-link.js";
import { inertText, type InertTextOptions } from "../trust/inert-text.js";

const PHASE_LABELS: Record<Phase, string> = {
  queued: "Queued",
  started: "Repository lock taken, run started",
  plan: "Plan posted and approved",
  workspace: "Workspace ready at a pinned commit",
  agent: "Agent implementing the issue",
  gate: "Repository tests pass (afk's own gate)",
  pull_request: "Pull request opened",
  ci: "CI",
  review: "Ready for review",
  merged: "Merged",
};

/** Renders the single progress comment afk keeps on an issue. Pure: same state, same text. */
export function renderProgressComment(state: RunState): string {
  const sections = [heading(state), statusLine(state)];
  if (state.notice === undefined) sections.push(checklist(state), products(state));
  else if (state.notice.problems.length > 0) sections.push(problemTable(state));
  sections.push(footer(state), stateMarker(state));
  return sections.filter((section) => section.length > 0).join("\n\n");
}

/**
 * The state marker with every `@` written as the JSON escape `\u0040`: the same JSON, read back the
 * same, but the raw comment (which integrations forward as it is) holds no mention from the
 * outcome messages that quote the agent. JSON has no `@` outside strings, nor in an escape.
 */
function stateMarker(state: RunState): string {
  return encodeStateMarker(state).replace(/@/g, "\\u0040");
}

function heading(state: RunState): string {
  switch (state.status) {
    case "queued":
      return "### ⏳ afk queued this issue";
    case "running":
      return "### 🤖 afk picked this up";
    case "waiting":
      return state.pullRequest === undefined ? "### 🔍 afk is waiting" : `### 🔍 afk opened #${state.pullRequest.number}`;
    case "done":
      return "### ✅ afk is done";
    case "escalated":
      return "### 🙋 afk needs a person";
    case "failed":
      return "### ❌ afk's run failed";
    case "stopped":
      return "### ⏹️ afk stopped";
    case "interrupted":
      return "### ⚠️ afk's run was interrupted";
    case "refused":
      return "### 🚫 afk did not start";
  }
}

/** Where a dispatched job runs: its workflow run in the runner repository (both names checked when the state was read). */
function remoteLine(state: RunState): string {
  if (state.remote === undefined) return "";
  const { runnerRepo, workflowRunId } = state.remote;
  const web = state.repoUrl === undefined ? undefined : new URL(state.repoUrl).origin;
  const run =
    web === undefined
      ? `workflow run ${workflowRunId} of ${runnerRepo}`
      : `[workflow run ${workflowRunId}](${web}/${runnerRepo}/actions/runs/${workflowRunId}) of ${runnerRepo}`;
  return ` The agent runs on GitHub Actions: ${run}.`;
}

function statusLine(state: RunState): string {
  // A notice is afk's own sentence (its mention of a refused sender notifies them); the problems it lists are not.
  if (state.notice !== undefined) return escapeHtml(state.notice.message);
  switch (state.status) {
    case "queued":
      // Why it is queued again (a fix attempt, a rework, a run handed back at shutdown), then what it waits for.
      return [state.outcome === undefined ? "" : escapeText(state.outcome.message), queuedLine(state)].filter((part) => part.length > 0).join(" ");
    case "running":
      return `Started by @${state.trigger.actor} (${state.trigger.source === "label" ? "label" : "command"}).${remoteLine(state)} This comment is edited in place as the run moves on.`;
    case "waiting":
      return `${escapeText(state.outcome?.message ?? "The pull request is open.")} ${WAITING_FOR[state.phase] ?? "afk waits for CI and review."}`;
    case "done":
      return escapeText(state.outcome?.message ?? "The pull request was merged.");
    case "escalated":
      return `${escapeText(state.outcome?.message ?? "afk could not finish this.")} Comment \`/afk retry\` to let afk try again.`;
    case "failed":
    case "interrupted":
      return [
        escapeText(state.outcome?.message ?? "The run ended without a result."),
        state.outcome?.retryable === false ? "" : "Comment `/afk retry` to run again.",
      ]
        .filter((part) => part.length > 0)
        .join(" ");
    case "stopped":
      return `${state.outcome === undefined ? `Stopped${state.stoppedBy === undefined ? "" : ` by @${state.stoppedBy}`}.` : escapeText(state.outcome.message)} Comment \`/afk retry\` to start again.`;
    case "refused":
      return "afk did not start.";
  }
}

/** What a queued run waits for. */
function queuedLine(state: RunState): string {
  if (state.blockedBy !== undefined && state.blockedBy.length > 0) {
    return `Waiting: blocked by ${state.blockedBy.map((n) => `#${n}`).join(", ")}. It starts by itself once ${state.blockedBy.length === 1 ? "that issue is" : "those issues are"} closed and the repository is free.`;
  }
  return state.queuedBehind !== undefined
    ? `Queued behind #${state.queuedBehind}: afk works on one issue per repository at a time. This one starts by itself when its turn comes (higher priority labels first); \`/afk status\` shows the queue as it is now.`
    : "Waiting for the repository lock.";
}

/** What a waiting run waits for, by phase. */
const WAITING_FOR: Partial<Record<Phase, string>> = {
  plan: "afk waits for a trusted person to comment `/afk approve` (or to edit the issue and `/afk run` again).",
  ci: "afk waits for CI; a red run is fixed forward.",
  review: "afk waits for review: changes requested (or `/afk fix`) are reworked, a merge finishes the run.",
};

function checklist(state: RunState): string {
  const reached = PHASES.indexOf(state.phase);
  const settled = state.status !== "queued" && state.status !== "running" && state.status !== "waiting";
  const planned = state.plan !== undefined || state.job === "plan";
  return PHASES.flatMap((phase, index) => {
    if (phase === "plan" && !planned) return [];
    const label = PHASE_LABELS[phase];
    // CI is ticked only as afk read it on the commit it waited on, never for merely being past it.
    if (phase === "ci" && index < reached)
      return state.ci?.passed === undefined
        ? `- [ ] ${label} (afk read no verdict on the last commit)`
        : `- [x] ${ciPassedLabel(state.ci.head, state.ci.passed)}`;
    if (index < reached || (index === reached && state.status === "done")) return `- [x] ${label}`;
    if (index === reached) return settled ? `- [ ] ${label} — **${state.status} here**` : `- [ ] **${label}** ← now`;
    return `- [ ] ${label}`;
  }).join("\n");
}

function ciPassedLabel(head: string, passed: CiPassed): string {
  const short = `\`${head.slice(0, 7)}\``;
  switch (passed) {
    case "green":
      return `CI green on ${short}`;
    case "no-ci":
      return `No CI reported on ${short} within \`ci.grace_minutes\` (counted as passing)`;
    case "red-on-base":
      return `CI on ${short} red only in checks red on the base too (not afk's to fix)`;
  }
}

/** The pull request, branch and model spend, once there are any, and the run log once the job has ended. */
function products(state: RunState): string {
  const parts: string[] = [];
  if (state.pullRequest !== undefined) parts.push(`Pull request: ${state.pullRequest.url}${state.pullRequest.draft ? " (draft)" : ""}`);
  else if (state.branch !== undefined) parts.push(`Branch: \`${escapeHtml(state.branch)}\``);
  if (state.spend !== undefined) parts.push(`Model: $${state.spend.usd.toFixed(2)} over ${state.spend.turns} turn${state.spend.turns === 1 ? "" : "s"}`);
  const log = runLogLink(state);
  if (log !== undefined) parts.push(log);
  return parts.join(" · ");
}

function problemTable(state: RunState): string {
  const rows = (state.notice?.problems ?? []).map(
    (problem) => `| \`${escapeCell(problem.field)}\` | ${escapeCell(problem.problem)} | ${escapeCell(problem.allowed)} |`,
  );
  return ["| field | what is wrong | what is allowed |", "| --- | --- | --- |", ...rows].join("\n");
}

function footer(state: RunState): string {
  const parts = [`<sub>run \`${state.runId}\`${state.replica === undefined ? "" : ` on \`${state.replica}\``}`];
  if (state.repoUrl !== undefined) parts.push(`[configuration](${state.repoUrl}/blob/HEAD/.github/afk.yml)`);
  if (state.status === "queued" || state.status === "running" || state.status === "waiting") parts.push(`stop with \`${COMMANDS.stop.usage}\``);
  parts.push(`\`${COMMANDS.help.usage}\` lists commands</sub>`);
  return parts.join(" · ");
}

function escapeCell(text: string): string {
  return escapeText(text, { inline: true }).replace(/\|/g, "\\|").replace(/\r?\n/g, " ");
}

/**
 * Text not wholly afk's own (outcome messages that quote the agent, config keys, YAML errors, API
 * messages): made inert (no mention, slash command or closing reference), then stripped of HTML, so
 * no marker or hidden comment. In this order, so the escapes of the second are not undone by the first.
 */
function escapeText(text: string, options: InertTextOptions = {}): string {
  return escapeHtml(inertText(text, options));
}

/** afk's own text can carry no HTML either: no marker or hidden comment from what it quotes. */
function escapeHtml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}
