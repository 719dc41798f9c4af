import { hostname, homedir } from "node:os";
import { join } from "node:path";
import picomatch from "picomatch";
import { REPO_FULL_NAME } from "../run-contract/job-protocol.js";
import { isLoopbackHost, notifyUrlProblem } from "./notify-url.js";

/** Settings the operator of an afk installation controls through the environment. */
export interface OperatorSettings {
  /** `AFK_KILL_SWITCH`: when on, afk starts no new work anywhere. */
  killSwitch: boolean;
  /** `AFK_ALLOWLIST`: `owner/repo` globs; a repository matching none is left alone. Empty = nothing runs. */
  allowlist: string[];
  /** `AFK_MAX_CONCURRENT_RUNS`: agent runs this process executes at once, across repositories. */
  maxConcurrentRuns: number;
  /** `AFK_CACHE_DIR`: where repository mirrors and worktrees live. */
  cacheDir: string;
  /** `AFK_MODEL`: the model used when a repository's config names none. */
  model: string | undefined;
  /** `AFK_LOCK_LEASE_SECONDS`: how long a repository lock survives without being renewed. */
  lockLeaseSeconds: number;
  /** `AFK_SHUTDOWN_GRACE_SECONDS`: on SIGTERM, how long runs may go on to finish before they are handed back. */
  shutdownGraceSeconds: number;
  /** `AFK_REPLICA_ID`: names this process in lock holders; defaults to host name and pid. */
  replicaId: string;
  /** `ANTHROPIC_API_KEY` is set (the key itself never leaves the executor's client). */
  hasAnthropicKey: boolean;
  /** `AFK_ALLOW_UNSANDBOXED`: run agent commands without bubblewrap when it is missing (never the default). */
  allowUnsandboxed: boolean;
  /** `AFK_MODEL_RETRIES`: retries of a model request answered 429, 529, 5xx or cut off, with backoff. */
  modelRetries: number;
  /**
   * `AFK_ALLOW_HOST_NETWORK`: where network-on commands cannot get a network of their own (slirp4netns
   * missing or unusable), run them on the host's network, where they reach its loopback services (never the default).
   */
  allowHostNetwork: boolean;
  /**
   * `AFK_NOTIFY_URL`: a Slack-compatible incoming webhook told when a run needs a person, fails, is
   * interrupted or is merged. Unset = no notifications. A secret: never logged.
   */
  notifyUrl?: string;
  /**
   * Where agents run: `local` (this host, the default) or `actions` (jobs in the runner repository,
   * ADR 0008). `AFK_EXECUTOR`; `AFK_REPO_EXECUTOR=on` lets a repository pick with `executor:` in its afk.yml.
   */
  executor: ExecutorSettings;
  /**
   * `AFK_RUN_LOG_DAYS`: how many days a run's log (`refs/afk/runs/<run id>` in its repository) is
   * kept; 0 writes no run logs at all. Default 30.
   */
  runLogDays: number;
}

/** Where agents run, and what the Actions executor needs. */
export interface ExecutorSettings {
  /** `AFK_EXECUTOR`: where a run goes when its repository does not choose. */
  default: "local" | "actions";
  /** `AFK_REPO_EXECUTOR`: whether a repository's `executor:` in `.github/afk.yml` is honoured. */
  perRepository: boolean;
  /** The Actions executor's settings, present when `AFK_RUNNER_REPO` and `AFK_PUBLIC_URL` are set. */
  actions?: ActionsSettings;
}

export interface ActionsSettings {
  /** `AFK_RUNNER_REPO`: `owner/name` of the repository whose `afk-job.yml` afk dispatches; the only one whose jobs it admits. */
  runnerRepo: string;
  /** `AFK_PUBLIC_URL`: afk's address as the runner reaches it (the job endpoint, the model proxy, and the OIDC audience). */
  publicUrl: string;
  /** `AFK_OIDC_ISSUER`: whose OIDC tokens prove a job; GitHub Actions' by default. */
  oidcIssuer: string;
}

