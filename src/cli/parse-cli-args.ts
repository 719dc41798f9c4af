import { parseArgs } from "node:util";
import { LOG_HELP, parseLogArgs } from "./log.js";

/** The commands `afk` knows, in the order its help lists them. */
export const COMMANDS = ["run", "eval", "log", "doctor", "init-runner", "job", "help"] as const;
export type CommandName = (typeof COMMANDS)[number];

/** Exit codes of every `afk` command (listed in `afk --help`). */
export const EXIT = {
  /** The command did what was asked: the tests pass, the doctor found nothing that fails. */
  ok: 0,
  /** It ran and did not succeed: tests not passing, no change, a missing key or sandbox, a doctor check failed. */
  failed: 1,
  /** It could not start: an unknown command or option, a missing or bad value, an unusable .github/afk.yml. */
  usage: 2,
} as const;

/** What `afk` was asked to do on the command line. */
export type CliCommand =
  | {
      kind: "run";
      repo: string;
      task: { text: string } | { file: string };
      model: string | undefined;
      test: string | undefined;
      maxUsd: number | undefined;
      maxTurns: number | undefined;
    }
  /** `afk eval`: a suite of tasks through afk's executor, judged with hidden tests (`check`: the suite proved without a model). */
  | {
      kind: "eval";
      paths: string[];
      jsonl: { file: string; repos: string; testCommand: string | undefined } | undefined;
      jobs: number;
      repeat: number;
      model: string | undefined;
      maxUsd: number | undefined;
      prompts: string | undefined;
      compare: [string, string] | undefined;
      out: string | undefined;
      json: boolean;
      check: boolean;
    }
  /** `afk log RUN_ID`: the run log afk kept in the repository, fetched into this clone and printed. */
  | { kind: "log"; runId: string; remote: string; jsonl: boolean }
  | { kind: "doctor"; job: boolean }
  /** `afk init-runner`: print the runner workflow, or write it into the checkout `write`. */
  | { kind: "init-runner"; write: string | undefined; force: boolean }
  /** `afk job`: an afk run's work on a GitHub Actions runner (the runner workflow runs it). */
  | { kind: "job" }
  | { kind: "help"; topic: HelpTopic }
  | { kind: "version" }
  /** A usage error; `topic` names the help that explains the right usage. */
  | { kind: "error"; message: string; topic: HelpTopic };

/** The commands with a help of their own, and `afk` itself. */
export type HelpTopic = "afk" | "run" | "eval" | "log" | "doctor" | "init-runner" | "job";

const EXIT_CODES = `Exit codes:
  ${EXIT.ok}  success (afk run: the tests pass; afk doctor: no check failed)
  ${EXIT.failed}  failure (afk run: tests not passing, no change, or the run could not be made; afk doctor: a check failed)
  ${EXIT.usage}  usage error: unknown command or option, missing or bad value, unusable .github/afk.yml`;

/** `afk --help`. */
export const USAGE = `afk: implement a task with a sandboxed coding agent, gated on the repository's tests.

Usage:
  afk run (--task "TEXT" | --issue-file FILE) [options]   the agent on a local checkout, gated on its tests
  afk eval [TASKS...] [options]                          measure the agent: tasks run as issues, judged by hidden tests
  afk log RUN_ID [--remote NAME] [--jsonl]               print a run's log (every turn, tool call and result), in a clone
  afk doctor [--job]                                     check this machine and the App's settings (or a runner)
  afk init-runner [--write DIR [--force]]                the workflow that runs agents on GitHub Actions
  afk job                                                an afk run's work on a GitHub Actions runner (the workflow runs it)
  afk help [COMMAND]                                     this help, or a command's
  afk --version                                          afk's version

Run \`afk COMMAND --help\` for a command's options.
Normal output goes to stdout; errors and warnings go to stderr.

${EXIT_CODES}`;

