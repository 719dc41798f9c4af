// One afk App process for `bench/load.ts`: the afk Probot app behind Probot's own webhook
// middleware (signatures checked) on a loopback port, pointed at the parent's GitHub emulator
// through GHE_HOST, with the recording executor instead of the agent. It reports on stdout, one line
// each, prefixed `@@load ` (Probot's own log lines, JSON, share the stream): `ready` with its port,
// every run's `start` and `end`, its resident memory every 100 ms (`rss`, the peak so far), and on
// "exit" (a line on stdin) its final figures (`bye`).
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { createInterface } from "node:readline";
import { createNodeMiddleware } from "probot";
import type { Coordinator } from "../src/dispatch/coordinator.js";
import { createAfkApp } from "../src/index.js";
import { createTestProbot, logLevelOf, RetryingOctokit } from "../test/helpers/afk-harness.js";
import { RecordingExecutor } from "../test/helpers/recording-executor.js";

function required(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === "") throw new Error(`load-replica: ${name} is not set`);
  return value;
}

const replica = required("LOAD_REPLICA");
const report = (message: Record<string, unknown>): void => {
  process.stdout.write(`@@load ${JSON.stringify({ replica, ...message })}\n`);
};

let peakRss = process.memoryUsage().rss;
const sampler = setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
  report({ kind: "rss", rss: peakRss });
}, 100);

const executor = new RecordingExecutor({ replica, delayMs: Number(process.env.LOAD_RUN_MS ?? "5") });
executor.ledger.onEvent((event) => report({ kind: event.kind, run: event.run }));

// Its Octokit is afk's own (its retries, and conditional requests answered 304 as GitHub answers them),
// but writes are not spaced: Probot's write throttle keeps them a second apart per installation, right
// for GitHub, only waiting against the emulator.
const probot = createTestProbot(
  { appId: required("LOAD_APP_ID"), host: required("LOAD_GHE_HOST") },
  { secret: required("LOAD_WEBHOOK_SECRET"), logLevel: logLevelOf(process.env.LOAD_LOG_LEVEL, "warn"), logFormat: "json", Octokit: RetryingOctokit },
);
let coordinator: Coordinator | undefined;
const app = createAfkApp({
  env: { AFK_ALLOWLIST: required("LOAD_ALLOWLIST"), AFK_REPLICA_ID: replica, AFK_CACHE_DIR: "/nonexistent" },
  executor,
  onLoad: (loaded) => {
    coordinator = loaded;
  },
});
const middleware = await createNodeMiddleware(app, { probot });
const server = createServer((req, res) => {
  void middleware(req, res, () => res.writeHead(404).end());
});
await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
report({ kind: "ready", port: (server.address() as AddressInfo).port, pid: process.pid, rss: process.memoryUsage().rss });

createInterface({ input: process.stdin }).on("line", (line) => {
  if (line.trim() !== "exit") return;
  void (async () => {
    coordinator?.shutdown("the load benchmark ended");
    await coordinator?.idle();
    server.close();
    clearInterval(sampler);
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
    // `maxRSS` is the kernel's high-water mark of resident memory (KiB), between the samples too.
    report({ kind: "bye", rss: peakRss, maxRssBytes: process.resourceUsage().maxRSS * 1024, runs: executor.ledger.runs.length });
    process.exit(0);
  })();
});
