// A GitHub Actions runner for the workflow afk ships, so the workflow file itself is under test: it
// reads the YAML, takes the one job, and runs its steps as a self-hosted Linux runner would, with
// the variables Actions sets (the OIDC token request among them, only when the workflow grants
// `id-token: write`). The one liberty: `npx --yes afk-agent@<version>` runs this checkout's afk.
//
// What it does not know it refuses (an expression, a step key, an action, a shell): a runner that
// guessed would let a broken workflow pass.
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse as parseYaml } from "yaml";
import { SETUP_NODE } from "../../src/actions/runner-workflow.js";
import { AFK, AFK_VERSION, TSX } from "./afk-cli.js";
import type { GitHubEmulator } from "./emulator/index.js";
import type { IdTokenRequest, WorkflowDispatch } from "./emulator/actions.js";

/** What the runner is: self-hosted Linux, so steps for GitHub's hosted runners are skipped. */
export const RUNNER = { os: "Linux", environment: "self-hosted", arch: "X64" } as const;

/** How long a cancelled step has after SIGINT before SIGTERM, and after SIGTERM before SIGKILL (Actions: 7.5 s and 2.5 s). */
export const ACTIONS_CANCEL_GRACE_MS = { interrupt: 7_500, terminate: 2_500 } as const;

/** One job of one workflow run, as the runner is handed it. */
export interface WorkflowJobInput {
  /** The workflow file's text at the dispatched commit. */
  workflow: string;
  /** `owner/name` of the repository the run belongs to (`GITHUB_REPOSITORY`). */
  repository: string;
  /** The workflow run's id (`GITHUB_RUN_ID`). */
  runId: number;
  /** `owner/name/.github/workflows/afk-job.yml@refs/heads/main` (`GITHUB_WORKFLOW_REF`). */
  workflowRef: string;
  /** The dispatch's inputs (`${{ inputs.X }}`). */
  inputs: Record<string, string>;
  /** The repository's variables (`${{ vars.X }}`); an unset one reads as empty, as on GitHub. */
  vars: Record<string, string>;
  /** What Actions gives a job with `id-token: write` to ask for its OIDC token. */
  idTokenRequest: IdTokenRequest;
  /** Aborted when the run is cancelled: the running step's process group gets SIGINT, SIGTERM, then SIGKILL. */
  signal?: AbortSignal;
}

/** The machine the runner is on. */
export interface RunnerMachine {
  /** The machine's own environment under the job's (HOME, AFK_CACHE_DIR...); PATH is this process's unless given. */
  env?: Record<string, string>;
  /** The runner's directory (its temp and workspace under it); a fresh one by default, removed after the job. */
  workDir?: string;
  /** A cancelled step's grace periods; Actions' by default. */
  cancelGraceMs?: { interrupt: number; terminate: number };
}

/** How a step ended, as Actions concludes it. */
export type StepConclusion = "success" | "failure" | "cancelled" | "skipped";

/** One step as the runner saw it. */
export interface StepRun {
  name: string;
  /** Whether its command ran (or its action was set up); false when skipped. */
  ran: boolean;
  conclusion: StepConclusion;
  /** The command's exit code; null when it did not run or was killed by a signal. */
  exitCode: number | null;
  /** The signal that ended it, when one did. */
  signal?: NodeJS.Signals;
  /** Its stdout and stderr together, as the Actions log shows them. */
  output: string;
  /** Why it was skipped: its `if:` was false, an earlier step failed, or the run was cancelled. */
  skippedBecause?: string;
  /** A `uses:` step: the action and the commit it is pinned to, with its inputs. */
  action?: { repository: string; ref: string; with: Record<string, string> };
}

/** The job as it ran. */
export interface JobRun {
  /** The job's id in the workflow (`agent`). */
  job: string;
  /** The run's name (`run-name:`), evaluated. */
  runName: string | undefined;
  /** The label the job asked for (`runs-on:`), evaluated; this runner takes any. */
  runsOn: string;
  conclusion: "success" | "failure" | "cancelled" | "timed_out";
  steps: StepRun[];
  /** The job's environment as its steps got it (the workflow's and job's `env:`, evaluated). */
  env: Record<string, string>;
}

