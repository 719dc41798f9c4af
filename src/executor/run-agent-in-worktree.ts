import type { RepoConfig } from "../config/repo-config.js";
import { AgentSession, type RunLogEntry, type ToolCall } from "./agent/agent-session.js";
import { createModelClient } from "./agent/model-client.js";
import type { ModelPrice } from "./agent/model-pricing.js";
import { WorkspaceTools } from "./agent/workspace-tools.js";
import type { Spend } from "../run-contract/executor.js";
import { namedPaths } from "./change-policy.js";
import { redactSecrets } from "./agent/redact-secrets.js";
import { abortReason, implementIssue } from "./implement-issue.js";
import type { ImplementResult } from "./implement-result.js";
import { keepHeadAndTail } from "../text/keep-head-and-tail.js";
import { renderPrompt } from "./render-prompt.js";
import { createSandbox, SandboxUnavailableError, type SandboxLayout } from "./sandbox.js";
import type { Sandbox } from "./sandbox-contract.js";
import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import type { Worktree } from "./workspace.js";

/** How a read-only job ended: the agent's final message, or why there is none. */
export type AnswerResult = { kind: "answer"; text: string } | { kind: "no-answer"; message: string; retryable: boolean };

/** Characters of one tool result the model sees: a whole view (VIEW_MAX_CHARS) or a command's output, and afk's notes after it. */
const TOOL_RESULT_CHARS = 31_500;

export interface AgentRunInput {
  worktree: Worktree;
  /**
   * The repository's package caches. `shared`: kept between jobs, written only by `setup` (which
   * then works on a commit of the repository's own history, before any agent turn) and read-only to
   * the agent and the gate. Otherwise (a job on afk's own branch) `setup` and the agent get a cache
   * of this job's own, deleted with it.
   */
  packageCache: { path: string; shared: boolean };
  config: RepoConfig;
  model: string;
  price: ModelPrice;
  /** Builds the task once the worktree is ready (it may read the repository's agent instructions). */
  task: () => Promise<string>;
  modelAccess: { apiKey: string; baseUrl: string | undefined; maxRetries: number };
  allowUnsandboxed: boolean;
  /** `AFK_ALLOW_HOST_NETWORK`: without slirp4netns, network-on commands use the host's network instead of being refused. */
  allowHostNetwork: boolean;
  /** Secrets that must never reach the model, even by accident. */
  secrets: readonly string[];
  /** Files the sandbox must never show. */
  hiddenPaths: readonly string[];
  signal: AbortSignal;
  onPhase: (phase: "agent" | "gate") => Promise<void> | void;
  onSpend: (spend: Spend) => void;
  onUnsandboxed?: () => void;
  /** The prompt set for the system prompt and the gate's answers (afk's own `prompts/` when absent; `afk eval --compare` sets another). */
  promptsDir?: string;
  /** Told of each tool call of the agent just before it runs (`afk run` prints them); observes only. */
  onToolCall?: (call: ToolCall) => void;
}

type NotStarted = { kind: "not-started"; reason: string; retryable: boolean };
/** What a session did, besides its result: the whole bounded log and how many tool calls the model made. */
export interface SessionRecord {
  runLog: readonly RunLogEntry[];
  toolCalls: number;
  systemPrompt: string;
}
export type AgentRunResult = ({ kind: "implemented"; result: ImplementResult; spend: Spend; transcriptTail: string } & SessionRecord) | NotStarted;
export type AnswerRunResult = ({ kind: "answered"; result: AnswerResult; spend: Spend; transcriptTail: string } & SessionRecord) | NotStarted;

/**
 * One agent run in a prepared worktree, the same for the App and for `afk run`: the sandbox, the
 * optional setup command (network, no secrets), then the agent and afk's test gate in turns.
 */
export async function runAgentInWorktree(input: AgentRunInput): Promise<AgentRunResult> {
  const started = await startSession(input, false);
  if (started.kind === "not-started") return started;
  const { session, gateSandbox, beforeGate } = started;
  const { config, signal } = input;
  const result = await implementIssue({
    session,
    sandbox: gateSandbox,
    beforeGate,
    task: await input.task(),
    gate: {
      command: config.test,
      maxRounds: config.gate.max_rounds,
      timeoutMs: config.gate.timeout_minutes * 60_000,
      outputChars: config.gate.output_chars,
      network: config.network,
    },
    signal,
    onPhase: input.onPhase,
    ...(input.promptsDir === undefined ? {} : { promptsDir: input.promptsDir }),
  });
  const redact = (text: string): string => redactSecrets(text, input.secrets);
  return {
    kind: "implemented",
    result: redactedResult(result, redact),
    spend: spendOf(session),
    transcriptTail: redact(transcriptTailOf(session)),
    ...recordOf(session),
  };
}

