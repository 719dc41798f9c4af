import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** A content block the scripted model answers with, in the Messages API's own shape. */
export type ScriptedBlock =
  | { type: "text"; text: string }
  | { type: "tool_use"; id: string; name: string; input: Record<string, unknown> }
  | { type: "thinking"; thinking: string; signature: string };

export interface ScriptedUsage {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens?: number;
  cache_read_input_tokens?: number;
}

/** One answer of the scripted model: a message, or an HTTP error (429, 529, 500...), or a dropped connection. */
export type ScriptedTurn =
  | {
      kind: "message";
      content: ScriptedBlock[];
      stop_reason?: "end_turn" | "tool_use" | "max_tokens";
      usage?: ScriptedUsage;
      /** Runs when this answer is due, before it is sent: something the world does while the agent works. */
      meanwhile?: () => void;
      /** Streamed answers: wait for `until` before anything is sent ("answer") or after message_start ("content"), a long answer under way. */
      hold?: { at: "answer" | "content"; until: Promise<void> };
      /** Streamed answers: drop the connection after message_start, or after the content (before the final usage), an answer cut short. */
      cutAfter?: "message_start" | "content";
    }
  | { kind: "error"; status: number; type: string; message: string; retryAfterSeconds?: number }
  | { kind: "drop" };

export interface RecordedModelRequest {
  headers: Record<string, string | string[] | undefined>;
  body: Record<string, unknown>;
  /** From the request's arrival to the end of the answer, in milliseconds (set once answered). */
  durationMs?: number;
  /** Set when the client hung up before the answer ended. */
  hungUp?: true;
}

/**
 * The Anthropic Messages API as a local HTTP server with scripted answers, reached by the real SDK
 * through `baseURL` / `ANTHROPIC_BASE_URL`. Answers JSON, or server-sent events (with `event:` lines,
 * as the API sends them) when the request asks to stream. A request that the API would refuse
 * (no API key, no version header, no model, max_tokens or messages) is answered 400 and recorded in
 * `violations`.
 */
export class ModelServer {
  readonly requests: RecordedModelRequest[] = [];
  readonly violations: string[] = [];
  readonly #script: ScriptedTurn[];
  readonly #server: Server;
  #messageCount = 0;

  private constructor(script: ScriptedTurn[], server: Server) {
    this.#script = script;
    this.#server = server;
  }

  /**
   * When on, a scripted message without `usage` is billed as the API bills it: input tokens counted
   * from the request (about four characters a token), with prompt caching applied to the request's
   * own breakpoints (see `PromptCache`). Then cache figures are measured, not scripted.
   */
  simulateCaching = false;

  /**
   * When set, a Messages request whose system, tools and messages (as JSON) are more than this many
   * characters is answered 400 "prompt is too long: N tokens > M maximum" (about four characters a
   * token), as the API answers a request past the model's context; no scripted turn is used.
   */
  maxPromptChars: number | undefined;
  readonly #cache = new PromptCache();

  static async start(script: ScriptedTurn[]): Promise<ModelServer> {
    let instance: ModelServer | undefined;
    const server = createServer((req, res) => {
      if (instance === undefined) return void res.writeHead(503).end();
      void instance.#handle(req, res);
    });
    instance = new ModelServer(script, server);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return instance;
  }

  /** Base URL for the SDK (`new Anthropic({ baseURL })` or `ANTHROPIC_BASE_URL`). */
  get url(): string {
    const address = this.#server.address() as AddressInfo;
    return `http://127.0.0.1:${address.port}`;
  }

  /** Scripted turns not yet answered. */
  get remaining(): number {
    return this.#script.length;
  }

  close(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }

  /**
   * When set, answers each Messages request from the request itself instead of from the script:
   * conversations that run side by side (afk eval --jobs) each get their own answers.
   */
  responder: ((body: Record<string, unknown>) => ScriptedTurn) | undefined;
  /** Bodies of the count_tokens requests, in order. */
  readonly tokenCounts: Array<Record<string, unknown>> = [];

