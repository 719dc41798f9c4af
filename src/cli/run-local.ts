import { execFile } from "node:child_process";
import { readFile, realpath } from "node:fs/promises";
import { basename } from "node:path";
import { promisify } from "node:util";
import { readCheckoutConfig } from "../config/read-checkout-config.js";
import { readOperatorSettings, OperatorSettingsError } from "../config/operator-settings.js";
import { DEFAULT_MODEL } from "../config/repo-config.js";
import { newRunId } from "../dispatch/run-id.js";
import { knownModels, priceOf } from "../executor/agent/model-pricing.js";
import { commitChange } from "../executor/commit-change.js";
import { branchName } from "../run-contract/branch.js";
import { renderLocalTask } from "../executor/local-task.js";
import { runAgentInWorktree } from "../executor/run-agent-in-worktree.js";
import { WorkspaceCache } from "../executor/workspace.js";
import { errorMessage, firstLine } from "../github/types.js";
import { sanitizeUntrustedText } from "../trust/sanitize-untrusted-text.js";
import { describeToolCall } from "./describe-tool-call.js";
import { EXIT, type CliCommand } from "./parse-cli-args.js";
import { terminalSafe } from "./terminal-text.js";

const run = promisify(execFile);

/** Lines of failing test output `afk run` prints at most (the end of what the gate kept). */
const FAILING_OUTPUT_LINES = 100;

/** Where `afk run` writes: `out` for its normal output (stdout), `err` for errors and warnings (stderr). */
export interface RunIo {
  env: NodeJS.ProcessEnv;
  out: (line: string) => void;
  err: (line: string) => void;
  signal: AbortSignal;
}

/**
 * `afk run`: the App's executor on a local checkout. The agent works in a worktree of the checkout's
 * HEAD (the checkout itself is never touched), afk's gate runs the tests, and the result lands on a
 * local branch `afk/<slug>` of the checkout. Each command the agent runs and each file it edits is
 * printed as it happens, and the end of the failing test output when the tests do not pass; all of
 * it is the agent's text, made terminal-safe. Returns the exit code (see `EXIT`).
 */
