// npm run bench (third part): the load of test/load/load.test.ts with the two afk instances in two
// separate App processes (bench/load-replica.ts), as two replicas run in production. The GitHub
// emulator runs here, in the parent; the burst goes to the Apps as signed webhooks over loopback HTTP.
// Prints the figures with their targets and merges them into bench/results.json.
//
//   load_runs_double_started  issues whose run started more than once (target 0)
//   load_max_active_per_repo  most runs active at once in one repository, across both processes (target 1)
//   load_runs_lost            issues whose progress comment never said "done" (target 0)
//   load_peak_rss_mb          peak resident memory of either App process, sampled every 100 ms
//   load_duration_s           from the first delivery sent to the last issue done
//   load_requests_per_issue   GitHub requests of both processes from the first delivery to the end, per issue (target ≤ 20);
//                             `load_requests_per_issue_rate_limited` leaves out 304 Not Modified answers, and
//                             `load_requests_per_issue_installation_rest` also the App's own requests and GraphQL
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { Agent } from "node:http";
import { createInterface } from "node:readline";
import type { RunStatus } from "../src/lifecycle/run-state.js";
import type { GitHubEmulator } from "../test/helpers/emulator/index.js";
import type { RecordedRun } from "../test/helpers/recording-executor.js";
import { runStateIn } from "../test/helpers/run-state-of.js";
import { buildLoadWorld, LOAD, type LoadIssue } from "../test/helpers/load-world.js";
import { postWebhook } from "../test/helpers/post-webhook.js";
import { breakdownLines, countByRoute, installationRest, rateLimited } from "./request-routes.js";

const { repos: REPOS, issuesPerRepo: ISSUES_PER_REPO } = LOAD;
const SECRET = "load-bench-secret";
/** Give up waiting for the last issue after this long; what is not done by then counts as lost. */
const DEADLINE_MS = 300_000;

interface Replica {
  name: string;
  child: ChildProcess;
  port: number;
  pid: number;
  readyRss: number;
  peakRss: number;
  maxRssBytes: number | undefined;
  errors: number;
  ready: Promise<void>;
  bye: Promise<void>;
}

const starts: RecordedRun[] = [];
const ends: RecordedRun[] = [];
let finished = false;

function startReplica(name: string, emulator: GitHubEmulator): Replica {
  const child = spawn(process.execPath, ["--import", "tsx", "bench/load-replica.ts"], {
    env: {
      ...process.env,
      LOAD_REPLICA: name,
      LOAD_APP_ID: String(emulator.appId),
      LOAD_GHE_HOST: emulator.host,
      LOAD_WEBHOOK_SECRET: SECRET,
      LOAD_ALLOWLIST: "load-org-*/*",
    },
    stdio: ["pipe", "pipe", "inherit"],
  });
  if (child.stdout === null) throw new Error("the App process has no stdout");
  let markReady = (): void => undefined;
  let markBye = (): void => undefined;
  const replica: Replica = {
    name,
    child,
    port: 0,
    pid: 0,
    readyRss: 0,
    peakRss: 0,
    maxRssBytes: undefined,
    errors: 0,
    ready: new Promise<void>((resolve) => (markReady = resolve)),
    bye: new Promise<void>((resolve) => (markBye = resolve)),
  };
  child.on("exit", (code, signal) => {
    markBye();
    if (!finished) {
      console.error(`App process ${name} ended early (code ${code}, signal ${signal}); the benchmark cannot go on`);
      process.exit(1);
    }
  });
  createInterface({ input: child.stdout }).on("line", (line) => {
    if (!line.startsWith("@@load ")) {
      // Probot's log (warnings and errors only): shown, and errors counted.
      let level = 0;
      try {
        const parsed: unknown = JSON.parse(line);
        if (typeof parsed === "object" && parsed !== null && "level" in parsed && typeof parsed.level === "number") level = parsed.level;
      } catch {
        // not JSON: shown as it is
      }
      if (level >= 50) replica.errors++;
      console.error(`[${name}] ${line}`);
      return;
    }
    const message = JSON.parse(line.slice("@@load ".length)) as {
      kind: string;
      port?: number;
      pid?: number;
      rss?: number;
      maxRssBytes?: number;
      run?: RecordedRun;
    };
    switch (message.kind) {
      case "ready":
        replica.port = message.port ?? 0;
        replica.pid = message.pid ?? 0;
        replica.readyRss = message.rss ?? 0;
        markReady();
        break;
      case "rss":
        replica.peakRss = Math.max(replica.peakRss, message.rss ?? 0);
        break;
      case "start":
        if (message.run !== undefined) starts.push(message.run);
        break;
      case "end":
        if (message.run !== undefined) ends.push(message.run);
        break;
      case "bye":
        replica.peakRss = Math.max(replica.peakRss, message.rss ?? 0);
        replica.maxRssBytes = message.maxRssBytes;
        break;
    }
  });
  return replica;
}

