import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { terminalSafe } from "./terminal-text.js";

const git = promisify(execFile);

/** Exit codes, as every `afk` command's (cli/parse-cli-args.ts `EXIT`). */
const OK = 0;
const FAILED = 1;
const USAGE = 2;

/** Jobs of one run whose logs `afk log` prints at most (a run's follow-ups each add one). */
const MAX_JOBS = 50;
/** Bytes of git's output read at most: two 5 MB files per job, and room. */
const MAX_GIT_OUTPUT = 64 * 1024 * 1024;

/** `afk log --help`. */
export const LOG_HELP = `Usage: afk log RUN_ID [--remote NAME] [--jsonl]

Prints the run log afk kept of a run: every message afk sent the agent, the agent's turns, its
tool calls and their results (secrets redacted). Run it in a clone of the repository: it fetches
refs/afk/runs/RUN_ID from the remote, which afk writes at the end of every run that had an agent
session. A run with follow-up jobs (a CI fix, a rework) prints each job's log, oldest first. The
run id is in afk's progress comment and check run (\`run r-…\`). The text is the agent's, printed
with terminal escape sequences and control characters removed.

Options:
  --remote NAME  the remote to fetch from (default: origin)
  --jsonl        print run.jsonl (one JSON object per entry) instead of run.md
  -h, --help     this help

Run logs are kept for AFK_RUN_LOG_DAYS days (30 unless the operator set otherwise).

Exit codes:
  ${OK}  success: the log was printed
  ${FAILED}  failure: no such run log on the remote, or git could not fetch it
  ${USAGE}  usage error: no run id, an unknown option, a bad value`;

/** What `afk log` was asked. */
export type LogArgs = { kind: "log"; runId: string; remote: string; jsonl: boolean } | { kind: "help" } | { kind: "usage-error"; message: string };

/** An afk run id as a ref name takes it (dispatch/run-id.ts makes `r-<base 36>-<8 hex>`). */
const RUN_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$/;
/** A git remote's name: never an option, never a path or URL with odd characters. */
const REMOTE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

/** Parses the arguments after `afk log`. Pure. */
export function parseLogArgs(argv: readonly string[]): LogArgs {
  let runId: string | undefined;
  let remote = "origin";
  let jsonl = false;
  for (let index = 0; index < argv.length; index += 1) {
    const arg = argv[index] ?? "";
    if (arg === "-h" || arg === "--help") return { kind: "help" };
    if (arg === "--jsonl") jsonl = true;
    else if (arg === "--remote" || arg.startsWith("--remote=")) {
      const value = arg === "--remote" ? argv[(index += 1)] : arg.slice("--remote=".length);
      if (value === undefined || value === "") return { kind: "usage-error", message: "--remote needs the name of a remote (such as origin)" };
      if (!REMOTE.test(value)) return { kind: "usage-error", message: `${JSON.stringify(value)} is not a remote's name` };
      remote = value;
    } else if (arg.startsWith("-")) return { kind: "usage-error", message: `afk log has no option ${JSON.stringify(arg)}` };
    else if (runId !== undefined) return { kind: "usage-error", message: `afk log takes one run id, not ${JSON.stringify(runId)} and ${JSON.stringify(arg)}` };
    else if (!RUN_ID.test(arg)) return { kind: "usage-error", message: `${JSON.stringify(arg)} is not an afk run id (they look like r-m1abcd2e-1a2b3c4d)` };
    else runId = arg;
  }
  if (runId === undefined) return { kind: "usage-error", message: "afk log needs a run id (afk's progress comment and check run name it)" };
  return { kind: "log", runId, remote, jsonl };
}

/** Where `afk log` works and writes. */
export interface LogIo {
  /** A clone of the repository (the current directory when afk runs it). */
  cwd: string;
  /** The log's text, terminal-safe. */
  out: (text: string) => void;
  err: (line: string) => void;
  env?: NodeJS.ProcessEnv;
}

/**
 * `afk log RUN_ID`: fetches `refs/afk/runs/RUN_ID` from the remote and prints each of the run's job
 * logs (`run.md`, or `run.jsonl` with `--jsonl`), oldest first, made terminal-safe. Returns the exit code.
 */
export async function showRunLog(args: Extract<LogArgs, { kind: "log" }>, io: LogIo): Promise<number> {
  const { runId, remote } = args;
  const run = async (gitArgs: string[]): Promise<string> =>
    (await git("git", gitArgs, { cwd: io.cwd, env: { ...(io.env ?? process.env), GIT_TERMINAL_PROMPT: "0" }, maxBuffer: MAX_GIT_OUTPUT, encoding: "utf8" }))
      .stdout;
  try {
    await run(["fetch", "--no-tags", "--quiet", remote, `+refs/afk/runs/${runId}:refs/afk/runs/${runId}`]);
  } catch (error) {
    const said = stderrOf(error);
    if (/couldn't find remote ref|no such ref|not our ref/i.test(said)) {
      io.err(`afk log: no run log ${runId} on ${remote}: it may have expired after AFK_RUN_LOG_DAYS, or the run had no agent session.`);
    } else io.err(`afk log: git could not fetch refs/afk/runs/${runId} from ${remote}: ${terminalSafe(said).trim() || "(git said nothing)"}`);
    return FAILED;
  }
  const file = args.jsonl ? "run.jsonl" : "run.md";
  const jobs = (await run(["rev-list", "--reverse", `--max-count=${MAX_JOBS}`, `refs/afk/runs/${runId}`, "--"])).split("\n").filter((line) => line.length > 0);
  const texts: string[] = [];
  for (const commit of jobs) {
    try {
      texts.push(await run(["show", `${commit}:${file}`]));
    } catch {
      // A commit without the file (an older log's layout) is passed over.
    }
  }
  if (texts.length === 0) {
    io.err(`afk log: refs/afk/runs/${runId} on ${remote} holds no ${file}.`);
    return FAILED;
  }
  io.out(terminalSafe(texts.join(args.jsonl ? "" : "\n")));
  return OK;
}

function stderrOf(error: unknown): string {
  if (typeof error === "object" && error !== null && "stderr" in error && typeof error.stderr === "string" && error.stderr.length > 0) return error.stderr;
  return error instanceof Error ? error.message : String(error);
}
