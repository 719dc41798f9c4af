// `afk eval`'s run over a suite: every task `repeat` times, at most `jobs` at once, each attempt in
// its own worktree and sandbox; and `--check`, which proves a suite's hidden tests without a model.
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { WorkspaceCache } from "../executor/workspace.js";
import { errorMessage } from "../github/types.js";
import { summarize, type AttemptRecord, type EvalResults } from "./eval-record.js";
import type { EvalTask } from "./eval-task.js";
import { shellWord } from "./eval-task.js";
import { judge, prepareTask, runAttempt, taskConfig, taskSandbox, type AttemptSettings, type PreparedTask } from "./run-attempt.js";
import { GATE_OUTPUT_BYTES } from "../executor/implement-issue.js";
import type { Sandbox } from "../executor/sandbox-contract.js";

/** What a watcher of the run is told: an attempt started, moved to a phase, or ended. */
export type EvalEvent =
  | { kind: "started"; task: string; repeat: number }
  | { kind: "phase"; task: string; repeat: number; phase: string }
  | { kind: "ended"; record: AttemptRecord; done: number; total: number };

export interface EvalRunOptions extends Omit<AttemptSettings, "onPhase" | "transcript"> {
  label: string;
  repeat: number;
  jobs: number;
  /** Where the prepared repositories go (removed by the caller). */
  workDir: string;
  /** Where results.json, report.html and the transcripts go. */
  resultsDir: string;
  onEvent?: (event: EvalEvent) => void;
}

/** Runs every task `repeat` times, `jobs` at a time (attempt k of every task before attempt k+1 of any), and returns the results. */
export async function runEval(tasks: readonly EvalTask[], options: EvalRunOptions): Promise<EvalResults> {
  const started = Date.now();
  const prepared: PreparedTask[] = [];
  for (const task of tasks) prepared.push(await prepareTask(task, options.workDir));
  const queue = Array.from({ length: options.repeat }, (_unused, index) => prepared.map((task) => ({ task, repeat: index + 1 }))).flat();
  const total = queue.length;
  let done = 0;
  const settings: AttemptSettings = {
    ...options,
    transcript: (task, repeat) => {
      const relative = join("transcripts", `${task}.${repeat}.jsonl`);
      return { file: join(options.resultsDir, relative), relative };
    },
    onPhase: (task, repeat, phase) => options.onEvent?.({ kind: "phase", task, repeat, phase }),
  };
  const attempt = async (task: PreparedTask, repeat: number): Promise<AttemptRecord | undefined> => {
    if (options.signal.aborted) return undefined;
    options.onEvent?.({ kind: "started", task: task.task.id, repeat });
    const record = await runAttempt(task, repeat, settings);
    done += 1;
    options.onEvent?.({ kind: "ended", record, done, total });
    return record;
  };
  // Two attempts of one task never run at once: they share its repository's mirror and parked checkout.
  const lastOfTask = new Map<string, Promise<unknown>>();
  const records = await inPool(queue, options.jobs, ({ task, repeat }) => {
    const mine = (lastOfTask.get(task.task.id) ?? Promise.resolve()).then(() => attempt(task, repeat));
    lastOfTask.set(
      task.task.id,
      mine.catch(() => undefined),
    );
    return mine;
  });
  const attempts = records.filter((record) => record !== undefined).sort((a, b) => a.task.localeCompare(b.task) || a.repeat - b.repeat);
  return {
    version: 1,
    label: options.label,
    model: options.model,
    prompts: options.promptsDir ?? null,
    repeat: options.repeat,
    jobs: options.jobs,
    maxUsd: options.maxUsd ?? null,
    startedAt: new Date(started).toISOString(),
    wallMs: Date.now() - started,
    tasks: tasks.map((task) => ({
      id: task.id,
      title: task.title,
      language: task.language ?? null,
      tags: task.tags,
      failToPass: task.failToPass,
      passToPass: task.passToPass,
    })),
    attempts,
    summary: summarize(attempts),
  };
}

/** One finding of `afk eval --check` on one task. */
export interface TaskCheck {
  task: string;
  check: string;
  ok: boolean;
  detail: string;
}

/**
 * Proves a task without a model: its visible tests pass at the starting commit; its hidden tests
 * fail there, pass with solution.patch, and fail with wrong.patch (which still passes the visible
 * tests). Each step in a fresh worktree, everything in the sandbox.
 */
