import { describe, expect, it } from "vitest";
import { OperatorSettingsError, readOperatorSettings } from "../../src/config/operator-settings.js";
import { runStartOf } from "../../src/github/run-log.js";
import { queuedState, settledState, startedState } from "../../src/lifecycle/transitions.js";
import { renderCheckRun } from "../../src/progress/render-check-run.js";
import { renderProgressComment } from "../../src/progress/render-progress-comment.js";
import { runLogLink } from "../../src/progress/render-run-log-link.js";
import { RUN_LOG_FILE_BYTES, renderRunLog, type RunLogHeader } from "../../src/progress/render-run-log.js";
import { boundRunLog, runLogEntrySchema, runLogSchema, utf8Bytes, type RunLogEntryData } from "../../src/run-contract/run-log.js";

const HEADER: RunLogHeader = {
  repository: "octo-org/app",
  issue: 7,
  runId: "r-mabc1234-0a1b2c3d",
  job: "fix-ci",
  model: "claude-sonnet-5-5",
  executor: "actions",
  outcome: { status: "escalated", message: "The agent said: fixes #2 @someone" },
  spend: { usd: 0.1234, turns: 3 },
  toolCalls: 2,
  gate: undefined,
};

const entry = (text: string, kind: RunLogEntryData["kind"] = "tool_result"): RunLogEntryData => ({ atMs: 1500, turn: 1, kind, text });
const noRedaction = (text: string): string => text;