// ---------------------------------------------------------------------------
// Expressions: the part of GitHub's expression language the workflow uses. Anything else throws.

type Value = string | boolean | number | null;
type Expression =
  | { kind: "literal"; value: Value }
  | { kind: "path"; path: string[] }
  | { kind: "not"; operand: Expression }
  | { kind: "binary"; operator: "==" | "!=" | "&&" | "||"; left: Expression; right: Expression };

/** The contexts an expression may read, each a map of its properties. */
export type Contexts = Record<string, Record<string, string>>;

/** Contexts whose unset properties read as empty, as GitHub reads an unset variable; any other unknown property throws. */
const OPEN_CONTEXTS = new Set(["vars"]);

const TOKEN = /\s*(?:(\|\||&&|==|!=|!|\(|\))|'((?:[^']|'')*)'|([A-Za-z_][A-Za-z0-9_-]*(?:\.[A-Za-z_][A-Za-z0-9_-]*)*)|(\d+(?:\.\d+)?))/y;

/** Parses an expression (the text inside `${{ }}`, or an `if:`); throws on anything outside the grammar above. */
export function parseExpression(text: string): Expression {
  const tokens: Array<{ kind: "op" | "string" | "name" | "number"; text: string }> = [];
  let at = 0;
  while (at < text.length) {
    if (/^\s*$/.test(text.slice(at))) break;
    TOKEN.lastIndex = at;
    const match = TOKEN.exec(text);
    if (match === null) throw new Error(`the runner cannot read the expression ${JSON.stringify(text)} at ${JSON.stringify(text.slice(at))}`);
    at = TOKEN.lastIndex;
    const [, op, string, name, number] = match;
    if (op !== undefined) tokens.push({ kind: "op", text: op });
    else if (string !== undefined) tokens.push({ kind: "string", text: string.replaceAll("''", "'") });
    else if (name !== undefined) tokens.push({ kind: "name", text: name });
    else if (number !== undefined) tokens.push({ kind: "number", text: number });
  }
  let next = 0;
  const peek = (): string | undefined => (tokens[next]?.kind === "op" ? tokens[next]?.text : undefined);
  const fail = (why: string): never => {
    throw new Error(`the runner does not know the expression ${JSON.stringify(text)}: ${why}`);
  };
  const binary = (operators: readonly string[], operand: () => Expression): Expression => {
    let left = operand();
    for (let op = peek(); op !== undefined && operators.includes(op); op = peek()) {
      next += 1;
      left = { kind: "binary", operator: op as "==" | "!=" | "&&" | "||", left, right: operand() };
    }
    return left;
  };
  const or = (): Expression => binary(["||"], and);
  const and = (): Expression => binary(["&&"], not);
  const not = (): Expression => {
    if (peek() !== "!") return comparison();
    next += 1;
    return { kind: "not", operand: not() };
  };
  const comparison = (): Expression => binary(["==", "!="], primary);
  const primary = (): Expression => {
    const token = tokens[next];
    next += 1;
    if (token === undefined) return fail("it ends early");
    if (token.kind === "op") {
      if (token.text !== "(") return fail(`unexpected ${token.text}`);
      const inner = or();
      if (peek() !== ")") return fail("a ( is not closed");
      next += 1;
      return inner;
    }
    if (token.kind === "string") return { kind: "literal", value: token.text };
    if (token.kind === "number") return { kind: "literal", value: Number(token.text) };
    if (token.text === "true" || token.text === "false") return { kind: "literal", value: token.text === "true" };
    if (token.text === "null") return { kind: "literal", value: null };
    if (tokens[next]?.text === "(") return fail(`the function ${token.text}() is not one it knows`);
    return { kind: "path", path: token.text.split(".") };
  };
  const parsed = or();
  if (next !== tokens.length) fail(`unexpected ${tokens[next]?.text ?? "end"}`);
  return parsed;
}

function truthy(value: Value): boolean {
  return value !== null && value !== false && value !== "" && value !== 0;
}

/** GitHub compares strings ignoring case, and values of different types as numbers. */
function equal(left: Value, right: Value): boolean {
  if (typeof left === "string" && typeof right === "string") return left.toLowerCase() === right.toLowerCase();
  if (typeof left === typeof right) return left === right;
  const number = (value: Value): number => (value === null ? 0 : typeof value === "boolean" ? Number(value) : Number(value === "" ? 0 : value));
  return number(left) === number(right);
}

