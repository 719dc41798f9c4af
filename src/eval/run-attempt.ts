// One attempt of one eval task: the repository at its starting commit, afk's own executor (workspace,
// sandbox, agent loop, gate, commit), then the hidden tests, in a sandbox of their own.
import { execFile } from "node:child_process";
import { cp, mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { join, sep } from "node:path";
import { promisify } from "node:util";
import type Anthropic from "@anthropic-ai/sdk";
import { CONFIG_PATH } from "../config/load-repo-config.js";
import { readCheckoutConfig, type CheckoutConfig } from "../config/read-checkout-config.js";
import type { RepoConfig } from "../config/repo-config.js";
import { AGENT_TOOLS } from "../executor/agent/workspace-tools.js";
import { createModelClient } from "../executor/agent/model-client.js";
import { GATE_OUTPUT_BYTES } from "../executor/implement-issue.js";
import type { ModelPrice } from "../executor/agent/model-pricing.js";
import type { RunLogEntry } from "../executor/agent/agent-session.js";
import { commitChange } from "../executor/commit-change.js";
import { renderLocalTask } from "../executor/local-task.js";
import { runAgentInWorktree } from "../executor/run-agent-in-worktree.js";
import { createSandbox, SandboxUnavailableError } from "../executor/sandbox.js";
import type { CommandResult, Sandbox } from "../executor/sandbox-contract.js";
import type { Worktree, WorkspaceCache } from "../executor/workspace.js";
import { errorMessage } from "../github/types.js";
import { keepHeadAndTail } from "../text/keep-head-and-tail.js";
import { cacheReadFraction, type AttemptRecord } from "./eval-record.js";
import type { EvalTask } from "./eval-task.js";
import { shellWord } from "./eval-task.js";
import { pathExists, TaskError } from "./load-tasks.js";

const run = promisify(execFile);

/** Characters of the hidden tests' output kept in the record (its end says how they failed). */
const HIDDEN_OUTPUT_CHARS = 4_000;
/** A commit author and date for the starting commit of a plain-tree task: the same tree gives the same commit everywhere. */
const TREE_COMMIT_ENV = {
  GIT_AUTHOR_NAME: "afk eval",
  GIT_AUTHOR_EMAIL: "afk-eval@localhost",
  GIT_COMMITTER_NAME: "afk eval",
  GIT_COMMITTER_EMAIL: "afk-eval@localhost",
  GIT_AUTHOR_DATE: "2026-01-01T00:00:00Z",
  GIT_COMMITTER_DATE: "2026-01-01T00:00:00Z",
  GIT_CONFIG_NOSYSTEM: "1",
  GIT_CONFIG_GLOBAL: "/dev/null",
};

/** A task's repository where afk's workspace can clone it, and the starting commit. */
export interface PreparedTask {
  task: EvalTask;
  cloneUrl: string;
  baseSha: string;
}

/**
 * Makes each task's starting commit reachable as a local repository (a plain tree becomes a
 * one-commit repository in `workDir`). A task whose repository cannot be made is a `TaskError`
 * that says which task and why.
 */
export async function prepareTask(task: EvalTask, workDir: string): Promise<PreparedTask> {
  try {
    return await startingCommit(task, workDir);
  } catch (error) {
    if (error instanceof TaskError) throw error;
    throw new TaskError(`${task.origin}: afk could not make the task's starting commit: ${errorMessage(error)}`);
  }
}

async function startingCommit(task: EvalTask, workDir: string): Promise<PreparedTask> {
  // The task's files are someone else's: no hook, fsmonitor or config of theirs runs in afk's git here.
  const git = (args: string[], cwd: string) =>
    run("git", ["-c", "core.hooksPath=/dev/null", "-c", "core.fsmonitor=false", ...args], { cwd, env: { ...process.env, ...TREE_COMMIT_ENV } });
  switch (task.source.kind) {
    case "tree": {
      const dir = join(workDir, "repos", task.id);
      // A .git in the tree would be a repository of the task's making (its config, hooks, fsmonitor) under afk's git.
      const gitEntry = (await readdir(task.source.dir, { recursive: true })).find((path) => path.split(sep).includes(".git"));
      if (gitEntry !== undefined)
        throw new TaskError(
          `${task.origin}: repo/ must be a plain tree, but it holds ${join("repo", gitEntry)}; give a repository with history as repo.bundle instead`,
        );
      await rm(dir, { recursive: true, force: true });
      await mkdir(dir, { recursive: true });
      await cp(task.source.dir, dir, { recursive: true, verbatimSymlinks: true });
      await git(["init", "-q", "-b", "main"], dir);
      await git(["add", "-A"], dir);
      await git(["commit", "-q", "--no-gpg-sign", "-m", `${task.id}: the starting commit`], dir);
      return { task, cloneUrl: dir, baseSha: (await git(["rev-parse", "HEAD"], dir)).stdout.trim() };
    }
    case "bundle": {
      const dir = join(workDir, "repos", `${task.id}.git`);
      await rm(dir, { recursive: true, force: true });
      await mkdir(join(workDir, "repos"), { recursive: true });
      await git(["clone", "-q", "--bare", task.source.file, dir], workDir);
      return { task, cloneUrl: dir, baseSha: (await git(["rev-parse", "HEAD"], dir)).stdout.trim() };
    }
    case "clone": {
      const { dir, commit } = task.source;
      const sha = await git(["rev-parse", "--verify", `${commit}^{commit}`], dir).then(
        (result) => result.stdout.trim(),
        () => undefined,
      );
      if (sha === undefined) throw new TaskError(`${task.origin}: ${dir} has no commit ${commit}; fetch it there (git -C ${dir} fetch origin ${commit})`);
      return { task, cloneUrl: dir, baseSha: sha };
    }
  }
}

/** What every attempt of an eval shares. */
export interface AttemptSettings {
  workspaces: WorkspaceCache;
  model: string;
  price: ModelPrice;
  apiKey: string;
  baseUrl: string | undefined;
  modelRetries: number;
  maxUsd: number | undefined;
  promptsDir: string | undefined;
  allowUnsandboxed: boolean;
  allowHostNetwork: boolean;
  /** Host paths no agent may see besides the task's own (the results directory: other attempts' transcripts). */
  hiddenPaths: readonly string[];
  /** Where the attempt's transcript (JSONL) goes, and its path relative to the results directory. */
  transcript: (task: string, repeat: number) => { file: string; relative: string };
  signal: AbortSignal;
  onPhase?: (task: string, repeat: number, phase: string) => void;
}

/**
 * Runs the agent on the task as afk runs an issue, commits the change as afk would, and judges it
 * with the hidden tests. Never throws for what the agent or the task does: every ending is a record.
 */
export async function runAttempt(prepared: PreparedTask, repeat: number, settings: AttemptSettings): Promise<AttemptRecord> {
  const { task } = prepared;
  const started = Date.now();
  const runId = `eval-${task.id}-${repeat}-${Date.now().toString(36)}`.replace(/[^a-z0-9-]/g, "-");
  const empty = (outcome: AttemptRecord["outcome"], note: string): AttemptRecord => ({
    task: task.id,
    repeat,
    resolved: false,
    outcome,
    gate: null,
    change: null,
    hiddenTests: null,
    tokens: { input: 0, output: 0, cacheWrite: 0, cacheRead: 0 },
    usd: 0,
    turns: 0,
    toolCalls: 0,
    wallMs: Date.now() - started,
    cacheReadFraction: 0,
    promptTokens: { system: null, tools: null },
    transcript: null,
    note,
  });
  const phase = (name: string): void => settings.onPhase?.(task.id, repeat, name);

  phase("workspace");
  let worktree: Worktree;
  try {
    worktree = await settings.workspaces.open({ cloneUrl: prepared.cloneUrl, ref: prepared.baseSha, runId, signal: settings.signal });
  } catch (error) {
    return empty("not-started", `could not prepare a worktree at ${prepared.baseSha.slice(0, 12)}: ${errorMessage(error)}`);
  }
  try {
    const config = await taskConfig(task, worktree.path, settings.maxUsd);
    if (config.kind === "error") return empty("not-started", config.message);
    const hiddenPaths = [...task.hiddenFromAgent, ...settings.hiddenPaths];
    const session = await runAgentInWorktree({
      worktree,
      packageCache: { path: settings.workspaces.packageCachePath(prepared.cloneUrl), shared: true },
      config: config.config,
      model: settings.model,
      price: settings.price,
      task: () => renderLocalTask({ repository: task.id, title: task.title, body: task.body, worktreePath: worktree.path, promptsDir: settings.promptsDir }),
      modelAccess: { apiKey: settings.apiKey, baseUrl: settings.baseUrl, maxRetries: settings.modelRetries },
      allowUnsandboxed: settings.allowUnsandboxed,
      allowHostNetwork: settings.allowHostNetwork,
      secrets: [settings.apiKey],
      hiddenPaths,
      signal: settings.signal,
      onPhase: (name) => phase(name),
      onSpend: () => undefined,
      ...(settings.promptsDir === undefined ? {} : { promptsDir: settings.promptsDir }),
    });
    if (session.kind === "not-started") return empty("not-started", session.reason);
    const { result, spend } = session;
    const tokens = spend.tokens ?? { input: 0, output: 0, cacheWrite: 0, cacheRead: 0 };
    const transcript = settings.transcript(task.id, repeat);
    await writeTranscript(transcript.file, session.runLog);
    const gate =
      result.kind === "aborted" || result.gate === undefined
        ? null
        : { passed: result.gate.exitCode === 0, exitCode: result.gate.exitCode, rounds: result.gate.rounds };
    const record: AttemptRecord = {
      ...empty(result.kind, result.kind === "passed" || result.kind === "tests-fail" ? "" : result.message),
      gate,
      tokens,
      usd: spend.usd,
      turns: spend.turns,
      toolCalls: session.toolCalls,
      cacheReadFraction: cacheReadFraction(tokens),
      promptTokens: await promptTokens(settings, session.systemPrompt),
      transcript: transcript.relative,
    };
    if (result.kind === "aborted") return { ...record, wallMs: Date.now() - started };
    phase("judge");
    const commit = await commitChange(worktree, {
      issue: undefined,
      title: task.title,
      summary: result.kind === "budget" || result.kind === "model-error" ? "" : result.summary,
      runId,
      protectedPaths: config.config.protected_paths,
      author: { name: "afk", email: "afk@localhost" },
    });
    if (commit.kind !== "committed")
      return {
        ...record,
        change: commit.kind === "refused" ? { kind: "refused", reason: commit.reason } : { kind: "no-change" },
        wallMs: Date.now() - started,
      };
    const hidden = await judge(worktree, task, config.config, settings);
    return {
      ...record,
      change: { kind: "committed", files: commit.changedFiles },
      hiddenTests: { exitCode: hidden.exitCode, timedOut: hidden.timedOut, outputTail: keepHeadAndTail(hidden.output, HIDDEN_OUTPUT_CHARS).text },
      resolved: hidden.exitCode === 0,
      wallMs: Date.now() - started,
    };
  } finally {
    await worktree.remove().catch(() => undefined);
  }
}

/** The task's `.github/afk.yml` at its starting commit (or its fallback test command), with `--max-usd` over it. */
export async function taskConfig(task: EvalTask, worktreePath: string, maxUsd: number | undefined): Promise<CheckoutConfig> {
  const hasFile = await pathExists(join(worktreePath, CONFIG_PATH));
  return readCheckoutConfig(worktreePath, { test: hasFile ? undefined : task.fallbackTest, maxUsd });
}

/**
 * A sandbox over a task's worktree for afk's own runs of its tests (the judge, `--check`): a HOME of
 * its own, no secret, the worktree and its git data writable, `mounts` (hidden tests, a patch)
 * read-only so that what goes into the tree is copied in from inside.
 */
export async function taskSandbox(
  worktree: Worktree,
  home: string,
  mounts: readonly string[],
  settings: Pick<AttemptSettings, "allowUnsandboxed" | "allowHostNetwork">,
): Promise<Sandbox> {
  return createSandbox(
    { worktree: worktree.path, home, readOnly: [worktree.mirror, ...mounts], writable: [worktree.gitDir, worktree.objectsDir], env: worktree.gitEnv },
    { allowUnsandboxed: settings.allowUnsandboxed, allowHostNetwork: settings.allowHostNetwork },
  );
}

/**
 * The hidden tests, over the tree afk committed, in a sandbox of their own (fresh HOME, no network):
 * they run the agent's code, so never on the host. The hidden files (or the test patch) are mounted
 * read-only and copied in from inside the sandbox, so afk's host process never writes into a tree
 * the agent shaped (its symlinks included).
 */
export async function judge(
  worktree: Worktree,
  task: EvalTask,
  config: RepoConfig,
  settings: Pick<AttemptSettings, "allowUnsandboxed" | "allowHostNetwork" | "signal">,
): Promise<CommandResult> {
  const scratch = worktree.scratchDir("judge");
  await mkdir(scratch, { recursive: true });
  const home = await mkdtemp(join(scratch, "home-"));
  let source: string;
  let install: string;
  if (task.hidden.kind === "files") {
    source = task.hidden.dir;
    install = `cp -R -- ${shellWord(`${source}/.`)} .`;
  } else {
    source = join(scratch, "test.patch");
    await writeFile(source, task.hidden.patch);
    install = `git apply --whitespace=nowarn -- ${shellWord(source)}`;
  }
  try {
    const sandbox = await taskSandbox(worktree, home, [source], settings);
    return await sandbox.run(`${install} && ${task.hiddenTest}`, {
      timeoutMs: config.gate.timeout_minutes * 60_000,
      network: false,
      signal: settings.signal,
      maxOutputBytes: GATE_OUTPUT_BYTES,
    });
  } catch (error) {
    if (error instanceof SandboxUnavailableError)
      return {
        exitCode: null,
        signal: null,
        output: `[afk: the hidden tests could not run: ${error.message}]`,
        timedOut: false,
        truncated: false,
        durationMs: 0,
      };
    throw error;
  }
}

/** The run log as JSONL: one entry a line. */
async function writeTranscript(file: string, log: readonly RunLogEntry[]): Promise<void> {
  await mkdir(join(file, ".."), { recursive: true });
  await writeFile(file, log.map((entry) => JSON.stringify(entry)).join("\n") + (log.length > 0 ? "\n" : ""));
}

/**
 * The system prompt's and the tools' token counts as the Messages API counts them (its free
 * count_tokens endpoint): the system prompt the run sent, alone and with the tools.
 */
async function promptTokens(settings: AttemptSettings, system: string): Promise<AttemptRecord["promptTokens"]> {
  const client = createModelClient({
    apiKey: settings.apiKey,
    maxRetries: settings.modelRetries,
    ...(settings.baseUrl === undefined ? {} : { baseURL: settings.baseUrl }),
  });
  const messages: Anthropic.Messages.MessageParam[] = [{ role: "user", content: "." }];
  try {
    const [bare, withSystem, withTools] = await Promise.all([
      client.messages.countTokens({ model: settings.model, messages }, { signal: settings.signal }),
      client.messages.countTokens({ model: settings.model, messages, system }, { signal: settings.signal }),
      client.messages.countTokens({ model: settings.model, messages, system, tools: AGENT_TOOLS }, { signal: settings.signal }),
    ]);
    return { system: withSystem.input_tokens - bare.input_tokens, tools: withTools.input_tokens - withSystem.input_tokens };
  } catch {
    return { system: null, tools: null };
  }
}
