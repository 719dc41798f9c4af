import type { IncomingMessage, ServerResponse } from "node:http";
import type { Spend, TokenUsage } from "../run-contract/executor.js";
import type { JobBudget, JobCredentialClaims } from "./job-credential.js";

/** The largest request body afk forwards: a 1M-token context as JSON, with room. Anything longer is answered 413 unread. */
export const MAX_REQUEST_BYTES = 8 * 1024 * 1024;
/** How long a run's second request waits, as `retry-after`, while its first is in flight. */
export const IN_FLIGHT_RETRY_AFTER_SECONDS = 1;
/** An upstream error body is relayed up to this many bytes (they are short JSON). */
const MAX_ERROR_BODY_BYTES = 64 * 1024;
/** A JSON (not streamed) answer is kept up to this many bytes to read its usage; it is relayed whole either way. */
const MAX_JSON_ANSWER_BYTES = 32 * 1024 * 1024;
/** One server-sent event is parsed up to this many characters; the API's are a few hundred. */
const MAX_EVENT_CHARS = 1024 * 1024;
/** Tokens afk estimates for text the answer did not count itself: about four characters a token. */
const CHARS_PER_TOKEN = 4;

/** The Messages API parameters afk forwards: what its agent loop sends, and sampling settings that cost nothing extra. */
const FORWARDED_PARAMS: ReadonlySet<string> = new Set([
  "model",
  "max_tokens",
  "messages",
  "system",
  "tools",
  "tool_choice",
  "stream",
  "temperature",
  "top_p",
  "top_k",
  "stop_sequences",
  "metadata",
  "thinking",
]);
/** Betas afk forwards: none changes the price of a token or reaches beyond the Messages API. */
const FORWARDED_BETAS: ReadonlySet<string> = new Set([
  "fine-grained-tool-streaming-2025-05-14",
  "interleaved-thinking-2025-05-14",
  "token-efficient-tools-2025-02-19",
  "output-128k-2025-02-19",
]);
/** Tools the job runs itself (afk's agent uses bash and the text editor); server tools bill fees that `usage` tokens do not show. */
const CLIENT_TOOL_TYPE = /^(custom|(bash|text_editor)_\d{8})$/;

export interface ModelProxyDeps {
  /** Where afk reaches the Messages API: ANTHROPIC_BASE_URL, or https://api.anthropic.com. */
  upstreamBaseUrl: string;
  /** afk's model key; only ever sent upstream, as `x-api-key`. */
  apiKey: string;
  /**
   * What one turn of `model` with this usage costs in dollars, or undefined when afk has no price for
   * the model (then no call for it is forwarded: afk could not hold it to `max_usd`). The App passes
   * the executor's `priceOf`/`costOf` (src/executor/agent/model-pricing.ts), which this layer may not import.
   */
  costOf: (model: string, usage: TokenUsage) => number | undefined;
  /** The HTTP client for the upstream; the platform's `fetch` by default. */
  fetch?: typeof globalThis.fetch;
  log: { warn(obj: object, msg: string): void; info(obj: object, msg: string): void };
}

/** An answer in the Messages API's error shape, so the job's SDK raises it and its agent reports the message. */
export interface ProxyRefusal {
  status: number;
  type: "invalid_request_error" | "permission_error" | "not_found_error" | "request_too_large" | "rate_limit_error" | "api_error";
  message: string;
  headers?: Record<string, string>;
}

const NO_TOKENS: TokenUsage = { input: 0, output: 0, cacheWrite: 0, cacheRead: 0 };

interface RunAccount {
  usd: number;
  turns: number;
  tokens: TokenUsage;
  inFlight: boolean;
  /** The latest expiry of a credential seen for the run (ms since the epoch): after it, no request can reach the account. */
  expiresAt: number;
}

/**
 * Model spend per run as this process counted it (turns, dollars, tokens), and the one request in
 * flight each run may have. Counts live in this process only: another replica, or this one after a
 * restart, starts from nothing, so with R replicas a job could spend up to R budgets (the App deals
 * with replicas). A run's account is dropped once every credential seen for it has expired, or by `forget`.
 */