/** The value of an expression over `contexts`; a context or property it does not have throws. */
export function evaluate(expression: Expression, contexts: Contexts): Value {
  switch (expression.kind) {
    case "literal":
      return expression.value;
    case "path": {
      const [context, property, ...deeper] = expression.path;
      const values = context === undefined ? undefined : contexts[context];
      if (context === undefined || values === undefined) throw new Error(`the runner does not know the context ${JSON.stringify(context)}`);
      if (property === undefined || deeper.length > 0) throw new Error(`the runner reads ${context}.<name> only, not ${expression.path.join(".")}`);
      if (Object.hasOwn(values, property)) return values[property] ?? "";
      if (OPEN_CONTEXTS.has(context)) return "";
      throw new Error(`the runner does not know ${context}.${property}`);
    }
    case "not":
      return !truthy(evaluate(expression.operand, contexts));
    case "binary": {
      const left = evaluate(expression.left, contexts);
      if (expression.operator === "&&") return truthy(left) ? evaluate(expression.right, contexts) : left;
      if (expression.operator === "||") return truthy(left) ? left : evaluate(expression.right, contexts);
      const right = evaluate(expression.right, contexts);
      return expression.operator === "==" ? equal(left, right) : !equal(left, right);
    }
  }
}

/** A value in `env:`, `runs-on:` or `run-name:` may be only context reads and strings joined by `||` (`vars.X || 'default'`). */
function isValueExpression(expression: Expression): boolean {
  if (expression.kind === "path") return true;
  if (expression.kind === "literal") return typeof expression.value === "string";
  return expression.kind === "binary" && expression.operator === "||" && isValueExpression(expression.left) && isValueExpression(expression.right);
}

function asString(value: Value): string {
  return value === null ? "" : String(value);
}

/** A text with `${{ }}` values in it, each read from `contexts` (and only a value expression allowed). */
export function interpolate(text: string, contexts: Contexts): string {
  return text.replace(/\$\{\{(.*?)\}\}/gs, (_whole, inner: string) => {
    const expression = parseExpression(inner);
    if (!isValueExpression(expression)) throw new Error(`the runner takes only vars.X, inputs.X and 'default' joined by || in a value, not \${{${inner}}}`);
    return asString(evaluate(expression, contexts));
  });
}

/** Whether a step's `if:` holds (written with or without `${{ }}`). */
export function condition(text: string, contexts: Contexts): boolean {
  const bare = /^\s*\$\{\{(.*)\}\}\s*$/s.exec(text)?.[1] ?? text;
  return truthy(evaluate(parseExpression(bare), contexts));
}

// ---------------------------------------------------------------------------
// The workflow's shape: what the runner takes, strictly.

const WORKFLOW_KEYS = new Set(["name", "run-name", "on", "permissions", "env", "jobs"]);
const JOB_KEYS = new Set(["name", "runs-on", "timeout-minutes", "permissions", "env", "steps"]);
const STEP_KEYS = new Set(["name", "id", "uses", "with", "if", "run", "shell", "env"]);

type Yaml = Record<string, unknown>;

function isRecord(value: unknown): value is Yaml {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function onlyKeys(what: string, value: Yaml, known: ReadonlySet<string>): void {
  const unknown = Object.keys(value).filter((key) => !known.has(key));
  if (unknown.length > 0) throw new Error(`the runner does not know ${what}'s ${unknown.join(", ")}`);
}

function stringMap(what: string, value: unknown): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (!isRecord(value)) throw new Error(`${what} is not a map`);
  return Object.fromEntries(Object.entries(value).map(([key, entry]) => [key, typeof entry === "string" ? entry : String(entry)]));
}

/** Whether `permissions:` (of the workflow, or the job's over it) grants `id-token: write`. */
function grantsIdToken(workflow: Yaml, job: Yaml): boolean {
  const permissions = job.permissions ?? workflow.permissions;
  if (permissions === "write-all") return true;
  return isRecord(permissions) && permissions["id-token"] === "write";
}

