import type { RepoRef } from "../github/types.js";
import type { RunState } from "../lifecycle/run-state.js";
import { notificationFor, type Notification } from "./notification.js";
import { notifyUrlProblem } from "../config/notify-url.js";

/** The log lines the notifier writes (Probot's logger has this shape). */
export interface NotifierLog {
  info(details: object, message: string): void;
  warn(details: object, message: string): void;
  error(details: object, message: string): void;
}

export interface NotifierOptions {
  /** The incoming-webhook address (`AFK_NOTIFY_URL`, checked by `notifyUrlProblem`). A secret: never logged. */
  url: string;
  log: NotifierLog;
  /** How long one attempt may take, answer included; 10 s by default. */
  timeoutMs?: number;
  /** Attempts per message, the first included; 4 by default. */
  maxAttempts?: number;
  /** The wait before the second attempt, doubled before each later one; 1 s by default. */
  retryDelayMs?: number;
  /** The longest wait between attempts; a `Retry-After` asking for more ends the retries. 60 s by default. */
  maxRetryDelayMs?: number;
  /** Messages held while earlier ones are sent; a message beyond this is dropped and logged. 100 by default. */
  maxQueued?: number;
  /** The HTTP client; the platform's `fetch` by default. */
  fetch?: typeof globalThis.fetch;
}

/** What one attempt came to. */
type Attempt = { kind: "sent" } | { kind: "retry"; reason: string; retryAfterMs?: number } | { kind: "give-up"; reason: string };

const ANSWER_SNIPPET = 200;

/**
 * Sends notifications to a Slack-compatible incoming webhook in the background. `send` only queues:
 * it never waits on the network and never throws, so a slow, failing or hanging receiver cannot
 * hold up or break a run. Messages go out one at a time, in the order they were queued. Each is
 * POSTed with a timeout and retried a bounded number of times with doubling waits when the
 * receiver fails transiently (5xx, 408, 429 honouring `Retry-After`, no answer, a network error);
 * every failed attempt and every give-up is logged, and the address never is. Redirects are not
 * followed: the operator configured this address and no other.
 */
export class Notifier {
  readonly #url: string;
  readonly #log: NotifierLog;
  readonly #fetch: typeof globalThis.fetch;
  readonly #timeoutMs: number;
  readonly #maxAttempts: number;
  readonly #retryDelayMs: number;
  readonly #maxRetryDelayMs: number;
  readonly #maxQueued: number;
  readonly #queue: Notification[] = [];
  /** True from the moment a message is queued with no drain running until the queue is empty again. */
  #draining = false;
  #drained: Promise<void> = Promise.resolve();

  /** Throws if the address is unusable; `readOperatorSettings` reports that at start-up first. */
  constructor(options: NotifierOptions) {
    const problem = notifyUrlProblem(options.url);
    if (problem !== undefined) throw new Error(`The notification webhook address ${problem}`);
    this.#url = options.url;
    this.#log = options.log;
    this.#fetch = options.fetch ?? globalThis.fetch;
    this.#timeoutMs = options.timeoutMs ?? 10_000;
    this.#maxAttempts = Math.max(1, options.maxAttempts ?? 4);
    this.#retryDelayMs = options.retryDelayMs ?? 1_000;
    this.#maxRetryDelayMs = options.maxRetryDelayMs ?? 60_000;
    this.#maxQueued = options.maxQueued ?? 100;
  }

  /** Queues a message and returns at once. */
  send(notification: Notification): void {
    if (this.#queue.length >= this.#maxQueued) {
      this.#log.error(
        { notification: notification.subject, kind: notification.kind, queued: this.#queue.length },
        "afk dropped a notification: too many are waiting to be sent",
      );
      return;
    }
    this.#queue.push(notification);
    if (!this.#draining) {
      this.#draining = true;
      this.#drained = this.#drain();
    }
  }

  /** Resolves once every queued message is sent or given up on (tests, shutdown). Never rejects. */
  async flush(): Promise<void> {
    while (this.#draining) await this.#drained;
  }

  async #drain(): Promise<void> {
    try {
      for (let next = this.#queue.shift(); next !== undefined; next = this.#queue.shift()) {
        try {
          await this.#deliver(next);
        } catch (error) {
          this.#log.error({ notification: next.subject, err: error }, "afk could not send a notification");
        }
      }
    } finally {
      // Set in the same step that found the queue empty, so a message queued after it starts a new drain.
      this.#draining = false;
    }
  }

