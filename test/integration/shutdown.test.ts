import { describe, expect, it } from "vitest";
import { readLock } from "../../src/lock/repo-lock.js";
import { HeldExecutor } from "../helpers/held-executor.js";
import { runStateOf } from "../helpers/run-state-of.js";
import { FULL_NAME, INSTALLATION_ID, OWNER, REPO, oneRunningOneQueued, useScenario } from "../helpers/scenario.js";

// Graceful shutdown as the coordinator carries it out (SIGTERM through the real process is in
// test/e2e/app.test.ts): runs that finish within the grace period finish; the rest are handed back.

const start = useScenario();
const repo = { owner: OWNER, repo: REPO, installationId: INSTALLATION_ID };

describe("draining the App for a shutdown", () => {
  it("hands back a run still going when the grace period ends: queued again, lock released at once, trigger label kept, nothing else started", async () => {
    const executor = new HeldExecutor();
    const scenario = await start({ executor });
    const { first, second } = await oneRunningOneQueued(scenario, executor);
    const runId = runStateOf(scenario, first)?.runId;

    const result = await scenario.afk.coordinator.drain(200, "afk was shut down (SIGTERM) before the run finished.");

    expect(result).toEqual({ finished: 0, handedBack: 1 });
    const state = runStateOf(scenario, first);
    expect(state).toMatchObject({ status: "queued", phase: "queued", runId, job: "implement" });
    expect(state?.outcome?.message).toBe(
      "The run was interrupted: afk was shut down (SIGTERM) before the run finished. It is queued again and starts when a replica of afk is free.",
    );
    expect(scenario.afkComments(first)[0]).toContain("The run was interrupted: afk was shut down (SIGTERM) before the run finished. It is queued again");
    // The lock is free now, not when its lease ends; the issue is still in the queue, and not marked in progress.
    const octokit = await scenario.afk.probot.auth(INSTALLATION_ID);
    expect((await readLock(octokit, repo, new Date())).status).toBe("free");
    expect(scenario.github.labels(FULL_NAME, first)).toEqual(["ready-for-agent"]);
    // The issue queued behind it did not start on the way out.
    expect(executor.started.map((run) => run.issue)).toEqual([first]);
    expect(runStateOf(scenario, second)?.status).toBe("queued");
  });

  it("lets a run that finishes within the grace period finish as usual", async () => {
    const executor = new HeldExecutor();
    const scenario = await start({ executor });
    const { first } = await oneRunningOneQueued(scenario, executor);

    const draining = scenario.afk.coordinator.drain(10_000, "afk was shut down (SIGTERM) before the run finished.");
    setTimeout(() => executor.finish(first, { status: "done", message: "Answered." }), 100);
    const result = await draining;

    expect(result).toEqual({ finished: 1, handedBack: 0 });
    expect(runStateOf(scenario, first)).toMatchObject({ status: "done", outcome: { message: "Answered." } });
    expect(executor.started).toHaveLength(1);
  });
});
