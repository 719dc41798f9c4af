import { hostname, homedir } from "node:os";
import { join } from "node:path";
import picomatch from "picomatch";
import { notifyUrlProblem } from "./notify-url.js";

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
}

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

  const model = env.AFK_MODEL?.trim();
  if (model !== undefined && env.AFK_MODEL !== undefined && model.length === 0) {
    problems.push("AFK_MODEL is set but empty (unset it, or name a model such as claude-sonnet-5-5)");
  }

  const notifyUrl = env.AFK_NOTIFY_URL?.trim() || undefined;
  const notifyProblem = notifyUrl === undefined ? undefined : notifyUrlProblem(notifyUrl);
  if (notifyProblem !== undefined) problems.push(`AFK_NOTIFY_URL ${notifyProblem}`);

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
  };
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

function wholeNumber(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number, problems: string[]): number {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value < min || value > max) {
    problems.push(`${name}=${JSON.stringify(env[name])} must be a whole number from ${min} to ${max} (default ${fallback})`);
    return fallback;
  }
  return value;
}