export class RunSpendLedger {
  readonly #runs = new Map<string, RunAccount>();
  readonly #now: () => number;

  constructor(options: { now?: () => number } = {}) {
    this.#now = options.now ?? Date.now;
  }

  /** The run's spend so far (zero for a run this process has not served). */
  spendOf(runId: string): Spend {
    const account = this.#runs.get(runId);
    if (account === undefined) return { usd: 0, turns: 0, tokens: { ...NO_TOKENS } };
    return { usd: account.usd, turns: account.turns, tokens: { ...account.tokens } };
  }

  /** Whether a request for the run is being served. */
  inFlight(runId: string): boolean {
    return this.#runs.get(runId)?.inFlight === true;
  }

  /** Takes the run's one request slot, or answers false while another request holds it. Every `begin` that succeeds is followed by one `end`. */
  begin(runId: string, credentialExpiresAt: Date): boolean {
    this.#dropExpired();
    const account = this.#runs.get(runId) ?? { usd: 0, turns: 0, tokens: { ...NO_TOKENS }, inFlight: false, expiresAt: 0 };
    if (account.inFlight) return false;
    account.inFlight = true;
    account.expiresAt = Math.max(account.expiresAt, credentialExpiresAt.getTime());
    this.#runs.set(runId, account);
    return true;
  }

  /** Frees the run's slot, counting the turn it served (if it reached the model) and its cost. */
  end(runId: string, turn: { usd: number; tokens: TokenUsage } | undefined): void {
    const account = this.#runs.get(runId);
    if (account === undefined) return;
    account.inFlight = false;
    if (turn === undefined) return;
    account.turns += 1;
    account.usd += turn.usd;
    account.tokens = {
      input: account.tokens.input + turn.tokens.input,
      output: account.tokens.output + turn.tokens.output,
      cacheWrite: account.tokens.cacheWrite + turn.tokens.cacheWrite,
      cacheRead: account.tokens.cacheRead + turn.tokens.cacheRead,
    };
  }

  /** Drops a settled run's account (unless a request for it is in flight). */
  forget(runId: string): void {
    if (this.#runs.get(runId)?.inFlight !== true) this.#runs.delete(runId);
  }

  #dropExpired(): void {
    const now = this.#now();
    for (const [runId, account] of this.#runs) if (!account.inFlight && account.expiresAt <= now) this.#runs.delete(runId);
  }
}

/**
 * afk's Messages API proxy for jobs on GitHub Actions (ADR 0008): the job's agent loop calls
 * `POST <afk>/afk/jobs/model/v1/messages` with its job credential as its key, and afk forwards the
 * request with its own key, streams the answer back as it comes, and counts the turn's `usage`
 * against the run's budget. The job never holds afk's key, cannot switch to another model, server
 * tools or price-changing betas, and cannot have two requests in flight: so it cannot spend past its
 * budget by more than the one turn it is in. Spend is counted per process (see {@link RunSpendLedger}).
 */
export class ModelProxy {
  readonly #deps: ModelProxyDeps;
  readonly #ledger: RunSpendLedger;
  readonly #fetch: typeof globalThis.fetch;
  readonly #messagesUrl: URL;

  constructor(deps: ModelProxyDeps, ledger: RunSpendLedger = new RunSpendLedger()) {
    const base = new URL(deps.upstreamBaseUrl.endsWith("/") ? deps.upstreamBaseUrl : `${deps.upstreamBaseUrl}/`);
    // Never echoed: a base URL carrying credentials would put them in errors and logs.
    if (base.username !== "" || base.password !== "") throw new Error("the model API's base URL must not carry credentials");
    if (base.protocol !== "https:" && base.protocol !== "http:") throw new Error("the model API's base URL must be http(s)");
    this.#deps = deps;
    this.#ledger = ledger;
    this.#fetch = deps.fetch ?? globalThis.fetch;
    this.#messagesUrl = new URL("v1/messages", base);
  }

  /** The spend this process counted for runs it served. */
  get ledger(): RunSpendLedger {
    return this.#ledger;
  }