const agent = new Agent({ keepAlive: true, maxSockets: 64 });

async function deliver(port: number, id: string, payload: object): Promise<void> {
  await postWebhook({ port, secret: SECRET, name: "issues", id, payload, agent });
}

/** The most runs of one repository whose [start, end] intervals overlap (an end at the same instant as a start does not). */
function maxActivePerRepo(runs: readonly RecordedRun[]): number {
  const byRepo = new Map<string, Array<{ at: number; delta: number }>>();
  for (const run of runs) {
    const points = byRepo.get(run.repo) ?? [];
    points.push({ at: run.startedAt, delta: 1 }, { at: run.endedAt ?? Number.POSITIVE_INFINITY, delta: -1 });
    byRepo.set(run.repo, points);
  }
  let max = 0;
  for (const points of byRepo.values()) {
    points.sort((a, b) => a.at - b.at || a.delta - b.delta);
    let active = 0;
    for (const point of points) {
      active += point.delta;
      max = Math.max(max, active);
    }
  }
  return max;
}

// The world and the burst of the load test: 4 installations × 25 repositories × 5 issues, priorities mixed.
const load = await buildLoadWorld();
const { world, issues, burst } = load;
const emulator = world.github;

const replicas = [startReplica("a", emulator), startReplica("b", emulator)];
await Promise.all(replicas.map((replica) => replica.ready));

const statusOf = (issue: LoadIssue): RunStatus | undefined => runStateIn(emulator, issue.repo.fullName, issue.number)?.status;

load.labelAll();
const requestsBefore = emulator.requests.length;
const began = performance.now();
await Promise.all(burst.map(({ to, id, issue }) => deliver(replicas[to]?.port ?? 0, id, load.payload(issue))));
const acknowledged = performance.now();
// Reading every progress comment costs the emulator's event loop, so it is done every 100 ms only once
// every run has ended, and every 2 s before (a run that never started would otherwise never be looked for).
let lastFullCheck = began;
while (performance.now() - began < DEADLINE_MS) {
  if (ends.length >= issues.length || performance.now() - lastFullCheck > 2000) {
    lastFullCheck = performance.now();
    if (issues.every((issue) => statusOf(issue) === "done")) break;
  }
  await new Promise((resolve) => setTimeout(resolve, 100));
}
const ended = performance.now();

finished = true;
for (const replica of replicas) replica.child.stdin?.write("exit\n");
await Promise.race([Promise.all(replicas.map((replica) => replica.bye)), new Promise((resolve) => setTimeout(resolve, 30_000))]);
for (const replica of replicas) if (replica.child.exitCode === null) replica.child.kill("SIGTERM");
agent.destroy();