/**
 * A read-only job (a plan, an answer): the worktree and its git data are mounted read-only, the
 * editor only views, there is no setup and no gate; the agent's final message is the result.
 */
export async function answerInWorktree(input: AgentRunInput): Promise<AnswerRunResult> {
  const started = await startSession(input, true);
  if (started.kind === "not-started") return started;
  const { session } = started;
  const stop = await session.send(await input.task());
  const result: AnswerResult =
    stop.kind === "finished"
      ? { kind: "answer", text: stop.summary }
      : stop.kind === "model-error"
        ? { kind: "no-answer", message: `The model could not be reached: ${stop.message}`, retryable: stop.retryable }
        : { kind: "no-answer", message: stop.message, retryable: true };
  const redact = (text: string): string => redactSecrets(text, input.secrets);
  const answer: AnswerResult = result.kind === "answer" ? { kind: "answer", text: redact(result.text) } : { ...result, message: redact(result.message) };
  return { kind: "answered", result: answer, spend: spendOf(session), transcriptTail: redact(transcriptTailOf(session)), ...recordOf(session) };
}

/**
 * The model's own words that afk publishes (its summary, the messages that quote it), redacted of the
 * session's secrets: tool results never show the model a secret, but if it ever learned one, afk
 * does not post it (pull request, check run, issue comments).
 */
function redactedResult(result: ImplementResult, redact: (text: string) => string): ImplementResult {
  switch (result.kind) {
    case "passed":
    case "tests-fail":
      return { ...result, summary: redact(result.summary) };
    case "budget":
    case "model-error":
    case "aborted":
      return { ...result, message: redact(result.message) };
  }
}

function recordOf(session: AgentSession): SessionRecord {
  return { runLog: session.runLog, toolCalls: session.progress.toolCalls, systemPrompt: session.systemPrompt };
}

function transcriptTailOf(session: AgentSession): string {
  return session.transcript
    .slice(-60)
    .map((entry) => `[${entry.turn}] ${entry.kind}: ${entry.text}`)
    .join("\n");
}

function spendOf(session: AgentSession): Spend {
  return { usd: session.progress.usd, turns: session.progress.turns, tokens: session.progress.usage };
}

/** Environment that points every package manager at the package cache, and its logs at HOME. */
function packageCacheEnv(cache: string, home: string): Record<string, string> {
  return {
    XDG_CACHE_HOME: join(cache, "xdg"),
    npm_config_cache: join(cache, "npm"),
    npm_config_logs_dir: join(home, ".npm", "_logs"),
    npm_config_update_notifier: "false",
    PIP_CACHE_DIR: join(cache, "pip"),
    YARN_CACHE_FOLDER: join(cache, "yarn"),
  };
}

type Ready = { kind: "ready"; session: AgentSession; gateSandbox: Sandbox; beforeGate: () => Promise<string | undefined> };

/**
 * The sandboxes of one job, each with what it may write: `setup` the package cache (when shared),
 * the agent its worktree and this job's fresh HOME, the gate a HOME emptied before every run of the
 * tests and the tree as setup left it plus the change (files the agent added where git does not
 * look are deleted first; one it changed there makes the gate refuse).
 */