  /**
   * Serves one request whose credential afk already verified (`claims`); `subpath` is what follows
   * JOB_PATHS.model in the request's URL ("/v1/messages"). Answers every request itself, never throws.
   */
  async serve(req: IncomingMessage, res: ServerResponse, claims: JobCredentialClaims, subpath: string): Promise<void> {
    const runId = claims.runId;
    if (req.method !== "POST" || subpath.split("?")[0] !== "/v1/messages")
      return this.#refuse(res, claims, { status: 404, type: "not_found_error", message: "afk's model proxy serves only POST /v1/messages" });
    const read = await readBody(req, MAX_REQUEST_BYTES);
    if (read === "gone") return;
    if (read === "too-large") {
      return this.#refuse(res, claims, {
        status: 413,
        type: "request_too_large",
        message: `the request is larger than afk's model proxy forwards (${MAX_REQUEST_BYTES / (1024 * 1024)} MB)`,
        headers: { connection: "close" },
      });
    }
    let body: unknown;
    try {
      body = JSON.parse(read.toString("utf8"));
    } catch {
      return this.#refuse(res, claims, { status: 400, type: "invalid_request_error", message: "the request body is not JSON" });
    }
    const refusal = checkMessagesRequest(body, headerOf(req, "anthropic-beta"), claims.budget) ?? this.#unpriced(claims.budget.model);
    if (refusal !== undefined) return this.#refuse(res, claims, refusal);

    if (!this.#ledger.begin(runId, claims.expiresAt)) {
      // 429: the SDK retries it at most its maxRetries times, after retry-after, then reports it. That lets
      // the SDK's own retry of a dropped connection through (afk may see the hang-up a moment later), and
      // a burst of parallel requests gets nothing but refusals, none of them forwarded.
      return this.#refuse(res, claims, {
        status: 429,
        type: "rate_limit_error",
        message: "afk's model proxy serves one request at a time for a run, and this run's previous request is still in flight",
        headers: { "retry-after": String(IN_FLIGHT_RETRY_AFTER_SECONDS) },
      });
    }
    let turn: { usd: number; tokens: TokenUsage } | undefined;
    try {
      // Checked while holding the slot: no other request of the run can be counted in between.
      const spent = budgetRefusal(this.#ledger.spendOf(runId), claims.budget);
      // 403: not retried by the SDK (it retries 408, 409, 429 and 5xx), so the agent stops at once.
      if (spent !== undefined) return this.#refuse(res, claims, { status: 403, type: "permission_error", message: spent });
      const forwarded = JSON.stringify(body);
      const tokens = await this.#forward(req, res, claims, forwarded);
      if (tokens !== undefined) turn = { usd: this.#deps.costOf(claims.budget.model, tokens) ?? 0, tokens };
    } finally {
      this.#ledger.end(runId, turn);
    }
    if (turn !== undefined) {
      const spend = this.#ledger.spendOf(runId);
      this.#deps.log.info({ runId, repository: claims.repository, turns: spend.turns, usd: spend.usd, tokens: turn.tokens }, "model proxy: turn counted");
    }
  }

  /**
   * Sends the request upstream with afk's key and relays the answer. Returns the turn's tokens when it
   * counts (the model answered 200, or the job hung up before it answered), undefined when it does not
   * (the model refused it or could not be reached: nothing was spent).
   */
  async #forward(req: IncomingMessage, res: ServerResponse, claims: JobCredentialClaims, body: string): Promise<TokenUsage | undefined> {
    const headers: Record<string, string> = { "content-type": "application/json", "x-api-key": this.#deps.apiKey };
    for (const name of ["accept", "anthropic-version", "anthropic-beta"]) {
      const value = headerOf(req, name);
      if (value !== undefined) headers[name] = value;
    }
    if (res.destroyed || req.socket.destroyed) return undefined; // the job hung up before its request went anywhere
    const hangUp = new AbortController();
    const onClose = (): void => {
      if (!res.writableFinished) hangUp.abort();
    };
    res.once("close", onClose);
    const meter = new UsageMeter(Buffer.byteLength(body));
    try {
      let answer: Response;
      try {
        // A redirect would carry afk's key to wherever it points: refused.
        answer = await this.#fetch(this.#messagesUrl, { method: "POST", headers, body, signal: hangUp.signal, redirect: "error" });
      } catch (error) {
        // The job hung up while the model worked: the request may be billed, so it counts, estimated.
        if (hangUp.signal.aborted) return meter.usage();
        this.#deps.log.warn(
          { runId: claims.runId, upstream: this.#messagesUrl.origin, error: failureCode(error) },
          "model proxy: the model API could not be reached",
        );
        this.#refuse(res, claims, { status: 502, type: "api_error", message: `afk could not reach the model API (${failureCode(error)}); try again later` });
        return undefined;
      }
      if (answer.status !== 200) {
        await this.#relayError(res, answer);
        return undefined;
      }
      const contentType = answer.headers.get("content-type") ?? "application/octet-stream";
      meter.expect(contentType.startsWith("text/event-stream") ? "sse" : contentType.startsWith("application/json") ? "json" : "other");
      res.writeHead(200, { "content-type": contentType, ...pick(answer.headers, ["request-id"]) });
      res.flushHeaders();
      const complete = answer.body === null || (await relay(answer.body, res, meter));
      if (complete) res.end();
      else res.destroy();
      return meter.usage();
    } finally {
      res.off("close", onClose);
    }
  }

  /** An upstream refusal (4xx, 5xx) relayed with its status, short and with afk's key struck out, should a gateway echo it. */
  async #relayError(res: ServerResponse, answer: Response): Promise<void> {
    const bytes = await readCapped(answer, MAX_ERROR_BODY_BYTES);
    const text = this.#deps.apiKey === "" ? bytes.toString("utf8") : bytes.toString("utf8").split(this.#deps.apiKey).join("[afk's key]");
    if (res.destroyed) return;
    res.writeHead(answer.status, {
      "content-type": answer.headers.get("content-type") ?? "application/json",
      ...pick(answer.headers, ["request-id", "retry-after", "x-should-retry"]),
    });
    res.end(text);
  }

  #unpriced(model: string): ProxyRefusal | undefined {
    if (this.#deps.costOf(model, NO_TOKENS) !== undefined) return undefined;
    return { status: 403, type: "permission_error", message: `afk has no price for the model \`${model}\`, so it cannot hold this run to its budget` };
  }

  #refuse(res: ServerResponse, claims: JobCredentialClaims, refusal: ProxyRefusal): void {
    if (refusal.status !== 502) this.#deps.log.warn({ runId: claims.runId, status: refusal.status, reason: refusal.message }, "model proxy: request refused");
    if (res.headersSent || res.destroyed) return;
    res.writeHead(refusal.status, { "content-type": "application/json", ...refusal.headers });
    res.end(JSON.stringify({ type: "error", error: { type: refusal.type, message: refusal.message } }));
  }
}