export async function runLocal(command: Extract<CliCommand, { kind: "run" }>, io: RunIo): Promise<number> {
  const { env, out, err } = io;
  const started = Date.now();
  const say = (line: string): void => out(`[${formatElapsed(Date.now() - started)}] ${line}`);

  let settings;
  try {
    settings = readOperatorSettings(env);
  } catch (error) {
    if (error instanceof OperatorSettingsError) return fail(err, error.message, EXIT.usage);
    throw error;
  }
  const apiKey = env.ANTHROPIC_API_KEY?.trim();
  if (apiKey === undefined || apiKey === "") return fail(err, "ANTHROPIC_API_KEY is not set: export it (an Anthropic API key) and run again.", EXIT.failed);

  let repo: string;
  let headSha: string;
  try {
    repo = await realpath(command.repo);
    headSha = (await run("git", ["-C", repo, "rev-parse", "--verify", "HEAD^{commit}"])).stdout.trim();
    repo = (await run("git", ["-C", repo, "rev-parse", "--show-toplevel"])).stdout.trim();
  } catch (error) {
    return fail(err, `${command.repo} is not a git checkout with at least one commit (${firstLine(errorMessage(error))}).`, EXIT.usage);
  }

  const config = await readCheckoutConfig(repo, { test: command.test, maxUsd: command.maxUsd, maxTurns: command.maxTurns });
  if (config.kind === "error") return fail(err, config.message, EXIT.usage);
  const model = command.model ?? config.config.model ?? settings.model ?? DEFAULT_MODEL;
  const price = priceOf(model);
  if (price === undefined)
    return fail(
      err,
      `afk has no price for the model ${model}, so it cannot hold the run to a dollar budget. Use one of: ${knownModels().join(", ")}.`,
      EXIT.usage,
    );

  let taskText: string;
  try {
    taskText = "text" in command.task ? command.task.text : await readFile(command.task.file, "utf8");
  } catch (error) {
    return fail(err, `cannot read the issue file: ${errorMessage(error)}`, EXIT.usage);
  }
  const task = sanitizeUntrustedText(taskText);
  if (task.length === 0) return fail(err, "the task is empty", EXIT.usage);
  const title = firstLine(task)
    .replace(/^#+\s*/, "")
    .slice(0, 120);

  const runId = newRunId();
  const workspaces = new WorkspaceCache({
    cacheDir: settings.cacheDir,
    sandbox: { allowUnsandboxed: settings.allowUnsandboxed, allowHostNetwork: settings.allowHostNetwork },
  });
  say(`preparing a worktree of ${repo} at ${headSha.slice(0, 12)}`);
  const worktree = await workspaces.open({ cloneUrl: repo, ref: headSha, runId, signal: io.signal });
  try {
    let lastSpend = 0;
    const outcome = await runAgentInWorktree({
      worktree,
      packageCache: { path: workspaces.packageCachePath(repo), shared: true },
      config: config.config,
      model,
      price,
      task: () => renderLocalTask({ repository: basename(repo), title, body: task, worktreePath: worktree.path }),
      modelAccess: { apiKey, baseUrl: env.ANTHROPIC_BASE_URL, maxRetries: settings.modelRetries },
      allowUnsandboxed: settings.allowUnsandboxed,
      allowHostNetwork: settings.allowHostNetwork,
      secrets: [apiKey],
      hiddenPaths: [],
      signal: io.signal,
      onPhase: (phase) => say(phase === "agent" ? `agent working (${model})` : `running the tests: ${config.config.test}`),
      onSpend: (spend) => {
        if (Date.now() - lastSpend < 5_000) return;
        lastSpend = Date.now();
        say(`spent $${spend.usd.toFixed(2)} over ${spend.turns} turns`);
      },
      onToolCall: (call) => {
        const line = describeToolCall(call, worktree.path);
        if (line !== undefined) say(line);
      },
      onUnsandboxed: () => err("afk: WARNING: bubblewrap is missing and AFK_ALLOW_UNSANDBOXED is on: agent commands run WITHOUT a sandbox"),
    });
    if (outcome.kind === "not-started") return fail(err, outcome.reason, EXIT.failed);
    const { result, spend } = outcome;
    const cost = `$${spend.usd.toFixed(2)} over ${spend.turns} turns`;
    if (result.kind === "aborted") return fail(err, `${result.message} (${cost}); nothing was committed.`, EXIT.failed);
    const gate = result.gate;
    if (gate !== undefined && gate.exitCode !== 0) printFailingOutput(out, gate.output);
    if (result.kind === "model-error") return fail(err, `${result.message} (${cost}); nothing was committed.`, EXIT.failed);

    const summary = result.kind === "budget" ? "" : result.summary;
    const commit = await commitChange(worktree, {
      issue: undefined,
      title,
      summary,
      runId,
      protectedPaths: config.config.protected_paths,
      author: { name: "afk", email: "afk@localhost" },
    });
    if (commit.kind === "no-change") return fail(err, `The agent changed no file (${cost}).${summary.length > 0 ? ` It said: ${summary}` : ""}`, EXIT.failed);
    if (commit.kind === "refused") return fail(err, `${commit.reason} (${cost})`, EXIT.failed);

    let branch = branchName(undefined, title);
    let pushed = await worktree.push({ remoteUrl: repo, branch, signal: io.signal });
    if (pushed.kind === "rejected") {
      branch = `${branch}-${runId.slice(-8)}`;
      pushed = await worktree.push({ remoteUrl: repo, branch, signal: io.signal });
    }
    if (pushed.kind === "rejected") return fail(err, `could not create the branch ${branch} in ${repo}: ${pushed.message}`, EXIT.failed);

    const verdict = result.kind === "passed" ? "PASSED" : "NOT PASSING";
    out("");
    out(`${verdict}: branch ${branch} in ${repo} (${commit.changedFiles.length} files, commit ${commit.sha.slice(0, 12)})`);
    out(`tests: ${config.config.test} → ${gate === undefined ? "never ran" : `exit ${gate.exitCode ?? "killed"} after ${gate.rounds} round(s)`}`);
    out(`model: ${model}, ${cost}`);
    if (result.kind === "budget") out(`budget: ${result.message}`);
    if (summary.length > 0) out(`\n${terminalSafe(summary)}`);
    return result.kind === "passed" ? EXIT.ok : EXIT.failed;
  } finally {
    await worktree.remove();
  }
}

/** The checkout's `.github/afk.yml` with the command line's overrides, validated by the same schema as the App's. */
function fail(err: (line: string) => void, message: string, code: number): number {
  // Messages may quote the agent (its summary, a path it wrote, setup output): terminal-safe always.
  err(`afk: ${terminalSafe(message)}`);
  return code;
}

/** The end of the test output the gate kept, terminal-safe, framed so it reads apart from afk's own lines. */
function printFailingOutput(out: (line: string) => void, output: string): void {
  const lines = terminalSafe(output).replace(/\n+$/, "").split("\n");
  const shown = lines.slice(-FAILING_OUTPUT_LINES);
  out("");
  out(`--- failing test output${lines.length > shown.length ? ` (last ${shown.length} of ${lines.length} lines)` : ""} ---`);
  for (const line of shown) out(line);
  out("--- end of test output ---");
}

function formatElapsed(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  return `${String(Math.floor(seconds / 60)).padStart(2, "0")}:${String(seconds % 60).padStart(2, "0")}`;
}