/** `afk run --help`. */
export const RUN_USAGE = `Usage: afk run (--task "TEXT" | --issue-file FILE) [--repo PATH] [--test "CMD"] [--model ID] [--max-usd N] [--max-turns N]

Runs the agent on a local checkout (default: the current directory) at its HEAD, in a separate
worktree (the checkout itself is not touched), runs the tests afk's way, and leaves the result on
a local branch afk/<slug>. Prints each command the agent runs and each file it edits as it happens,
and the failing test output when the tests do not pass.

Options:
  --task TEXT         the task, as an issue's text
  --issue-file FILE   the task, read from a file (markdown, like an issue body)
  --repo PATH         the checkout to work on (default: .)
  --test CMD          the test command (default: \`test\` in the checkout's .github/afk.yml; needed without one)
  --model ID          the model (default: .github/afk.yml's \`model\`, then AFK_MODEL, then afk's default)
  --max-usd N         stop after spending N dollars (default: .github/afk.yml's budget.max_usd)
  --max-turns N       stop after N model turns (default: .github/afk.yml's budget.max_turns)
  -h, --help          this help

Environment: ANTHROPIC_API_KEY (required), ANTHROPIC_BASE_URL, AFK_CACHE_DIR, AFK_MODEL,
AFK_MODEL_RETRIES, AFK_ALLOW_UNSANDBOXED, AFK_ALLOW_HOST_NETWORK.

${EXIT_CODES}`;

/** `afk eval --help`. */
export const EVAL_USAGE = `Usage: afk eval [TASKS...] [--jobs N] [--repeat K] [--model ID] [--max-usd N] [--prompts DIR] [--out DIR] [--json]
       afk eval --compare A B [TASKS...] [options]
       afk eval --jsonl FILE --repos DIR [--test-command CMD] [options]
       afk eval --check [TASKS...] [--jobs N]

Measures the agent: runs each task as afk runs an issue (a worktree at the task's starting commit,
the bubblewrap sandbox, the agent, afk's gate on the repository's own tests, afk's commit), then
judges the change with the task's hidden tests, which the agent never sees, in a sandbox of their
own. A task is resolved when its hidden tests pass. Prints a table with the resolved rate (its range
over repeats), cost per resolved task, turns, tool calls and time; writes results.json (every
attempt: tokens, dollars, cache reads, the system prompt's and tools' tokens), report.html (open it in
a browser) and each attempt's transcript to the results directory.

TASKS are task directories or directories of them (default: the suite afk ships, eval/tasks; see
eval/README.md for the format).

Options:
  --jobs N            attempts at once, each in its own worktree and sandbox (default 1)
  --repeat K          attempts of each task (default 1); the resolved rate's range over repeats is shown
  --model ID          the model (default: AFK_MODEL, then afk's default)
  --max-usd N         each attempt's dollar budget, over the task's budget.max_usd
  --prompts DIR       a prompt set (a directory like afk's prompts/) instead of afk's own
  --compare A B       run the tasks twice and compare B against A, task by task (won, lost, tied;
                      cost difference); A and B are each a prompt set directory or a model id
                      (eval/baseline-prompts is the prompt set afk had before its current one)
  --jsonl FILE        SWE-bench-style instances (instance_id, repo, base_commit, problem_statement,
                      test_patch, FAIL_TO_PASS, PASS_TO_PASS, test_command) instead of task directories
  --repos DIR         with --jsonl: your clones, as DIR/owner__name, DIR/owner/name or DIR/name
  --test-command CMD  with --jsonl: the test command for instances without test_command
  --out DIR           the results directory (default: afk-eval/<date>-<time>)
  --json              print results.json to stdout instead of the table
  --check             no model: prove each task instead (visible tests pass at the start; hidden tests
                      fail there, pass with solution.patch and fail with wrong.patch); --jobs applies
  -h, --help          this help

Environment: ANTHROPIC_API_KEY (required but with --check), ANTHROPIC_BASE_URL, AFK_CACHE_DIR,
AFK_MODEL, AFK_MODEL_RETRIES, AFK_ALLOW_UNSANDBOXED, AFK_ALLOW_HOST_NETWORK.

Exit codes:
  ${EXIT.ok}  success: the tasks ran (whatever their results); --check: every task proved
  ${EXIT.failed}  failure: no key, no attempt could start, interrupted; --check: a task failed a check
  ${EXIT.usage}  usage error: unknown option, bad value, unreadable task or JSONL, unknown model or prompt set`;