/**
 * Why afk does not forward a Messages API request, or undefined when it does: the body is a JSON
 * object of the parameters afk forwards, for the run's own model, with client tools only and no beta
 * that changes what a token costs.
 */
export function checkMessagesRequest(body: unknown, betas: string | undefined, budget: JobBudget): ProxyRefusal | undefined {
  const invalid = (message: string): ProxyRefusal => ({ status: 400, type: "invalid_request_error", message });
  if (typeof body !== "object" || body === null || Array.isArray(body)) return invalid("the request body must be a JSON object (a Messages API request)");
  const params = new Map(Object.entries(body));
  for (const key of params.keys())
    if (!FORWARDED_PARAMS.has(key)) return invalid(`afk's model proxy does not forward \`${clip(key)}\`; it forwards ${[...FORWARDED_PARAMS].join(", ")}`);
  const model = params.get("model");
  if (model !== budget.model)
    return {
      status: 403,
      type: "permission_error",
      message: `this run may use only the model \`${budget.model}\` (its budget is priced for it), not \`${clip(typeof model === "string" ? model : (JSON.stringify(model) ?? ""))}\``,
    };
  const tools = params.get("tools");
  if (Array.isArray(tools)) {
    for (const tool of tools) {
      const type: unknown = typeof tool === "object" && tool !== null && "type" in tool ? tool.type : undefined;
      if (type !== undefined && type !== null && (typeof type !== "string" || !CLIENT_TOOL_TYPE.test(type)))
        return invalid(
          `afk's model proxy does not forward the server tool \`${clip(String(type))}\`: its fees are not in the answer's token usage, so afk could not count them`,
        );
    }
  }
  for (const beta of (betas ?? "").split(",").map((name) => name.trim())) {
    if (beta !== "" && !FORWARDED_BETAS.has(beta))
      return invalid(`afk's model proxy does not forward the beta \`${clip(beta)}\`; it forwards ${[...FORWARDED_BETAS].join(", ")}`);
  }
  return undefined;
}