/** The command a step's `shell:` runs its script file with, as Actions runs it on Linux. */
function shellCommand(shell: unknown, file: string): string[] {
  if (shell === undefined) return ["bash", "-e", file];
  if (shell === "bash") return ["bash", "--noprofile", "--norc", "-eo", "pipefail", file];
  if (shell === "sh") return ["sh", "-e", file];
  throw new Error(`the runner does not know the shell ${JSON.stringify(shell)}`);
}

/** The one substitution: the published afk the workflow pins becomes this checkout's, after checking the pin is this version. */
function localAfk(script: string): string {
  const pinned = [...script.matchAll(/afk-agent@(\S+)/g)].map((match) => match[1]);
  for (const version of pinned)
    if (version !== AFK_VERSION)
      throw new Error(`the workflow runs afk-agent@${version ?? "?"}, but this afk is ${AFK_VERSION}: it must pin the afk that wrote it`);
  const local = `node --import '${TSX}' '${AFK}'`;
  const replaced = script.replaceAll(`npx --yes afk-agent@${AFK_VERSION}`, local);
  if (replaced.includes("afk-agent@")) throw new Error("the workflow runs afk-agent other than as `npx --yes afk-agent@<version>`");
  return replaced;
}

/** The setup-node step: recorded and skipped (Node is here already), after checking the action is pinned to the commit afk ships and asks for this Node. */
function setUpNode(uses: string, withInputs: Record<string, string>): NonNullable<StepRun["action"]> {
  const [repository = "", ref = ""] = uses.split("@");
  if (repository !== SETUP_NODE.repository) throw new Error(`the runner knows one action, ${SETUP_NODE.repository}, not ${uses}`);
  if (ref !== SETUP_NODE.commit) throw new Error(`${SETUP_NODE.repository} is pinned to ${ref}, not the commit afk ships (${SETUP_NODE.commit})`);
  const wanted = withInputs["node-version"];
  const here = process.versions.node.split(".")[0];
  if (wanted !== here) throw new Error(`the workflow asks for Node ${wanted ?? "(none)"}, but this runner has Node ${process.versions.node}`);
  return { repository, ref, with: withInputs };
}

// ---------------------------------------------------------------------------
// Running the job.

/** The job input for a workflow run the emulator dispatched. */
export function jobFromDispatch(dispatch: WorkflowDispatch, vars: Record<string, string>): WorkflowJobInput {
  return {
    workflow: dispatch.workflow,
    repository: dispatch.repository,
    runId: dispatch.run.id,
    workflowRef: `${dispatch.repository}/${dispatch.run.path}@${dispatch.run.ref}`,
    inputs: dispatch.run.inputs,
    vars,
    idTokenRequest: dispatch.idTokenRequest,
    signal: dispatch.signal,
  };
}

/**
 * Runs the workflow's one job as Actions would on a self-hosted Linux runner: each step in order,
 * `if:` evaluated, `run:` through its shell with the job's environment, stopping at the first
 * failure (the rest skipped). Cancelling (`input.signal`) or the job's `timeout-minutes` passing
 * ends the running step's process group (SIGINT, SIGTERM, SIGKILL) and skips the rest. Throws on
 * anything in the workflow it does not know.
 */
