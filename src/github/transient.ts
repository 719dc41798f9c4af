import { setTimeout as sleep } from "node:timers/promises";
import { errorStatus, type GitHub } from "./types.js";

/**
 * Whether a failed GitHub call is worth trying again: a server error, a rate limit (429, or a 403
 * that says "rate limit"), or no answer at all (the connection failed). Anything else (404, 422, a
 * 403 for a missing permission) would fail the same way again.
 */
export function isTransient(error: unknown): boolean {
  const status = errorStatus(error);
  // Without a status: only a connection that failed, told by its error code (never by message text, which can quote anything).
  if (status === undefined) return NETWORK_CODES.has(errorCode(error) ?? "") || NETWORK_CODES.has(errorCode(error instanceof Error ? error.cause : undefined) ?? "");
  if (status >= 500 || status === 429) return true;
  return status === 403 && error instanceof Error && /rate limit/i.test(error.message);
}

const NETWORK_CODES = new Set(["ECONNRESET", "ECONNREFUSED", "ETIMEDOUT", "EPIPE", "EAI_AGAIN", "UND_ERR_SOCKET", "UND_ERR_CONNECT_TIMEOUT"]);

function errorCode(error: unknown): string | undefined {
  return typeof error === "object" && error !== null && "code" in error && typeof error.code === "string" ? error.code : undefined;
}

export interface RetryPolicy {
  /** Tries in all, the first included. */
  attempts: number;
  /** The wait before the second try; it doubles each time (with up to 50% added at random). */
  baseMs: number;
}

/** A few tries over about half a minute: long enough for a secondary rate limit or a deploy of GitHub's to pass. */
export const GITHUB_RETRY: RetryPolicy = { attempts: 5, baseMs: 2_000 };

/**
 * Runs `work`, trying again while it fails with a transient GitHub error. The work must be safe to
 * repeat: afk's steps are (a delivery id already acted on is skipped, the lock and the state marker
 * are compare-and-set or overwrite the same value). The last error is thrown.
 */
export async function retryTransient<T>(work: () => Promise<T>, policy: RetryPolicy, signal?: AbortSignal): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await work();
    } catch (error) {
      if (attempt >= policy.attempts || !isTransient(error) || signal?.aborted === true) throw error;
      const backoff = policy.baseMs * 2 ** (attempt - 1);
      // GitHub says how long a rate limit lasts; waiting less only earns another refusal.
      const wait = Math.max(backoff + Math.random() * backoff * 0.5, Math.min(retryAfterMs(error), MAX_RETRY_AFTER_MS));
      await sleep(wait, undefined, { ref: false });
    }
  }
}

const MAX_RETRY_AFTER_MS = 60_000;

function retryAfterMs(error: unknown): number {
  if (typeof error !== "object" || error === null || !("response" in error)) return 0;
  const response = error.response;
  if (typeof response !== "object" || response === null || !("headers" in response) || typeof response.headers !== "object" || response.headers === null) return 0;
  const value: unknown = "retry-after" in response.headers ? response.headers["retry-after"] : undefined;
  const seconds = Number(value);
  return Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : 0;
}

const guarded = new WeakSet<object>();

/**
 * Makes every request of `octokit` try again while GitHub fails transiently, on top of Octokit's
 * own retry plugin (which leaves secondary rate limits to the caller, as Probot configures it).
 * Request by request, so a long step is not repeated from its start because its tenth call met a
 * rate limit. Safe to call more than once on the same client.
 */
export function withTransientRetries(octokit: GitHub, policy: RetryPolicy): GitHub {
  if (guarded.has(octokit)) return octokit;
  guarded.add(octokit);
  octokit.hook.wrap("request", (request, options) => retryTransient(async () => request(options), policy));
  return octokit;
}