/** `afk doctor --help`. */
export const DOCTOR_USAGE = `Usage: afk doctor [--job]

Checks what afk needs and says what to fix: Node, git, bubblewrap (and that it can create its
namespaces), the sandbox's limits and network (slirp4netns and ip, or AFK_ALLOW_HOST_NETWORK), the
operator settings and allowlist, the cache directory, the Anthropic key and model (without spending
tokens), and the GitHub App: that GitHub can be reached, accepts the App's credentials, and that the
App has the permissions and events afk needs.

Reads the environment as \`npm start\` does: the variables of this shell, with the .env of the
current directory (the file Probot's setup writes) applied over them. Run it where you run
\`npm start\`, as the user afk runs as.

With --job, checks a GitHub Actions runner for \`afk job\` (the runner workflow runs it first): Node,
git, bubblewrap, the sandbox's limits and network, the cache directory, and the job's environment:
AFK_URL (afk's address), AFK_RUN (which run), and the OIDC token request Actions provides when the workflow
has \`permissions: id-token: write\`. No key, App or .env is needed there.

Options:
  --job        check a runner for an afk job instead of the App's host
  -h, --help   this help

${EXIT_CODES}`;

/** `afk init-runner --help`. */
export const INIT_RUNNER_USAGE = `Usage: afk init-runner [--write DIR [--force]]

Prints the GitHub Actions workflow that runs afk's agents as jobs (AFK_EXECUTOR=actions):
.github/workflows/afk-job.yml of the runner repository, running this version of afk. Then says what
else is needed: afk's App installed on the runner repository with actions: write, its AFK_URL
variable (and optionally AFK_RUNS_ON), and AFK_EXECUTOR and AFK_RUNNER_REPO in afk's settings.
Printed, the workflow alone goes to stdout and the rest to stderr, so
\`afk init-runner > afk-job.yml\` saves just the workflow.

Options:
  --write DIR   write DIR/.github/workflows/afk-job.yml instead (DIR: a checkout of the runner repository)
  --force       with --write, replace an afk-job.yml that differs from this one
  -h, --help    this help

Exit codes:
  ${EXIT.ok}  success: the workflow printed or written (or already there, the same)
  ${EXIT.failed}  failure: DIR's afk-job.yml differs (run again with --force to replace it) or cannot be written
  ${EXIT.usage}  usage error: unknown option or argument, --force without --write, DIR not a directory`;

/** `afk job --help`. */
export const JOB_USAGE = `Usage: afk job

Does the work of one afk run on a GitHub Actions runner: the step of afk's runner workflow
(\`afk init-runner\`) after \`afk doctor --job\`. Reads AFK_URL (afk's public address) and AFK_RUN
(which run, owner/repo#issue:run-id, from the workflow's input); asks Actions for the job's OIDC
token (audience: AFK_URL's origin; the workflow's \`permissions: id-token: write\`) and presents it
at afk's /afk/jobs/start, which answers the job: the repository at the commit afk pinned, the task,
a read-only token for the clone and a credential for this run. Then clones, runs the agent in the
bubblewrap sandbox (its model calls go through afk, which holds the key and counts the spend) and
the repository's tests, heartbeating to afk all along; a heartbeat answered "stop" ends the work.
Sends the change back to afk as a git bundle with the evidence; afk checks it, pushes it and opens
the pull request. Pushes nothing itself, holds no key, and prints no token.

afk unreachable or answering 5xx is tried again for about a minute; a refusal is not.
Clones go to AFK_CACHE_DIR, else RUNNER_TEMP/afk-cache, else the system's temporary directory.

Options:
  -h, --help   this help

Exit codes:
  ${EXIT.ok}  success: afk took the result (it reports on the issue), or afk stopped the job
  ${EXIT.failed}  failure: afk refused the job or its result, could not be reached, or the job was cancelled
  ${EXIT.usage}  usage error: AFK_URL, AFK_RUN or the OIDC token request missing or wrong, an unknown option or argument`;