/** GitHub Actions' OIDC issuer. */
export const GITHUB_ACTIONS_OIDC_ISSUER = "https://token.actions.githubusercontent.com";

export class OperatorSettingsError extends Error {
  constructor(readonly problems: string[]) {
    super(`afk cannot start: invalid operator settings\n${problems.map((problem) => `  - ${problem}`).join("\n")}`);
    this.name = "OperatorSettingsError";
  }
}

const ON = new Set(["1", "true", "on", "yes"]);
const OFF = new Set(["", "0", "false", "off", "no"]);
const REPO_GLOB = /^[A-Za-z0-9_.*?\-[\]]+\/[A-Za-z0-9_.*?\-[\]]+$/;

/**
 * Reads the operator settings. Every invalid value is reported at once, in one
 * error, so start-up fails with a message that names each variable to fix.
 */
export function readOperatorSettings(env: NodeJS.ProcessEnv): OperatorSettings {
  const problems: string[] = [];

  const killSwitch = onOff(env, "AFK_KILL_SWITCH", problems);
  const allowUnsandboxed = onOff(env, "AFK_ALLOW_UNSANDBOXED", problems);
  const allowHostNetwork = onOff(env, "AFK_ALLOW_HOST_NETWORK", problems);

  const allowlist = (env.AFK_ALLOWLIST ?? "")
    .split(/[\s,]+/)
    .map((entry) => entry.trim())
    .filter((entry) => entry.length > 0);
  for (const entry of allowlist) {
    if (!REPO_GLOB.test(entry)) {
      problems.push(`AFK_ALLOWLIST entry ${JSON.stringify(entry)} is not an owner/repo glob (examples: octo-org/*, octo-org/app, */docs)`);
    }
  }

  const maxConcurrentRuns = wholeNumber(env, "AFK_MAX_CONCURRENT_RUNS", 2, 1, 64, problems);
  const lockLeaseSeconds = wholeNumber(env, "AFK_LOCK_LEASE_SECONDS", 300, 30, 3600, problems);
  const modelRetries = wholeNumber(env, "AFK_MODEL_RETRIES", 4, 0, 10, problems);
  const shutdownGraceSeconds = wholeNumber(env, "AFK_SHUTDOWN_GRACE_SECONDS", 30, 0, 3600, problems);
  const runLogDays = wholeNumber(env, "AFK_RUN_LOG_DAYS", 30, 0, 3650, problems, "days to keep run logs; 0 keeps none");

  const model = env.AFK_MODEL?.trim();
  if (model !== undefined && env.AFK_MODEL !== undefined && model.length === 0) {
    problems.push("AFK_MODEL is set but empty (unset it, or name a model such as claude-sonnet-5-5)");
  }

  const notifyUrl = env.AFK_NOTIFY_URL?.trim() || undefined;
  const notifyProblem = notifyUrl === undefined ? undefined : notifyUrlProblem(notifyUrl);
  if (notifyProblem !== undefined) problems.push(`AFK_NOTIFY_URL ${notifyProblem}`);

  const executor = executorSettings(env, problems);

  if (problems.length > 0) throw new OperatorSettingsError(problems);
  return {
    killSwitch,
    allowlist,
    maxConcurrentRuns,
    cacheDir: env.AFK_CACHE_DIR?.trim() || join(homedir(), ".cache", "afk"),
    model: model || undefined,
    lockLeaseSeconds,
    replicaId: env.AFK_REPLICA_ID?.trim() || `${hostname()}-${process.pid}`,
    hasAnthropicKey: (env.ANTHROPIC_API_KEY ?? "").trim().length > 0,
    allowUnsandboxed,
    modelRetries,
    allowHostNetwork,
    shutdownGraceSeconds,
    ...(notifyUrl === undefined ? {} : { notifyUrl }),
    executor,
    runLogDays,
  };
}

