// npm run bench, part: afk under GitHub's failures and after a crash, measured in one run on this
// machine, merged into bench/results.json.
//   fault_runs_lost: labeled issues that never end "done" while 10% of GitHub requests fail
//     (500, 502, 429, secondary rate limits) and 10% of deliveries are sent twice (target 0);
//   fault_runs_double_started: issues whose run started more than once (target 0);
//   stale_lock_reclaim_s: seconds from the end of a dead process's lease to the queued issue
//     starting in a freshly started process, with no event in between (target ≤ 5).
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { setTimeout as delay } from "node:timers/promises";
import type { Executor, RunJob, RunOutcome } from "../src/run-contract/executor.js";
import { fullName } from "../src/github/types.js";
import { queuedState, startedState } from "../src/lifecycle/transitions.js";
import { newHolder } from "../src/lock/lock-record.js";
import { acquireLock } from "../src/lock/repo-lock.js";
import { writeProgressComment } from "../src/progress/progress-comment.js";
import { injectFaults } from "../test/helpers/faults.js";
import { runStateIn } from "../test/helpers/run-state-of.js";
import { buildWorld, type World } from "../test/helpers/world/build-world.js";

const OWNER = "octo-org";
const INSTALLATION_ID = 4242;
const REPOS = 20;
const ISSUES_PER_REPO = 5;
const FAULT_RATE = 0.1;
const TIMEOUT_MS = 300_000;

class CountingExecutor implements Executor {
  readonly name = "counting";
  readonly starts = new Map<string, number>();
  readonly startedAt = new Map<string, number>();
  async execute(job: RunJob): Promise<RunOutcome> {
    const key = `${fullName(job.repo)}#${job.issue}`;
    this.starts.set(key, (this.starts.get(key) ?? 0) + 1);
    this.startedAt.set(key, Date.now());
    await delay(5);
    return { status: "done", message: "Nothing to change." };
  }
}

/** Repositories `octo-org/<name>` of one installation, `wes-write` a writer on each; the emulator's own answers not checked. */
function faultWorld(repos: string[]): Promise<World> {
  return buildWorld({
    checkResponses: false,
    repos: repos.map((name) => ({ owner: OWNER, name, installationId: INSTALLATION_ID, roles: { "wes-write": "write" } })),
    name: "afk-bench-faults-",
  });
}

async function underFaults(): Promise<Record<string, number>> {
  const repos = Array.from({ length: REPOS }, (_, index) => `svc-${index + 1}`);
  const world = await faultWorld(repos);
  const { github } = world;
  const executor = new CountingExecutor();
  const afk = await world.startAfk({ executor, octokitRetries: true });
  const issues = repos.flatMap((name) =>
    Array.from({ length: ISSUES_PER_REPO }, (_, index) => ({
      repo: `${OWNER}/${name}`,
      number: github.addIssue(`${OWNER}/${name}`, { title: `Task ${index + 1}`, body: "Do it.", labels: [], user: "wes-write" }).number,
    })),
  );
  github.latencyMs = 1;
  const faults = injectFaults(github, { rate: FAULT_RATE, seed: Date.now() % 1_000_000 });
  const started = performance.now();
  const deliveries = issues.map((issue, index) => ({ id: `fault-label-${index}`, payload: world.repo(issue.repo).labelPayload(issue.number, "wes-write") }));
  await Promise.all(deliveries.map(({ id, payload }) => afk.deliver("issues", payload, id)));
  await Promise.all(deliveries.filter((_, index) => index % 10 === 0).map(({ id, payload }) => afk.deliver("issues", payload, id)));
  const settled = () =>
    issues.every((issue) =>
      ["done", "failed", "escalated", "stopped", "interrupted", "refused"].includes(runStateIn(github, issue.repo, issue.number)?.status ?? ""),
    );
  while (!settled() && performance.now() - started < TIMEOUT_MS) await delay(100);
  await afk.idle();
  const seconds = (performance.now() - started) / 1000;
  faults.stop();
  const lost = issues.filter((issue) => runStateIn(github, issue.repo, issue.number)?.status !== "done").length;
  const doubled = [...executor.starts.values()].filter((count) => count > 1).length;
  afk.coordinator.shutdown("bench over");
  await afk.idle();
  const requests = github.requests.length;
  await world.close();
  return {
    fault_runs_lost: lost,
    fault_runs_double_started: doubled,
    fault_issues: issues.length,
    fault_requests_failed: faults.injected.length,
    fault_requests_total: requests,
    fault_duration_s: Number(seconds.toFixed(1)),
  };
}

async function staleLockReclaim(): Promise<Record<string, number>> {
  const world = await faultWorld(["app"]);
  const { github } = world;
  const repo = { owner: OWNER, repo: "app", installationId: INSTALLATION_ID };
  const first = github.addIssue(`${OWNER}/app`, { title: "Dead run", body: "x", labels: ["ready-for-agent"], user: "wes-write" }).number;
  const second = github.addIssue(`${OWNER}/app`, { title: "Queued", body: "x", labels: ["ready-for-agent"], user: "wes-write" }).number;
  // The process that dies: its run of #first holds the lock with a 2 s lease, #second is queued behind it.
  const before = await world.startAfk({ executor: new CountingExecutor() });
  const octokit = await before.probot.auth(INSTALLATION_ID);
  const now = new Date();
  const trigger = { actor: "wes-write", source: "label" as const, deliveryId: "d", repoUrl: `https://github.com/${OWNER}/app`, bodyDigest: "x" };
  await writeProgressComment(
    octokit,
    repo,
    startedState(queuedState({ runId: "run-dead", issue: first, trigger, now, queuedBehind: undefined, previous: undefined }), "replica-dead", now),
    github.botLogin,
  );
  await writeProgressComment(
    octokit,
    repo,
    queuedState({ runId: "run-queued", issue: second, trigger: { ...trigger, deliveryId: "e" }, now, queuedBehind: first, previous: undefined }),
    github.botLogin,
  );
  const holder = newHolder({ issue: first, runId: "run-dead", replica: "replica-dead", now, leaseSeconds: 2 });
  await acquireLock(octokit, repo, holder, now);
  before.coordinator.shutdown("it died");
  await before.idle();
  // A new process starts; nothing else happens.
  const executor = new CountingExecutor();
  const after = await world.startAfk({ executor, recoverOnStart: true, replicaId: "replica-new" });
  const key = `${OWNER}/app#${second}`;
  const deadline = Date.now() + 30_000;
  while (!executor.startedAt.has(key) && Date.now() < deadline) await delay(20);
  const startedAt = executor.startedAt.get(key);
  await after.idle();
  await world.close();
  const reclaim = startedAt === undefined ? Number.POSITIVE_INFINITY : (startedAt - Date.parse(holder.expiresAt)) / 1000;
  return { stale_lock_reclaim_s: Number(reclaim.toFixed(2)), stale_lock_lease_s: 2 };
}

const figures = { ...(await underFaults()), ...(await staleLockReclaim()) };
for (const [name, value] of Object.entries(figures)) console.log(`${name.padEnd(28)} ${value}`);
const resultsPath = "bench/results.json";
const previous = existsSync(resultsPath) ? (JSON.parse(readFileSync(resultsPath, "utf8")) as Record<string, unknown>) : {};
writeFileSync(resultsPath, `${JSON.stringify({ ...previous, ...figures, faults_measured_at: new Date().toISOString() }, null, 2)}\n`);
process.exit(0);
