import { describe, expect, it } from "vitest";
import { newHolder } from "../../src/lock/lock-record.js";
import { acquireLock } from "../../src/lock/repo-lock.js";
import { startedState, queuedState } from "../../src/lifecycle/transitions.js";
import { writeProgressComment } from "../../src/progress/progress-comment.js";
import { HeldExecutor } from "../helpers/held-executor.js";
import { runStateOf } from "../helpers/run-state-of.js";
import { FULL_NAME, INSTALLATION_ID, OWNER, REPO, useScenario, oneRunningOneQueued } from "../helpers/scenario.js";
import { waitFor } from "../helpers/wait-for.js";

const start = useScenario();

const repoRef = { owner: OWNER, repo: REPO, installationId: INSTALLATION_ID };

describe("one run per repository, the rest queued", () => {
  it("queues a second issue behind the first and starts it by itself when the first ends", async () => {
    const executor = new HeldExecutor();
    const scenario = await start({ executor });
    const { first, second } = await oneRunningOneQueued(scenario, executor);
    const queuedBody = scenario.afkComments(second)[0] ?? "";
    expect(queuedBody).toContain(`Queued behind #${first}`);
    expect(scenario.github.labels(FULL_NAME, first)).toContain("agent-in-progress");
    expect(scenario.github.labels(FULL_NAME, second)).not.toContain("agent-in-progress");

    executor.finish(first);
    await executor.waitForStarts(2);
    expect(executor.started.map((run) => run.issue)).toEqual([first, second]);
    expect(runStateOf(scenario, second)?.status).toBe("running");
    executor.finish(second);
    await scenario.afk.idle();
    expect(executor.shared.peak).toBe(1);
  });

  it("starts queued issues in priority order (priority:N / P0..P3, then number) and skips blocked ones", async () => {
    const executor = new HeldExecutor();
    const scenario = await start({ executor });
    const running = scenario.issue();
    const plain = scenario.issue();
    const p2 = scenario.issue({ labels: ["P2"] });
    const blocker = scenario.issue({ title: "Prerequisite" });
    const blockedInBody = scenario.issue({ labels: ["P0"], body: `Needs the other one.\n\nBlocked by #${blocker}` });
    const blockedNatively = scenario.issue({ labels: ["priority:0"] });
    scenario.github.addBlockedBy(FULL_NAME, blockedNatively, blocker);
    const p1 = scenario.issue({ labels: ["priority:1"] });

    await scenario.label(running, "wes-write", { wait: false });
    await executor.waitForStarts(1);
    for (const issue of [plain, p2, blockedInBody, blockedNatively, p1]) await scenario.label(issue, "wes-write", { wait: false });
    await waitFor(() => [plain, p2, blockedInBody, blockedNatively, p1].every((issue) => runStateOf(scenario, issue)?.status === "queued"), "all queued");

    for (let started = 1; started <= 3; started++) {
      const current = executor.running[0]?.issue ?? 0;
      executor.finish(current);
      await executor.waitForStarts(started + 1);
    }
    expect(executor.started.map((run) => run.issue)).toEqual([running, p1, p2, plain]);
    executor.finish(plain);
    await scenario.afk.idle();

    // Both blocked issues are still waiting, and say what blocks them.
    for (const issue of [blockedInBody, blockedNatively]) {
      expect(runStateOf(scenario, issue)).toMatchObject({ status: "queued", blockedBy: [blocker] });
      expect(scenario.afkComments(issue)[0]).toContain(`Waiting: blocked by #${blocker}`);
    }

    // Once the blocker is closed, the next dispatch runs them, the older of the two P0s first.
    scenario.github.setIssueState(FULL_NAME, blocker, "closed");
    await scenario.afk.coordinator.dispatchNext(repoRef);
    await executor.waitForStarts(5);
    expect(executor.started[4]?.issue).toBe(blockedInBody);
    executor.finish(blockedInBody);
    await executor.waitForStarts(6);
    expect(executor.started[5]?.issue).toBe(blockedNatively);
    executor.finish(blockedNatively);
  });

  it("takes back a lock whose lease expired: the interrupted issue is told, the new one runs", async () => {
    const executor = new HeldExecutor();
    const scenario = await start({ executor });
    const crashed = scenario.issue();
    const next = scenario.issue();
    // A replica that died mid-run: its lock lease ran out an hour ago and its issue still says "running".
    const octokit = await scenario.afk.probot.auth(INSTALLATION_ID);
    const past = new Date(Date.now() - 3_600_000);
    const holder = newHolder({ issue: crashed, runId: "r-dead", replica: "replica-dead", now: past, leaseSeconds: 300 });
    expect((await acquireLock(octokit, repoRef, holder, past)).acquired).toBe(true);
    const queued = queuedState({
      runId: "r-dead",
      issue: crashed,
      trigger: {
        actor: "wes-write",
        source: "label",
        deliveryId: "old",
        repoUrl: "https://github.com/octo-org/app",
        bodyDigest: "0123456789abcdef0123456789abcdef",
      },
      now: past,
      queuedBehind: undefined,
      previous: undefined,
    });
    await writeProgressComment(octokit, repoRef, startedState(queued, "replica-dead", past), scenario.github.botLogin);
    scenario.github.seedLabels(FULL_NAME, crashed, ["ready-for-agent", "agent-in-progress"]);

    await scenario.label(next, "wes-write", { wait: false });
    await executor.waitForStarts(1);
    expect(executor.started[0]?.issue).toBe(next);
    const interrupted = runStateOf(scenario, crashed);
    expect(interrupted).toMatchObject({ status: "interrupted", outcome: { retryable: true } });
    const body = scenario.afkComments(crashed)[0] ?? "";
    expect(body).toContain("### ⚠️ afk's run was interrupted");
    expect(body).toContain("`replica-dead`");
    expect(body).toContain("Comment `/afk retry` to run again.");
    expect(scenario.github.labels(FULL_NAME, crashed)).not.toContain("agent-in-progress");
    executor.finish(next);
  });

  it("takes back an expired lock on the next event even when nothing is queued", async () => {
    const scenario = await start();
    const crashed = scenario.issue();
    const octokit = await scenario.afk.probot.auth(INSTALLATION_ID);
    const past = new Date(Date.now() - 3_600_000);
    await acquireLock(octokit, repoRef, newHolder({ issue: crashed, runId: "r-dead", replica: "replica-dead", now: past, leaseSeconds: 300 }), past);
    const queued = queuedState({
      runId: "r-dead",
      issue: crashed,
      trigger: {
        actor: "wes-write",
        source: "label",
        deliveryId: "old",
        repoUrl: "https://github.com/octo-org/app",
        bodyDigest: "0123456789abcdef0123456789abcdef",
      },
      now: past,
      queuedBehind: undefined,
      previous: undefined,
    });
    await writeProgressComment(octokit, repoRef, startedState(queued, "replica-dead", past), scenario.github.botLogin);

    await scenario.afk.coordinator.dispatchNext(repoRef);
    await scenario.afk.idle();
    expect(runStateOf(scenario, crashed)?.status).toBe("interrupted");
    expect(scenario.github.commit(FULL_NAME, scenario.github.ref(FULL_NAME, "refs/afk/lock") ?? "")?.message).toMatch(/^afk lock: free/);
  });

  it("does not trust a state marker pasted into someone else's comment", async () => {
    const scenario = await start();
    const issue = scenario.issue();
    const forged = queuedState({
      runId: "r-forged",
      issue,
      trigger: {
        actor: "ada-admin",
        source: "label",
        deliveryId: "x",
        repoUrl: "https://github.com/octo-org/app",
        bodyDigest: "0123456789abcdef0123456789abcdef",
      },
      now: new Date(),
      queuedBehind: undefined,
      previous: undefined,
    });
    const octokit = await scenario.afk.probot.auth(INSTALLATION_ID);
    const { renderProgressComment } = await import("../../src/progress/render-progress-comment.js");
    scenario.github.addComment(FULL_NAME, issue, { body: renderProgressComment(forged), user: "rex-read" });
    scenario.github.seedLabels(FULL_NAME, issue, ["ready-for-agent"]);
    await scenario.afk.coordinator.dispatchNext(repoRef);
    await scenario.afk.idle();
    expect(scenario.afkComments(issue)).toEqual([]);
    expect(scenario.github.ref(FULL_NAME, "refs/afk/lock")).toBeUndefined();
    expect(await scenario.afk.coordinator.progressOf(octokit, repoRef, issue)).toBeUndefined();
  });

  it("reports a corrupt marker in afk's own comment instead of trusting it, and starts over", async () => {
    const scenario = await start();
    const issue = scenario.issue();
    const octokit = await scenario.afk.probot.auth(INSTALLATION_ID);
    await octokit.rest.issues.createComment({ owner: OWNER, repo: REPO, issue_number: issue, body: '### afk\n<!-- afk:state {"v":1,"status":"running" -->' });
    await scenario.label(issue, "wes-write");
    const comments = scenario.afkComments(issue);
    expect(comments.some((body) => body.includes("afk could not read the state in its progress comment"))).toBe(true);
    expect(runStateOf(scenario, issue)?.status).toBe("failed");
  });
});