export async function runWorkflowJob(input: WorkflowJobInput, machine: RunnerMachine = {}): Promise<JobRun> {
  const workflow: unknown = parseYaml(input.workflow);
  if (!isRecord(workflow)) throw new Error("the workflow is not a YAML map");
  onlyKeys("the workflow", workflow, WORKFLOW_KEYS);
  const jobs = workflow.jobs;
  if (!isRecord(jobs) || Object.keys(jobs).length !== 1) throw new Error("the runner takes a workflow of exactly one job");
  const [jobId = "", job] = Object.entries(jobs)[0] ?? [];
  if (!isRecord(job)) throw new Error(`job ${jobId} is not a map`);
  onlyKeys(`job ${jobId}`, job, JOB_KEYS);
  const steps = job.steps;
  if (!Array.isArray(steps)) throw new Error(`job ${jobId} has no steps`);

  const workDir = machine.workDir ?? mkdtempSync(join(tmpdir(), "afk-actions-runner-"));
  const runnerTemp = join(workDir, "_temp");
  const workspace = join(workDir, "work", input.repository.split("/")[1] ?? "repo");
  mkdirSync(runnerTemp, { recursive: true });
  mkdirSync(workspace, { recursive: true });

  const runner = { os: RUNNER.os, environment: RUNNER.environment, arch: RUNNER.arch, temp: runnerTemp };
  const valueContexts: Contexts = { vars: input.vars, inputs: input.inputs };
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries({ ...stringMap("the workflow's env", workflow.env), ...stringMap(`job ${jobId}'s env`, job.env) }))
    env[name] = interpolate(value, valueContexts);
  const runName = typeof workflow["run-name"] === "string" ? interpolate(workflow["run-name"], valueContexts) : undefined;
  const runsOn = interpolate(String(job["runs-on"] ?? ""), valueContexts);
  const timeoutMinutes = typeof job["timeout-minutes"] === "number" ? job["timeout-minutes"] : 360;

  const actionsEnv: Record<string, string> = {
    CI: "true",
    GITHUB_ACTIONS: "true",
    GITHUB_REPOSITORY: input.repository,
    GITHUB_REPOSITORY_OWNER: input.repository.split("/")[0] ?? "",
    GITHUB_RUN_ID: String(input.runId),
    GITHUB_RUN_ATTEMPT: "1",
    GITHUB_EVENT_NAME: "workflow_dispatch",
    GITHUB_WORKFLOW_REF: input.workflowRef,
    GITHUB_WORKSPACE: workspace,
    GITHUB_JOB: jobId,
    RUNNER_OS: RUNNER.os,
    RUNNER_ARCH: RUNNER.arch,
    RUNNER_ENVIRONMENT: RUNNER.environment,
    RUNNER_TEMP: runnerTemp,
    // Actions gives the OIDC token request only to a job whose workflow grants id-token: write.
    ...(grantsIdToken(workflow, job)
      ? { ACTIONS_ID_TOKEN_REQUEST_URL: input.idTokenRequest.url, ACTIONS_ID_TOKEN_REQUEST_TOKEN: input.idTokenRequest.token }
      : {}),
  };

  const timeout = AbortSignal.timeout(timeoutMinutes * 60_000);
  const ended = input.signal === undefined ? timeout : AbortSignal.any([input.signal, timeout]);
  const grace = machine.cancelGraceMs ?? ACTIONS_CANCEL_GRACE_MS;
  const ran: StepRun[] = [];
  let stoppedBecause: string | undefined;
  try {
    for (const [index, raw] of steps.entries()) {
      if (!isRecord(raw)) throw new Error(`step ${index + 1} is not a map`);
      const step = raw;
      onlyKeys(`step ${index + 1}`, step, STEP_KEYS);
      const name = typeof step.name === "string" ? step.name : typeof step.run === "string" ? `Run ${step.run.split("\n")[0] ?? ""}` : `step ${index + 1}`;
      const skipped = (because: string): StepRun => ({ name, ran: false, conclusion: "skipped", exitCode: null, output: "", skippedBecause: because });
      if (stoppedBecause === undefined && ended.aborted) stoppedBecause = input.signal?.aborted === true ? "the run was cancelled" : "the job timed out";
      if (stoppedBecause !== undefined) {
        ran.push(skipped(stoppedBecause));
        continue;
      }
      if (step.if !== undefined && !condition(String(step.if), { runner })) {
        ran.push(skipped(`its if: ${String(step.if)} is false on this runner`));
        continue;
      }
      if (typeof step.uses === "string") {
        if (step.run !== undefined) throw new Error(`step ${name} has both uses: and run:`);
        ran.push({
          name,
          ran: true,
          conclusion: "success",
          exitCode: 0,
          output: "",
          action: setUpNode(step.uses, stringMap(`step ${name}'s with`, step.with)),
        });
        continue;
      }
      if (typeof step.run !== "string") throw new Error(`step ${name} has neither uses: nor run:`);
      if (step.run.includes("${{")) throw new Error(`step ${name} puts an expression inside its script; values reach a script only through env:`);
      const stepEnv = Object.fromEntries(
        Object.entries(stringMap(`step ${name}'s env`, step.env)).map(([key, value]) => [key, interpolate(value, valueContexts)]),
      );
      const script = join(runnerTemp, `step-${index + 1}.sh`);
      writeFileSync(script, localAfk(step.run));
      const outcome = await runStep(shellCommand(step.shell, script), {
        cwd: workspace,
        env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...machine.env, ...actionsEnv, ...env, ...stepEnv },
        signal: ended,
        grace,
      });
      const conclusion: StepConclusion = outcome.exitCode === 0 ? "success" : ended.aborted ? "cancelled" : "failure";
      ran.push({
        name,
        ran: true,
        conclusion,
        exitCode: outcome.exitCode,
        ...(outcome.signal === undefined ? {} : { signal: outcome.signal }),
        output: outcome.output,
      });
      if (conclusion === "cancelled") stoppedBecause = input.signal?.aborted === true ? "the run was cancelled" : "the job timed out";
      else if (conclusion === "failure") stoppedBecause = `step ${name} failed`;
    }
  } finally {
    if (machine.workDir === undefined) rmSync(workDir, { recursive: true, force: true });
  }
  const conclusion = ran.some((step) => step.conclusion === "failure")
    ? "failure"
    : stoppedBecause === "the run was cancelled"
      ? "cancelled"
      : stoppedBecause === "the job timed out"
        ? "timed_out"
        : "success";
  return { job: jobId, runName, runsOn, conclusion, steps: ran, env };
}

