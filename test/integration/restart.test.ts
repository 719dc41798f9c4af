import { describe, expect, it } from "vitest";
import { newHolder } from "../../src/lock/lock-record.js";
import { acquireLock, readLock } from "../../src/lock/repo-lock.js";
import { startedState, queuedState } from "../../src/lifecycle/transitions.js";
import { writeProgressComment } from "../../src/progress/progress-comment.js";
import { endTurn, toolTurn, useGitScenario } from "../helpers/git-scenario.js";
import { HeldExecutor } from "../helpers/held-executor.js";
import { runStateOf } from "../helpers/run-state-of.js";
import { FULL_NAME, INSTALLATION_ID, OWNER, REPO, useScenario } from "../helpers/scenario.js";
import { waitFor } from "../helpers/wait-for.js";

const startGit = useGitScenario();
const start = useScenario();
const repo = { owner: OWNER, repo: REPO, installationId: INSTALLATION_ID };

describe("after a restart (afk keeps nothing on disk)", () => {
  it("a run waiting on a repository without CI is still marked ready for review when the grace period ends", async () => {
    const scenario = await startGit({
      // Long enough that the process is gone before it ends even on a loaded machine (afk reads CI at the hand-off too).
      config: "test: node --test\nci:\n  grace_minutes: 0.1\n",
      script: [toolTurn("bash", { command: "printf '// one\\n' >> src/math.js" }), endTurn("Added the comment.")],
    });
    const { github } = scenario;
    const issue = scenario.issue({ title: "Annotate math" });
    await scenario.label(issue, "wes-write");
    expect(runStateOf(scenario, issue)).toMatchObject({ status: "waiting", phase: "ci" });
    // The process goes away before the grace period ends: its timer goes with it.
    scenario.afk.coordinator.shutdown("restart");
    const restarted = await scenario.replica({ replicaId: "replica-restarted", recoverOnStart: true, executor: new HeldExecutor() });
    await waitFor(() => runStateOf(scenario, issue)?.phase === "review", "the run to reach review after the restart", 20_000);
    // The state is written before its effects are carried out.
    await restarted.afk.idle();
    expect(runStateOf(scenario, issue)?.outcome?.message).toContain("No CI reported");
    expect(github.pulls(FULL_NAME)[0]?.draft).toBe(false);
  });

  it("takes back the lock of a process that died mid-run when its lease ends, says so on its issue, and starts the queued issue", async () => {
    const scenario = await start({ executor: new HeldExecutor() });
    const { github } = scenario;
    const octokit = await scenario.afk.probot.auth(INSTALLATION_ID);
    const first = scenario.issue();
    const second = scenario.issue();
    // A process that died while running #first: its progress says running, its lock has a lease of 2 s.
    const now = new Date();
    const queued = queuedState({
      runId: "run-dead",
      issue: first,
      trigger: { actor: "wes-write", source: "label", deliveryId: "d-dead", repoUrl: `https://github.com/${FULL_NAME}`, bodyDigest: "x" },
      now,
      queuedBehind: undefined,
      previous: undefined,
    });
    await writeProgressComment(octokit, repo, startedState(queued, "replica-dead", now), github.botLogin);
    expect(
      (await acquireLock(octokit, repo, newHolder({ issue: first, runId: "run-dead", replica: "replica-dead", now, leaseSeconds: 2 }), now)).acquired,
    ).toBe(true);
    await scenario.label(second, "wes-write");
    expect(runStateOf(scenario, second)).toMatchObject({ status: "queued", queuedBehind: first });

    scenario.afk.coordinator.shutdown("restart");
    const executor = new HeldExecutor();
    const restarted = await scenario.replica({ replicaId: "replica-restarted", recoverOnStart: true, executor });
    // No event arrives after the restart: only the timer set for the end of the lease can start it.
    await executor.waitForStarts(1, 10_000);
    expect(executor.running.map((job) => job.issue)).toEqual([second]);
    expect(runStateOf(restarted, first)).toMatchObject({ status: "interrupted" });
    const lock = await readLock(octokit, repo, new Date());
    expect(lock.status === "held" ? lock.holder.issue : undefined).toBe(second);
    executor.finish(second);
    await restarted.afk.idle();
  });

  it("a run whose process died while another replica lives: /afk stop there ends it when its lease ends, without another event", async () => {
    const scenario = await start({ executor: new HeldExecutor() });
    const { github } = scenario;
    const octokit = await scenario.afk.probot.auth(INSTALLATION_ID);
    const issue = scenario.issue();
    const now = new Date();
    const queued = queuedState({
      runId: "run-dead",
      issue,
      trigger: { actor: "wes-write", source: "label", deliveryId: "d-dead", repoUrl: `https://github.com/${FULL_NAME}`, bodyDigest: "x" },
      now,
      queuedBehind: undefined,
      previous: undefined,
    });
    await writeProgressComment(octokit, repo, startedState(queued, "replica-dead", now), github.botLogin);
    await acquireLock(octokit, repo, newHolder({ issue, runId: "run-dead", replica: "replica-dead", now, leaseSeconds: 2 }), now);

    await scenario.comment(issue, "max-maintain", "/afk stop");
    expect(runStateOf(scenario, issue)?.status).toBe("running");
    await waitFor(() => runStateOf(scenario, issue)?.status === "interrupted", "the dead run to be taken back when its lease ends", 10_000);
    await scenario.afk.idle();
    const lock = await readLock(octokit, repo, new Date());
    expect(lock.status).toBe("free");
  });
});
