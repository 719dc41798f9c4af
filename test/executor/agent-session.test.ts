import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { AgentSession } from "../../src/executor/agent/agent-session.js";
import { createModelClient } from "../../src/executor/agent/model-client.js";
import { costOf, priceOf } from "../../src/executor/agent/model-pricing.js";
import { WorkspaceTools } from "../../src/executor/agent/workspace-tools.js";
import { createSandbox } from "../../src/executor/sandbox.js";
import type { Sandbox } from "../../src/executor/sandbox-contract.js";
import { endTurn, toolTurn } from "../helpers/git-scenario.js";
import { ModelServer, type ScriptedTurn } from "../helpers/model-server.js";

let root: string;
let sandbox: Sandbox;
let server: ModelServer | undefined;
const PRICE = priceOf("claude-sonnet-4-6") ?? { inputPerMTok: 3, outputPerMTok: 15, cacheWritePerMTok: 3.75, cacheReadPerMTok: 0.3 };

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), "afk-session-"));
  mkdirSync(join(root, "worktree"));
  mkdirSync(join(root, "home"));
  sandbox = await createSandbox({ worktree: join(root, "worktree"), home: join(root, "home") }, { allowUnsandboxed: false });
});

afterEach(async () => {
  await server?.close();
  server = undefined;
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

async function session(
  script: ScriptedTurn[],
  options: { maxTurns?: number; maxUsd?: number; deadline?: number; signal?: AbortSignal; retries?: number } = {},
): Promise<AgentSession> {
  server = await ModelServer.start(script);
  return new AgentSession({
    client: createModelClient({ apiKey: "sk-ant-test", baseURL: server.url, maxRetries: options.retries ?? 0 }),
    model: "claude-sonnet-4-6",
    price: PRICE,
    system: "You are a test agent.",
    tools: new WorkspaceTools({ sandbox, commandTimeoutMs: 10_000, network: false, maxResultChars: 5_000, secrets: [] }),
    budget: { maxTurns: options.maxTurns ?? 50, maxUsd: options.maxUsd ?? 10, deadline: options.deadline ?? Date.now() + 60_000 },
    signal: options.signal ?? new AbortController().signal,
  });
}

interface Breakpointed {
  cache_control?: unknown;
}

function breakpoints(body: Record<string, unknown>): string[] {
  const found: string[] = [];
  const system = Array.isArray(body.system) ? (body.system as Breakpointed[]) : [];
  system.forEach((block, index) => block.cache_control !== undefined && found.push(`system[${index}]`));
  const tools = Array.isArray(body.tools) ? (body.tools as Breakpointed[]) : [];
  tools.forEach((tool, index) => tool.cache_control !== undefined && found.push(`tools[${index}]`));
  const messages = Array.isArray(body.messages) ? (body.messages as Array<{ content: Breakpointed[] }>) : [];
  messages.forEach((message, m) => message.content.forEach((block, b) => block.cache_control !== undefined && found.push(`messages[${m}].content[${b}]`)));
  return found;
}

describe("agent session", () => {
  it("caches the stable prefix and the newest message, never sending more than 4 breakpoints", async () => {
    const agent = await session([...Array.from({ length: 6 }, () => toolTurn("bash", { command: "true" })), endTurn("done")]);
    expect(await agent.send("the task")).toEqual({ kind: "finished", summary: "done" });
    const requests = server?.requests ?? [];
    expect(requests).toHaveLength(7);
    for (const [index, request] of requests.entries()) {
      const marks = breakpoints(request.body);
      expect(marks.length).toBeLessThanOrEqual(4);
      expect(marks).toContain("system[0]");
      expect(marks).toContain("messages[0].content[0]");
      const newest = (request.body.messages as unknown[]).length - 1;
      if (index > 0) expect(marks).toContain(`messages[${newest}].content[0]`);
    }
  });

  it("adds up usage into dollars, including cache writes and reads", async () => {
    const usage = { input_tokens: 1_000, output_tokens: 500, cache_creation_input_tokens: 10_000, cache_read_input_tokens: 100_000 };
    const agent = await session([toolTurn("bash", { command: "true" }, usage), endTurn("ok", usage)]);
    await agent.send("task");
    const perTurn = costOf({ input: 1_000, output: 500, cacheWrite: 10_000, cacheRead: 100_000 }, PRICE);
    expect(perTurn).toBeCloseTo((1_000 * 3 + 500 * 15 + 10_000 * 3.75 + 100_000 * 0.3) / 1_000_000, 10);
    expect(agent.progress.usd).toBeCloseTo(2 * perTurn, 10);
    expect(agent.progress.usage).toEqual({ input: 2_000, output: 1_000, cacheWrite: 20_000, cacheRead: 200_000 });
  });

  it("keeps one budget across sends and says which limit stopped it", async () => {
    const agent = await session([endTurn("first"), toolTurn("bash", { command: "true" })], { maxTurns: 2 });
    expect(await agent.send("one")).toEqual({ kind: "finished", summary: "first" });
    expect(await agent.send("two")).toEqual({ kind: "budget", limit: "turns", message: "stopped at budget.max_turns (2 turns, $0.00)" });
  });

  it("stops at the deadline, even in the middle of a slow command", async () => {
    const agent = await session([toolTurn("bash", { command: "sleep 30" }), endTurn("late")], { deadline: Date.now() + 1_000 });
    const stop = await agent.send("task");
    expect(stop).toMatchObject({ kind: "budget", limit: "time" });
    expect(server?.remaining).toBe(1);
  });

  it("says a refused key is not worth retrying, and an unreachable API is", async () => {
    const refused = await session([{ kind: "error", status: 401, type: "authentication_error", message: "invalid x-api-key" }]);
    expect(await refused.send("task")).toEqual({
      kind: "model-error",
      retryable: false,
      message: "the Anthropic API refused the key (401); the operator must check ANTHROPIC_API_KEY",
    });
    const dropped = await session([{ kind: "drop" }, { kind: "drop" }], { retries: 1 });
    expect(await dropped.send("task")).toMatchObject({ kind: "model-error", retryable: true, message: expect.stringMatching(/could not be reached/) });
  });

  it("stops when the run is aborted, between or during turns", async () => {
    const controller = new AbortController();
    const agent = await session([toolTurn("bash", { command: "sleep 5" }), endTurn("never")], { signal: controller.signal });
    setTimeout(() => controller.abort(new Error("Stopped by @ada-admin.")), 300);
    expect(await agent.send("task")).toEqual({ kind: "aborted", message: "Stopped by @ada-admin." });
  });

  it("answers a tool call cut off by max_tokens with an error instead of running it", async () => {
    const agent = await session([
      { kind: "message", content: [{ type: "tool_use", id: "toolu_cut", name: "bash", input: { command: "touch cut-off" } }], stop_reason: "max_tokens" },
      endTurn("ok"),
    ]);
    await agent.send("task");
    const [result] =
      (server?.requests[1]?.body.messages as Array<{ content: Array<{ type: string; content?: string; is_error?: boolean }> }>).at(-1)?.content ?? [];
    expect(result).toMatchObject({ type: "tool_result", is_error: true });
    expect(result?.content).toMatch(/cut off/);
  });
});