describe("rendering a run log", () => {
  it("puts each entry's text in a fence no backtick run inside can close, and makes it inert", () => {
    const files = renderRunLog(HEADER, [entry("a ``````` b\n/afk approve\n@someone fixes #3", "assistant")], noRedaction);
    expect(files.markdown).toContain("### 1 · agent · turn 1 · +1.5 s\n\n````````text\na ``````` b\n\\/afk approve\n@\u200Bsomeone fixes\u200B #3\n````````");
    expect(files.markdown).toContain("- Run: `r-mabc1234-0a1b2c3d` (fix-ci, on GitHub Actions)");
    expect(files.markdown).toContain("- Gate: did not run");
    expect(files.markdown).toContain("- Spend: $0.1234\n");
    expect(files.markdown).toContain("fixes\u200B #2 @\u200Bsomeone");
    const [line] = files.jsonl.split("\n");
    expect(runLogEntrySchema.parse(JSON.parse(line ?? ""))).toEqual({
      atMs: 1500,
      turn: 1,
      kind: "assistant",
      text: "a ``````` b\n\\/afk approve\n@\u200Bsomeone fixes\u200B #3",
    });
  });

  it("redacts after removing hidden characters, so none can split a secret past the redaction", () => {
    const secret = "sk-ant-secret-0123456789";
    const split = `${secret.slice(0, 6)}\u200B\u2060${secret.slice(6)}`;
    const files = renderRunLog(HEADER, [entry(`key: ${split}`), entry(`tool ${secret}`, "tool_call")], (text) => text.split(secret).join("[redacted]"));
    expect(`${files.markdown}${files.jsonl}`).not.toContain(secret);
    expect(files.jsonl).toContain('"text":"key: [redacted]"');
  });

  it("keeps each file within 5 MB, saying how many entries did not fit", () => {
    // 400 entries of 20,000 three-byte characters: 24 MB of text.
    const entries = Array.from({ length: 400 }, () => entry("語".repeat(20_000)));
    const files = renderRunLog(HEADER, entries, noRedaction);
    expect(utf8Bytes(files.markdown)).toBeLessThanOrEqual(RUN_LOG_FILE_BYTES);
    expect(utf8Bytes(files.jsonl)).toBeLessThanOrEqual(RUN_LOG_FILE_BYTES);
    expect(Buffer.byteLength(files.markdown)).toBe(utf8Bytes(files.markdown));
    expect(files.markdown).toMatch(/\*afk: 3\d\d later entries do not fit in this file's 5242880 bytes\.\*\n$/);
    const lines = files.jsonl.trim().split("\n");
    expect(JSON.parse(lines.at(-1) ?? "")).toMatchObject({ kind: "user", text: expect.stringMatching(/^\[afk: 3\d\d later entries do not fit/) as string });
    for (const line of lines) runLogEntrySchema.parse(JSON.parse(line));
  });

  it("a job's log fits its result: bounded in bytes of JSON, with a note of what was left out", () => {
    const log = { entries: Array.from({ length: 100 }, () => entry("\u0001".repeat(20_000))), toolCalls: 150 };
    expect(runLogSchema.safeParse(log).success).toBe(true);
    const bounded = boundRunLog(log);
    expect(utf8Bytes(JSON.stringify(bounded))).toBeLessThanOrEqual(4 * 1024 * 1024);
    expect(bounded.entries.at(-1)?.text).toMatch(/^\[afk: the run log reached 4194304 bytes; \d+ later entries are not kept\]$/);
    expect(bounded.toolCalls).toBe(150);
    const small = { entries: [entry("ok")], toolCalls: 1 };
    expect(boundRunLog(small)).toBe(small);
  });

  it("refuses a job's log over its bounds", () => {
    expect(runLogSchema.safeParse({ entries: [entry("x".repeat(21_001))], toolCalls: 0 }).success).toBe(false);
    expect(runLogSchema.safeParse({ entries: Array.from({ length: 101 }, () => entry("x".repeat(21_000))), toolCalls: 0 }).success).toBe(false);
    expect(runLogSchema.safeParse({ entries: [{ ...entry("x"), extra: 1 }], toolCalls: 0 }).success).toBe(false);
  });

  it("counts UTF-8 bytes as Buffer does, surrogate pairs and lone surrogates included", () => {
    for (const text of ["", "abc", "é", "語", "😀", "a\ud800b", "\udc00"]) expect(utf8Bytes(text)).toBe(Buffer.byteLength(text));
  });
});

describe("linking the run log", () => {
  const now = new Date("2026-11-23T12:00:00.000Z");
  const queued = queuedState({
    runId: "r-mabc1234-0a1b2c3d",
    issue: 4,
    trigger: { actor: "octocat", source: "label", deliveryId: "d", repoUrl: "https://ghe.example.com/octo-org/app", bodyDigest: "0".repeat(32) },
    now,
    queuedBehind: undefined,
    previous: undefined,
  });
  const running = startedState(queued, "a", now);
  const commit = "ab".repeat(20);

  it("links run.md at the log's commit on the repository's host once the job has ended, in the progress comment and the check run", () => {
    const ended = settledState(running, { status: "escalated", message: "Handed to a person.", runLog: commit }, now);
    const link = `[Run log](https://ghe.example.com/octo-org/app/blob/${commit}/run.md) (\`afk log r-mabc1234-0a1b2c3d\`)`;
    expect(runLogLink(ended)).toBe(link);
    expect(renderProgressComment(ended)).toContain(link);
    expect(renderCheckRun(ended).output.summary).toContain(link);
    expect(runLogLink({ ...ended, status: "running" })).toBeUndefined();
    expect(runLogLink({ ...ended, runLog: undefined })).toBeUndefined();
    expect(renderProgressComment(running)).not.toContain("Run log");
  });
});

describe("run log retention", () => {
  it("reads a run's start from afk's run ids, and nothing from other names", () => {
    expect(runStartOf(`r-${(1_765_000_000_000).toString(36)}-0a1b2c3d`)).toBe(1_765_000_000_000);
    for (const name of ["someone-elses", "r-zz-xyz", "r--0a1b2c3d", "r-zzzzzzzzzzzzz-0a1b2c3d", "r-abc-0a1b2c3d/extra"])
      expect(runStartOf(name)).toBeUndefined();
  });

  it("AFK_RUN_LOG_DAYS: 30 days by default, 0 keeps none, anything else a clear error", () => {
    expect(readOperatorSettings({}).runLogDays).toBe(30);
    expect(readOperatorSettings({ AFK_RUN_LOG_DAYS: "0" }).runLogDays).toBe(0);
    expect(readOperatorSettings({ AFK_RUN_LOG_DAYS: " 90 " }).runLogDays).toBe(90);
    for (const bad of ["-1", "thirty", "3651", "1.5"]) {
      expect(() => readOperatorSettings({ AFK_RUN_LOG_DAYS: bad })).toThrow(OperatorSettingsError);
      expect(() => readOperatorSettings({ AFK_RUN_LOG_DAYS: bad })).toThrow(
        `AFK_RUN_LOG_DAYS=${JSON.stringify(bad)} must be a whole number from 0 to 3650 (days to keep run logs; 0 keeps none; default 30)`,
      );
    }
  });
});
