// `afk eval`'s reports: the terminal table, the paired comparison, and the self-contained HTML
// report. Pure: text in, text out. Task titles, outputs and paths are escaped wherever they go.
import type { AttemptRecord, Comparison, EvalResults, EvalSummary } from "./eval-record.js";

/** `0.625` → `62.5%`. */
export function percent(rate: number): string {
  return `${(rate * 100).toFixed(1).replace(/\.0$/, "")}%`;
}

function dollars(usd: number): string {
  return `$${usd.toFixed(usd < 1 ? 3 : 2)}`;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
}

/** The resolved rate, with its range over repeats when there was more than one. */
export function resolvedLine(summary: EvalSummary): string {
  const range =
    summary.rateByRepeat.length > 1
      ? ` (range ${percent(summary.rateRange.min)}–${percent(summary.rateRange.max)} over ${summary.rateByRepeat.length} repeats)`
      : "";
  return `resolved ${summary.resolved}/${summary.attempts} = ${percent(summary.resolvedRate)}${range}`;
}

function gateWord(attempt: AttemptRecord): string {
  if (attempt.gate === null) return "-";
  return attempt.gate.passed ? "pass" : "fail";
}

/** What happened to the attempt, in a word or two. */
export function attemptVerdict(attempt: AttemptRecord): string {
  if (attempt.resolved) return "resolved";
  if (attempt.outcome === "not-started") return "not started";
  if (attempt.change?.kind === "no-change") return "no change";
  if (attempt.change?.kind === "refused") return "refused";
  if (attempt.hiddenTests?.timedOut === true) return "hidden timed out";
  if (attempt.hiddenTests !== null) return "hidden fail";
  return attempt.outcome;
}

/** The terminal table: one row an attempt, then the summary. Plain text (the caller makes it terminal-safe). */
export function renderTable(results: EvalResults): string {
  const header = ["task", "#", "verdict", "gate", "turns", "tools", "cost", "time"];
  const rows = results.attempts.map((attempt) => [
    attempt.task,
    String(attempt.repeat),
    attemptVerdict(attempt),
    gateWord(attempt),
    String(attempt.turns),
    String(attempt.toolCalls),
    dollars(attempt.usd),
    seconds(attempt.wallMs),
  ]);
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? "").length)));
  const line = (cells: string[]): string =>
    cells
      .map((cell, column) => (column >= 4 ? cell.padStart(widths[column] ?? 0) : cell.padEnd(widths[column] ?? 0)))
      .join("  ")
      .trimEnd();
  const s = results.summary;
  return [
    line(header),
    line(widths.map((width) => "-".repeat(width))),
    ...rows.map(line),
    "",
    `${results.label}: ${resolvedLine(s)}`,
    `cost ${dollars(s.usd)} in all, ${s.usdPerResolved === null ? "no task resolved" : `${dollars(s.usdPerResolved)} per resolved task`}; gate passed ${s.gatePassed}/${s.attempts}`,
    `mean ${s.meanTurns.toFixed(1)} turns, ${s.meanToolCalls.toFixed(1)} tool calls, ${seconds(s.meanWallMs)} a task; cache reads ${percent(s.cacheReadFraction)} of input tokens`,
  ].join("\n");
}

/** The paired comparison of B against A, as `afk eval --compare` prints it. */
export function renderComparison(comparison: Comparison): string {
  const { a, b } = comparison;
  const rows = comparison.tasks
    .filter((task) => task.verdict !== "tied")
    .map(
      (task) =>
        `  ${task.verdict === "won" ? "+" : "-"} ${task.task}: ${a.label} ${task.a.resolved}/${task.a.attempts}, ${b.label} ${task.b.resolved}/${task.b.attempts}`,
    );
  const sign = comparison.usdDifferencePerTask >= 0 ? "+" : "-";
  return [
    `A = ${a.label}: ${resolvedLine(a.summary)}, ${dollars(a.summary.usd)}`,
    `B = ${b.label}: ${resolvedLine(b.summary)}, ${dollars(b.summary.usd)}`,
    `B against A on ${comparison.tasks.length} tasks: won ${comparison.won}, lost ${comparison.lost}, tied ${comparison.tied}; cost ${sign}${dollars(Math.abs(comparison.usdDifferencePerTask))} a task (B - A)`,
    ...(rows.length > 0 ? ["tasks that differ:", ...rows] : []),
  ].join("\n");
}

/** Text for HTML: `&`, `<`, `>`, quotes escaped. */
function html(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&#39;");
}

/** A transcript path as a relative link: only the `transcripts/<task>.<n>.jsonl` names afk writes, each segment URI-encoded. */
function transcriptHref(path: string): string | undefined {
  if (!/^transcripts\/[a-z0-9._-]+\.jsonl$/.test(path)) return undefined;
  return path.split("/").map(encodeURIComponent).join("/");
}