/** Why the run may not call the model again (its turns or dollars are spent), or undefined when it may. */
export function budgetRefusal(spend: Spend, budget: JobBudget): string | undefined {
  if (spend.turns < budget.maxTurns && spend.usd < budget.maxUsd) return undefined;
  return `afk's budget for this run is spent: $${spend.usd.toFixed(2)} of $${budget.maxUsd.toFixed(2)}, ${spend.turns} of ${budget.maxTurns} turns`;
}

/**
 * Reads the answer's `usage` as it passes: a JSON answer's `usage`, or a stream's
 * `message_start.message.usage` updated by each `message_delta.usage` (whose figures are totals so
 * far). An answer that stopped before its final usage (cut short, or the job hung up) counts what it
 * said so far, with its output estimated from the text that streamed by when that is more; one that
 * said nothing counts the request's size as input.
 */
class UsageMeter {
  readonly #requestBytes: number;
  #kind: "sse" | "json" | "other" = "other";
  readonly #decoder = new TextDecoder();
  #pending = "";
  readonly #json: Buffer[] = [];
  #jsonBytes = 0;
  #input: number | undefined;
  #output: number | undefined;
  #cacheWrite: number | undefined;
  #cacheRead: number | undefined;
  #final = false;
  #streamedChars = 0;

  constructor(requestBytes: number) {
    this.#requestBytes = requestBytes;
  }

  expect(kind: "sse" | "json" | "other"): void {
    this.#kind = kind;
  }

  push(chunk: Uint8Array): void {
    if (this.#kind === "json") {
      this.#jsonBytes += chunk.byteLength;
      if (this.#jsonBytes <= MAX_JSON_ANSWER_BYTES) this.#json.push(Buffer.from(chunk));
      return;
    }
    if (this.#kind !== "sse") return;
    let text = this.#pending + this.#decoder.decode(chunk, { stream: true });
    // A \r at the end may be half of a \r\n: it waits for the next chunk.
    const held = text.endsWith("\r") ? "\r" : "";
    text = text.slice(0, text.length - held.length).replace(/\r\n?/g, "\n");
    const events = text.split("\n\n");
    const rest = events.pop() ?? "";
    for (const event of events) this.#event(event);
    this.#pending = rest.length > MAX_EVENT_CHARS ? "" : rest + held;
  }

  /** The turn's tokens, as the answer counted them so far, estimated where it stopped before counting. */
  usage(): TokenUsage {
    if (this.#kind === "json" && !this.#final && this.#jsonBytes <= MAX_JSON_ANSWER_BYTES) this.#readJson();
    const estimatedOutput = Math.ceil(this.#streamedChars / CHARS_PER_TOKEN);
    return {
      input: this.#input ?? Math.ceil(this.#requestBytes / CHARS_PER_TOKEN),
      output: this.#final ? (this.#output ?? 0) : Math.max(this.#output ?? 0, estimatedOutput),
      cacheWrite: this.#cacheWrite ?? 0,
      cacheRead: this.#cacheRead ?? 0,
    };
  }

  #event(event: string): void {
    const data = event
      .split("\n")
      .filter((line) => line.startsWith("data:"))
      .map((line) => line.slice(line.startsWith("data: ") ? 6 : 5))
      .join("\n");
    if (data === "") return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(data);
    } catch {
      return;
    }
    const type = field(parsed, "type");
    if (type === "message_start") this.#apply(field(field(parsed, "message"), "usage"));
    else if (type === "message_delta") {
      this.#apply(field(parsed, "usage"));
      this.#final = field(parsed, "usage") !== undefined;
    } else if (type === "content_block_delta") {
      const delta = field(parsed, "delta");
      for (const key of ["text", "partial_json", "thinking"]) {
        const text = field(delta, key);
        if (typeof text === "string") this.#streamedChars += text.length;
      }
    }
  }

  #readJson(): void {
    try {
      const usage = field(JSON.parse(Buffer.concat(this.#json).toString("utf8")), "usage");
      this.#apply(usage);
      this.#final = usage !== undefined;
    } catch {
      // A JSON answer cut short: nothing it said can be read.
    }
  }

  #apply(usage: unknown): void {
    const count = (name: string): number | undefined => {
      const value = field(usage, name);
      return typeof value === "number" && Number.isFinite(value) && value >= 0 ? value : undefined;
    };
    this.#input = count("input_tokens") ?? this.#input;
    this.#output = count("output_tokens") ?? this.#output;
    this.#cacheWrite = count("cache_creation_input_tokens") ?? this.#cacheWrite;
    this.#cacheRead = count("cache_read_input_tokens") ?? this.#cacheRead;
  }
}

/** Relays the answer's bytes to the job as they come, metering them; true when the answer ended, false when it was cut short or the job hung up. */
async function relay(body: ReadableStream<Uint8Array>, res: ServerResponse, meter: UsageMeter): Promise<boolean> {
  const reader = body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return true;
      meter.push(value);
      if (res.destroyed) return false;
      if (!res.write(value)) await drainedOrClosed(res);
    }
  } catch {
    return false;
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}

function drainedOrClosed(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      res.off("drain", done);
      res.off("close", done);
      resolve();
    };
    res.on("drain", done);
    res.on("close", done);
  });
}

