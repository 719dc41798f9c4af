// npm run bench, part: the Actions executor (ADR 0008) measured in one run on this machine, merged
// into bench/results.json. afk runs as one App process of its own (bench/actions-app.ts, as
// bench/load.ts runs its Apps) with AFK_EXECUTOR=actions and AFK_MAX_CONCURRENT_RUNS at its default
// (2); the GitHub emulator, its Actions and OIDC issuer, and the runner playing each job are here, in
// the parent. Emulated Actions has no queue delay: the runner starts a job as soon as it is dispatched.
//
//   actions_dispatch_overhead_ms  issues.labeled delivered → the job's spec answered at afk's start endpoint, the median of
//                                 10 issues one after another (each on its own repository; p90 beside it); target ≤ 1000
//   actions_parallel_jobs         50 repositories labeled at once: jobs in flight together, each served its spec and its
//                                 run running with the workflow run recorded in its state, read from GitHub once every job
//                                 has started (or the hold timed out); target 50
//   actions_parallel_rss_mb       the App process's peak resident memory while those 50 start, hold and finish, sampled
//                                 every 100 ms (the kernel's high-water mark printed beside it)
//
// A job, once served, heartbeats (each must renew its lease) and holds until every job has started;
// then each posts a not-started result and every run must settle, once dispatched, none lost.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { setTimeout as delay } from "node:timers/promises";
import { requestIdToken } from "../src/actions/id-token-request.js";
import { RUN_INPUT, RUNNER_WORKFLOW_PATH, runnerWorkflow } from "../src/actions/runner-workflow.js";
import type { RunState } from "../src/lifecycle/run-state.js";
import { JOB_PATHS, jobSpecSchema, parseRunReference, type JobResult, type JobSpec } from "../src/run-contract/job-protocol.js";
import { testPrivateKey } from "../test/helpers/afk-harness.js";
import { AFK_VERSION } from "../test/helpers/afk-cli.js";
import { freePort } from "../test/helpers/app-process.js";
import type { WorkflowDispatch } from "../test/helpers/emulator/index.js";
import { DEFAULT_PERMISSIONS } from "../test/helpers/emulator/store.js";
import { postWebhook } from "../test/helpers/post-webhook.js";
import { runStateIn } from "../test/helpers/run-state-of.js";
import { buildWorld } from "../test/helpers/world/build-world.js";

const OWNER = "bench-org";
const INSTALLATION_ID = 7100;
const RUNNER = `${OWNER}/afk-runner`;
const MAINTAINER = "wes-write";
const SECRET = "actions-bench-secret";
/** The first issue warms the App up (its first installation token, JIT) and is not counted. */
const WARM_UP = 1;
const SEQUENTIAL = 10;
const PARALLEL = 50;
/** How often a holding job heartbeats (a real job does every `spec.heartbeatSeconds`; more often here, to load afk more). */
const HEARTBEAT_MS = 2_000;
/** How long the parallel jobs hold for the last one to start before they finish anyway. */
const HOLD_TIMEOUT_MS = 120_000;
/** How long a job keeps asking for its spec while afk has not yet recorded the dispatch in the run's state (see `start`). */
const START_PATIENCE_MS = 30_000;
const SETTLE_TIMEOUT_MS = 120_000;

// 1. The world: 61 repositories with the fixture project behind them, each its own issue; the runner repository with afk's workflow.
const world = await buildWorld({ checkResponses: false, git: true, model: [], name: "afk-bench-actions-" });
const { github } = world;
const targets = Array.from({ length: WARM_UP + SEQUENTIAL + PARALLEL }, (_, index) => {
  const repo = world.addRepo({ owner: OWNER, name: `svc-${index + 1}`, installationId: INSTALLATION_ID, roles: { [MAINTAINER]: "write" }, git: true });
  return { repo, issue: repo.issue({ title: "Add a multiply function", body: "We need multiply(a, b).", user: MAINTAINER }) };
});
github.addRepo({ owner: OWNER, name: "afk-runner", installationId: INSTALLATION_ID, files: { [RUNNER_WORKFLOW_PATH]: runnerWorkflow(AFK_VERSION) } });
github.setInstallationPermissions(INSTALLATION_ID, { ...DEFAULT_PERMISSIONS, actions: "write" });

