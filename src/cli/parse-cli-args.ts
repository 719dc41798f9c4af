/** What `afk` was asked to do on the command line. */
export type CliCommand =
  | { kind: "run"; repo: string; task: { text: string } | { file: string }; model: string | undefined; test: string | undefined; maxUsd: number | undefined; maxTurns: number | undefined }
  | { kind: "doctor" }
  | { kind: "help" }
  | { kind: "error"; message: string };

export const USAGE = `afk: implement a task with a sandboxed coding agent, gated on the repository's tests.

Usage:
  afk run [--repo PATH] (--task "TEXT" | --issue-file FILE) [--model ID] [--test "CMD"] [--max-usd N] [--max-turns N]
      Runs the agent on a checkout (default: the current directory) at its HEAD, in a separate worktree,
      runs the tests afk's way, and leaves the result on a local branch afk/<slug>. Settings come from
      the checkout's .github/afk.yml; --test is needed when it has none.
  afk doctor
      Checks this machine: Node, git, bubblewrap, credentials, the model, the GitHub App's permissions.

Environment: ANTHROPIC_API_KEY (required for run), ANTHROPIC_BASE_URL, AFK_CACHE_DIR, AFK_MODEL,
AFK_ALLOW_UNSANDBOXED, AFK_MODEL_RETRIES; for the App checks: APP_ID, PRIVATE_KEY or PRIVATE_KEY_PATH,
WEBHOOK_SECRET, GHE_HOST, GHE_PROTOCOL.`;

/** Parses `afk`'s arguments. Pure: every mistake comes back as an error with the fix. */
export function parseCliArgs(argv: readonly string[]): CliCommand {
  const [command, ...rest] = argv;
  if (command === undefined || command === "help" || command === "--help" || command === "-h") return { kind: "help" };
  if (command === "doctor") return rest.length === 0 ? { kind: "doctor" } : { kind: "error", message: `afk doctor takes no arguments (got ${rest.join(" ")})` };
  if (command !== "run") return { kind: "error", message: `unknown command ${JSON.stringify(command)}: use \`afk run\` or \`afk doctor\`` };

  const values = new Map<string, string>();
  const known = new Set(["--repo", "--task", "--issue-file", "--model", "--test", "--max-usd", "--max-turns"]);
  for (let index = 0; index < rest.length; index += 1) {
    const argument = rest[index] ?? "";
    const [flag, inline] = argument.startsWith("--") && argument.includes("=") ? [argument.slice(0, argument.indexOf("=")), argument.slice(argument.indexOf("=") + 1)] : [argument, undefined];
    if (!known.has(flag)) return { kind: "error", message: `unknown option ${JSON.stringify(argument)} for afk run (known: ${[...known].join(", ")})` };
    const value = inline ?? rest[++index];
    if (value === undefined || value.length === 0) return { kind: "error", message: `${flag} needs a value` };
    if (values.has(flag)) return { kind: "error", message: `${flag} is given twice` };
    values.set(flag, value);
  }
  const text = values.get("--task");
  const file = values.get("--issue-file");
  if ((text === undefined) === (file === undefined)) return { kind: "error", message: "afk run needs exactly one of --task \"TEXT\" or --issue-file FILE" };
  const maxUsd = optionalNumber(values.get("--max-usd"));
  const maxTurns = optionalNumber(values.get("--max-turns"));
  if (maxUsd === null || (maxUsd !== undefined && maxUsd <= 0)) return { kind: "error", message: "--max-usd must be a number above 0, for example 2.5" };
  if (maxTurns === null || (maxTurns !== undefined && (!Number.isInteger(maxTurns) || maxTurns < 1))) return { kind: "error", message: "--max-turns must be a whole number of at least 1" };
  return {
    kind: "run",
    repo: values.get("--repo") ?? ".",
    task: text !== undefined ? { text } : { file: file ?? "" },
    model: values.get("--model"),
    test: values.get("--test"),
    maxUsd,
    maxTurns,
  };
}

function optionalNumber(raw: string | undefined): number | undefined | null {
  if (raw === undefined) return undefined;
  const value = Number(raw);
  return Number.isFinite(value) ? value : null;
}
