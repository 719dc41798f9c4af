import type { RepoConfig } from "../config/repo-config.js";
import { AgentSession } from "./agent/agent-session.js";
import { createModelClient } from "./agent/model-client.js";
import type { ModelPrice } from "./agent/model-pricing.js";
import { WorkspaceTools } from "./agent/workspace-tools.js";
import type { Spend } from "./executor.js";
import { abortReason, implementIssue, type ImplementResult } from "./implement-issue.js";
import { keepHeadAndTail } from "./keep-head-and-tail.js";
import { renderPrompt } from "./render-prompt.js";
import { createSandbox, SandboxUnavailableError } from "./sandbox.js";
import type { Worktree } from "./workspace.js";

/** Characters of one tool result the model sees (head and tail kept). */
const TOOL_RESULT_CHARS = 30_000;

export interface AgentRunInput {
  worktree: Worktree;
  /** Persistent HOME for sandboxed commands (per repository). */
  home: string;
  config: RepoConfig;
  model: string;
  price: ModelPrice;
  /** Builds the task once the worktree is ready (it may read the repository's agent instructions). */
  task: () => Promise<string>;
  modelAccess: { apiKey: string; baseUrl: string | undefined; maxRetries: number };
  allowUnsandboxed: boolean;
  /** Secrets that must never reach the model, even by accident. */
  secrets: readonly string[];
  /** Files the sandbox must never show. */
  hiddenPaths: readonly string[];
  signal: AbortSignal;
  onPhase: (phase: "agent" | "gate") => Promise<void> | void;
  onSpend: (spend: Spend) => void;
  onUnsandboxed?: () => void;
}

export type AgentRunResult =
  | { kind: "implemented"; result: ImplementResult; spend: Spend; transcriptTail: string }
  | { kind: "not-started"; reason: string; retryable: boolean };

/**
 * One agent run in a prepared worktree, the same for the App and for `afk run`: the sandbox, the
 * optional setup command (network, no secrets), then the agent and afk's test gate in turns.
 */
export async function runAgentInWorktree(input: AgentRunInput): Promise<AgentRunResult> {
  const { worktree, config, signal } = input;
  let sandbox;
  try {
    sandbox = await createSandbox(
      { worktree: worktree.path, home: input.home, readOnly: [worktree.mirror], writable: [worktree.gitDir, worktree.objectsDir], hidden: [...input.hiddenPaths], env: worktree.gitEnv },
      { allowUnsandboxed: input.allowUnsandboxed },
    );
  } catch (error) {
    if (error instanceof SandboxUnavailableError) return { kind: "not-started", reason: error.message, retryable: true };
    throw error;
  }
  if (sandbox.kind === "unsandboxed") input.onUnsandboxed?.();

  if (config.setup !== undefined) {
    const setup = await sandbox.run(config.setup, { timeoutMs: config.commands.setup_timeout_minutes * 60_000, network: true, signal });
    if (signal.aborted) return { kind: "not-started", reason: abortReason(signal), retryable: true };
    if (setup.exitCode !== 0) {
      const how = setup.timedOut ? `timed out after ${config.commands.setup_timeout_minutes} minutes` : `exited with ${setup.exitCode ?? setup.signal ?? "an error"}`;
      return { kind: "not-started", retryable: false, reason: `The setup command \`${config.setup}\` ${how}, so the agent did not start. Output (tail):\n\n${keepHeadAndTail(setup.output, 2_000).text}` };
    }
  }

  await input.onPhase("agent");
  const system = await renderPrompt("system", {
    worktree: worktree.path,
    network: config.network ? "on: commands may reach the network" : "off: commands cannot reach the network",
    test_command: config.test,
    protected_paths: config.protected_paths.length > 0 ? config.protected_paths.join(", ") : "(none)",
  });
  const session = new AgentSession({
    client: createModelClient({
      apiKey: input.modelAccess.apiKey,
      maxRetries: input.modelAccess.maxRetries,
      ...(input.modelAccess.baseUrl === undefined ? {} : { baseURL: input.modelAccess.baseUrl }),
    }),
    model: input.model,
    price: input.price,
    system,
    tools: new WorkspaceTools({ sandbox, commandTimeoutMs: config.commands.timeout_minutes * 60_000, network: config.network, maxResultChars: TOOL_RESULT_CHARS, secrets: input.secrets }),
    budget: { maxTurns: config.budget.max_turns, maxUsd: config.budget.max_usd, deadline: Date.now() + config.budget.timeout_minutes * 60_000 },
    signal,
    onProgress: (progress) => input.onSpend({ usd: progress.usd, turns: progress.turns }),
  });
  const result = await implementIssue({
    session,
    sandbox,
    task: await input.task(),
    gate: { command: config.test, maxRounds: config.gate.max_rounds, timeoutMs: config.gate.timeout_minutes * 60_000, outputChars: config.gate.output_chars, network: config.network },
    signal,
    onPhase: input.onPhase,
  });
  const transcriptTail = session.transcript
    .slice(-60)
    .map((entry) => `[${entry.turn}] ${entry.kind}: ${entry.text}`)
    .join("\n");
  return { kind: "implemented", result, spend: { usd: session.progress.usd, turns: session.progress.turns }, transcriptTail };
}