/** The cost/turns chart: one point an attempt (turns across, dollars up), resolved ones filled. */
function chart(attempts: readonly AttemptRecord[]): string {
  const width = 560;
  const height = 260;
  const pad = 40;
  const maxTurns = Math.max(1, ...attempts.map((attempt) => attempt.turns));
  const maxUsd = Math.max(0.001, ...attempts.map((attempt) => attempt.usd));
  const x = (turns: number): number => pad + (turns / maxTurns) * (width - 2 * pad);
  const y = (usd: number): number => height - pad - (usd / maxUsd) * (height - 2 * pad);
  const points = attempts
    .map((attempt) => {
      const label = `${attempt.task} #${attempt.repeat}: ${attempt.turns} turns, ${dollars(attempt.usd)}, ${attemptVerdict(attempt)}`;
      const fill = attempt.resolved ? "#1a7f37" : "none";
      return `<circle class="point ${attempt.resolved ? "resolved" : "unresolved"}" cx="${x(attempt.turns).toFixed(1)}" cy="${y(attempt.usd).toFixed(1)}" r="5" fill="${fill}" stroke="${attempt.resolved ? "#1a7f37" : "#cf222e"}" stroke-width="2"><title>${html(label)}</title></circle>`;
    })
    .join("");
  return `<svg id="cost-turns" role="img" aria-label="cost against turns, one point per attempt" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">
<line x1="${pad}" y1="${height - pad}" x2="${width - pad}" y2="${height - pad}" stroke="#888"/><line x1="${pad}" y1="${pad}" x2="${pad}" y2="${height - pad}" stroke="#888"/>
<text x="${width / 2}" y="${height - 8}" text-anchor="middle">turns (0–${maxTurns})</text><text x="12" y="${height / 2}" transform="rotate(-90 12 ${height / 2})" text-anchor="middle">cost (0–${html(dollars(maxUsd))})</text>
${points}</svg>`;
}

/**
 * The self-contained HTML report: the summary (resolved rate with its range, cost per resolved task,
 * tokens and cache reads), a cost/turns chart, and a row per attempt with a link to its transcript.
 * No script and no outside resource: its Content-Security-Policy allows only inline styles and images.
 */
export function renderHtmlReport(results: EvalResults): string {
  const s = results.summary;
  const titles = new Map(results.tasks.map((task) => [task.id, task.title]));
  const rows = results.attempts
    .map((attempt) => {
      const href = attempt.transcript === null ? undefined : transcriptHref(attempt.transcript);
      const prompt = attempt.promptTokens.system === null ? "-" : `${attempt.promptTokens.system} + ${attempt.promptTokens.tools ?? "-"}`;
      const output =
        attempt.hiddenTests === null
          ? ""
          : `<details><summary>hidden tests (exit ${attempt.hiddenTests.exitCode ?? "killed"})</summary><pre>${html(attempt.hiddenTests.outputTail)}</pre></details>`;
      const note = attempt.note !== null && attempt.note.length > 0 ? `<div class="note">${html(attempt.note)}</div>` : "";
      return `<tr class="attempt ${attempt.resolved ? "resolved" : "unresolved"}" data-task="${html(attempt.task)}">
<td>${html(attempt.task)}<div class="title">${html(titles.get(attempt.task) ?? "")}</div></td><td>${attempt.repeat}</td><td class="verdict">${html(attemptVerdict(attempt))}${note}${output}</td><td>${html(gateWord(attempt))}</td>
<td class="num">${attempt.turns}</td><td class="num">${attempt.toolCalls}</td><td class="num cost">${html(dollars(attempt.usd))}</td><td class="num">${attempt.tokens.input + attempt.tokens.cacheWrite + attempt.tokens.cacheRead} / ${attempt.tokens.output}</td>
<td class="num">${html(percent(attempt.cacheReadFraction))}</td><td class="num">${html(prompt)}</td><td class="num">${html(seconds(attempt.wallMs))}</td><td>${href === undefined ? "-" : `<a href="${href}">transcript</a>`}</td></tr>`;
    })
    .join("\n");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>afk eval: ${html(results.label)}</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:2em;color:#1f2328}table{border-collapse:collapse;width:100%}th,td{border-bottom:1px solid #d0d7de;padding:4px 8px;text-align:left;vertical-align:top}
.num{text-align:right;font-variant-numeric:tabular-nums}.title,.note{color:#59636e;font-size:12px}.resolved .verdict{color:#1a7f37;font-weight:600}.unresolved .verdict{color:#cf222e}
pre{white-space:pre-wrap;max-width:60em;font-size:12px}dl{display:grid;grid-template-columns:max-content auto;gap:2px 16px}dt{color:#59636e}
</style></head><body>
<h1>afk eval: ${html(results.label)}</h1>
<dl id="summary">
<dt>resolved</dt><dd id="resolved-rate">${html(resolvedLine(s))}</dd>
<dt>cost</dt><dd id="cost">${html(dollars(s.usd))} in all; <span id="cost-per-resolved">${s.usdPerResolved === null ? "no task resolved" : `${html(dollars(s.usdPerResolved))} per resolved task`}</span></dd>
<dt>gate passed</dt><dd>${s.gatePassed}/${s.attempts}</dd>
<dt>tokens</dt><dd>input ${s.tokens.input}, cache writes ${s.tokens.cacheWrite}, cache reads ${s.tokens.cacheRead} (${html(percent(s.cacheReadFraction))}), output ${s.tokens.output}</dd>
<dt>means</dt><dd>${s.meanTurns.toFixed(1)} turns, ${s.meanToolCalls.toFixed(1)} tool calls, ${html(seconds(s.meanWallMs))} an attempt</dd>
<dt>model</dt><dd>${html(results.model)}</dd><dt>prompts</dt><dd>${html(results.prompts ?? "afk's own")}</dd>
<dt>run</dt><dd>${results.tasks.length} tasks × ${results.repeat} repeats, ${results.jobs} at a time${results.maxUsd === null ? "" : `, at most ${html(dollars(results.maxUsd))} each`}; started ${html(results.startedAt)}, took ${html(seconds(results.wallMs))}</dd>
</dl>
<h2>Cost and turns</h2>
${chart(results.attempts)}
<h2>Attempts</h2>
<table id="attempts"><thead><tr><th>task</th><th>#</th><th>verdict</th><th>gate</th><th>turns</th><th>tool calls</th><th>cost</th><th>tokens in / out</th><th>cache reads</th><th>prompt tokens (system + tools)</th><th>time</th><th>transcript</th></tr></thead>
<tbody>
${rows}
</tbody></table>
</body></html>
`;
}
