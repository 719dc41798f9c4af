import { setTimeout as sleep } from "node:timers/promises";
import { errorMessage, errorStatus } from "./types.js";

/**
 * Whether a failed GitHub call is worth trying again: a server error, a rate limit (429, or a 403
 * that says "rate limit"), or no answer at all (the connection failed). Anything else (404, 422, a
 * 403 for a missing permission) would fail the same way again.
 */
export function isTransient(error: unknown): boolean {
  const status = errorStatus(error);
  // Without a status: only a connection that failed, told by its error code (never by message text, which can quote anything).
  if (status === undefined) return connectionFailure(error) !== undefined;
  if (status >= 500 || status === 429) return true;
  return status === 403 && error instanceof Error && /rate limit/i.test(error.message);
}

/** Connection failures that say GitHub cannot be reached at all, rather than that one exchange broke. */
const UNREACHABLE_CODES = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH", "UND_ERR_CONNECT_TIMEOUT"]);
const NETWORK_CODES = new Set([...UNREACHABLE_CODES, "ECONNRESET", "ETIMEDOUT", "EPIPE", "UND_ERR_SOCKET"]);

/**
 * The error code of a connection to GitHub that could not be made (refused, host name not resolved,
 * no route): GitHub is unreachable, which waiting seconds does not mend. Octokit reports such a
 * failure as a status 500 without a response, the network's code a few `cause`s down.
 */
export function unreachableCode(error: unknown): string | undefined {
  if (answeredByGitHub(error)) return undefined;
  const code = connectionFailure(error);
  return code !== undefined && UNREACHABLE_CODES.has(code) ? code : undefined;
}

/** The network error code anywhere in `error`'s chain of causes, if the request got no answer. */
function connectionFailure(error: unknown): string | undefined {
  let current: unknown = error;
  // Octokit's RequestError → fetch's TypeError → undici's error (or an AggregateError of one per address).
  for (let depth = 0; depth < 5 && typeof current === "object" && current !== null; depth += 1) {
    const code = "code" in current && typeof current.code === "string" ? current.code : undefined;
    if (code !== undefined && NETWORK_CODES.has(code)) return code;
    current = "cause" in current ? current.cause : undefined;
  }
  return undefined;
}

/** Whether a failed request got an answer from GitHub at all (Octokit reports a failed connection without a response). */
export function answeredByGitHub(error: unknown): boolean {
  return typeof error === "object" && error !== null && "response" in error && error.response !== undefined;
}

export interface RetryPolicy {
  /** Tries in all, the first included. */
  attempts: number;
  /** The wait before the second try; it doubles each time (with up to 50% added at random). */
  baseMs: number;
}

/**
 * How often afk repeats a whole step (an intake, a lifecycle effect) that failed on GitHub after the
 * Octokit plugins had given up on its request (`src/github/octokit.ts`): twice more, 5 s and then
 * 10 s later, for an incident longer than the plugins wait out.
 */
export const GITHUB_RETRY: RetryPolicy = { attempts: 3, baseMs: 5_000 };

/** The one method of a logger `retryTransient` uses: pino's `warn(fields, message)`. */
export interface WarnLog {
  warn(fields: object, message: string): void;
}

export interface RetryOptions {
  /** Where each repeat is logged, at warn level (a Probot `Logger` is one). */
  log?: WarnLog;
  /** What the step does, for the log ("dispatch the next queued issue"). */
  what?: string;
  /** Stops the repeats; the last error is thrown. */
  signal?: AbortSignal;
}

/**
 * Runs `work`, repeating it while it fails with a transient GitHub answer the request-level retries
 * already gave up on (a 5xx that lasted, a rate limit longer than they wait). An unreachable GitHub
 * is not repeated here: its request was tried and logged already, and minutes of repeats would only
 * hide it. The work must be safe to repeat: afk's steps are (a delivery id already acted on is
 * skipped, the lock and the state marker are compare-and-set or overwrite the same value). Each
 * repeat is logged; the last error is thrown (the caller logs the give-up).
 */
export async function retryTransient<T>(work: () => Promise<T>, policy: RetryPolicy, options: RetryOptions = {}): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await work();
    } catch (error) {
      if (attempt >= policy.attempts || !worthRepeating(error) || options.signal?.aborted === true) throw error;
      const waitMs = repeatWaitMs(policy, attempt, error);
      options.log?.warn(
        { err: error, step: options.what, attempt, attempts: policy.attempts, waitMs },
        `afk repeats ${options.what === undefined ? "a step" : `"${options.what}"`} in ${formatWait(waitMs)} (try ${attempt + 1} of ${policy.attempts}): GitHub still failed after its retries: ${errorMessage(error)}`,
      );
      await sleep(waitMs, undefined, { ref: false });
    }
  }
}

/** Whether a step that failed on GitHub is repeated: transient, and GitHub was reachable. */
export function worthRepeating(error: unknown): boolean {
  return isTransient(error) && unreachableCode(error) === undefined;
}

/** The wait before try `attempt + 1`: doubling backoff, never shorter than the `retry-after` GitHub asked for (up to a minute). */
export function repeatWaitMs(policy: RetryPolicy, attempt: number, error: unknown, random: () => number = Math.random): number {
  const backoff = policy.baseMs * 2 ** (attempt - 1);
  // GitHub says how long a rate limit lasts; waiting less only earns another refusal.
  return Math.max(Math.round(backoff + random() * backoff * 0.5), Math.min(retryAfterMs(error), MAX_RETRY_AFTER_MS));
}

const MAX_RETRY_AFTER_MS = 60_000;

function retryAfterMs(error: unknown): number {
  if (typeof error !== "object" || error === null || !("response" in error)) return 0;
  const response = error.response;
  if (typeof response !== "object" || response === null || !("headers" in response) || typeof response.headers !== "object" || response.headers === null)
    return 0;
  const value: unknown = "retry-after" in response.headers ? response.headers["retry-after"] : undefined;
  const seconds = Number(value);
  return Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : 0;
}

/** A wait as a person reads it: "1.5 s", "250 ms". */
export function formatWait(ms: number): string {
  return ms >= 1000 ? `${Number((ms / 1000).toFixed(1))} s` : `${Math.round(ms)} ms`;
}