function executorSettings(env: NodeJS.ProcessEnv, problems: string[]): ExecutorSettings {
  const chosen = (env.AFK_EXECUTOR ?? "").trim().toLowerCase() || "local";
  if (chosen !== "local" && chosen !== "actions") problems.push(`AFK_EXECUTOR=${JSON.stringify(env.AFK_EXECUTOR)} is not local or actions`);
  const perRepository = onOff(env, "AFK_REPO_EXECUTOR", problems);
  const runnerRepo = env.AFK_RUNNER_REPO?.trim() ?? "";
  const publicUrl = (env.AFK_PUBLIC_URL?.trim() ?? "").replace(/\/+$/, "");
  const oidcIssuer = (env.AFK_OIDC_ISSUER?.trim() || GITHUB_ACTIONS_OIDC_ISSUER).replace(/\/+$/, "");
  const wanted = chosen === "actions" || perRepository || runnerRepo !== "" || publicUrl !== "";
  let actions: ActionsSettings | undefined;
  if (wanted) {
    const before = problems.length;
    if (runnerRepo === "") problems.push("AFK_RUNNER_REPO is not set: name the runner repository as owner/name (`afk init-runner` says how to make one)");
    else if (!REPO_FULL_NAME.test(runnerRepo)) problems.push(`AFK_RUNNER_REPO=${JSON.stringify(runnerRepo)} is not owner/name`);
    if (publicUrl === "") problems.push("AFK_PUBLIC_URL is not set: give afk's address as GitHub Actions runners reach it, such as https://afk.example.com");
    else {
      const problem = originProblem(publicUrl) ?? (new URL(publicUrl).pathname === "/" ? undefined : `${JSON.stringify(publicUrl)} must have no path`);
      if (problem !== undefined) problems.push(`AFK_PUBLIC_URL ${problem}`);
    }
    const issuerProblem = originProblem(oidcIssuer);
    if (issuerProblem !== undefined) problems.push(`AFK_OIDC_ISSUER ${issuerProblem}`);
    if (problems.length === before) actions = { runnerRepo, publicUrl, oidcIssuer };
  }
  return { default: chosen === "actions" ? "actions" : "local", perRepository, ...(actions === undefined ? {} : { actions }) };
}

/** Why an address afk serves or trusts for jobs will not do (undefined when it will): https, or http to a loopback address (tests, a local runner); an origin only, no credentials. */
function originProblem(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return `${JSON.stringify(url)} is not a URL`;
  }
  if (parsed.username !== "" || parsed.password !== "") return "must not carry credentials";
  if (parsed.search !== "" || parsed.hash !== "") return `${JSON.stringify(url)} must not have a query or fragment`;
  if (parsed.protocol !== "https:" && !(parsed.protocol === "http:" && isLoopbackHost(parsed.hostname)))
    return `${JSON.stringify(url)} must be https:// (http:// only to 127.0.0.1, ::1 or localhost)`;
  return undefined;
}

/** Whether `owner/repo` matches the operator's allowlist (case-insensitive, as GitHub names are). */
export function isRepositoryAllowed(settings: Pick<OperatorSettings, "allowlist">, fullName: string): boolean {
  return settings.allowlist.some((glob) => picomatch.isMatch(fullName, glob, { nocase: true, dot: true }));
}

function onOff(env: NodeJS.ProcessEnv, name: string, problems: string[]): boolean {
  const raw = (env[name] ?? "").trim().toLowerCase();
  if (ON.has(raw)) return true;
  if (!OFF.has(raw)) problems.push(`${name}=${JSON.stringify(env[name])} is not on or off (use one of: on, off, true, false, 1, 0)`);
  return false;
}

function wholeNumber(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number, problems: string[], meaning?: string): number {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value < min || value > max) {
    problems.push(
      `${name}=${JSON.stringify(env[name])} must be a whole number from ${min} to ${max} (${meaning === undefined ? "" : `${meaning}; `}default ${fallback})`,
    );
    return fallback;
  }
  return value;
}
