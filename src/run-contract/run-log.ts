// A run's log as data: what the agent session recorded (executor/agent/agent-session.ts `RunLogEntry`),
// as it travels from a job on GitHub Actions to afk and into the repository's `refs/afk/runs/<run id>`.
// Pure: the schema bounds every field, since a job's result is untrusted.
import { z } from "zod";

/** Characters of one entry's text: the session keeps 20,000 (head and tail) plus its marker of what it cut. */
export const RUN_LOG_ENTRY_CHARS = 21_000;
/** Characters of all entries' texts together: the session keeps 2,000,000, then counts what it drops, and adds one note. */
export const RUN_LOG_TOTAL_CHARS = 2_100_000;
/** Entries of one log (a run of 1,000 turns with many tool calls each stays well within). */
export const RUN_LOG_MAX_ENTRIES = 50_000;

/** One entry: a message afk sent, a model turn's text, a tool call (name and input) or a tool result. */
export const runLogEntrySchema = z.strictObject({
  /** Milliseconds since the session started. */
  atMs: z.number().nonnegative().max(1e10),
  /** The model turn the entry belongs to. */
  turn: z.number().int().nonnegative().max(1_000_000),
  kind: z.enum(["user", "assistant", "tool_call", "tool_result"]),
  text: z.string().max(RUN_LOG_ENTRY_CHARS),
  /** Tool results: the tool said the call failed. */
  isError: z.literal(true).optional(),
});
export type RunLogEntryData = z.output<typeof runLogEntrySchema>;

/** A session's whole log as a job sends it: its entries, in order, and how many tool calls the model made. */
export const runLogSchema = z.strictObject({
  entries: z
    .array(runLogEntrySchema)
    .max(RUN_LOG_MAX_ENTRIES)
    .refine((entries) => entries.reduce((sum, entry) => sum + entry.text.length, 0) <= RUN_LOG_TOTAL_CHARS, {
      message: `the entries' texts are over ${RUN_LOG_TOTAL_CHARS} characters together`,
    }),
  toolCalls: z.number().int().nonnegative().max(10_000_000),
});
export type RunLogData = z.output<typeof runLogSchema>;

/** The ref a run's log is kept under, without `refs/` (as the Git Data API's ref routes take it). */
export function runLogRefName(runId: string): string {
  return `afk/runs/${runId}`;
}

/**
 * The most bytes of a log a job sends in its result, as JSON: with a whole change bundle (50 MB as
 * base64) and the texts beside it, the result still fits the bytes afk reads of it (remote-jobs/job-routes.ts).
 */
export const RUN_LOG_RESULT_BYTES = 4 * 1024 * 1024;

/**
 * The log within `maxBytes` of JSON: the first entries that fit, then a note of how many did not
 * (the start of a run says what it set out to do; afk's check run already shows the end). Pure.
 */
export function boundRunLog(log: RunLogData, maxBytes: number = RUN_LOG_RESULT_BYTES): RunLogData {
  const room = maxBytes - 1_000;
  let used = 0;
  const kept: RunLogEntryData[] = [];
  for (const entry of log.entries) {
    const bytes = utf8Bytes(JSON.stringify(entry)) + 1;
    if (used + bytes > room) {
      const last = kept.at(-1);
      const note: RunLogEntryData = {
        atMs: last?.atMs ?? 0,
        turn: last?.turn ?? 0,
        kind: "user",
        text: `[afk: the run log reached ${maxBytes} bytes; ${log.entries.length - kept.length} later entries are not kept]`,
      };
      return { entries: [...kept, note], toolCalls: log.toolCalls };
    }
    used += bytes;
    kept.push(entry);
  }
  return log;
}

/** How many bytes `text` takes as UTF-8 (a lone surrogate counts as the 3 bytes of its replacement). Pure, linear. */
export function utf8Bytes(text: string): number {
  let bytes = 0;
  for (let index = 0; index < text.length; index += 1) {
    const code = text.charCodeAt(index);
    if (code < 0x80) bytes += 1;
    else if (code < 0x800) bytes += 2;
    else if (code >= 0xd800 && code <= 0xdbff && (text.charCodeAt(index + 1) & 0xfc00) === 0xdc00) {
      bytes += 4;
      index += 1;
    } else bytes += 3;
  }
  return bytes;
}