async function startSession(input: AgentRunInput, readOnly: boolean): Promise<NotStarted | Ready> {
  const { worktree, config, signal } = input;
  const gitData = [worktree.gitDir, worktree.objectsDir];
  const shared = input.packageCache.shared;
  const cache = shared ? input.packageCache.path : worktree.scratchDir("package-cache");
  const gateHome = worktree.scratchDir("gate-home");
  await mkdir(cache, { recursive: true });
  await mkdir(gateHome, { recursive: true });
  const layout = (home: string, cacheWritable: boolean): SandboxLayout => ({
    worktree: worktree.path,
    readOnlyWorktree: readOnly,
    home,
    readOnly: [worktree.mirror, ...(readOnly ? gitData : []), ...(cacheWritable ? [] : [cache])],
    writable: [...(readOnly ? [] : gitData), ...(cacheWritable ? [cache] : [])],
    hidden: [...input.hiddenPaths],
    env: { ...worktree.gitEnv, ...packageCacheEnv(cache, home) },
  });
  const settings = { allowUnsandboxed: input.allowUnsandboxed, allowHostNetwork: input.allowHostNetwork };
  let setupSandbox: Sandbox | undefined;
  let sandbox: Sandbox;
  let gateSandbox: Sandbox;
  try {
    // Only `setup` may write a shared cache; the sandbox that may is made only when setup runs.
    setupSandbox = config.setup !== undefined && !readOnly ? await createSandbox(layout(worktree.home, true), settings) : undefined;
    sandbox = await createSandbox(layout(worktree.home, !shared && !readOnly), settings);
    gateSandbox = await createSandbox(layout(gateHome, false), settings);
  } catch (error) {
    if (error instanceof SandboxUnavailableError) return { kind: "not-started", reason: error.message, retryable: true };
    throw error;
  }
  if (sandbox.kind === "unsandboxed") input.onUnsandboxed?.();

  if (config.setup !== undefined && setupSandbox !== undefined) {
    const setup = await setupSandbox.run(config.setup, { timeoutMs: config.commands.setup_timeout_minutes * 60_000, network: true, signal });
    if (signal.aborted) return { kind: "not-started", reason: abortReason(signal), retryable: true };
    if (setup.exitCode !== 0) {
      const how = setup.timedOut
        ? `timed out after ${config.commands.setup_timeout_minutes} minutes`
        : `exited with ${setup.exitCode ?? setup.signal ?? "an error"}`;
      return {
        kind: "not-started",
        retryable: false,
        reason: `The setup command \`${config.setup}\` ${how}, so the agent did not start. Output (tail):\n\n${keepHeadAndTail(setup.output, 2_000).text}`,
      };
    }
  }
  const afterSetup = readOnly ? new Map<string, string>() : await worktree.ignoredFiles();
  const beforeGate = async (): Promise<string | undefined> => {
    await rm(gateHome, { recursive: true, force: true });
    await mkdir(gateHome);
    const changed = await worktree.restoreIgnoredFiles(afterSetup);
    if (changed.length === 0) return undefined;
    return `afk did not run the tests: files git ignores were changed or removed since setup (${namedPaths(changed)}). afk tests only what it would push, on the tree setup left; make the change in files git tracks, and leave ignored files as setup left them.`;
  };

  await input.onPhase("agent");
  // Each job kind its own rules: a read-only job (a plan, an answer) is never told of tests, commits or a pull request.
  const where = { worktree: worktree.path, network: config.network ? "on: commands may reach the network" : "off: commands cannot reach the network" };
  const system = readOnly
    ? await renderPrompt("system-read-only", where, input.promptsDir)
    : await renderPrompt(
        "system",
        {
          ...where,
          test_command: config.test,
          protected_paths: config.protected_paths.length > 0 ? config.protected_paths.join(", ") : "(none)",
        },
        input.promptsDir,
      );
  const session = new AgentSession({
    client: createModelClient({
      apiKey: input.modelAccess.apiKey,
      maxRetries: input.modelAccess.maxRetries,
      ...(input.modelAccess.baseUrl === undefined ? {} : { baseURL: input.modelAccess.baseUrl }),
    }),
    model: input.model,
    price: input.price,
    system,
    tools: new WorkspaceTools({
      sandbox,
      commandTimeoutMs: config.commands.timeout_minutes * 60_000,
      network: config.network,
      maxResultChars: TOOL_RESULT_CHARS,
      secrets: input.secrets,
      readOnly,
    }),
    budget: {
      maxTurns: config.budget.max_turns,
      maxUsd: config.budget.max_usd,
      deadline: Date.now() + config.budget.timeout_minutes * 60_000,
      commandTimeoutMs: config.commands.timeout_minutes * 60_000,
    },
    thinkingTokens: config.budget.thinking_tokens,
    ...(readOnly ? { finishing: "end your turn with your answer." } : {}),
    signal,
    onProgress: (progress) => input.onSpend({ usd: progress.usd, turns: progress.turns }),
    ...(input.onToolCall === undefined ? {} : { onToolCall: input.onToolCall }),
  });
  return { kind: "ready", session, gateSandbox, beforeGate };
}
