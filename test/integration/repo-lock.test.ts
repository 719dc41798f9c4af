import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { GitHub } from "../../src/github/types.js";
import { extendLease, newHolder } from "../../src/lock/lock-record.js";
import { acquireLock, lastSeenLock, readLock, releaseLock, renewLock, requestStop, takeLock } from "../../src/lock/repo-lock.js";
import type { GitHubEmulator } from "../helpers/emulator/index.js";
import { HeldExecutor } from "../helpers/held-executor.js";
import { runStateOf } from "../helpers/run-state-of.js";
import { FULL_NAME, INSTALLATION_ID, OWNER, REPO, oneRunningOneQueued, useScenario } from "../helpers/scenario.js";
import { waitFor } from "../helpers/wait-for.js";

const repo = { owner: OWNER, repo: REPO, installationId: INSTALLATION_ID };
const start = useScenario();

describe("the repository lock on GitHub", () => {
  let github: GitHubEmulator;
  let octokit: GitHub;
  const now = new Date();

  beforeEach(async () => {
    const scenario = await start();
    github = scenario.github;
    octokit = await scenario.afk.probot.auth(INSTALLATION_ID);
  });

  afterEach(() => github.assertNoViolations());

  it("is taken once: a second taker sees the holder", async () => {
    const a = newHolder({ issue: 1, runId: "run-a", replica: "a", now, leaseSeconds: 60 });
    const b = newHolder({ issue: 2, runId: "run-b", replica: "b", now, leaseSeconds: 60 });
    const [first, second] = await Promise.all([acquireLock(octokit, repo, a, now), acquireLock(octokit, repo, b, now)]);
    expect([first.acquired, second.acquired].filter(Boolean)).toHaveLength(1);
    const loser = first.acquired ? second : first;
    expect(loser.acquired === false && loser.holder?.runId).toBe(first.acquired ? "run-a" : "run-b");
  });

  it("is not taken on a stale decision: a lock that moved since the caller looked (a run came and went) is reported as moved", async () => {
    expect(await acquireLock(octokit, repo, newHolder({ issue: 3, runId: "run-c", replica: "c", now, leaseSeconds: 60 }), now, "0".repeat(40))).toEqual({
      acquired: false,
      holder: undefined,
      moved: true,
    });
    const a = newHolder({ issue: 1, runId: "run-a", replica: "a", now, leaseSeconds: 60 });
    expect((await acquireLock(octokit, repo, a, now, null)).acquired).toBe(true);
    const seen = await readLock(octokit, repo, now);
    await releaseLock(octokit, repo, "run-a", now);
    // Free again, but not the lock the caller saw while it was held.
    const b = newHolder({ issue: 2, runId: "run-b", replica: "b", now, leaseSeconds: 60 });
    expect(await acquireLock(octokit, repo, b, now, seen.status === "absent" ? null : seen.sha)).toMatchObject({ acquired: false, moved: true });
    const free = await readLock(octokit, repo, now);
    expect((await acquireLock(octokit, repo, b, now, free.status === "absent" ? null : free.sha)).acquired).toBe(true);
  });

  it("is taken from the view the caller read, without reading it again, and never over a lock that moved since", async () => {
    const a = newHolder({ issue: 1, runId: "run-a", replica: "a", now, leaseSeconds: 60 });
    const b = newHolder({ issue: 2, runId: "run-b", replica: "b", now, leaseSeconds: 60 });
    const seen = await readLock(octokit, repo, now);
    const before = github.requests.length;
    const taken = await takeLock(octokit, repo, a, now, seen);
    expect(taken.acquired).toBe(true);
    expect(github.requests.slice(before).filter((request) => request.method === "GET")).toEqual([]);
    // b decides on the view from before a took it: the swap fails and a keeps the lock.
    expect((await takeLock(octokit, repo, b, now, seen)).acquired).toBe(false);
    const held = await readLock(octokit, repo, now);
    expect(held.status === "held" && held.holder.runId).toBe("run-a");
  });

  it("is freed from the commit its holder last wrote without a read, and only by its holder once it moved", async () => {
    const a = newHolder({ issue: 1, runId: "run-a", replica: "a", now, leaseSeconds: 60 });
    const taken = await acquireLock(octokit, repo, a, now);
    if (!taken.acquired) throw new Error("not acquired");
    const before = github.requests.length;
    expect(await releaseLock(octokit, repo, "run-a", now, taken.sha)).toBe(true);
    expect(github.requests.slice(before).map((request) => request.method)).toEqual(["POST", "PATCH"]);
    expect((await readLock(octokit, repo, now)).status).toBe("free");
    // Taken by b since: a's stale commit frees nothing, and the read that follows finds b's lock.
    const b = newHolder({ issue: 2, runId: "run-b", replica: "b", now, leaseSeconds: 60 });
    expect((await acquireLock(octokit, repo, b, now)).acquired).toBe(true);
    expect(await releaseLock(octokit, repo, "run-a", now, taken.sha)).toBe(false);
    const held = await readLock(octokit, repo, now);
    expect(held.status === "held" && held.holder.runId).toBe("run-b");
  });

  it("is remembered as this process last read or left it, only until this process tries another move; a remembered view another process moved fails its swap", async () => {
    const later = new Date(now.getTime() + 120_000);
    await readLock(octokit, repo, now);
    expect(lastSeenLock(octokit, repo, now)).toEqual({ status: "absent" });
    const a = newHolder({ issue: 1, runId: "run-a", replica: "a", now, leaseSeconds: 60 });
    const taken = await takeLock(octokit, repo, a, now, { status: "absent" });
    if (!taken.acquired) throw new Error("not acquired");
    expect(lastSeenLock(octokit, repo, now)).toEqual({ status: "held", sha: taken.sha, holder: a, expired: false });
    // Its lease is judged when asked, not when it was seen.
    expect(lastSeenLock(octokit, repo, later)).toMatchObject({ status: "held", expired: true });
    expect(await releaseLock(octokit, repo, "run-a", now, taken.sha)).toBe(true);
    const free = lastSeenLock(octokit, repo, now);
    expect(free?.status).toBe("free");
    expect(free).toEqual(await readLock(octokit, repo, now));
    // A failed swap reads the lock again, and remembers what it read.
    expect((await takeLock(octokit, repo, a, now, { status: "absent" })).acquired).toBe(false);
    expect(lastSeenLock(octokit, repo, now)).toEqual(free);
    // Another process (the raw ref below, as another replica would) moves it: the remembered view is stale, and a take from it fails.
    const seen = await readLock(octokit, repo, now);
    if (seen.status === "absent") throw new Error("no lock ref");
    const { data: tree } = await octokit.rest.git.createTree({ owner: OWNER, repo: REPO, tree: [] });
    const other = await octokit.rest.git.createCommit({ owner: OWNER, repo: REPO, message: "another process", tree: tree.sha, parents: [seen.sha] });
    await octokit.rest.git.updateRef({ owner: OWNER, repo: REPO, ref: "afk/lock", sha: other.data.sha, force: true });
    const remembered = lastSeenLock(octokit, repo, now);
    if (remembered === undefined) throw new Error("the read view was not remembered");
    expect((await takeLock(octokit, repo, newHolder({ issue: 2, runId: "run-b", replica: "b", now, leaseSeconds: 60 }), now, remembered)).acquired).toBe(false);
    expect(github.ref(FULL_NAME, "refs/afk/lock")).toBe(other.data.sha);
    // A move this process made without remembering its result (a stop request) leaves nothing to reuse.
    const c = newHolder({ issue: 3, runId: "run-c", replica: "c", now, leaseSeconds: 60 });
    expect((await acquireLock(octokit, repo, c, now)).acquired).toBe(true);
    expect(lastSeenLock(octokit, repo, now)).toMatchObject({ status: "held", holder: { runId: "run-c" } });
    expect(await requestStop(octokit, repo, "run-c", now)).toBe(true);
    expect(lastSeenLock(octokit, repo, now)).toBeUndefined();
  });

  it("renews by compare-and-swap, and a renewal from a stale sha is refused as lost", async () => {
    const holder = newHolder({ issue: 1, runId: "run-a", replica: "a", now, leaseSeconds: 60 });
    const taken = await acquireLock(octokit, repo, holder, now);
    if (!taken.acquired) throw new Error("not acquired");
    const later = new Date(now.getTime() + 30_000);
    const renewed = await renewLock(octokit, repo, taken.sha, extendLease(holder, later, 60), later);
    expect(renewed.kind).toBe("renewed");
    const view = await readLock(octokit, repo, later);
    expect(view.status === "held" && view.holder.expiresAt).toBe(new Date(later.getTime() + 60_000).toISOString());
    expect(await renewLock(octokit, repo, taken.sha, holder, later)).toEqual({ kind: "lost" });
  });

  it("carries a stop request to the holder's next renewal; release frees it only for its holder", async () => {
    const holder = newHolder({ issue: 1, runId: "run-a", replica: "a", now, leaseSeconds: 60 });
    const taken = await acquireLock(octokit, repo, holder, now);
    if (!taken.acquired) throw new Error("not acquired");
    expect(await requestStop(octokit, repo, "run-other", now)).toBe(false);
    expect(await requestStop(octokit, repo, "run-a", now)).toBe(true);
    const renewal = await renewLock(octokit, repo, taken.sha, holder, now);
    expect(renewal.kind).toBe("stop-requested");
    expect(await releaseLock(octokit, repo, "run-other", now)).toBe(false);
    expect(await releaseLock(octokit, repo, "run-a", now)).toBe(true);
    expect((await readLock(octokit, repo, now)).status).toBe("free");
    expect(github.commit(FULL_NAME, github.ref(FULL_NAME, "refs/afk/lock") ?? "")?.parents).toHaveLength(1);
  });

  it("treats a lock ref afk did not write as free to take", async () => {
    const { data: tree } = await octokit.rest.git.createTree({ owner: OWNER, repo: REPO, tree: [] });
    const { data: commit } = await octokit.rest.git.createCommit({ owner: OWNER, repo: REPO, message: "not a lock", tree: tree.sha, parents: [] });
    await octokit.rest.git.createRef({ owner: OWNER, repo: REPO, ref: "refs/afk/lock", sha: commit.sha });
    expect((await readLock(octokit, repo, now)).status).toBe("corrupt");
    expect((await acquireLock(octokit, repo, newHolder({ issue: 1, runId: "r", replica: "a", now, leaseSeconds: 60 }), now)).acquired).toBe(true);
  });
});

describe("a stop handled by another replica", () => {
  it("reaches the run through the lock at its next renewal; the run settles as stopped", async () => {
    const executor = new HeldExecutor();
    const a = await start({ executor });
    // Replica A renews every 100 ms, so the test need not wait a third of a real lease.
    a.afk.coordinator.shutdown("replaced by a fast-renewing replica");
    const fastA = await a.replica({ executor, replicaId: "replica-a", renewEveryMs: 100 });
    const b = await a.replica({ executor: new HeldExecutor(), replicaId: "replica-b" });
    const { first } = await oneRunningOneQueued(fastA, executor);
    await b.comment(first, "wes-write", "/afk stop");
    await waitFor(() => runStateOf(fastA, first)?.status === "stopped", "the run on replica A to stop", 20_000);
    expect(runStateOf(fastA, first)?.outcome?.message).toContain("another afk replica");
    await executor.waitForStarts(2);
    executor.finish(executor.running[0]?.issue ?? 0);
    await fastA.afk.idle();
  });
});