  /**
   * `POST /v1/messages/count_tokens`: the prompt's tokens, counted as this server bills them (about
   * four characters a token over system, tools and messages), with the checks the API makes.
   */
  #countTokens(req: IncomingMessage, res: ServerResponse, text: string): void {
    let body: Record<string, unknown>;
    try {
      const parsed: unknown = JSON.parse(text);
      if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new Error("the body is not a JSON object");
      body = Object.fromEntries(Object.entries(parsed));
    } catch {
      this.violations.push("count_tokens: unparseable body");
      return void sendJson(res, 400, apiError("invalid_request_error", "body is not JSON"));
    }
    this.tokenCounts.push(body);
    if (typeof req.headers["x-api-key"] !== "string" && typeof req.headers.authorization !== "string") {
      this.violations.push("count_tokens: no credentials");
      return void sendJson(res, 401, apiError("authentication_error", "no credentials"));
    }
    if (typeof body.model !== "string" || !Array.isArray(body.messages) || body.messages.length === 0) {
      this.violations.push("count_tokens: model and messages are required");
      return void sendJson(res, 400, apiError("invalid_request_error", "model and messages are required"));
    }
    const chars = (value: unknown): number => (value === undefined ? 0 : JSON.stringify(value).length);
    sendJson(res, 200, { input_tokens: Math.ceil((chars(body.system) + chars(body.tools) + chars(body.messages)) / 4) });
  }

  /** Keys the Models API accepts; any other key is answered 401 there. Empty: every non-empty key. */
  readonly acceptedKeys: string[] = [];
  /** Model ids the Models API knows; others are answered 404. */
  readonly knownModels: string[] = ["claude-sonnet-5-5", "claude-sonnet-4-6", "claude-opus-4-6", "claude-haiku-4-5"];

  /** `GET /v1/models/{id}`, as `afk doctor` uses it to check the key and the model without spending tokens. */
  #model(req: IncomingMessage, res: ServerResponse, id: string): void {
    const key = req.headers["x-api-key"] ?? req.headers.authorization?.replace(/^Bearer\s+/i, "");
    if (typeof key !== "string" || key.length === 0 || (this.acceptedKeys.length > 0 && !this.acceptedKeys.includes(key))) {
      return void sendJson(res, 401, apiError("authentication_error", "invalid x-api-key"));
    }
    if (!this.knownModels.includes(id)) return void sendJson(res, 404, apiError("not_found_error", `model: ${id}`));
    sendJson(res, 200, { type: "model", id, display_name: id, created_at: "2026-06-01T00:00:00Z" });
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
    const models = /^\/v1\/models\/([A-Za-z0-9._-]+)$/.exec(req.url?.split("?")[0] ?? "");
    if (req.method === "GET" && models?.[1] !== undefined) return this.#model(req, res, models[1]);
    if (req.method === "POST" && req.url?.split("?")[0] === "/v1/messages/count_tokens")
      return this.#countTokens(req, res, Buffer.concat(chunks).toString("utf8"));
    if (req.method !== "POST" || req.url?.split("?")[0] !== "/v1/messages") {
      this.violations.push(`${req.method} ${req.url} is not the Messages API`);
      return void sendJson(res, 404, apiError("not_found_error", `${req.method} ${req.url} not found`));
    }
    let body: Record<string, unknown>;
    try {
      const parsed: unknown = JSON.parse(Buffer.concat(chunks).toString("utf8"));
      if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new Error("the body is not a JSON object");
      body = Object.fromEntries(Object.entries(parsed));
    } catch (error) {
      this.violations.push(`unparseable body: ${error instanceof Error ? error.message : String(error)}`);
      return void sendJson(res, 400, apiError("invalid_request_error", "body is not JSON"));
    }
    const recorded: RecordedModelRequest = { headers: req.headers, body };
    this.requests.push(recorded);
    const arrived = performance.now();
    res.once("finish", () => {
      recorded.durationMs = performance.now() - arrived;
    });
    res.once("close", () => {
      if (!res.writableFinished) recorded.hungUp = true;
    });
    const problem = requestProblem(req, body);
    if (problem !== undefined) {
      this.violations.push(problem);
      return void sendJson(res, 400, apiError("invalid_request_error", problem));
    }
    const promptChars = JSON.stringify([body.system, body.tools, body.messages]).length;
    if (this.maxPromptChars !== undefined && promptChars > this.maxPromptChars) {
      const message = `prompt is too long: ${Math.ceil(promptChars / 4)} tokens > ${Math.floor(this.maxPromptChars / 4)} maximum`;
      return void sendJson(res, 400, apiError("invalid_request_error", message));
    }
    const turn = this.responder === undefined ? this.#script.shift() : this.responder(body);
    if (turn === undefined) {
      this.violations.push("the model was called more times than the script has turns");
      return void sendJson(res, 500, apiError("api_error", "script exhausted"));
    }
    if (turn.kind === "drop") return void req.socket.destroy();
    if (turn.kind === "error") {
      const headers: Record<string, string> = turn.retryAfterSeconds === undefined ? {} : { "retry-after": String(turn.retryAfterSeconds) };
      return void sendJson(res, turn.status, apiError(turn.type, turn.message), headers);
    }
    turn.meanwhile?.();
    const message = {
      id: `msg_${String(++this.#messageCount).padStart(6, "0")}`,
      type: "message",
      role: "assistant",
      model: typeof body.model === "string" ? body.model : "unknown",
      content: turn.content,
      stop_reason: turn.stop_reason ?? (turn.content.some((block) => block.type === "tool_use") ? "tool_use" : "end_turn"),
      stop_sequence: null,
      usage:
        turn.usage === undefined && this.simulateCaching
          ? this.#cache.bill(body, turn.content)
          : { input_tokens: 0, output_tokens: 0, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, ...turn.usage },
    };
    if (body.stream === true) return streamMessage(res, message, turn);
    sendJson(res, 200, message);
  }
}

