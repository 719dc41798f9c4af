import { afterEach, describe, expect, it } from "vitest";
import { endTurn } from "../helpers/git-scenario.js";
import { ModelServer, type ScriptedTurn } from "../helpers/model-server.js";
import { ModelGate } from "./model-gate.js";

/** What the App sends: a Messages API request whose task names its repository. */
function ask(gate: ModelGate, repository: string): Promise<Response> {
  return fetch(`${gate.url}/v1/messages`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-api-key": "sk-ant-test", "anthropic-version": "2023-06-01" },
    body: JSON.stringify({ model: "claude-sonnet-5-5", max_tokens: 64, messages: [{ role: "user", content: `Implement this issue of ${repository}` }] }),
  });
}

const opened: Array<{ close(): Promise<void> }> = [];

afterEach(async () => {
  for (const closable of opened.splice(0).reverse()) await closable.close();
});

async function gateTo(script: ScriptedTurn[]): Promise<{ gate: ModelGate; model: ModelServer }> {
  const model = await ModelServer.start(script);
  const gate = await ModelGate.start();
  opened.push(model, gate);
  gate.route("octo-gate/app", model.url);
  return { gate, model };
}

describe("the model gate the e2e App processes talk to", () => {
  it("passes the model's answers and errors through as they are", async () => {
    const { gate, model } = await gateTo([
      { kind: "error", status: 529, type: "overloaded_error", message: "Overloaded" },
      { kind: "error", status: 429, type: "rate_limit_error", message: "slow down", retryAfterSeconds: 1 },
      endTurn("done"),
    ]);
    const overloaded = await ask(gate, "octo-gate/app");
    expect(overloaded.status).toBe(529);
    expect(await overloaded.json()).toEqual({ type: "error", error: { type: "overloaded_error", message: "Overloaded" } });
    const limited = await ask(gate, "octo-gate/app");
    expect(limited.status).toBe(429);
    expect(limited.headers.get("retry-after")).toBe("1");
    await limited.arrayBuffer();
    const answered = await ask(gate, "octo-gate/app");
    expect(answered.status).toBe(200);
    expect(await answered.json()).toMatchObject({ type: "message", content: [{ type: "text", text: "done" }] });
    expect(model.requests).toHaveLength(3);
    expect(gate.violations).toEqual([]);
  });

  it("mirrors a dropped connection as a dropped connection, not as an answer of its own", async () => {
    const { gate, model } = await gateTo([{ kind: "drop" }, endTurn("after the drop")]);
    // The App's fetch sees the connection cut off (what the SDK retries as a connection error), never a 502 from the gate.
    const dropped = await ask(gate, "octo-gate/app").then(
      (response) => `answered ${response.status}`,
      (error: unknown) => (error instanceof Error ? error.name : String(error)),
    );
    expect(dropped).toBe("TypeError");
    const next = await ask(gate, "octo-gate/app");
    expect(next.status).toBe(200);
    expect(await next.json()).toMatchObject({ content: [{ type: "text", text: "after the drop" }] });
    expect(model.requests).toHaveLength(2);
    expect(gate.violations).toEqual([]);
  });
});