/** The request body; "too-large" as soon as it is longer than `max` bytes (the rest is not read); "gone" when the job hung up. */
function readBody(req: IncomingMessage, max: number): Promise<Buffer | "too-large" | "gone"> {
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > max) return Promise.resolve("too-large");
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let bytes = 0;
    const finish = (result: Buffer | "too-large" | "gone"): void => {
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("error", onGone);
      req.off("close", onGone);
      resolve(result);
    };
    const onData = (chunk: Buffer): void => {
      bytes += chunk.length;
      if (bytes <= max) return void chunks.push(chunk);
      req.pause();
      finish("too-large");
    };
    const onEnd = (): void => finish(Buffer.concat(chunks));
    const onGone = (): void => finish("gone");
    req.on("data", onData);
    req.once("end", onEnd);
    req.once("error", onGone);
    req.once("close", onGone);
  });
}

async function readCapped(answer: Response, max: number): Promise<Buffer> {
  if (answer.body === null) return Buffer.alloc(0);
  const reader = answer.body.getReader();
  const chunks: Buffer[] = [];
  let bytes = 0;
  try {
    while (bytes < max) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(Buffer.from(value));
      bytes += value.byteLength;
    }
  } catch {
    // Cut short: relay what came.
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  return Buffer.concat(chunks).subarray(0, max);
}

function headerOf(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return typeof value === "string" ? value : undefined;
}

function pick(headers: Headers, names: string[]): Record<string, string> {
  const picked: Record<string, string> = {};
  for (const name of names) {
    const value = headers.get(name);
    if (value !== null) picked[name] = value;
  }
  return picked;
}

function field(value: unknown, name: string): unknown {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (Object.getOwnPropertyDescriptor(value, name)?.value as unknown) : undefined;
}

/** Why a request to the model failed, as a code or a fixed phrase (never the error's message: one may quote the URL). */
function failureCode(error: unknown): string {
  const cause: unknown = error instanceof Error ? error.cause : undefined;
  if (cause instanceof Error && cause.message === "unexpected redirect") return "it answered with a redirect, which afk does not follow";
  const code = field(cause, "code") ?? field(error, "code");
  if (typeof code === "string" && /^[A-Z0-9_]{1,40}$/.test(code)) return code;
  return error instanceof Error && /^[A-Za-z]{1,40}$/.test(error.name) ? error.name : "unknown error";
}

function clip(text: string): string {
  return text.length > 80 ? `${text.slice(0, 80)}…` : text;
}