function requestProblem(req: IncomingMessage, body: Record<string, unknown>): string | undefined {
  if (typeof req.headers["x-api-key"] !== "string" && typeof req.headers.authorization !== "string")
    return "no credentials (x-api-key or authorization header)";
  if (typeof req.headers["anthropic-version"] !== "string") return "no anthropic-version header";
  if (typeof body.model !== "string" || body.model.length === 0) return "model is required";
  if (typeof body.max_tokens !== "number" || !Number.isInteger(body.max_tokens) || body.max_tokens < 1) return "max_tokens must be a positive integer";
  if (!Array.isArray(body.messages) || body.messages.length === 0) return "messages must be a non-empty array";
  return undefined;
}

function apiError(type: string, message: string): Record<string, unknown> {
  return { type: "error", error: { type, message } };
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { "content-type": "application/json", "request-id": `req_${Date.now()}`, ...headers });
  res.end(JSON.stringify(body));
}

interface StreamedMessage {
  content: ScriptedBlock[];
  stop_reason: string;
  usage: ScriptedUsage;
  [key: string]: unknown;
}

/** Sends a message as the API streams it: message_start, then per block start/delta/stop, message_delta, message_stop. */
async function streamMessage(
  res: ServerResponse,
  message: StreamedMessage,
  turn: { hold?: { at: string; until: Promise<void> }; cutAfter?: string },
): Promise<void> {
  if (turn.hold?.at === "answer") await turn.hold.until;
  if (res.destroyed) return;
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive" });
  const send = (event: string, data: Record<string, unknown>, sent?: () => void) =>
    res.write(`event: ${event}\ndata: ${JSON.stringify({ type: event, ...data })}\n\n`, sent);
  const { content, stop_reason, usage, ...head } = message;
  const cut = (): void => void res.socket?.destroy();
  send(
    "message_start",
    { message: { ...head, content: [], stop_reason: null, usage: { ...usage, output_tokens: 1 } } },
    turn.cutAfter === "message_start" ? cut : undefined,
  );
  if (turn.cutAfter === "message_start") return;
  if (turn.hold?.at === "content") await turn.hold.until;
  if (res.destroyed) return;
  content.forEach((block, index) => {
    if (block.type === "text") {
      send("content_block_start", { index, content_block: { type: "text", text: "" } });
      for (const piece of splitInTwo(block.text)) send("content_block_delta", { index, delta: { type: "text_delta", text: piece } });
    } else if (block.type === "thinking") {
      send("content_block_start", { index, content_block: { type: "thinking", thinking: "", signature: "" } });
      for (const piece of splitInTwo(block.thinking)) send("content_block_delta", { index, delta: { type: "thinking_delta", thinking: piece } });
      send("content_block_delta", { index, delta: { type: "signature_delta", signature: block.signature } });
    } else {
      send("content_block_start", { index, content_block: { type: "tool_use", id: block.id, name: block.name, input: {} } });
      for (const piece of splitInTwo(JSON.stringify(block.input)))
        send("content_block_delta", { index, delta: { type: "input_json_delta", partial_json: piece } });
    }
    send("content_block_stop", { index }, turn.cutAfter === "content" && index === content.length - 1 ? cut : undefined);
  });
  if (turn.cutAfter === "content") return;
  send("message_delta", { delta: { stop_reason, stop_sequence: null }, usage: { output_tokens: usage.output_tokens } });
  send("message_stop", {});
  res.end();
}