// 2. The App, in a process of its own.
interface AppProcess {
  child: ChildProcess;
  url: string;
  port: number;
  readyRss: number;
  /** Resident memory samples since `resetPeak`. */
  peakRss: number;
  maxRssBytes: number | undefined;
  errors: number;
  bye: Promise<void>;
}

let finished = false;

async function startApp(): Promise<AppProcess> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const afkEnv = {
    ...world.appEnv,
    AFK_ALLOWLIST: `${OWNER}/*`,
    AFK_EXECUTOR: "actions",
    AFK_RUNNER_REPO: RUNNER,
    AFK_PUBLIC_URL: url,
    AFK_OIDC_ISSUER: github.oidc.issuer,
    PRIVATE_KEY: testPrivateKey(),
  };
  const child = spawn(process.execPath, ["--import", "tsx", "bench/actions-app.ts"], {
    env: {
      ...process.env,
      ACTIONS_APP_ID: String(github.appId),
      ACTIONS_GITHUB_API: github.apiUrl,
      ACTIONS_WEBHOOK_SECRET: SECRET,
      ACTIONS_PORT: String(port),
      ACTIONS_AFK_ENV: JSON.stringify(afkEnv),
    },
    stdio: ["pipe", "pipe", "inherit"],
  });
  if (child.stdout === null) throw new Error("the App process has no stdout");
  let markReady = (): void => undefined;
  let markBye = (): void => undefined;
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  const app: AppProcess = {
    child,
    url,
    port,
    readyRss: 0,
    peakRss: 0,
    maxRssBytes: undefined,
    errors: 0,
    bye: new Promise<void>((resolve) => (markBye = resolve)),
  };
  child.on("exit", (code, signal) => {
    markBye();
    if (!finished) {
      console.error(`the App process ended early (code ${code}, signal ${signal}); the benchmark cannot go on`);
      process.exit(1);
    }
  });
  createInterface({ input: child.stdout }).on("line", (line) => {
    if (!line.startsWith("@@actions ")) {
      // Probot's log (warnings and errors only): shown, and errors counted.
      if (/"level":(50|60)/.test(line)) app.errors++;
      console.error(`[app] ${line}`);
      return;
    }
    const message = JSON.parse(line.slice("@@actions ".length)) as { kind: string; rss?: number; maxRssBytes?: number };
    if (message.kind === "ready") {
      app.readyRss = message.rss ?? 0;
      markReady();
    }
    if (message.kind === "rss" || message.kind === "bye") app.peakRss = Math.max(app.peakRss, message.rss ?? 0);
    if (message.kind === "bye") app.maxRssBytes = message.maxRssBytes;
  });
  await ready;
  return app;
}

const app = await startApp();

// 3. The runner: every dispatch is a job, started at once.
interface Job {
  dispatch: WorkflowDispatch;
  /** `owner/repo#issue` of the run it is for. */
  target: string;
  dispatchedAt: number;
  spec?: JobSpec;
  /** When afk's start endpoint answered the spec. */
  servedAt?: number;
  /** Start requests afk answered "try again" (503) because the run's state did not yet name the workflow run. */
  earlyRefusals: number;
  heartbeats: number;
  /** Heartbeats sent while the job held that were answered anything but `continue`. */
  stops: number;
  /** Whether a heartbeat is on its way (a job sends the next only once the last is answered). */
  beating: boolean;
  /** Set once the job posts its result: heartbeats answered after that are not its to count. */
  finishing: boolean;
  resultStatus?: number;
  resultError?: string;
}

const jobs: Job[] = [];
const refusalReasons = new Set<string>();
let onServed = (): void => undefined;

