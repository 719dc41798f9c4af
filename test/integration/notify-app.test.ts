import { afterEach, describe, expect, it } from "vitest";
import type { Executor, RunOutcome } from "../../src/run-contract/executor.js";
import { useScenario } from "../helpers/scenario.js";
import { waitFor } from "../helpers/wait-for.js";
import { answerStatus, WebhookReceiver } from "../helpers/webhook-receiver.js";

const start = useScenario();
const receivers: WebhookReceiver[] = [];

afterEach(async () => {
  for (const receiver of receivers.splice(0)) await receiver.stop();
});

async function receiver(): Promise<{ receiver: WebhookReceiver; url: string }> {
  const made = new WebhookReceiver();
  receivers.push(made);
  return { receiver: made, url: await made.start() };
}

/** An executor that ends every run with `outcome`, as the agent's would. */
function endingWith(outcome: RunOutcome): Executor {
  return { name: "scripted", execute: async () => outcome };
}

describe("AFK_NOTIFY_URL through the App", () => {
  it("tells the webhook once when a labeled issue's run fails, with the issue link and the cost", async () => {
    const { receiver: hook, url } = await receiver();
    const scenario = await start({ env: { AFK_NOTIFY_URL: url } });
    const issue = scenario.issue();
    await scenario.label(issue, "wes-write");
    await waitFor(() => hook.received.length > 0, "the notification");

    const [message] = hook.messages();
    expect(message?.text).toContain(`afk: <https://github.com/octo-org/app/issues/${issue}|octo-org/app#${issue}> failed`);
    expect(message?.text).toContain("ANTHROPIC_API_KEY is not set");
    expect(message?.text).toContain("Model cost: none recorded");
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(hook.received).toHaveLength(1);
  });

  it("tells a person a run needs them, retrying a receiver that fails, with the model's words made inert", async () => {
    const { receiver: hook, url } = await receiver();
    hook.answer(answerStatus(503));
    const executor = endingWith({
      status: "escalated",
      message: "I could not fix it. <!channel> @here, see <https://evil.example|the fix>.",
      spend: { usd: 2.5, turns: 21 },
    });
    const scenario = await start({ env: { AFK_NOTIFY_URL: url }, executor });
    const issue = scenario.issue();
    await scenario.label(issue, "wes-write");
    await waitFor(() => hook.received.length >= 2, "the notification, retried", 15_000);

    const [first, second] = hook.received;
    expect(second?.body).toBe(first?.body);
    const text = hook.messages()[1]?.text ?? "";
    expect(text).toContain(`octo-org/app#${issue}> needs a person (ready-for-human)`);
    expect(text).toContain("Model cost: $2.50 over 21 turns");
    expect(text).toContain("I could not fix it. &lt;!channel&gt; @\u200Bhere, see &lt;https://evil.example|the fix&gt;.");
    expect(second?.body).not.toContain("<!channel>");
  });
});
