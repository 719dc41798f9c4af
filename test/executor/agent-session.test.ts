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
import { ModelServer, type RecordedModelRequest, type ScriptedTurn } from "../helpers/model-server.js";
import { TRIMMED_TOOL_RESULT } from "../../src/executor/agent/trim-context.js";
import { implementIssue } from "../../src/executor/implement-issue.js";

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
  options: {
    maxTurns?: number;
    maxUsd?: number;
    deadline?: number;
    signal?: AbortSignal;
    retries?: number;
    contextTokens?: number;
    maxTokens?: number;
    thinkingTokens?: number;
    commandTimeoutMs?: number;
  } = {},
): Promise<AgentSession> {
  server = await ModelServer.start(script);
  return new AgentSession({
    client: createModelClient({ apiKey: "sk-ant-test", baseURL: server.url, maxRetries: options.retries ?? 0 }),
    model: "claude-sonnet-4-6",
    price: PRICE,
    system: "You are a test agent.",
    tools: new WorkspaceTools({ sandbox, commandTimeoutMs: 10_000, network: false, maxResultChars: 5_000, secrets: [] }),
    budget: {
      maxTurns: options.maxTurns ?? 50,
      maxUsd: options.maxUsd ?? 10,
      deadline: options.deadline ?? Date.now() + 60_000,
      ...(options.commandTimeoutMs === undefined ? {} : { commandTimeoutMs: options.commandTimeoutMs }),
    },
    signal: options.signal ?? new AbortController().signal,
    ...(options.contextTokens === undefined ? {} : { contextTokens: options.contextTokens }),
    ...(options.maxTokens === undefined ? {} : { maxTokens: options.maxTokens }),
    ...(options.thinkingTokens === undefined ? {} : { thinkingTokens: options.thinkingTokens }),
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
      // The task's message ends with the budget afk states: the breakpoint is on its last block.
      expect(marks).toContain("messages[0].content[1]");
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

interface Block {
  type: string;
  text?: string;
  id?: string;
  tool_use_id?: string;
  content?: unknown;
  thinking?: string;
  signature?: string;
}
type Message = { role: string; content: Block[] };

const messagesOf = (request: RecordedModelRequest | undefined): Message[] => (request?.body.messages ?? []) as Message[];
const promptChars = (request: RecordedModelRequest): number => JSON.stringify([request.body.system, request.body.tools, request.body.messages]).length;
/** A command whose output is `chars` characters; `meanwhile` runs when this answer is due. */
const output = (chars: number, meanwhile?: () => void): ScriptedTurn => ({
  ...(toolTurn("bash", { command: `head -c ${chars} /dev/zero | tr '\\0' a` }) as Extract<ScriptedTurn, { kind: "message" }>),
  ...(meanwhile === undefined ? {} : { meanwhile }),
});
const trimmedIn = (request: RecordedModelRequest | undefined): number =>
  messagesOf(request).reduce((sum, message) => sum + message.content.filter((block) => block.content === TRIMMED_TOOL_RESULT).length, 0);

/** Every tool_use is answered by a tool_result with its id in the next message, and every tool_result answers one. */
function pairingProblems(request: RecordedModelRequest): string[] {
  const messages = messagesOf(request);
  const problems: string[] = [];
  messages.forEach((message, index) => {
    const uses = message.role === "assistant" ? message.content.filter((block) => block.type === "tool_use").map((block) => block.id) : [];
    const next = messages[index + 1];
    const results = next?.content.filter((block) => block.type === "tool_result").map((block) => block.tool_use_id) ?? [];
    if (uses.length > 0 && JSON.stringify(uses) !== JSON.stringify(results))
      problems.push(`message ${index}: ${uses.join(",")} answered by ${results.join(",")}`);
  });
  return problems;
}

describe("the agent session near the model's context", () => {
  it("trims old tool results as the conversation nears the context, keeping the last turns whole, and goes on", async () => {
    const agent = await session([...Array.from({ length: 14 }, () => output(4_000)), endTurn("done")], { contextTokens: 12_000, maxTokens: 1_000 });
    const model = server as ModelServer;
    model.simulateCaching = true;
    model.maxPromptChars = 12_000 * 4;
    expect(await agent.send("the task")).toEqual({ kind: "finished", summary: "done" });
    // No request was refused: one request a scripted turn, each within the context.
    expect(model.requests).toHaveLength(15);
    for (const request of model.requests) expect(promptChars(request)).toBeLessThanOrEqual(12_000 * 4);
    expect(trimmedIn(model.requests.at(-1))).toBeGreaterThan(0);
    for (const request of model.requests) {
      expect(pairingProblems(request)).toEqual([]);
      const messages = messagesOf(request);
      expect(messages[0]?.content[0]).toEqual({ type: "text", text: "the task" });
      const lastTurns = messages.filter((message) => message.role === "user").slice(-3);
      for (const message of lastTurns) for (const block of message.content) expect(block.content).not.toBe(TRIMMED_TOOL_RESULT);
    }
    expect(agent.runLog.some((entry) => /characters of old tool results were removed/.test(entry.text))).toBe(true);
  });

  it("answers a 400 'prompt is too long' by trimming every tool result but the newest and asking once more", async () => {
    let model: ModelServer | undefined;
    const agent = await session([
      output(4_000, () => {
        // Room for the first request and about three and a half tool results more.
        if (model !== undefined) model.maxPromptChars = promptChars(model.requests[0] as RecordedModelRequest) + 14_500;
      }),
      ...Array.from({ length: 5 }, () => output(4_000)),
      endTurn("done"),
    ]);
    model = server;
    expect(await agent.send("the task")).toEqual({ kind: "finished", summary: "done" });
    const requests = model?.requests ?? [];
    // Requests 1–4 fit; the 5th (four results) is refused and asked again with three of them trimmed.
    expect(requests).toHaveLength(8);
    const limit = model?.maxPromptChars ?? 0;
    expect(promptChars(requests[4] as RecordedModelRequest)).toBeGreaterThan(limit);
    expect(trimmedIn(requests[4])).toBe(0);
    expect(trimmedIn(requests[5])).toBe(3);
    expect(promptChars(requests[5] as RecordedModelRequest)).toBeLessThanOrEqual(limit);
    for (const request of requests) expect(pairingProblems(request)).toEqual([]);
  });

  it("ends a conversation that cannot fit even trimmed as a budget stop, and implementing reports a budget stop, not a model error", async () => {
    let model: ModelServer | undefined;
    const agent = await session([
      output(1_000, () => {
        if (model !== undefined) model.maxPromptChars = promptChars(model.requests[0] as RecordedModelRequest) + 3_000;
      }),
      output(5_000),
      endTurn("never"),
    ]);
    model = server;
    const result = await implementIssue({
      session: agent,
      sandbox,
      task: "the task",
      gate: { command: "true", maxRounds: 1, timeoutMs: 10_000, outputChars: 1_000, network: false },
      signal: new AbortController().signal,
    });
    expect(result).toEqual({
      kind: "budget",
      message: "stopped: the conversation no longer fits the model's context (200000 tokens) even with its old tool results removed (2 turns, $0.00)",
      gate: undefined,
    });
    const requests = model?.requests ?? [];
    // Two answers, then the third request refused, trimmed, and refused again: the last turn is never used.
    expect(requests).toHaveLength(4);
    expect(model?.remaining).toBe(1);
    expect(trimmedIn(requests[2])).toBe(0);
    expect(trimmedIn(requests[3])).toBe(1);
    expect(promptChars(requests[3] as RecordedModelRequest)).toBeLessThan(promptChars(requests[2] as RecordedModelRequest));
  });
});

describe("the agent session's budget, told to the agent", () => {
  it("states the budget with the task and warns once, in the tool results after 80% of the turns", async () => {
    const agent = await session([...Array.from({ length: 9 }, () => toolTurn("bash", { command: "true" })), endTurn("done")], {
      maxTurns: 10,
      maxUsd: 4,
      deadline: Date.now() + 30 * 60_000,
      commandTimeoutMs: 10 * 60_000,
    });
    expect(await agent.send("the task")).toEqual({ kind: "finished", summary: "done" });
    const requests = server?.requests ?? [];
    expect(messagesOf(requests[0])[0]?.content).toEqual([
      { type: "text", text: "the task" },
      {
        type: "text",
        text: "afk: your budget for this task is at most 10 turns, $4.00 and 30 minutes in all; a command is stopped after 10 minutes. afk stops the session when one of them is spent, and says so when little is left.",
        cache_control: { type: "ephemeral" },
      },
    ]);
    const warnings = requests.map((request) =>
      messagesOf(request)
        .flatMap((message) => message.content)
        .filter((block) => block.type === "text" && block.text?.startsWith("afk: budget nearly spent") === true)
        .map((block) => block.text),
    );
    // Turn 8 of 10 is 80%: the 9th request carries the warning, after that turn's tool result; it is never repeated.
    expect(warnings.slice(0, 8)).toEqual(Array.from({ length: 8 }, () => []));
    const warning =
      "afk: budget nearly spent (2 turns, $4.00 and 29 minutes left); finish: make sure the change is complete and tested, then end your turn with the summary.";
    expect(warnings[8]).toEqual([warning]);
    expect(warnings[9]).toEqual([warning]);
    const ninth = messagesOf(requests[8]).at(-1)?.content ?? [];
    expect(ninth.map((block) => block.type)).toEqual(["tool_result", "text"]);
    expect(agent.runLog.filter((entry) => entry.text === warning)).toHaveLength(1);
  });

  it("warns when 80% of the dollars is spent", async () => {
    // $3.00 a turn of claude-sonnet-4-6 against max_usd 10: the third turn reaches $9.00.
    const usage = { input_tokens: 1_000_000, output_tokens: 0 };
    const agent = await session(
      [
        toolTurn("bash", { command: "true" }, usage),
        toolTurn("bash", { command: "true" }, usage),
        toolTurn("bash", { command: "true" }, usage),
        endTurn("done"),
      ],
      {
        maxUsd: 10,
      },
    );
    await agent.send("the task");
    const last = (index: number) => messagesOf(server?.requests[index]).at(-1)?.content ?? [];
    expect(last(2).some((block) => block.type === "text")).toBe(false);
    expect(last(3).find((block) => block.type === "text")?.text).toMatch(/^afk: budget nearly spent \(47 turns, \$1\.00 and \d+ minutes? left\); finish: /);
  });
});

describe("the agent session with extended thinking", () => {
  it("asks for thinking with its budget, sends the thinking back unchanged, and records that the model thought, not what", async () => {
    const agent = await session(
      [
        {
          kind: "message",
          content: [
            { type: "thinking", thinking: "The secret plan is to list files.", signature: "c2lnbmF0dXJlLW9mLXRoZS10aGlua2luZw==" },
            { type: "tool_use", id: "toolu_thinks", name: "bash", input: { command: "true" } },
          ],
        },
        endTurn("done"),
      ],
      { thinkingTokens: 2_048, maxTokens: 8_000 },
    );
    expect(await agent.send("the task")).toEqual({ kind: "finished", summary: "done" });
    const [first, second] = server?.requests ?? [];
    expect(first?.body.thinking).toEqual({ type: "enabled", budget_tokens: 2_048 });
    expect(first?.body.max_tokens).toBe(8_000);
    expect(messagesOf(second)[1]?.content[0]).toEqual({
      type: "thinking",
      thinking: "The secret plan is to list files.",
      signature: "c2lnbmF0dXJlLW9mLXRoZS10aGlua2luZw==",
    });
    expect(agent.runLog.map((entry) => entry.text)).toContain("[afk: the model thought (33 characters, not recorded)]");
    expect(JSON.stringify(agent.runLog)).not.toContain("secret plan");
    expect(JSON.stringify(agent.transcript)).not.toContain("secret plan");
  });

  it("sends no thinking parameter when thinking is off", async () => {
    const agent = await session([endTurn("done")]);
    await agent.send("the task");
    expect(server?.requests[0]?.body).not.toHaveProperty("thinking");
  });
});