/** The help text of a topic. */
export function helpText(topic: HelpTopic): string {
  if (topic === "eval") return EVAL_USAGE;
  if (topic === "log") return LOG_HELP;
  return topic === "run" ? RUN_USAGE : topic === "doctor" ? DOCTOR_USAGE : topic === "init-runner" ? INIT_RUNNER_USAGE : topic === "job" ? JOB_USAGE : USAGE;
}

const HELP = { help: { type: "boolean", short: "h" } } as const;
const RUN_OPTIONS = {
  ...HELP,
  repo: { type: "string" },
  task: { type: "string" },
  "issue-file": { type: "string" },
  model: { type: "string" },
  test: { type: "string" },
  "max-usd": { type: "string" },
  "max-turns": { type: "string" },
} as const;

/** Parses `afk`'s arguments with `node:util`'s strict `parseArgs`. Pure: every mistake comes back as an error that says what is wrong. */
export function parseCliArgs(argv: readonly string[]): CliCommand {
  const [first, ...rest] = argv;
  if (first === undefined || first === "--help" || first === "-h") return { kind: "help", topic: "afk" };
  if (first === "--version") return rest.length === 0 ? { kind: "version" } : { kind: "error", message: "--version takes no arguments", topic: "afk" };
  if (first.startsWith("-")) return { kind: "error", message: `unknown option ${first}; options come after the command (afk run --help)`, topic: "afk" };
  switch (first) {
    case "help":
      return parseHelp(rest);
    case "doctor":
      return parseDoctor(rest);
    case "run":
      return parseRun(rest);
    case "eval":
      return parseEval(rest);
    case "log":
      return parseLog(rest);
    case "init-runner":
      return parseInitRunner(rest);
    case "job":
      return parseJob(rest);
    default:
      return { kind: "error", message: `unknown command ${JSON.stringify(first)}; the commands are ${COMMANDS.join(", ")}`, topic: "afk" };
  }
}

function parseHelp(rest: readonly string[]): CliCommand {
  const [topic, ...extra] = rest.filter((argument) => argument !== "--help" && argument !== "-h");
  if (extra.length > 0) return { kind: "error", message: `afk help takes one command at most (got ${rest.join(" ")})`, topic: "afk" };
  if (topic === undefined || topic === "help") return { kind: "help", topic: "afk" };
  if (topic === "run" || topic === "eval" || topic === "log" || topic === "doctor" || topic === "init-runner" || topic === "job")
    return { kind: "help", topic };
  return { kind: "error", message: `unknown command ${JSON.stringify(topic)}; the commands are ${COMMANDS.join(", ")}`, topic: "afk" };
}

function parseDoctor(rest: readonly string[]): CliCommand {
  const parsed = strictParse(rest, { ...HELP, job: { type: "boolean" } });
  if (parsed.kind === "error") return { kind: "error", message: parsed.message, topic: "doctor" };
  if (parsed.values.help === true) return { kind: "help", topic: "doctor" };
  if (parsed.positionals.length > 0) return { kind: "error", message: `takes no arguments (got ${parsed.positionals.join(" ")})`, topic: "doctor" };
  return { kind: "doctor", job: parsed.values.job === true };
}

function parseJob(rest: readonly string[]): CliCommand {
  const parsed = strictParse(rest, HELP);
  if (parsed.kind === "error") return { kind: "error", message: parsed.message, topic: "job" };
  if (parsed.values.help === true) return { kind: "help", topic: "job" };
  if (parsed.positionals.length > 0)
    return {
      kind: "error",
      message: `takes no arguments (got ${parsed.positionals.join(" ")}); it reads AFK_URL and AFK_RUN from the environment`,
      topic: "job",
    };
  return { kind: "job" };
}

