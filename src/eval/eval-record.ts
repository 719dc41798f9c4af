// What `afk eval` records of each attempt, and the figures it draws from them. Pure.
import type { TokenUsage } from "../run-contract/executor.js";

/** How afk's run of the agent ended (the App's words), or `not-started` when there was no session. */
export type AttemptOutcome = "passed" | "tests-fail" | "budget" | "model-error" | "aborted" | "not-started";

/** One run of one task. */
export interface AttemptRecord {
  task: string;
  /** 1-based, up to `--repeat`. */
  repeat: number;
  /** The hidden tests pass on the change afk would push (SWE-bench's "resolved"). */
  resolved: boolean;
  outcome: AttemptOutcome;
  /** afk's own gate (the repository's visible tests) on the last round: passed, failed, or never ran. */
  gate: { passed: boolean; exitCode: number | null; rounds: number } | null;
  /** What afk would push: committed (with the files), no change, or refused by afk's change policy. */
  change: { kind: "committed"; files: string[] } | { kind: "no-change" } | { kind: "refused"; reason: string } | null;
  /** The hidden tests' run; null when there was nothing to judge. */
  hiddenTests: { exitCode: number | null; timedOut: boolean; outputTail: string } | null;
  tokens: TokenUsage;
  usd: number;
  turns: number;
  toolCalls: number;
  wallMs: number;
  /** Cache reads over every input token (input, cache writes and reads): how much of the prompt was reused. */
  cacheReadFraction: number;
  /** Tokens of the system prompt and of the tools' definitions, as the API counts them (null when it could not be asked). */
  promptTokens: { system: number | null; tools: number | null };
  /** The run log (JSONL), relative to the results directory. */
  transcript: string | null;
  /** Why the attempt ended as it did, in afk's words (not started, model error, budget). */
  note: string | null;
}

/** A whole `afk eval` run, as written to results.json. */
export interface EvalResults {
  version: 1;
  label: string;
  model: string;
  /** The prompt set's directory, or null for afk's own. */
  prompts: string | null;
  repeat: number;
  jobs: number;
  maxUsd: number | null;
  startedAt: string;
  wallMs: number;
  tasks: Array<{ id: string; title: string; language: string | null; tags: string[]; failToPass: string[]; passToPass: string[] }>;
  attempts: AttemptRecord[];
  summary: EvalSummary;
}

export interface EvalSummary {
  tasks: number;
  attempts: number;
  resolved: number;
  /** Resolved attempts over attempts. */
  resolvedRate: number;
  /** The resolved rate of each repeat (all tasks' attempt number k), and their least and greatest. */
  rateByRepeat: number[];
  rateRange: { min: number; max: number };
  usd: number;
  /** Dollars spent over resolved attempts; null when none was resolved. */
  usdPerResolved: number | null;
  meanTurns: number;
  meanToolCalls: number;
  meanWallMs: number;
  tokens: TokenUsage;
  cacheReadFraction: number;
  gatePassed: number;
}

const NO_TOKENS: TokenUsage = { input: 0, output: 0, cacheWrite: 0, cacheRead: 0 };

/** Cache reads over all input tokens; 0 when there were none. */
export function cacheReadFraction(tokens: TokenUsage): number {
  const input = tokens.input + tokens.cacheWrite + tokens.cacheRead;
  return input === 0 ? 0 : tokens.cacheRead / input;
}