const startsPerIssue = new Map<string, number>();
for (const run of starts) startsPerIssue.set(`${run.repo}#${run.issue}`, (startsPerIssue.get(`${run.repo}#${run.issue}`) ?? 0) + 1);
const endById = new Map(ends.map((run) => [run.runId, run]));
const lost = issues.filter((issue) => statusOf(issue) !== "done");
const loadRequests = emulator.requests.slice(requestsBefore);
const figures = {
  load_runs_double_started: [...startsPerIssue.values()].filter((count) => count > 1).length,
  load_max_active_per_repo: maxActivePerRepo(starts.map((run) => endById.get(run.runId) ?? run)),
  load_runs_lost: lost.length,
  load_peak_rss_mb: Math.round(Math.max(...replicas.map((replica) => replica.peakRss)) / 1e5) / 10,
  load_duration_s: Math.round((ended - began) / 100) / 10,
  load_github_requests: loadRequests.length,
  load_requests_per_issue: Math.round((loadRequests.length / issues.length) * 10) / 10,
  load_requests_per_issue_rate_limited: Math.round((rateLimited(loadRequests) / issues.length) * 10) / 10,
  load_requests_per_issue_installation_rest: Math.round((installationRest(loadRequests) / issues.length) * 10) / 10,
};
const extra = {
  load_ack_s: Math.round((acknowledged - began) / 100) / 10,
  load_ready_rss_mb: Math.round(Math.max(...replicas.map((replica) => replica.readyRss)) / 1e5) / 10,
  load_peak_rss_hwm_mb: Math.round(Math.max(...replicas.map((replica) => replica.maxRssBytes ?? 0)) / 1e5) / 10,
  load_runs_per_replica: Object.fromEntries(replicas.map((replica) => [replica.name, starts.filter((run) => run.replica === replica.name).length])),
  load_app_errors_logged: replicas.reduce((sum, replica) => sum + replica.errors, 0),
};

const resultsPath = "bench/results.json";
const previous = existsSync(resultsPath) ? (JSON.parse(readFileSync(resultsPath, "utf8")) as Record<string, unknown>) : {};
writeFileSync(resultsPath, `${JSON.stringify({ ...previous, ...figures, load_measured_at: new Date().toISOString() }, null, 2)}\n`);

console.log(
  `afk load bench: ${REPOS} repositories × ${ISSUES_PER_REPO} issues, ${load.redeliveries} redeliveries, ` +
    `2 App processes; ${figures.load_github_requests} GitHub requests; burst acknowledged in ${extra.load_ack_s} s; runs per process ${JSON.stringify(extra.load_runs_per_replica)}`,
);
const rows: Array<[string, string, string]> = [
  ["load_runs_double_started", String(figures.load_runs_double_started), "0"],
  ["load_max_active_per_repo", String(figures.load_max_active_per_repo), "1"],
  ["load_runs_lost", String(figures.load_runs_lost), "0"],
  [
    "load_peak_rss_mb (sampled; kernel peak)",
    `${figures.load_peak_rss_mb}; ${extra.load_peak_rss_hwm_mb}`,
    `(${extra.load_ready_rss_mb} MB when ready, before the burst)`,
  ],
  ["load_duration_s", String(figures.load_duration_s), ""],
  ["load_requests_per_issue", String(figures.load_requests_per_issue), "≤ 20"],
  ["load_requests_per_issue_rate_limited", String(figures.load_requests_per_issue_rate_limited), "(not 304)"],
  ["load_requests_per_issue_installation_rest", String(figures.load_requests_per_issue_installation_rest), "(the installation's REST budget)"],
];
for (const [name, value, target] of rows) console.log(`${name.padEnd(42)} ${value.padEnd(14)} ${target}`);
console.log(`requests per issue by route (top 15 of ${issues.length} issues):`);
for (const line of breakdownLines(countByRoute(loadRequests), 15, issues.length)) console.log(line);
if (lost.length > 0)
  console.log(
    `not done: ${lost
      .slice(0, 20)
      .map((issue) => `${issue.repo.fullName}#${issue.number} (${statusOf(issue) ?? "no progress comment"})`)
      .join(", ")}`,
  );
if (extra.load_app_errors_logged > 0) console.log(`the App processes logged ${extra.load_app_errors_logged} errors (shown above)`);
const met = figures.load_runs_double_started === 0 && figures.load_max_active_per_repo === 1 && figures.load_runs_lost === 0;
console.log(met ? "all load targets met" : "a load target is NOT met (see above)");

await world.close();
process.exit(0);