export async function checkTask(
  task: EvalTask,
  options: { workspaces: WorkspaceCache; workDir: string; allowUnsandboxed: boolean; allowHostNetwork: boolean; signal: AbortSignal },
): Promise<TaskCheck[]> {
  const findings: TaskCheck[] = [];
  const note = (check: string, ok: boolean, detail: string): void => void findings.push({ task: task.id, check, ok, detail });
  let prepared: PreparedTask;
  try {
    prepared = await prepareTask(task, options.workDir);
  } catch (error) {
    note("starting commit", false, errorMessage(error));
    return findings;
  }
  /** Runs `command` in a fresh worktree at the start, with `patch` applied first (from inside the sandbox) when given. */
  const inWorktree = async (
    name: string,
    patch: string | undefined,
    then: "visible" | "hidden",
  ): Promise<{ exitCode: number | null; output: string } | string> => {
    const worktree = await options.workspaces.open({
      cloneUrl: prepared.cloneUrl,
      ref: prepared.baseSha,
      runId: `check-${task.id}-${name}-${Date.now().toString(36)}`,
      signal: options.signal,
    });
    try {
      const config = await taskConfig(task, worktree.path, undefined);
      if (config.kind === "error") return config.message;
      const scratch = worktree.scratchDir("check");
      await mkdir(scratch, { recursive: true });
      const sandboxOf = (mounts: string[]): Promise<Sandbox> => taskSandbox(worktree, scratch, mounts, options);
      const timeoutMs = config.config.gate.timeout_minutes * 60_000;
      if (patch !== undefined) {
        const file = join(scratch, "change.patch");
        await writeFile(file, patch);
        const applied = await (
          await sandboxOf([file])
        ).run(`git apply --whitespace=nowarn -- ${shellWord(file)}`, { timeoutMs, network: false, signal: options.signal });
        if (applied.exitCode !== 0) return `the patch does not apply: ${applied.output.trim()}`;
      }
      if (then === "visible") {
        const result = await (
          await sandboxOf([])
        ).run(config.config.test, { timeoutMs, network: config.config.network, signal: options.signal, maxOutputBytes: GATE_OUTPUT_BYTES });
        return { exitCode: result.exitCode, output: result.output };
      }
      const result = await judge(worktree, task, config.config, options);
      return { exitCode: result.exitCode, output: result.output };
    } finally {
      await worktree.remove().catch(() => undefined);
    }
  };
  const expect = async (check: string, patch: string | undefined, then: "visible" | "hidden", pass: boolean): Promise<void> => {
    const result = await inWorktree(check.replace(/[^a-z]+/g, "-").slice(0, 30), patch, then).catch(
      (error: unknown) => `afk could not run it: ${errorMessage(error)}`,
    );
    if (typeof result === "string") return note(check, false, result);
    const passed = result.exitCode === 0;
    const tail = result.output.trim().split("\n").slice(-8).join("\n");
    note(
      check,
      passed === pass,
      passed === pass ? (pass ? "passes" : `fails as it should (exit ${result.exitCode ?? "killed"})`) : `${pass ? "fails" : "passes"}; output (end):\n${tail}`,
    );
  };
  await expect("visible tests pass at the start", undefined, "visible", true);
  await expect("hidden tests fail at the start", undefined, "hidden", false);
  if (task.solutionPatch === undefined)
    note("hidden tests pass with solution.patch", false, "the task has no solution.patch: nothing proves its hidden tests can pass");
  else await expect("hidden tests pass with solution.patch", task.solutionPatch, "hidden", true);
  if (task.wrongPatch !== undefined) {
    await expect("visible tests pass with wrong.patch", task.wrongPatch, "visible", true);
    await expect("hidden tests fail with wrong.patch", task.wrongPatch, "hidden", false);
  }
  return findings;
}

/** `work` over every item, at most `jobs` at once (in the items' order as each finishes); the results in the items' order. */
export async function inPool<T, R>(items: readonly T[], jobs: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let index = next++; index < items.length; index = next++) {
      const item = items[index];
      if (item !== undefined) results[index] = await work(item);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(jobs, items.length)) }, () => worker()));
  return results;
}