/**
 * Runs one command in a process group of its own. When `signal` aborts, the group gets SIGINT, then
 * SIGTERM and SIGKILL after the grace periods, as Actions stops a cancelled job; when the command
 * ends, whatever it left in its group is killed, as the runner cleans up after a job.
 */
function runStep(
  command: string[],
  options: { cwd: string; env: Record<string, string>; signal: AbortSignal; grace: { interrupt: number; terminate: number } },
): Promise<{ exitCode: number | null; signal: NodeJS.Signals | undefined; output: string }> {
  const [file = "bash", ...args] = command;
  const child = spawn(file, args, { cwd: options.cwd, env: options.env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => void (output += chunk));
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => void (output += chunk));
  const group = (signal: NodeJS.Signals): void => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, signal);
    } catch {
      // ESRCH: the group has ended.
    }
  };
  const timers: NodeJS.Timeout[] = [];
  const cancel = (): void => {
    group("SIGINT");
    timers.push(setTimeout(() => group("SIGTERM"), options.grace.interrupt));
    timers.push(setTimeout(() => group("SIGKILL"), options.grace.interrupt + options.grace.terminate));
  };
  if (options.signal.aborted) cancel();
  else options.signal.addEventListener("abort", cancel, { once: true });
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (exitCode, signal) => {
      options.signal.removeEventListener("abort", cancel);
      for (const timer of timers) clearTimeout(timer);
      group("SIGKILL");
      // Its output is whole once its pipes close; something that left the group may hold them, so not forever.
      const done = (): void => resolve({ exitCode, signal: signal ?? undefined, output });
      const unheld = setTimeout(done, 2_000);
      child.once("close", () => {
        clearTimeout(unheld);
        done();
      });
    });
  });
}

/**
 * Plays the runner for every workflow run the emulator's dispatches create from now on: runs the
 * job with `runWorkflowJob`, moving the run to in_progress and then to completed with the job's
 * conclusion (unless it was cancelled meanwhile, which completes it already). Returns the jobs so
 * far (each settles when its job ends) and the unsubscribe.
 */
export function playRunner(
  emulator: GitHubEmulator,
  vars: Record<string, string>,
  machine: RunnerMachine = {},
): { jobs: Array<Promise<JobRun>>; stop: () => void } {
  const jobs: Array<Promise<JobRun>> = [];
  const stop = emulator.onWorkflowDispatch((dispatch) => {
    emulator.setWorkflowRunStatus(dispatch.repository, dispatch.run.id, "in_progress");
    const job = runWorkflowJob(jobFromDispatch(dispatch, vars), machine).then((run) => {
      const now = emulator.workflowRuns(dispatch.repository).find((one) => one.id === dispatch.run.id);
      if (now !== undefined && now.status !== "completed") emulator.setWorkflowRunStatus(dispatch.repository, dispatch.run.id, "completed", run.conclusion);
      return run;
    });
    jobs.push(job);
    return job.then(() => undefined);
  });
  return { jobs, stop };
}
