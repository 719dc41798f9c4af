import { describe, expect, it } from "vitest";
import { progressReporter, type EvalIo } from "../../src/cli/eval.js";
import type { AttemptRecord } from "../../src/eval/eval-record.js";

function record(task: string, resolved: boolean, usd: number): AttemptRecord {
  return {
    task,
    repeat: 1,
    resolved,
    outcome: "passed",
    gate: { passed: true, exitCode: 0, rounds: 1 },
    change: { kind: "committed", files: ["src/index.js"] },
    hiddenTests: { exitCode: resolved ? 0 : 1, timedOut: false, outputTail: "" },
    tokens: { input: 10, output: 5, cacheWrite: 0, cacheRead: 0 },
    usd,
    turns: 3,
    toolCalls: 2,
    wallMs: 4200,
    cacheReadFraction: 0,
    promptTokens: { system: 700, tools: 500 },
    transcript: null,
    note: null,
  };
}

function io(progressBar: EvalIo["progressBar"], err: string[]): EvalIo {
  return { env: {}, cwd: "/", out: () => undefined, err: (line) => void err.push(line), progressBar, signal: new AbortController().signal };
}

describe("afk eval's progress", () => {
  it("on a terminal: one bar redrawn with done, resolved rate, spend and what runs now in which phase", () => {
    const bars: string[] = [];
    const report = progressReporter(io((line) => void bars.push(line), []));
    report({ kind: "started", task: "a", repeat: 1 });
    report({ kind: "started", task: "b", repeat: 1 });
    report({ kind: "phase", task: "b", repeat: 1, phase: "agent" });
    expect(bars.at(-1)).toBe("[------------------------] 0/? resolved - $0.00  a#1 workspace, b#1 agent");
    report({ kind: "ended", record: record("a", true, 0.1), done: 1, total: 2 });
    expect(bars.at(-1)).toBe("[############------------] 1/2 resolved 100% $0.10  b#1 agent");
    report({ kind: "ended", record: record("b", false, 0.05), done: 2, total: 2 });
    expect(bars.at(-1)).toBe("[########################] 2/2 resolved 50% $0.15  ");
  });

  it("elsewhere: a line for each attempt that ends, and the agent's bytes never reach the terminal", () => {
    const err: string[] = [];
    const report = progressReporter(io(undefined, err));
    report({ kind: "started", task: "a", repeat: 1 });
    report({ kind: "ended", record: record("a\u001b]0;pwned\u0007", true, 0.1234), done: 1, total: 3 });
    expect(err).toEqual(["[1/3] a #1: resolved (3 turns, $0.123, 4.2 s)"]);
  });
});
