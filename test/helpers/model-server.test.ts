import Anthropic from "@anthropic-ai/sdk";
import { afterEach, describe, expect, it } from "vitest";
import { ModelServer, type ScriptedTurn } from "./model-server.js";

let server: ModelServer | undefined;

afterEach(async () => {
  expect(server?.violations ?? []).toEqual([]);
  await server?.close();
  server = undefined;
});

async function client(script: ScriptedTurn[], maxRetries = 2): Promise<Anthropic> {
  server = await ModelServer.start(script);
  return new Anthropic({ apiKey: "sk-ant-test", baseURL: server.url, maxRetries });
}

const toolTurn: ScriptedTurn = {
  kind: "message",
  content: [
    { type: "text", text: "I will look at the files." },
    { type: "tool_use", id: "toolu_01", name: "bash", input: { command: "ls -la" } },
  ],
  usage: { input_tokens: 120, output_tokens: 30, cache_creation_input_tokens: 100, cache_read_input_tokens: 0 },
};

describe("the scripted Messages API server, through the real SDK", () => {
  it("answers JSON requests with the scripted message and usage", async () => {
    const anthropic = await client([toolTurn]);
    const message = await anthropic.messages.create({ model: "claude-sonnet-5-5", max_tokens: 1024, messages: [{ role: "user", content: "hi" }] });
    expect(message.stop_reason).toBe("tool_use");
    expect(message.content).toEqual([
      { type: "text", text: "I will look at the files." },
      { type: "tool_use", id: "toolu_01", name: "bash", input: { command: "ls -la" } },
    ]);
    expect(message.usage).toMatchObject({ input_tokens: 120, output_tokens: 30, cache_creation_input_tokens: 100 });
    // SDK 1.x sends the key as a bearer token.
    const headers = server?.requests[0]?.headers ?? {};
    expect(headers["x-api-key"] ?? headers.authorization).toMatch(/sk-ant-test$/);
  });

  it("streams server-sent events the SDK assembles into the same message", async () => {
    const anthropic = await client([toolTurn]);
    const stream = anthropic.messages.stream({ model: "claude-sonnet-5-5", max_tokens: 1024, messages: [{ role: "user", content: "hi" }] });
    const texts: string[] = [];
    stream.on("text", (text) => texts.push(text));
    const message = await stream.finalMessage();
    expect(texts.join("")).toBe("I will look at the files.");
    expect(texts.length).toBeGreaterThan(1);
    expect(message.content[1]).toEqual({ type: "tool_use", id: "toolu_01", name: "bash", input: { command: "ls -la" } });
    expect(message.stop_reason).toBe("tool_use");
    expect(message.usage.output_tokens).toBe(30);
  });

  it("429 and 529 answers are retried by the SDK; a model that stays down surfaces the error", async () => {
    const anthropic = await client([
      { kind: "error", status: 429, type: "rate_limit_error", message: "slow down", retryAfterSeconds: 0 },
      { kind: "error", status: 529, type: "overloaded_error", message: "overloaded", retryAfterSeconds: 0 },
      { kind: "message", content: [{ type: "text", text: "done" }] },
    ]);
    const message = await anthropic.messages.create({ model: "claude-sonnet-5-5", max_tokens: 10, messages: [{ role: "user", content: "hi" }] });
    expect(message.content).toEqual([{ type: "text", text: "done" }]);
    expect(server?.requests).toHaveLength(3);
    await server?.close();

    const down = await client(
      [
        { kind: "error", status: 529, type: "overloaded_error", message: "overloaded", retryAfterSeconds: 0 },
        { kind: "error", status: 529, type: "overloaded_error", message: "overloaded", retryAfterSeconds: 0 },
      ],
      1,
    );
    await expect(down.messages.create({ model: "claude-sonnet-5-5", max_tokens: 10, messages: [{ role: "user", content: "hi" }] })).rejects.toMatchObject({
      status: 529,
    });
  });

  it("a dropped connection is retried like an overload", async () => {
    const anthropic = await client([{ kind: "drop" }, { kind: "message", content: [{ type: "text", text: "back" }] }]);
    const message = await anthropic.messages.create({ model: "claude-sonnet-5-5", max_tokens: 10, messages: [{ role: "user", content: "hi" }] });
    expect(message.content).toEqual([{ type: "text", text: "back" }]);
    expect(server?.remaining).toBe(0);
  });

  it("records a request the API would refuse as a violation", async () => {
    const anthropic = await client([]);
    await expect(anthropic.messages.create({ model: "claude-sonnet-5-5", max_tokens: 10, messages: [] })).rejects.toMatchObject({ status: 400 });
    expect(server?.violations).toEqual(["messages must be a non-empty array"]);
    server?.violations.splice(0);
  });

  it("bills prompt caching as the API does when asked to: a cached prefix is read, the new part written, the rest input", async () => {
    const reply: ScriptedTurn = { kind: "message", content: [{ type: "text", text: "ok" }] };
    const anthropic = await client([reply, reply, reply]);
    if (server === undefined) throw new Error("no server");
    server.simulateCaching = true;
    const system = "s".repeat(8_000); // 2000 tokens, above the 1024-token minimum
    const mark = { type: "ephemeral" } as const;
    const first = await anthropic.messages.create({
      model: "m",
      max_tokens: 10,
      system: [{ type: "text", text: system, cache_control: mark }],
      messages: [{ role: "user", content: "hi" }],
    });
    expect(first.usage).toMatchObject({ cache_read_input_tokens: 0 });
    expect(first.usage.cache_creation_input_tokens).toBeGreaterThan(2_000);
    const history = [
      { role: "user" as const, content: [{ type: "text" as const, text: "x".repeat(8_000) }] },
      { role: "assistant" as const, content: "sure" },
      { role: "user" as const, content: [{ type: "text" as const, text: "more", cache_control: mark }] },
    ];
    const second = await anthropic.messages.create({
      model: "m",
      max_tokens: 10,
      system: [{ type: "text", text: system, cache_control: mark }],
      messages: history,
    });
    // The system prefix written by the first request is read; the history up to the new breakpoint is written.
    expect(second.usage.cache_read_input_tokens).toBe(first.usage.cache_creation_input_tokens);
    expect(second.usage.cache_creation_input_tokens).toBeGreaterThan(2_000);
    expect(second.usage.input_tokens).toBe(0);
    // No breakpoints at all: everything is plain input.
    const third = await anthropic.messages.create({ model: "m", max_tokens: 10, system, messages: [{ role: "user", content: "y".repeat(8_000) }] });
    expect(third.usage).toMatchObject({ cache_read_input_tokens: 0, cache_creation_input_tokens: 0 });
    expect(third.usage.input_tokens).toBeGreaterThan(4_000);
  });
});
