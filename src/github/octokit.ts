import { ProbotOctokit } from "probot";
import { CONDITIONAL_REQUESTS, type ConditionalRequests } from "./conditional-requests.js";
import { formatWait, unreachableCode } from "./transient.js";

/**
 * How each GitHub request is tried again, by the retry and throttling plugins inside Probot's
 * Octokit. This is afk's only request-level retry: nothing wraps these clients with another.
 */
export interface GitHubRequestPolicy {
  /** Retries after GitHub answered with a server error (5xx), waiting 1, 4, 9, ... "seconds". */
  serverErrorRetries: number;
  /** Retries after a connection that could not be made (refused, host not found): GitHub unreachable is no blip. */
  unreachableRetries: number;
  /** Retries after a rate limit, primary or secondary, each after the wait GitHub asks for. */
  rateLimitRetries: number;
  /** The longest rate-limit wait afk accepts, in seconds; a later reset is given up on at once (and logged). */
  maxRateLimitWaitSeconds: number;
  /** Milliseconds in one of the plugins' seconds: 1000, except in tests. */
  secondMs: number;
}

/**
 * Production: a server error is tried 3 more times over 14 s, an unreachable GitHub once more
 * after 1 s, a rate limit twice more after the wait GitHub names if that is at most 2 minutes.
 */
export const GITHUB_REQUEST_POLICY: GitHubRequestPolicy = {
  serverErrorRetries: 3,
  unreachableRetries: 1,
  rateLimitRetries: 2,
  maxRateLimitWaitSeconds: 120,
  secondMs: 1000,
};

/** The retry plugin's default statuses not to retry, and 429: a rate limit is the throttling plugin's to wait out. */
const DO_NOT_RETRY = [400, 401, 403, 404, 410, 422, 429, 451];

type OctokitOptions = NonNullable<ConstructorParameters<typeof ProbotOctokit>[0]>;
type GitHubLog = InstanceType<typeof ProbotOctokit>["log"];
/** The throttling plugin's handler: whether to retry after `retryAfter` seconds, told the request and the retries so far. */
type LimitHandler = (retryAfter: number, options: { method: string; url: string }, octokit: { log: GitHubLog }, retryCount: number) => boolean;

/**
 * Probot's Octokit with `policy` set on its retry and throttling plugins, and each retry and each
 * give-up logged at warn level with the request (method and route) and the wait. Hand it to Probot
 * (`run(..., { Octokit })`, `createProbot({ overrides: { Octokit } })`): every client Probot makes
 * (webhook contexts, `app.auth()`) is then one. The options go in the constructor because Probot
 * merges its own throttle handlers over `Octokit.defaults(...)`.
 */
export function createAfkOctokit(
  policy: GitHubRequestPolicy = GITHUB_REQUEST_POLICY,
  conditional: ConditionalRequests | undefined = CONDITIONAL_REQUESTS,
): typeof ProbotOctokit {
  return class AfkOctokit extends ProbotOctokit {
    constructor(options: OctokitOptions = {}) {
      super(withPolicy(options, policy));
      // Outside the retries: a 304 is an answer, and a retried GET asks with the same ETag.
      conditional?.install(this);
      // Each call gets its own `request` options: the retry plugin counts a call's retries there, and
      // Octokit otherwise hands every call of a client the same object, so one call's retries were
      // counted against the next (which then got fewer tries, and longer waits).
      // (Every hook of a call is handed the same options object, so the copy is put there, not passed on.)
      this.hook.wrap("request", (request, callOptions) => {
        callOptions.request = { ...callOptions.request };
        return request(callOptions);
      });
      const retryRequest = this.retry.retryRequest;
      const log = this.log;
      // The retry plugin asks this on every failure it may retry (5xx, no answer), with the retries it
      // allows and the wait in its seconds; it retries while the retries done are fewer than allowed.
      this.retry.retryRequest = (error, retries, retryAfter) => {
        const done = retriesDone(retryAfter);
        const unreachable = unreachableCode(error);
        const allowed = unreachable === undefined ? retries : Math.min(retries, policy.unreachableRetries);
        const what = `GitHub request ${operationOf(error.request)} failed (${unreachable === undefined ? `${error.status} ${error.message}` : `GitHub unreachable: ${unreachable}`})`;
        log.warn(
          done < allowed
            ? `${what}; retrying in ${formatWait(retryAfter * policy.secondMs)} (retry ${done + 1} of ${allowed})`
            : `${what}; giving up after ${done + 1} ${done === 0 ? "try" : "tries"}`,
        );
        return retryRequest(error, allowed, retryAfter);
      };
    }
  };
}

/** afk's Octokit with the production policy. */
export const AfkOctokit = createAfkOctokit();

function withPolicy(options: OctokitOptions, policy: GitHubRequestPolicy): OctokitOptions {
  const retry = { ...options.retry, retries: policy.serverErrorRetries, retryAfterBaseValue: policy.secondMs, doNotRetry: DO_NOT_RETRY };
  // A client made with throttling off (Probot does so for installations when the App's is off) stays off.
  if (options.throttle?.enabled === false) return { ...options, retry };
  return {
    ...options,
    retry,
    throttle: {
      ...options.throttle,
      retryAfterBaseValue: policy.secondMs,
      onRateLimit: rateLimitHandler("rate limit", policy),
      onSecondaryRateLimit: rateLimitHandler("secondary rate limit", policy),
    },
  };
}

/** Waits out a rate limit as long as GitHub asks, up to the policy's bounds; says what it does either way. */
function rateLimitHandler(kind: string, policy: GitHubRequestPolicy): LimitHandler {
  return (retryAfter, options, octokit, retryCount) => {
    const what = `GitHub ${kind} on ${options.method} ${options.url} (GitHub asks to wait ${formatWait(retryAfter * policy.secondMs)})`;
    const log: GitHubLog = octokit.log;
    if (retryCount >= policy.rateLimitRetries) {
      log.warn(`${what}; giving up after ${retryCount + 1} tries`);
      return false;
    }
    if (retryAfter > policy.maxRateLimitWaitSeconds) {
      log.warn(`${what}; giving up: afk waits at most ${formatWait(policy.maxRateLimitWaitSeconds * policy.secondMs)} for a rate limit`);
      return false;
    }
    log.warn(`${what}; retrying in ${formatWait(retryAfter * policy.secondMs)} (retry ${retryCount + 1} of ${policy.rateLimitRetries})`);
    return true;
  };
}

/**
 * The retries a call has had, from the wait the retry plugin proposes: (retries + 1)² of its
 * seconds. Read from the wait because the failing request may be one the call made on the way (its
 * installation token), whose options are not the call's.
 */
function retriesDone(retryAfter: number): number {
  return Math.max(0, Math.round(Math.sqrt(retryAfter)) - 1);
}

/** `GET /repos/octo/app/issues/1`: the method and the path, without the host or the query. */
function operationOf(request: { method: string; url: string }): string {
  try {
    return `${request.method} ${new URL(request.url).pathname}`;
  } catch {
    return `${request.method} ${request.url.split("?")[0] ?? ""}`;
  }
}