  async #deliver(notification: Notification): Promise<void> {
    const details = { notification: notification.subject, kind: notification.kind };
    const body = JSON.stringify(notification.message);
    for (let attempt = 1; ; attempt++) {
      const result = await this.#attempt(body);
      if (result.kind === "sent") {
        if (attempt > 1) this.#log.info({ ...details, attempt }, "afk sent a notification after retrying");
        return;
      }
      if (result.kind === "give-up") {
        this.#log.error({ ...details, attempt, reason: result.reason }, "afk gave up on a notification: the receiver refused it");
        return;
      }
      if (attempt >= this.#maxAttempts) {
        this.#log.error({ ...details, attempt, reason: result.reason }, `afk gave up on a notification after ${attempt} attempts`);
        return;
      }
      const waitMs = result.retryAfterMs ?? Math.min(this.#retryDelayMs * 2 ** (attempt - 1), this.#maxRetryDelayMs);
      if (waitMs > this.#maxRetryDelayMs) {
        this.#log.error(
          { ...details, attempt, reason: result.reason, retryAfterMs: waitMs },
          "afk gave up on a notification: the receiver asked it to wait longer than it retries",
        );
        return;
      }
      this.#log.warn({ ...details, attempt, reason: result.reason, retryInMs: waitMs }, "afk could not send a notification; retrying");
      await new Promise((resolve) => setTimeout(resolve, waitMs));
    }
  }

  async #attempt(body: string): Promise<Attempt> {
    let response: Response;
    try {
      response = await this.#fetch(this.#url, {
        method: "POST",
        headers: { "content-type": "application/json; charset=utf-8" },
        body,
        redirect: "manual",
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (error) {
      return { kind: "retry", reason: networkFailure(error, this.#timeoutMs) };
    }
    const answer = await answerSnippet(response);
    return attemptResult(response.status, response.headers.get("retry-after"), answer, Date.now());
  }
}

/**
 * What a receiver's answer means for the message: 2xx delivered it; 5xx, 408 and 429 may pass and
 * are retried (429 after its `Retry-After`, in seconds or as a date); a redirect or any other answer
 * will not change and ends the attempts. Pure.
 */
function attemptResult(status: number, retryAfter: string | null, answer: string, nowMs: number): Attempt {
  const said = answer.length > 0 ? `: ${answer}` : "";
  if (status >= 200 && status < 300) return { kind: "sent" };
  if (status >= 300 && status < 400)
    return { kind: "give-up", reason: `HTTP ${status}, a redirect, which afk does not follow (set AFK_NOTIFY_URL to the final address)` };
  if (status === 429) {
    const waitMs = retryAfterMs(retryAfter, nowMs);
    return { kind: "retry", reason: `HTTP 429${said}`, ...(waitMs === undefined ? {} : { retryAfterMs: waitMs }) };
  }
  if (status >= 500 || status === 408) return { kind: "retry", reason: `HTTP ${status}${said}` };
  return { kind: "give-up", reason: `HTTP ${status}${said}` };
}

/** A `Retry-After` header as milliseconds from now: whole seconds or an HTTP date. */
function retryAfterMs(header: string | null, nowMs: number): number | undefined {
  if (header === null) return undefined;
  const trimmed = header.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1_000;
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

/** The start of the receiver's answer, on one line, for the log (Slack answers `invalid_payload`, `no_service`…). */
async function answerSnippet(response: Response): Promise<string> {
  const reader = response.body?.getReader();
  if (reader === undefined) return "";
  const chunks: Uint8Array[] = [];
  let bytes = 0;
  try {
    // Reads no more than a snippet's worth: a receiver cannot make afk buffer a large answer.
    while (bytes < ANSWER_SNIPPET * 4) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      bytes += value.byteLength;
    }
  } catch {
    // The answer was cut off (the attempt's timeout); its status is what counts.
  } finally {
    reader.cancel().catch(() => undefined);
  }
  const text = new TextDecoder().decode(Buffer.concat(chunks));
  return text
    .replace(/[\u0000-\u001F\u007F-\u009F]+/g, " ")
    .trim()
    .slice(0, ANSWER_SNIPPET);
}

function networkFailure(error: unknown, timeoutMs: number): string {
  if (error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError")) return `no answer within ${timeoutMs} ms`;
  const cause = error instanceof Error ? error.cause : undefined;
  const code = typeof cause === "object" && cause !== null && "code" in cause && typeof cause.code === "string" ? cause.code : undefined;
  const message = error instanceof Error ? error.message : String(error);
  return code === undefined ? message : `${message} (${code})`;
}

/**
 * The run-state observer (the coordinator's `observer`, told of every state it writes) that queues
 * a notification when a run reaches an ending a person should hear about. Returns at once.
 */
export function notifyingObserver(notifier: Pick<Notifier, "send">): {
  stateWritten(repo: Pick<RepoRef, "owner" | "repo">, before: RunState | undefined, after: RunState): void;
} {
  return {
    stateWritten(repo, before, after) {
      const notification = notificationFor(before, after, repo);
      if (notification !== undefined) notifier.send(notification);
    },
  };
}
