import type { GateEvidence } from "../run-contract/evidence.js";
import type { Spend } from "../run-contract/executor.js";
import type { Job } from "../run-contract/job.js";
import { utf8Bytes, type RunLogEntryData } from "../run-contract/run-log.js";
import { inertText } from "../trust/inert-text.js";
import { withoutHiddenCharacters } from "../trust/sanitize-untrusted-text.js";
import { fenced } from "./render-check-run.js";

/** The most bytes of each file of a run log: `run.md` and `run.jsonl` are each cut (with a note) to fit. */
export const RUN_LOG_FILE_BYTES = 5 * 1024 * 1024;

/** What a run log says about its run before the entries. */
export interface RunLogHeader {
  /** `owner/name`. */
  repository: string;
  issue: number;
  runId: string;
  job: Job;
  model: string;
  /** Where the agent ran: afk's host, or a job on GitHub Actions. */
  executor: "local" | "actions";
  /** How the job ended (its status and afk's message, which may quote the agent). */
  outcome: { status: string; message: string };
  spend: Spend;
  toolCalls: number;
  /** afk's last run of the repository's tests, when the gate ran. */
  gate?: GateEvidence | undefined;
}

/** The two files of a run log. */
export interface RunLogFiles {
  /** `run.md`: the header, then every entry with its text in a fence it cannot close. */
  markdown: string;
  /** `run.jsonl`: one JSON object per entry (`atMs`, `turn`, `kind`, `text`, `isError`). */
  jsonl: string;
}

const KIND_LABELS: Record<RunLogEntryData["kind"], string> = {
  user: "afk → agent",
  assistant: "agent",
  tool_call: "tool call",
  tool_result: "tool result",
};

/**
 * Renders a run's log as `run.md` and `run.jsonl`. Every text but afk's own goes through `redact`
 * (the caller's, holding every secret the run held) after hidden characters are removed (so none
 * can split a secret past it), then is made inert: the files are published under afk's name, so no
 * mention, slash command, closing keyword or hidden comment in them is live, and in `run.md` each
 * entry's text sits in a fence longer than any backtick run inside it. Each file stays within
 * {@link RUN_LOG_FILE_BYTES}: entries that do not fit are counted in a last line. Pure.
 */
export function renderRunLog(header: RunLogHeader, entries: readonly RunLogEntryData[], redact: (text: string) => string): RunLogFiles {
  const safe = (text: string): string => inertText(redact(withoutHiddenCharacters(text)));
  const top = renderHeader(header, safe);
  const markdown = [top];
  const jsonl: string[] = [];
  let markdownBytes = utf8Bytes(top);
  let jsonlBytes = 0;
  let markdownLeft = 0;
  let jsonlLeft = 0;
  const room = RUN_LOG_FILE_BYTES - 1_000;
  entries.forEach((entry, index) => {
    const text = safe(entry.text);
    const line = JSON.stringify({ atMs: entry.atMs, turn: entry.turn, kind: entry.kind, text, ...(entry.isError === true ? { isError: true } : {}) });
    const lineBytes = utf8Bytes(line) + 1;
    if (jsonlLeft === 0 && jsonlBytes + lineBytes <= room) {
      jsonl.push(line);
      jsonlBytes += lineBytes;
    } else jsonlLeft += 1;
    const section = `### ${index + 1} · ${KIND_LABELS[entry.kind]}${entry.isError === true ? " (error)" : ""} · turn ${entry.turn} · ${seconds(entry.atMs)}\n\n${fenced(text)}`;
    const sectionBytes = utf8Bytes(section) + 2;
    if (markdownLeft === 0 && markdownBytes + sectionBytes <= room) {
      markdown.push(section);
      markdownBytes += sectionBytes;
    } else markdownLeft += 1;
  });
  if (entries.length === 0) markdown.push("The agent's session recorded no entries.");
  if (markdownLeft > 0) markdown.push(`*afk: ${markdownLeft} later entries do not fit in this file's ${RUN_LOG_FILE_BYTES} bytes.*`);
  if (jsonlLeft > 0) {
    const last = entries.at(-1);
    jsonl.push(
      JSON.stringify({
        atMs: last?.atMs ?? 0,
        turn: last?.turn ?? 0,
        kind: "user",
        text: `[afk: ${jsonlLeft} later entries do not fit in this file's ${RUN_LOG_FILE_BYTES} bytes]`,
      }),
    );
  }
  return { markdown: `${markdown.join("\n\n")}\n`, jsonl: jsonl.length === 0 ? "" : `${jsonl.join("\n")}\n` };
}

function renderHeader(header: RunLogHeader, safe: (text: string) => string): string {
  const { spend, gate } = header;
  const tokens = spend.tokens;
  const lines = [
    `# afk run log: ${header.repository}#${header.issue}`,
    "",
    `- Run: \`${header.runId}\` (${header.job}, ${header.executor === "actions" ? "on GitHub Actions" : "on afk's host"})`,
    `- Model: ${codeSpan(header.model)}`,
    `- Outcome: **${header.outcome.status}**`,
    `- Spend: $${spend.usd.toFixed(4)}${
      tokens === undefined ? "" : ` (tokens: ${tokens.input} input, ${tokens.cacheWrite} cache write, ${tokens.cacheRead} cache read, ${tokens.output} output)`
    }`,
    `- Turns: ${spend.turns} · tool calls: ${header.toolCalls}`,
    `- Gate: ${
      gate === undefined
        ? "did not run"
        : `${codeSpan(gate.command)} ${gate.exitCode === 0 ? "passed" : `failed (exit ${gate.exitCode ?? "none: killed"})`} after ${gate.rounds} round${gate.rounds === 1 ? "" : "s"}, the last in ${(gate.durationMs / 1000).toFixed(1)} s`
    }`,
    "",
    "afk's account of the outcome:",
    "",
    fenced(safe(header.outcome.message)),
    "",
    "## Entries",
    "",
    "Every message afk sent the agent, the agent's turns, its tool calls and their results, in order (texts over 20,000 characters keep their head and tail). Secrets the run held are redacted.",
  ];
  return lines.join("\n");
}

/** A code span that no backtick inside can end (one line: a newline would end a list item). */
function codeSpan(text: string): string {
  const flat = inertText(withoutHiddenCharacters(text), { inline: true }).replace(/\s+/g, " ");
  const longest = Math.max(0, ...Array.from(flat.matchAll(/`+/g), (match) => match[0].length));
  const ticks = "`".repeat(longest + 1);
  return `${ticks} ${flat} ${ticks}`;
}

function seconds(ms: number): string {
  return `+${(ms / 1000).toFixed(1)} s`;
}
