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
    await expect(down.messages.create({ model: "claude-sonnet-5-5", max_tokens: 10, messages: [{ role: "user", content: "hi" }] })).rejects.toMatchObject({ status: 529 });
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
});