/** The figures of a set of attempts. */
export function summarize(attempts: readonly AttemptRecord[]): EvalSummary {
  const count = attempts.length;
  const resolved = attempts.filter((attempt) => attempt.resolved).length;
  const repeats = [...new Set(attempts.map((attempt) => attempt.repeat))].sort((a, b) => a - b);
  const rateByRepeat = repeats.map((repeat) => {
    const round = attempts.filter((attempt) => attempt.repeat === repeat);
    return round.filter((attempt) => attempt.resolved).length / round.length;
  });
  const tokens = attempts.reduce(
    (sum, attempt) => ({
      input: sum.input + attempt.tokens.input,
      output: sum.output + attempt.tokens.output,
      cacheWrite: sum.cacheWrite + attempt.tokens.cacheWrite,
      cacheRead: sum.cacheRead + attempt.tokens.cacheRead,
    }),
    NO_TOKENS,
  );
  const usd = attempts.reduce((sum, attempt) => sum + attempt.usd, 0);
  const mean = (value: (attempt: AttemptRecord) => number): number => (count === 0 ? 0 : attempts.reduce((sum, attempt) => sum + value(attempt), 0) / count);
  return {
    tasks: new Set(attempts.map((attempt) => attempt.task)).size,
    attempts: count,
    resolved,
    resolvedRate: count === 0 ? 0 : resolved / count,
    rateByRepeat,
    rateRange: { min: rateByRepeat.length === 0 ? 0 : Math.min(...rateByRepeat), max: rateByRepeat.length === 0 ? 0 : Math.max(...rateByRepeat) },
    usd,
    usdPerResolved: resolved === 0 ? null : usd / resolved,
    meanTurns: mean((attempt) => attempt.turns),
    meanToolCalls: mean((attempt) => attempt.toolCalls),
    meanWallMs: mean((attempt) => attempt.wallMs),
    tokens,
    cacheReadFraction: cacheReadFraction(tokens),
    gatePassed: attempts.filter((attempt) => attempt.gate?.passed === true).length,
  };
}

/** One task of a paired comparison: each side's resolved attempts and mean cost. */
export interface PairedTask {
  task: string;
  a: { resolved: number; attempts: number; meanUsd: number };
  b: { resolved: number; attempts: number; meanUsd: number };
  /** `won`: B resolved it more often than A; `lost`: less often; `tied`: as often. */
  verdict: "won" | "lost" | "tied";
}

export interface Comparison {
  a: { label: string; summary: EvalSummary };
  b: { label: string; summary: EvalSummary };
  tasks: PairedTask[];
  won: number;
  lost: number;
  tied: number;
  /** Mean over the common tasks of B's mean cost minus A's. */
  usdDifferencePerTask: number;
}

/** B against A, task by task, on the tasks both ran. */
export function compare(a: EvalResults, b: EvalResults): Comparison {
  const side = (results: EvalResults, task: string): PairedTask["a"] => {
    const attempts = results.attempts.filter((attempt) => attempt.task === task);
    return {
      resolved: attempts.filter((attempt) => attempt.resolved).length,
      attempts: attempts.length,
      meanUsd: attempts.length === 0 ? 0 : attempts.reduce((sum, attempt) => sum + attempt.usd, 0) / attempts.length,
    };
  };
  const ids = a.tasks.map((task) => task.id).filter((id) => b.tasks.some((task) => task.id === id));
  const tasks = ids.map((task): PairedTask => {
    const left = side(a, task);
    const right = side(b, task);
    // Rates, not counts: the two sides may have run different numbers of repeats.
    const rateA = left.attempts === 0 ? 0 : left.resolved / left.attempts;
    const rateB = right.attempts === 0 ? 0 : right.resolved / right.attempts;
    return { task, a: left, b: right, verdict: rateB > rateA ? "won" : rateB < rateA ? "lost" : "tied" };
  });
  return {
    a: { label: a.label, summary: a.summary },
    b: { label: b.label, summary: b.summary },
    tasks,
    won: tasks.filter((task) => task.verdict === "won").length,
    lost: tasks.filter((task) => task.verdict === "lost").length,
    tied: tasks.filter((task) => task.verdict === "tied").length,
    usdDifferencePerTask: tasks.length === 0 ? 0 : tasks.reduce((sum, task) => sum + (task.b.meanUsd - task.a.meanUsd), 0) / tasks.length,
  };
}
