import { describe, expect, it } from "vitest";
import { HeldExecutor } from "../helpers/held-executor.js";
import { runStateOf } from "../helpers/run-state-of.js";
import { FULL_NAME, INSTALLATION_ID, OWNER, oneRunningOneQueued, REPO, useScenario, type Scenario } from "../helpers/scenario.js";
import { waitFor } from "../helpers/wait-for.js";
import { issuesClosedPayload, issuesUnlabeledPayload } from "../helpers/webhook-payloads.js";

const start = useScenario();

async function unlabel(scenario: Scenario, issue: number, sender: string, label = "ready-for-agent"): Promise<void> {
  const existing = scenario.github.issue(FULL_NAME, issue);
  const labels = scenario.github.labels(FULL_NAME, issue);
  await scenario.afk.deliver(
    "issues",
    issuesUnlabeledPayload({
      owner: OWNER,
      repo: REPO,
      installationId: INSTALLATION_ID,
      issue: { number: issue, title: existing.title, labels },
      label,
      sender: { login: sender, type: sender.endsWith("[bot]") ? "Bot" : "User" },
    }),
  );
  await scenario.afk.quiet();
}

async function close(scenario: Scenario, issue: number, sender: string): Promise<void> {
  const existing = scenario.github.issue(FULL_NAME, issue);
  scenario.github.setIssueState(FULL_NAME, issue, "closed");
  await scenario.afk.deliver(
    "issues",
    issuesClosedPayload({
      owner: OWNER,
      repo: REPO,
      installationId: INSTALLATION_ID,
      issue: { number: issue, title: existing.title, labels: scenario.github.labels(FULL_NAME, issue) },
      sender: { login: sender, type: "User" },
    }),
  );
  await scenario.afk.quiet();
}

describe("withdrawing an issue from afk", () => {
  it("stops a running run when someone removes the trigger label, and the next queued issue starts", async () => {
    const executor = new HeldExecutor();
    const scenario = await start({ executor });
    const { first, second } = await oneRunningOneQueued(scenario, executor);
    await unlabel(scenario, first, "tia-triage");
    await waitFor(() => runStateOf(scenario, first)?.status === "stopped", `#${first} stopped`);
    expect(runStateOf(scenario, first)?.outcome?.message).toBe("Stopped: @tia-triage removed the `ready-for-agent` label.");
    // Quoted inert in the progress comment: the person who removed the label is not notified again.
    expect(scenario.afkComments(first)[0]).toContain("Stopped: @\u200Btia-triage removed the `ready-for-agent` label. Comment `/afk retry` to start again.");
    await executor.waitForStarts(2);
    expect(executor.running.map((job) => job.issue)).toEqual([second]);
    executor.finish(second);
    await scenario.afk.idle();
  });

  it("stops a queued issue when it is closed, so it never starts", async () => {
    const executor = new HeldExecutor();
    const scenario = await start({ executor });
    const { first, second } = await oneRunningOneQueued(scenario, executor);
    await close(scenario, second, "max-maintain");
    expect(runStateOf(scenario, second)).toMatchObject({
      status: "stopped",
      stoppedBy: "max-maintain",
      outcome: { message: "Stopped: @max-maintain closed the issue." },
    });
    executor.finish(first);
    await scenario.afk.idle();
    expect(executor.started.map((run) => run.issue)).toEqual([first]);
  });

  it("ignores other labels, afk's own label removal, and issues afk is not working on", async () => {
    const executor = new HeldExecutor();
    const scenario = await start({ executor });
    const idle = scenario.issue();
    const { first, second } = await oneRunningOneQueued(scenario, executor);
    await unlabel(scenario, first, "wes-write", "bug");
    await unlabel(scenario, first, scenario.github.botLogin);
    await close(scenario, idle, "wes-write");
    expect(runStateOf(scenario, first)?.status).toBe("running");
    expect(executor.running.map((job) => job.issue)).toEqual([first]);
    expect(scenario.afkComments(idle)).toEqual([]);
    executor.finish(first);
    await executor.waitForStarts(2);
    executor.finish(second);
    await scenario.afk.idle();
  });
});