function parseInitRunner(rest: readonly string[]): CliCommand {
  const parsed = strictParse(rest, { ...HELP, write: { type: "string" }, force: { type: "boolean" } });
  const error = (message: string): CliCommand => ({ kind: "error", message, topic: "init-runner" });
  if (parsed.kind === "error") return error(parsed.message);
  const { values, positionals } = parsed;
  if (values.help === true) return { kind: "help", topic: "init-runner" };
  if (positionals.length > 0) return error(`unexpected argument ${JSON.stringify(positionals[0])}; to write the workflow into a checkout, give --write DIR`);
  if (values.write === "") return error("--write needs a value");
  if (values.force === true && values.write === undefined) return error("--force only goes with --write DIR");
  return { kind: "init-runner", write: values.write, force: values.force === true };
}

function parseRun(rest: readonly string[]): CliCommand {
  const parsed = strictParse(rest, RUN_OPTIONS);
  const error = (message: string): CliCommand => ({ kind: "error", message, topic: "run" });
  if (parsed.kind === "error") return error(parsed.message);
  const { values, positionals } = parsed;
  if (values.help === true) return { kind: "help", topic: "run" };
  if (positionals.length > 0)
    return error(`unexpected argument ${JSON.stringify(positionals[0])}; give the task with --task "TEXT" (quoted) or --issue-file FILE`);
  const empty = Object.entries(values).find(([, value]) => value === "");
  if (empty !== undefined) return error(`--${empty[0]} needs a value`);
  const text = values.task;
  const file = values["issue-file"];
  if ((text === undefined) === (file === undefined)) return error('give exactly one of --task "TEXT" or --issue-file FILE');
  const maxUsd = optionalNumber(values["max-usd"]);
  const maxTurns = optionalNumber(values["max-turns"]);
  if (maxUsd === null || (maxUsd !== undefined && maxUsd <= 0)) return error("--max-usd must be a number above 0, for example 2.5");
  if (maxTurns === null || (maxTurns !== undefined && (!Number.isInteger(maxTurns) || maxTurns < 1)))
    return error("--max-turns must be a whole number of at least 1");
  return {
    kind: "run",
    repo: values.repo ?? ".",
    task: text !== undefined ? { text } : { file: file ?? "" },
    model: values.model,
    test: values.test,
    maxUsd,
    maxTurns,
  };
}

/** `afk log`'s own parser (src/cli/log.ts), its answers in this module's terms. */
function parseLog(rest: readonly string[]): CliCommand {
  const parsed = parseLogArgs(rest);
  if (parsed.kind === "help") return { kind: "help", topic: "log" };
  if (parsed.kind === "usage-error") return { kind: "error", message: parsed.message.replace(/^afk log /, ""), topic: "log" };
  return parsed;
}

const EVAL_OPTIONS = {
  ...HELP,
  jobs: { type: "string" },
  repeat: { type: "string" },
  model: { type: "string" },
  "max-usd": { type: "string" },
  prompts: { type: "string" },
  out: { type: "string" },
  json: { type: "boolean" },
  check: { type: "boolean" },
  jsonl: { type: "string" },
  repos: { type: "string" },
  "test-command": { type: "string" },
} as const;