async function post(url: string, bearer: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(url, {
    method: "POST",
    headers: { authorization: `Bearer ${bearer}`, "content-type": "application/json" },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(60_000),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/**
 * The job's start, as `afk job` makes it: its OIDC token with afk's audience, presented with the run's
 * reference. The dispatch reaches the runner as soon as GitHub answers afk's dispatch request, a moment
 * before afk has written the workflow run's id into the run's state; a start in that moment is answered
 * 503 and tried again here after 20 ms (`afk job` tries again after 0.5 s); each is counted.
 */
async function start(job: Job): Promise<void> {
  const { idTokenRequest } = job.dispatch;
  const token = await requestIdToken({ ACTIONS_ID_TOKEN_REQUEST_URL: idTokenRequest.url, ACTIONS_ID_TOKEN_REQUEST_TOKEN: idTokenRequest.token }, app.url);
  const run = job.dispatch.run.inputs[RUN_INPUT];
  const giveUp = performance.now() + START_PATIENCE_MS;
  for (;;) {
    const answer = await post(`${app.url}${JOB_PATHS.start}`, token, { v: 1, run });
    if (answer.status === 200) {
      job.servedAt = performance.now();
      job.spec = jobSpecSchema.parse(answer.body);
      onServed();
      return;
    }
    if (answer.status !== 503 || performance.now() > giveUp)
      throw new Error(`afk refused the job for ${job.target}: ${answer.status} ${JSON.stringify(answer.body)}`);
    job.earlyRefusals++;
    refusalReasons.add(String(answer.body.error).replace(/\br-[A-Za-z0-9-]+/g, "<run>"));
    await delay(20);
  }
}

async function heartbeat(job: Job): Promise<void> {
  if (job.spec === undefined || job.beating || job.finishing) return;
  job.beating = true;
  try {
    const answer = await post(`${app.url}${JOB_PATHS.heartbeat}`, job.spec.jobCredential, { v: 1, phase: "agent" });
    job.heartbeats++;
    if (!job.finishing && (answer.status !== 200 || answer.body.kind !== "continue")) job.stops++;
  } catch {
    job.stops++;
  } finally {
    job.beating = false;
  }
}

/** The job gives up without doing the work: afk settles the run (escalated, nothing to push). */
async function notStarted(job: Job): Promise<void> {
  if (job.spec === undefined) return;
  job.finishing = true;
  const result: JobResult = { v: 1, runId: job.spec.runId, outcome: { kind: "not-started", reason: "The benchmark's job stops here.", retryable: false } };
  try {
    const answer = await post(`${app.url}${JOB_PATHS.result}`, job.spec.jobCredential, result);
    job.resultStatus = answer.status;
    if (answer.status !== 200) job.resultError = String(answer.body.error);
  } catch (error) {
    // Unanswered (afk too busy for a minute): the job would try again; here the run counts as lost.
    job.resultStatus = 0;
    job.resultError = error instanceof Error ? error.message : String(error);
  }
}

const startFailures: string[] = [];
github.onWorkflowDispatch((dispatch) => {
  const reference = parseRunReference(dispatch.run.inputs[RUN_INPUT] ?? "");
  const job: Job = {
    dispatch,
    target: reference === undefined ? "?" : `${reference.repository}#${reference.issue}`,
    dispatchedAt: performance.now(),
    earlyRefusals: 0,
    heartbeats: 0,
    stops: 0,
    beating: false,
    finishing: false,
  };
  jobs.push(job);
  start(job).catch((error: unknown) => startFailures.push(error instanceof Error ? error.message : String(error)));
});

function stateOf(target: { repo: { fullName: string }; issue: number }): RunState | undefined {
  return runStateIn(github, target.repo.fullName, target.issue);
}

const settled = (state: RunState | undefined): boolean => state !== undefined && !["queued", "running"].includes(state.status) && state.remote === undefined;

async function until(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) return false;
    await delay(50);
  }
  return true;
}

let deliveries = 0;
function label(target: { repo: (typeof targets)[number]["repo"]; issue: number }): Promise<number> {
  const payload = target.repo.labelPayload(target.issue, MAINTAINER);
  return postWebhook({ port: app.port, secret: SECRET, name: "issues", id: `actions-bench-${++deliveries}`, payload });
}

// 4. Dispatch overhead: one issue at a time, from the delivery to the spec's arrival; the run settled before the next.
const overheads: number[] = [];
const toDispatch: number[] = [];
for (const [index, target] of targets.slice(0, WARM_UP + SEQUENTIAL).entries()) {
  const before = jobs.length;
  const sent = performance.now();
  await label(target);
  if (!(await until(() => jobs[before]?.servedAt !== undefined || startFailures.length > 0, 30_000)))
    throw new Error(`no job served for ${target.repo.fullName}`);
  const job = jobs[before];
  if (job?.servedAt === undefined) throw new Error(`the job for ${target.repo.fullName} was refused: ${startFailures.join("; ")}`);
  if (index >= WARM_UP) {
    overheads.push(job.servedAt - sent);
    toDispatch.push(job.dispatchedAt - sent);
  }
  await notStarted(job);
  if (!(await until(() => settled(stateOf(target)), 30_000))) throw new Error(`${target.repo.fullName}#${target.issue} did not settle`);
}

// 5. 50 repositories labeled at once; every job holds, heartbeating, until all 50 are served.
const parallel = targets.slice(WARM_UP + SEQUENTIAL);
const firstParallelJob = jobs.length;
const parallelJobs = (): Job[] => jobs.slice(firstParallelJob);
const inFlight = (): number => parallelJobs().filter((job) => job.spec !== undefined && job.resultStatus === undefined).length;
let peakTracked = 0;
onServed = () => {
  peakTracked = Math.max(peakTracked, inFlight());
};
app.peakRss = 0;
const requestsBefore = github.requests.length;
const began = performance.now();
await Promise.all(parallel.map((target) => label(target)));
const heartbeats = setInterval(() => {
  for (const job of parallelJobs()) void heartbeat(job);
}, HEARTBEAT_MS);
const allServed = await until(() => parallelJobs().filter((job) => job.spec !== undefined).length >= PARALLEL, HOLD_TIMEOUT_MS);
const allServedAfter = performance.now() - began;
// The figure: served jobs whose run GitHub shows running with that job's workflow run recorded.
const running = parallelJobs().filter((job) => {
  const reference = parseRunReference(job.dispatch.run.inputs[RUN_INPUT] ?? "");
  if (reference === undefined || job.spec === undefined || job.resultStatus !== undefined) return false;
  const state = runStateIn(github, reference.repository, reference.issue);
  return state?.status === "running" && state.remote?.workflowRunId === job.dispatch.run.id;
}).length;
clearInterval(heartbeats);
// One more heartbeat each with all of them in flight (once the last one is answered), then each finishes.
await until(() => parallelJobs().every((job) => !job.beating), 60_000);
await Promise.all(parallelJobs().map((job) => heartbeat(job)));
await Promise.all(parallelJobs().map((job) => notStarted(job)));
const allSettled = await until(() => parallel.every((target) => settled(stateOf(target))), SETTLE_TIMEOUT_MS);
const parallelMs = performance.now() - began;
const parallelRequests = github.requests.length - requestsBefore;

finished = true;
app.child.stdin?.write("exit\n");
await Promise.race([app.bye, delay(30_000)]);
if (app.child.exitCode === null) app.child.kill("SIGTERM");

// 6. Figures.
const dispatchesPerTarget = new Map<string, number>();
for (const job of jobs) dispatchesPerTarget.set(job.target, (dispatchesPerTarget.get(job.target) ?? 0) + 1);
/** Why a parallel issue counts as lost: not settled, dispatched other than once, or its result refused; undefined when it is not. */
function lostBecause(target: (typeof targets)[number]): string | undefined {
  const key = `${target.repo.fullName}#${target.issue}`;
  const job = parallelJobs().find((candidate) => candidate.target === key);
  const state = stateOf(target);
  if (!settled(state)) return `${key} is ${state?.status ?? "without a state"}${state?.remote === undefined ? "" : " and names a workflow run"}`;
  if (dispatchesPerTarget.get(key) !== 1) return `${key} was dispatched ${dispatchesPerTarget.get(key) ?? 0} times`;
  if (job?.resultStatus !== 200) return `${key}'s result was answered ${job?.resultStatus ?? "never"} ${job?.resultError ?? ""}`;
  return undefined;
}
const lost = parallel.flatMap((target) => lostBecause(target) ?? []);
const figures = {
  actions_dispatch_overhead_ms: round(percentile(overheads, 50)),
  actions_dispatch_overhead_p90_ms: round(percentile(overheads, 90)),
  actions_parallel_jobs: running,
  actions_parallel_rss_mb: Math.round(app.peakRss / 1e5) / 10,
  actions_parallel_runs_lost: lost.length,
};
const extra = {
  label_to_dispatch_ms: round(percentile(toDispatch, 50)),
  ready_rss_mb: Math.round(app.readyRss / 1e5) / 10,
  kernel_peak_rss_mb: Math.round((app.maxRssBytes ?? 0) / 1e5) / 10,
  early_refusals_sequential: jobs.slice(WARM_UP, WARM_UP + SEQUENTIAL).reduce((sum, job) => sum + job.earlyRefusals, 0),
  early_refusals_parallel: parallelJobs().reduce((sum, job) => sum + job.earlyRefusals, 0),
  heartbeats: parallelJobs().reduce((sum, job) => sum + job.heartbeats, 0),
  heartbeat_stops: parallelJobs().reduce((sum, job) => sum + job.stops, 0),
};

const resultsPath = "bench/results.json";
const previous = existsSync(resultsPath) ? (JSON.parse(readFileSync(resultsPath, "utf8")) as Record<string, unknown>) : {};
writeFileSync(resultsPath, `${JSON.stringify({ ...previous, ...figures, actions_measured_at: new Date().toISOString() }, null, 2)}\n`);

console.log(
  `afk Actions bench: one App process (AFK_EXECUTOR=actions, AFK_MAX_CONCURRENT_RUNS=2), emulated Actions with no queue delay; ` +
    `${SEQUENTIAL} issues one at a time (after ${WARM_UP} to warm up), then ${PARALLEL} repositories labeled at once`,
);
const rows: Array<[string, string, string]> = [
  ["actions_dispatch_overhead_ms (p50; p90)", `${figures.actions_dispatch_overhead_ms}; ${figures.actions_dispatch_overhead_p90_ms}`, "≤ 1000"],
  ["  of which label → dispatch (p50)", String(extra.label_to_dispatch_ms), ""],
  ["actions_parallel_jobs", String(figures.actions_parallel_jobs), `= ${PARALLEL} (tracked peak ${peakTracked})`],
  [
    "actions_parallel_rss_mb (sampled; kernel peak)",
    `${figures.actions_parallel_rss_mb}; ${extra.kernel_peak_rss_mb}`,
    `(${extra.ready_rss_mb} MB when ready)`,
  ],
  ["actions_parallel_runs_lost", String(figures.actions_parallel_runs_lost), "= 0"],
  ["  all served after, s", allServed ? String(round(allServedAfter / 1000)) : `not all within ${HOLD_TIMEOUT_MS / 1000}`, ""],
  ["  labels → all settled, s", String(round(parallelMs / 1000)), allSettled ? "" : "(timed out)"],
  ["  workflow runs dispatched", String(jobs.length), `(${WARM_UP + SEQUENTIAL + PARALLEL} issues)`],
  ["  GitHub requests per parallel job", String(round(parallelRequests / PARALLEL)), ""],
  ["  heartbeats (answered other than continue)", `${extra.heartbeats} (${extra.heartbeat_stops})`, ""],
  ["  starts answered 503 before the dispatch was recorded", `${extra.early_refusals_sequential} sequential, ${extra.early_refusals_parallel} parallel`, ""],
];
for (const [name, value, target] of rows) console.log(`${name.padEnd(50)} ${value.padEnd(16)} ${target}`);
if (refusalReasons.size > 0) console.log(`early refusals said: ${[...refusalReasons].join(" | ")}`);
if (startFailures.length > 0) console.log(`jobs refused: ${startFailures.slice(0, 5).join("; ")}`);
if (lost.length > 0) console.log(`lost: ${lost.slice(0, 10).join("; ")}`);
if (app.errors > 0) console.log(`the App process logged ${app.errors} errors (shown above)`);
if (github.violations.length > 0)
  console.log(`the emulator saw ${github.violations.length} request(s) GitHub would refuse: ${github.violations.slice(0, 3).join("; ")}`);
const met = figures.actions_dispatch_overhead_ms <= 1000 && figures.actions_parallel_jobs >= PARALLEL && figures.actions_parallel_runs_lost === 0;
console.log(met ? "all Actions targets met" : "an Actions target is NOT met (see above)");

await world.close();
process.exit(0);

function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
