import Anthropic from "@anthropic-ai/sdk";
import { createServer, request, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { jobCredentialKey, mintJobCredential, readJobCredential, type JobBudget } from "../../src/actions/job-credential.js";
import { MAX_REQUEST_BYTES, ModelProxy, RunSpendLedger } from "../../src/actions/model-proxy.js";
import { createModelClient } from "../../src/executor/agent/model-client.js";
import { costOf, priceOf } from "../../src/executor/agent/model-pricing.js";
import { JOB_PATHS } from "../../src/run-contract/job-protocol.js";
import type { TokenUsage } from "../../src/run-contract/executor.js";
import { ModelServer, type ScriptedTurn, type ScriptedUsage } from "../helpers/model-server.js";

/** The attacker is a runner holding a valid credential for its own run; afk's key is the marker it must never see. */
const AFK_KEY = "sk-ant-afk-MARKER-3b8e5d1c9f";
const MODEL = "claude-sonnet-5-5";
const CREDENTIAL_KEY = jobCredentialKey("the App's private key, for this test");
const USAGE: ScriptedUsage = { input_tokens: 1000, output_tokens: 1500, cache_creation_input_tokens: 2000, cache_read_input_tokens: 4000 };

function turn(text: string, usage: ScriptedUsage = USAGE, more: Partial<Extract<ScriptedTurn, { kind: "message" }>> = {}): ScriptedTurn {
  return { kind: "message", content: [{ type: "text", text }], stop_reason: "end_turn", usage, ...more };
}

function tokensOf(usage: ScriptedUsage): TokenUsage {
  return {
    input: usage.input_tokens,
    output: usage.output_tokens,
    cacheWrite: usage.cache_creation_input_tokens ?? 0,
    cacheRead: usage.cache_read_input_tokens ?? 0,
  };
}

function dollars(usage: TokenUsage): number {
  const price = priceOf(MODEL);
  if (price === undefined) throw new Error(`no price for ${MODEL}`);
  return costOf(usage, price);
}

/** A promise the test settles: an upstream answer held open until then. */
function gate(): { until: Promise<void>; open: () => void } {
  let open = (): void => undefined;
  const until = new Promise<void>((resolve) => (open = resolve));
  return { until, open };
}

interface ProxyWorld {
  upstream: ModelServer;
  proxy: ModelProxy;
  ledger: RunSpendLedger;
  /** afk's public URL (the loopback server whose handler calls `proxy.serve`). */
  url: string;
  /** Headers of each request the job sent to afk. */
  received: IncomingHttpHeaders[];
  /** A credential for a run, as afk mints it when the job's OIDC token checks out. */
  credential(budget?: Partial<JobBudget>, runId?: string): string;
  /** The job's model client, as `afk job` builds it: afk's model path as base URL, the credential as key. */
  client(credential: string, maxRetries?: number): Anthropic;
  /** A request with the attacker's own hands: any path, method, headers and body. */
  raw(credential: string, init: { path?: string; method?: string; headers?: Record<string, string>; body?: string }): Promise<RawAnswer>;
}

interface RawAnswer {
  status: number;
  headers: Headers;
  text: string;
}

const worlds: Array<{ world: ProxyWorld; server: Server; gates: Array<() => void> }> = [];
const logs: string[] = [];
const credentials: string[] = [];

afterEach(async () => {
  for (const { world, server, gates } of worlds.splice(0)) {
    for (const open of gates) open();
    // Whatever happened, afk's key reached the model only, and the job's credential never did.
    for (const seen of world.upstream.requests) {
      expect(seen.headers["x-api-key"]).toBe(AFK_KEY);
      expect(seen.headers.authorization).toBeUndefined();
      for (const credential of credentials) expect(JSON.stringify(seen)).not.toContain(credential);
    }
    expect(world.upstream.violations).toEqual([]);
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await world.upstream.close();
  }
  // No log line names afk's key.
  for (const line of logs.splice(0)) expect(line).not.toContain(AFK_KEY);
  credentials.splice(0);
});

async function startProxy(
  script: ScriptedTurn[],
  options: { upstreamBaseUrl?: string; gates?: Array<() => void>; fetch?: typeof globalThis.fetch } = {},
): Promise<ProxyWorld> {
  const upstream = await ModelServer.start(script);
  const ledger = new RunSpendLedger();
  const record = (obj: object, msg: string): void => void logs.push(`${msg} ${JSON.stringify(obj)}`);
  const proxy = new ModelProxy(
    {
      upstreamBaseUrl: options.upstreamBaseUrl ?? upstream.url,
      apiKey: AFK_KEY,
      ...(options.fetch === undefined ? {} : { fetch: options.fetch }),
      costOf: (model, usage) => {
        const price = priceOf(model);
        return price === undefined ? undefined : costOf(usage, price);
      },
      log: { warn: record, info: record },
    },
    ledger,
  );
  const received: IncomingHttpHeaders[] = [];
  // afk's routing, as the App does it: the job's credential verified (Bearer or x-api-key), then `serve`.
  const server = createServer((req, res) => {
    received.push(req.headers);
    const path = req.url ?? "";
    const presented = /^Bearer (\S+)$/.exec(req.headers.authorization ?? "")?.[1] ?? req.headers["x-api-key"];
    const verified = typeof presented === "string" ? readJobCredential(presented, CREDENTIAL_KEY, new Date()) : undefined;
    if (!path.startsWith(`${JOB_PATHS.model}/`) || verified === undefined || !verified.ok) return void res.writeHead(401).end();
    void proxy.serve(req, res, verified.claims, path.slice(JOB_PATHS.model.length));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const world: ProxyWorld = {
    upstream,
    proxy,
    ledger,
    url,
    received,
    credential: (budget = {}, runId = "r-attacker-1") => {
      const credential = mintJobCredential(
        {
          runId,
          workflowRunId: 4242,
          repository: "octo-org/app",
          installationId: 7,
          issue: 12,
          budget: { model: MODEL, maxUsd: 5, maxTurns: 50, ...budget },
          expiresAt: new Date(Date.now() + 3_600_000),
        },
        CREDENTIAL_KEY,
      );
      credentials.push(credential);
      return credential;
    },
    client: (credential, maxRetries = 0) => createModelClient({ apiKey: credential, baseURL: `${url}${JOB_PATHS.model}`, maxRetries }),
    raw: async (credential, init) => {
      const answer = await fetch(`${url}${JOB_PATHS.model}${init.path ?? "/v1/messages"}`, {
        method: init.method ?? "POST",
        headers: { authorization: `Bearer ${credential}`, "content-type": "application/json", "anthropic-version": "2023-06-01", ...init.headers },
        ...(init.body === undefined ? {} : { body: init.body }),
      });
      return { status: answer.status, headers: answer.headers, text: await answer.text() };
    },
  };
  worlds.push({ world, server, gates: options.gates ?? [] });
  return world;
}

const ask = (client: Anthropic, model = MODEL) => client.messages.stream({ model, max_tokens: 1024, messages: [{ role: "user", content: "hi" }] });
const messagesBody = (model = MODEL, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ model, max_tokens: 1024, messages: [{ role: "user", content: "hi" }], stream: true, ...extra });

/** The SDK's error for a refused call: its status, the Messages API error type and message. */
async function refusalOf(call: Promise<unknown>): Promise<{ status: number | undefined; type: string | null; message: string | null }> {
  try {
    await call;
  } catch (error) {
    if (error instanceof Anthropic.APIError) return { status: error.status, type: error.type, message: error.apiMessage };
    throw error;
  }
  throw new Error("the call was answered, not refused");
}

describe("the model proxy: a turn goes through", () => {
  it("streams the answer to the job as it comes and counts the turn, its tokens and their price exactly", async () => {
    const held = gate();
    const second: ScriptedUsage = { input_tokens: 10, output_tokens: 20_000, cache_read_input_tokens: 7000 };
    const world = await startProxy([turn("I will look at the files.", USAGE, { hold: { at: "content", until: held.until } }), turn("done", second)], {
      gates: [held.open],
    });
    const credential = world.credential();
    const stream = ask(world.client(credential));
    const events: string[] = [];
    const sawStart = new Promise<void>((resolve) =>
      stream.on("streamEvent", (event) => {
        events.push(event.type);
        if (event.type === "message_start") resolve();
      }),
    );
    // The job has the start of the answer while the model is still writing it: nothing is buffered.
    await sawStart;
    expect(world.upstream.requests[0]?.durationMs).toBeUndefined();
    held.open();
    const message = await stream.finalMessage();
    expect(message.content).toEqual([{ type: "text", text: "I will look at the files." }]);
    expect(events.filter((type) => type === "content_block_delta").length).toBeGreaterThan(1);
    expect(world.ledger.spendOf("r-attacker-1")).toEqual({ turns: 1, usd: dollars(tokensOf(USAGE)), tokens: tokensOf(USAGE) });

    // A JSON (not streamed) answer is counted from its usage too.
    await world.client(credential).messages.create({ model: MODEL, max_tokens: 1024, messages: [{ role: "user", content: "go on" }] });
    const spend = world.ledger.spendOf("r-attacker-1");
    expect(spend.turns).toBe(2);
    expect(spend.usd).toBe(dollars(tokensOf(USAGE)) + dollars(tokensOf(second)));
    expect(spend.tokens).toEqual({ input: 1010, output: 21_500, cacheWrite: 2000, cacheRead: 11_000 });
  });

  it("the SDK presents the job's credential as Authorization: Bearer; the model sees afk's key as x-api-key and nothing of the job's headers", async () => {
    const world = await startProxy([turn("ok")]);
    const credential = world.credential();
    await ask(world.client(credential)).finalMessage();
    expect(world.received[0]?.authorization).toBe(`Bearer ${credential}`);
    expect(world.received[0]?.["x-api-key"]).toBeUndefined();
    const seen = world.upstream.requests[0]?.headers ?? {};
    expect(seen["x-api-key"]).toBe(AFK_KEY);
    expect(seen["anthropic-version"]).toBe(world.received[0]?.["anthropic-version"]);
    // The SDK's own headers (user agent, x-stainless-*) stay with afk.
    expect(Object.keys(seen).filter((name) => name.startsWith("x-stainless"))).toEqual([]);
    expect(world.received[0]?.["x-stainless-lang"]).toBeDefined();
  });

  it("a body that names the model twice reaches the model as afk read it: the one model the run may use", async () => {
    // What afk sends upstream, as bytes: a parser that kept the first of two keys must not see the other model.
    const sent: string[] = [];
    const recording: typeof globalThis.fetch = (input, init) => {
      sent.push(typeof init?.body === "string" ? init.body : "(not text)");
      return fetch(input, init);
    };
    const world = await startProxy([turn("ok")], { fetch: recording });
    const body = `{"model":"claude-opus-4-1","max_tokens":64,"messages":[{"role":"user","content":"hi"}],"model":"${MODEL}"}`;
    const answer = await world.raw(world.credential(), { body });
    expect(answer.status).toBe(200);
    expect(world.upstream.requests[0]?.body.model).toBe(MODEL);
    expect(sent).toHaveLength(1);
    expect(sent[0]).not.toContain("claude-opus-4-1");
  });

  it("a model refusal reaches the job with its status and message, counts nothing, and never shows afk's key even when the model's side echoes it", async () => {
    const world = await startProxy([
      { kind: "error", status: 400, type: "invalid_request_error", message: "prompt is too long: 210000 tokens > 200000 maximum" },
      { kind: "error", status: 401, type: "authentication_error", message: `invalid x-api-key ${AFK_KEY}` },
    ]);
    const credential = world.credential();
    expect(await refusalOf(ask(world.client(credential)).finalMessage())).toEqual({
      status: 400,
      type: "invalid_request_error",
      message: "prompt is too long: 210000 tokens > 200000 maximum",
    });
    const echoed = await world.raw(credential, { body: messagesBody() });
    expect(echoed.status).toBe(401);
    expect(echoed.text).not.toContain(AFK_KEY);
    expect(JSON.parse(echoed.text)).toMatchObject({ error: { type: "authentication_error", message: "invalid x-api-key [afk's key]" } });
    expect(world.ledger.spendOf("r-attacker-1").turns).toBe(0);
  });
});

describe("the model proxy holds a hostile job to its run's budget", () => {
  it("cuts the job off once its dollars are spent: refused with 403, not retried, and the model never called again", async () => {
    const world = await startProxy([turn("one"), turn("never")]);
    const credential = world.credential({ maxUsd: 0.01 });
    await ask(world.client(credential)).finalMessage();
    expect(dollars(tokensOf(USAGE))).toBeGreaterThan(0.01);
    const before = world.received.length;
    const refusal = await refusalOf(ask(world.client(credential, 3)).finalMessage());
    expect(refusal).toEqual({ status: 403, type: "permission_error", message: "afk's budget for this run is spent: $0.02 of $0.01, 1 of 50 turns" });
    // The SDK did not retry (403), and a JSON request is refused the same way.
    expect(world.received.length).toBe(before + 1);
    expect(
      (await refusalOf(world.client(credential).messages.create({ model: MODEL, max_tokens: 8, messages: [{ role: "user", content: "x" }] }))).status,
    ).toBe(403);
    expect(world.upstream.requests).toHaveLength(1);
    expect(world.ledger.spendOf("r-attacker-1").turns).toBe(1);
  });

  it("cuts the job off at its turns", async () => {
    const cheap: ScriptedUsage = { input_tokens: 1, output_tokens: 1 };
    const world = await startProxy([turn("one", cheap), turn("two", cheap), turn("never", cheap)]);
    const credential = world.credential({ maxTurns: 2 });
    await ask(world.client(credential)).finalMessage();
    await ask(world.client(credential)).finalMessage();
    const refusal = await refusalOf(ask(world.client(credential)).finalMessage());
    expect(refusal).toEqual({ status: 403, type: "permission_error", message: "afk's budget for this run is spent: $0.00 of $5.00, 2 of 2 turns" });
    expect(world.upstream.requests).toHaveLength(2);
    // Another run's budget is its own.
    await ask(world.client(world.credential({ maxTurns: 2 }, "r-other-run"))).finalMessage();
    expect(world.upstream.requests).toHaveLength(3);
  });

  it("refuses a switch to another model (a pricier one), and a model afk has no price for", async () => {
    const world = await startProxy([]);
    const credential = world.credential();
    expect(await refusalOf(ask(world.client(credential), "claude-opus-4-1").finalMessage())).toEqual({
      status: 403,
      type: "permission_error",
      message: `this run may use only the model \`${MODEL}\` (its budget is priced for it), not \`claude-opus-4-1\``,
    });
    const unpriced = world.credential({ model: "claude-imaginary-9" });
    expect(await refusalOf(ask(world.client(unpriced), "claude-imaginary-9").finalMessage())).toMatchObject({
      status: 403,
      message: "afk has no price for the model `claude-imaginary-9`, so it cannot hold this run to its budget",
    });
    expect(world.upstream.requests).toHaveLength(0);
  });

  it("refuses what would cost more than the tokens show: server tools, extra parameters, price-changing betas", async () => {
    const world = await startProxy([turn("fine")]);
    const credential = world.credential();
    const webSearch = await world.raw(credential, { body: messagesBody(MODEL, { tools: [{ type: "web_search_20250305", name: "web_search" }] }) });
    expect(webSearch.status).toBe(400);
    expect(JSON.parse(webSearch.text)).toMatchObject({ type: "error", error: { type: "invalid_request_error" } });
    expect(webSearch.text).toContain("server tool `web_search_20250305`");
    const mcp = await world.raw(credential, { body: messagesBody(MODEL, { mcp_servers: [{ type: "url", url: "https://attacker.example/mcp", name: "x" }] }) });
    expect(mcp.status).toBe(400);
    expect(mcp.text).toContain("does not forward `mcp_servers`");
    const longContext = await world.raw(credential, { body: messagesBody(), headers: { "anthropic-beta": "context-1m-2025-08-07" } });
    expect(longContext.status).toBe(400);
    expect(longContext.text).toContain("beta `context-1m-2025-08-07`");
    expect(world.upstream.requests).toHaveLength(0);
    // afk's own tools and a harmless beta go through.
    const agentTools = [
      { type: "bash_20250124", name: "bash" },
      { type: "text_editor_20250728", name: "str_replace_based_edit_tool" },
    ];
    const fine = await world.raw(credential, {
      body: messagesBody(MODEL, { tools: agentTools }),
      headers: { "anthropic-beta": "fine-grained-tool-streaming-2025-05-14" },
    });
    expect(fine.status).toBe(200);
    expect(world.upstream.requests[0]?.headers["anthropic-beta"]).toBe("fine-grained-tool-streaming-2025-05-14");
  });

  it("serves one request at a time for a run: parallel requests are refused with 429 and never reach the model", async () => {
    const held = gate();
    const world = await startProxy([turn("slow", USAGE, { hold: { at: "content", until: held.until } }), turn("after")], { gates: [held.open] });
    const credential = world.credential();
    const first = ask(world.client(credential));
    await new Promise<void>((resolve) =>
      first.on("streamEvent", (event) => {
        if (event.type === "message_start") resolve();
      }),
    );
    const refusal = await refusalOf(ask(world.client(credential)).finalMessage());
    expect(refusal).toEqual({
      status: 429,
      type: "rate_limit_error",
      message: "afk's model proxy serves one request at a time for a run, and this run's previous request is still in flight",
    });
    const burst = await Promise.all(Array.from({ length: 20 }, () => world.raw(credential, { body: messagesBody() })));
    expect(burst.map((answer) => answer.status)).toEqual(Array.from({ length: 20 }, () => 429));
    expect(burst[0]?.headers.get("retry-after")).toBe("1");
    expect(world.upstream.requests).toHaveLength(1);
    held.open();
    await first.finalMessage();
    // The slot is free again once the answer is done.
    await ask(world.client(credential)).finalMessage();
    expect(world.ledger.spendOf("r-attacker-1").turns).toBe(2);
  });

  it("a job hanging up mid-answer still pays for what the answer counted, and the model is stopped", async () => {
    const held = gate();
    const world = await startProxy([turn("long answer", USAGE, { hold: { at: "content", until: held.until } }), turn("next")], { gates: [held.open] });
    const credential = world.credential();
    const hangUp = new AbortController();
    const stream = world
      .client(credential)
      .messages.stream({ model: MODEL, max_tokens: 1024, messages: [{ role: "user", content: "hi" }] }, { signal: hangUp.signal });
    await new Promise<void>((resolve) =>
      stream.on("streamEvent", (event) => {
        if (event.type === "message_start") resolve();
      }),
    );
    hangUp.abort();
    await expect(stream.finalMessage()).rejects.toThrow();
    await expect.poll(() => world.ledger.inFlight("r-attacker-1")).toBe(false);
    // message_start's usage: the input side in full, one output token so far.
    const counted = { ...tokensOf(USAGE), output: 1 };
    expect(world.ledger.spendOf("r-attacker-1")).toEqual({ turns: 1, usd: dollars(counted), tokens: counted });
    await expect.poll(() => world.upstream.requests[0]?.hungUp).toBe(true);
    await ask(world.client(credential)).finalMessage();
    expect(world.ledger.spendOf("r-attacker-1").turns).toBe(2);
  });

  it("a job hanging up before the model answered pays for its request's size as input", async () => {
    const held = gate();
    const world = await startProxy([turn("never seen", USAGE, { hold: { at: "answer", until: held.until } })], { gates: [held.open] });
    const hangUp = new AbortController();
    const body = messagesBody(MODEL, { messages: [{ role: "user", content: "x".repeat(40_000) }] });
    const sent = fetch(`${world.url}${JOB_PATHS.model}/v1/messages`, {
      method: "POST",
      headers: { authorization: `Bearer ${world.credential()}`, "content-type": "application/json", "anthropic-version": "2023-06-01" },
      body,
      signal: hangUp.signal,
    });
    await expect.poll(() => world.upstream.requests.length).toBe(1);
    hangUp.abort();
    await expect(sent).rejects.toThrow();
    await expect.poll(() => world.ledger.spendOf("r-attacker-1").turns).toBe(1);
    const counted = { input: Math.ceil(Buffer.byteLength(JSON.stringify(JSON.parse(body))) / 4), output: 0, cacheWrite: 0, cacheRead: 0 };
    expect(counted.input).toBeGreaterThan(10_000);
    expect(world.ledger.spendOf("r-attacker-1")).toEqual({ turns: 1, usd: dollars(counted), tokens: counted });
    await expect.poll(() => world.upstream.requests[0]?.hungUp).toBe(true);
  });

  it("an answer cut short by the model's side counts what its usage said so far, and the text that streamed by before its final usage", async () => {
    const world = await startProxy([turn("cut", USAGE, { cutAfter: "message_start" }), turn("y".repeat(4000), USAGE, { cutAfter: "content" })]);
    const credential = world.credential();
    await expect(ask(world.client(credential)).finalMessage()).rejects.toThrow();
    await expect.poll(() => world.ledger.inFlight("r-attacker-1")).toBe(false);
    const counted = { ...tokensOf(USAGE), output: 1 };
    expect(world.ledger.spendOf("r-attacker-1")).toEqual({ turns: 1, usd: dollars(counted), tokens: counted });
    // Cut after 4,000 characters of text: about 1,000 output tokens, though message_start said 1.
    await expect(ask(world.client(credential)).finalMessage()).rejects.toThrow();
    await expect.poll(() => world.ledger.spendOf("r-attacker-1").turns).toBe(2);
    expect(world.ledger.spendOf("r-attacker-1").tokens?.output).toBe(1 + 1000);
  });
});

describe("the model proxy refuses what is not a Messages API call", () => {
  it("serves only POST /v1/messages: token counting, models, other methods and paths are 404", async () => {
    const world = await startProxy([]);
    const credential = world.credential();
    const client = world.client(credential);
    expect(await refusalOf(client.messages.countTokens({ model: MODEL, messages: [{ role: "user", content: "hi" }] }))).toEqual({
      status: 404,
      type: "not_found_error",
      message: "afk's model proxy serves only POST /v1/messages",
    });
    expect((await refusalOf(client.models.list())).status).toBe(404);
    expect((await world.raw(credential, { method: "GET" })).status).toBe(404);
    expect((await world.raw(credential, { path: "/v1/messages/batches", body: messagesBody() })).status).toBe(404);
    expect((await world.raw(credential, { path: "/v1/../v1/files", body: messagesBody() })).status).toBe(404);
    expect(world.upstream.requests).toHaveLength(0);
  });

  it("answers a body that is not a JSON object with 400 invalid_request_error", async () => {
    const world = await startProxy([]);
    const credential = world.credential();
    for (const body of ["{not json", "[]", '"claude"']) {
      const answer = await world.raw(credential, { body });
      expect(answer.status).toBe(400);
      expect(JSON.parse(answer.text)).toMatchObject({ type: "error", error: { type: "invalid_request_error" } });
    }
    expect(world.upstream.requests).toHaveLength(0);
  });

  it("answers an oversized body with 413 without reading the rest, whether its length is declared or not", async () => {
    const world = await startProxy([]);
    const credential = world.credential();
    // The job keeps its request open: a proxy that read to the end would never answer.
    const declared = await openRequest(world.url, credential, { "content-length": String(100 * 1024 * 1024) }, 1024);
    expect(declared.status).toBe(413);
    expect(JSON.parse(declared.text)).toMatchObject({ type: "error", error: { type: "request_too_large" } });
    const streamed = await openRequest(world.url, credential, {}, MAX_REQUEST_BYTES + 64 * 1024);
    expect(streamed.status).toBe(413);
    expect(world.upstream.requests).toHaveLength(0);
  });

  it("says afk could not reach the model when it is down, with no key or address, and counts nothing", async () => {
    const down = await ModelServer.start([]);
    const address = down.url;
    await down.close();
    const world = await startProxy([], { upstreamBaseUrl: address });
    const refusal = await refusalOf(ask(world.client(world.credential())).finalMessage());
    expect(refusal).toEqual({ status: 502, type: "api_error", message: "afk could not reach the model API (ECONNREFUSED); try again later" });
    expect(world.ledger.spendOf("r-attacker-1").turns).toBe(0);
    expect(world.ledger.inFlight("r-attacker-1")).toBe(false);
  });

  it("does not follow a redirect from the model's side, so afk's key goes nowhere else", async () => {
    const elsewhere: IncomingHttpHeaders[] = [];
    const attacker = createServer((req, res) => {
      elsewhere.push(req.headers);
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
    const redirector = createServer((_req, res) => {
      const { port } = attacker.address() as AddressInfo;
      res.writeHead(307, { location: `http://127.0.0.1:${port}/v1/messages` }).end();
    });
    await Promise.all([attacker, redirector].map((server) => new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))));
    try {
      const world = await startProxy([], { upstreamBaseUrl: `http://127.0.0.1:${(redirector.address() as AddressInfo).port}` });
      const refusal = await refusalOf(ask(world.client(world.credential())).finalMessage());
      expect(refusal).toEqual({
        status: 502,
        type: "api_error",
        message: "afk could not reach the model API (it answered with a redirect, which afk does not follow); try again later",
      });
      expect(elsewhere).toEqual([]);
    } finally {
      for (const server of [attacker, redirector]) {
        server.closeAllConnections();
        await new Promise((resolve) => server.close(resolve));
      }
    }
  });

  it("will not start with a model API address that carries credentials (errors would quote it)", () => {
    const deps = { apiKey: AFK_KEY, costOf: () => 0, log: { warn: () => undefined, info: () => undefined } };
    expect(() => new ModelProxy({ ...deps, upstreamBaseUrl: "https://afk:gateway-secret@gateway.example/anthropic" })).toThrow(
      "the model API's base URL must not carry credentials",
    );
    expect(() => new ModelProxy({ ...deps, upstreamBaseUrl: "file:///etc/passwd" })).toThrow("the model API's base URL must be http(s)");
  });

  it("no answer, header or log line of any kind carries afk's key", async () => {
    const held = gate();
    const world = await startProxy(
      [
        turn("ok"),
        { kind: "error", status: 529, type: "overloaded_error", message: "overloaded" },
        turn("slow", USAGE, { hold: { at: "content", until: held.until } }),
      ],
      { gates: [held.open] },
    );
    const credential = world.credential({ maxTurns: 2 });
    const answers: RawAnswer[] = [];
    answers.push(await world.raw(credential, { body: messagesBody() }));
    answers.push(await world.raw(credential, { body: messagesBody() }));
    answers.push(await world.raw(credential, { body: messagesBody("claude-opus-4-1") }));
    answers.push(await world.raw(credential, { path: "/v1/models" }));
    answers.push(await world.raw(credential, { body: "{" }));
    const slow = world.raw(credential, { body: messagesBody(MODEL, { stream: true }) });
    await expect.poll(() => world.upstream.requests.length).toBe(3);
    answers.push(await world.raw(credential, { body: messagesBody() }));
    held.open();
    answers.push(await slow);
    answers.push(await world.raw(credential, { body: messagesBody() }));
    expect(answers.map((answer) => answer.status)).toEqual([200, 529, 403, 404, 400, 429, 200, 403]);
    for (const answer of answers) {
      expect(answer.text).not.toContain(AFK_KEY);
      for (const [name, value] of answer.headers) expect(`${name}: ${value}`).not.toContain(AFK_KEY);
    }
    expect(logs.length).toBeGreaterThan(0);
  });
});

describe("RunSpendLedger", () => {
  it("keeps a run's spend until every credential seen for it has expired, and one request in flight per run", () => {
    let now = 1_000;
    const ledger = new RunSpendLedger({ now: () => now });
    expect(ledger.begin("r-1", new Date(5_000))).toBe(true);
    expect(ledger.begin("r-1", new Date(9_000))).toBe(false);
    expect(ledger.begin("r-2", new Date(5_000))).toBe(true);
    ledger.end("r-1", { usd: 0.5, tokens: { input: 1, output: 2, cacheWrite: 3, cacheRead: 4 } });
    ledger.end("r-2", undefined);
    expect(ledger.spendOf("r-1")).toEqual({ usd: 0.5, turns: 1, tokens: { input: 1, output: 2, cacheWrite: 3, cacheRead: 4 } });
    expect(ledger.spendOf("r-2")).toEqual({ usd: 0, turns: 0, tokens: { input: 0, output: 0, cacheWrite: 0, cacheRead: 0 } });
    now = 4_000;
    expect(ledger.begin("r-1", new Date(20_000))).toBe(true);
    ledger.end("r-1", undefined);
    now = 10_000;
    expect(ledger.begin("r-3", new Date(30_000))).toBe(true);
    // r-1's later credential is still good, so its spend stands.
    expect(ledger.spendOf("r-1").turns).toBe(1);
    now = 25_000;
    ledger.end("r-3", undefined);
    expect(ledger.begin("r-3", new Date(30_000))).toBe(true);
    expect(ledger.spendOf("r-1").turns).toBe(0);
    ledger.forget("r-3");
    expect(ledger.inFlight("r-3")).toBe(true);
  });
});

/** A request the attacker writes by hand and never finishes: `bytes` of body, then it waits for afk's answer. */
function openRequest(url: string, credential: string, headers: Record<string, string>, bytes: number): Promise<{ status: number; text: string }> {
  const { port } = new URL(url);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("afk did not answer while the body was still coming")), 10_000);
    const req = request({
      host: "127.0.0.1",
      port,
      method: "POST",
      path: `${JOB_PATHS.model}/v1/messages`,
      headers: { authorization: `Bearer ${credential}`, "content-type": "application/json", ...headers },
    });
    req.on("response", (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => {
        clearTimeout(timer);
        req.destroy();
        resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") });
      });
    });
    req.on("error", () => undefined);
    const piece = Buffer.alloc(64 * 1024, "a");
    for (let sent = 0; sent < bytes; sent += piece.length) req.write(piece.subarray(0, Math.min(piece.length, bytes - sent)));
  });
}