/** Splits text so every block arrives in more than one delta, as real streams do. */
function splitInTwo(text: string): string[] {
  const middle = Math.floor(text.length / 2);
  return middle === 0 ? [text] : [text.slice(0, middle), text.slice(middle)];
}

/** Tokens the simulated API counts for a text: about four characters a token, as for English and code. */
function tokens(text: string): number {
  return Math.ceil(text.length / 4);
}

/**
 * Anthropic's prompt caching, as documented: the request is read as blocks in order (tools, system,
 * messages); a block with `cache_control` is a breakpoint; after a request, the prefix up to each
 * breakpoint of at least 1024 tokens is cached; a later request reads from the cache the longest
 * cached prefix that ends at a block boundary at most 20 blocks before one of its breakpoints, pays
 * a cache write for the rest up to its last breakpoint, and plain input after that.
 */
class PromptCache {
  readonly #cached = new Set<string>();

  bill(body: Record<string, unknown>, content: ScriptedBlock[]): Required<ScriptedUsage> {
    const blocks = requestBlocks(body);
    const prefixTokens: number[] = [];
    const prefixKeys: string[] = [];
    let total = 0;
    let key = "";
    for (const block of blocks) {
      total += tokens(block.text);
      key = hashOf(key + block.text);
      prefixTokens.push(total);
      prefixKeys.push(key);
    }
    const breakpoints = blocks.flatMap((block, index) => (block.breakpoint ? [index] : []));
    const last = breakpoints.at(-1);
    let read = 0;
    if (last !== undefined) {
      for (let index = last; index >= 0; index -= 1) {
        const nearBreakpoint = breakpoints.some((point) => point >= index && point - index <= 20);
        if (nearBreakpoint && this.#cached.has(prefixKeys[index] ?? "")) {
          read = prefixTokens[index] ?? 0;
          break;
        }
      }
    }
    let write = 0;
    if (last !== undefined && (prefixTokens[last] ?? 0) >= 1024) write = (prefixTokens[last] ?? 0) - read;
    for (const point of breakpoints) if ((prefixTokens[point] ?? 0) >= 1024) this.#cached.add(prefixKeys[point] ?? "");
    const output = content.reduce(
      (sum, block) => sum + tokens(block.type === "text" ? block.text : block.type === "thinking" ? block.thinking : JSON.stringify(block.input)),
      0,
    );
    return { input_tokens: total - read - write, output_tokens: output, cache_creation_input_tokens: write, cache_read_input_tokens: read };
  }
}

/** The request's blocks in the order the API reads them, without their cache_control, and whether each is a breakpoint. */
function requestBlocks(body: Record<string, unknown>): Array<{ text: string; breakpoint: boolean }> {
  const blocks: Array<{ text: string; breakpoint: boolean }> = [];
  const add = (prefix: string, block: unknown): void => {
    if (typeof block !== "object" || block === null) return void blocks.push({ text: `${prefix}${JSON.stringify(block)}`, breakpoint: false });
    const { cache_control: mark, ...rest } = block as Record<string, unknown>;
    blocks.push({ text: `${prefix}${JSON.stringify(rest)}`, breakpoint: mark !== undefined && mark !== null });
  };
  for (const tool of Array.isArray(body.tools) ? body.tools : []) add("tool:", tool);
  const system = body.system;
  if (typeof system === "string") add("system:", { type: "text", text: system });
  else for (const block of Array.isArray(system) ? system : []) add("system:", block);
  for (const message of Array.isArray(body.messages) ? body.messages : []) {
    if (typeof message !== "object" || message === null) continue;
    const { role, content } = message as { role?: unknown; content?: unknown };
    if (typeof content === "string") add(`${String(role)}:`, { type: "text", text: content });
    else for (const block of Array.isArray(content) ? content : []) add(`${String(role)}:`, block);
  }
  return blocks;
}

function hashOf(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}