function parseEval(rest: readonly string[]): CliCommand {
  const error = (message: string): CliCommand => ({ kind: "error", message, topic: "eval" });
  // --compare takes two values, which parseArgs cannot say: they are taken out first.
  const args = [...rest];
  let compare: [string, string] | undefined;
  const at = args.indexOf("--compare");
  if (at !== -1) {
    const [a, b] = [args[at + 1], args[at + 2]];
    if (a === undefined || b === undefined || a.startsWith("-") || b.startsWith("-") || a === "" || b === "")
      return error("--compare needs two values: A and B, each a prompt set directory or a model id");
    compare = [a, b];
    args.splice(at, 3);
    if (args.includes("--compare")) return error("--compare is given twice; give it once");
  }
  const parsed = strictParse(args, EVAL_OPTIONS);
  if (parsed.kind === "error") return error(parsed.message);
  const { values, positionals } = parsed;
  if (values.help === true) return { kind: "help", topic: "eval" };
  const empty = Object.entries(values).find(([, value]) => value === "");
  if (empty !== undefined) return error(`--${empty[0]} needs a value`);
  const whole = (name: string, raw: string | undefined): number | undefined | string => {
    if (raw === undefined) return undefined;
    const value = Number(raw);
    return Number.isInteger(value) && value >= 1 && value <= 1000 ? value : `--${name} must be a whole number from 1 to 1000`;
  };
  const jobs = whole("jobs", values.jobs);
  const repeat = whole("repeat", values.repeat);
  if (typeof jobs === "string") return error(jobs);
  if (typeof repeat === "string") return error(repeat);
  const maxUsd = optionalNumber(values["max-usd"]);
  if (maxUsd === null || (maxUsd !== undefined && maxUsd <= 0)) return error("--max-usd must be a number above 0, for example 2.5");
  if ((values.jsonl === undefined) !== (values.repos === undefined))
    return error("--jsonl and --repos go together: the instances, and where their repositories are cloned");
  if (values["test-command"] !== undefined && values.jsonl === undefined) return error("--test-command only goes with --jsonl");
  if (values.jsonl !== undefined && positionals.length > 0) return error(`give task directories or --jsonl, not both (got ${positionals.join(" ")})`);
  if (compare !== undefined && values.prompts !== undefined) return error("--prompts and --compare do not go together: --compare names both prompt sets");
  if (compare !== undefined && values.model !== undefined) return error("--model and --compare do not go together: --compare names both models");
  if (values.check === true) {
    const extra = ["repeat", "model", "max-usd", "prompts", "out", "json"].find((name) => name in values);
    if (extra !== undefined || compare !== undefined) return error(`--check runs no model and writes no results: it does not take --${extra ?? "compare"}`);
  }
  return {
    kind: "eval",
    paths: positionals,
    jsonl: values.jsonl === undefined ? undefined : { file: values.jsonl, repos: values.repos ?? "", testCommand: values["test-command"] },
    jobs: jobs ?? 1,
    repeat: repeat ?? 1,
    model: values.model,
    maxUsd,
    prompts: values.prompts,
    compare,
    out: values.out,
    json: values.json === true,
    check: values.check === true,
  };
}

type Options = Record<string, { type: "string" | "boolean"; short?: string }>;
type Parsed<T extends Options> = ReturnType<typeof parseArgs<{ args: string[]; options: T; strict: true; allowPositionals: true }>>;

/**
 * `parseArgs` in strict mode, its thrown errors (unknown option, missing value) and an option given
 * twice (which it would let the last one win) returned as text that says what to do.
 */
function strictParse<T extends Options>(
  args: readonly string[],
  options: T,
): ({ kind: "ok" } & Pick<Parsed<T>, "values" | "positionals">) | { kind: "error"; message: string } {
  try {
    const { values, positionals, tokens } = parseArgs({ args: [...args], options, strict: true, allowPositionals: true, tokens: true });
    const seen = new Set<string>();
    for (const token of tokens) {
      if (token.kind !== "option") continue;
      if (seen.has(token.name)) return { kind: "error", message: `--${token.name} is given twice; give it once` };
      seen.add(token.name);
    }
    return { kind: "ok", values, positionals };
  } catch (error) {
    return { kind: "error", message: parseErrorMessage(error) };
  }
}

/** parseArgs's errors in afk's words: `--task needs a value`, `unknown option "--force"`. */
function parseErrorMessage(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const missing = /^Option '(-\w, )?(--[\w-]+)[^']*' argument missing/.exec(message);
  if (missing !== null) return `${missing[2] ?? "the option"} needs a value`;
  const unknown = /^Unknown option '([^']+)'/.exec(message);
  if (unknown !== null) return `unknown option ${JSON.stringify(unknown[1])}`;
  return message.replace(/\. To specify a positional argument starting with a '-'.*$/s, "").replace(/\.$/, "");
}

function optionalNumber(raw: string | undefined): number | undefined | null {
  if (raw === undefined) return undefined;
  const value = Number(raw);
  return Number.isFinite(value) ? value : null;
}
