// One afk App process for `bench/actions.ts`: afk on Probot's own HTTP server (webhooks and the job
// endpoints under /afk/jobs/, as `probot run` serves them), pointed at the parent's GitHub emulator
// through its API address, with AFK_EXECUTOR=actions and whatever else the parent puts in its
// environment (ACTIONS_AFK_ENV, JSON). It reports on stdout, one line each, prefixed `@@actions `
// (Probot's own log lines, JSON, share the stream): `ready` with its resident memory, its resident
// memory every 100 ms (`rss`, the latest sample), and on "exit" (a line on stdin) its kernel high-water
// mark (`bye`).
import { createInterface } from "node:readline";
import { pino } from "pino";
import { Probot, Server } from "probot";
import { logLevelOf, RetryingOctokit, testAfkApp, testPrivateKey } from "../test/helpers/afk-harness.js";

function required(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === "") throw new Error(`actions-app: ${name} is not set`);
  return value;
}

const report = (message: Record<string, unknown>): void => {
  process.stdout.write(`@@actions ${JSON.stringify(message)}\n`);
};

const sampler = setInterval(() => report({ kind: "rss", rss: process.memoryUsage.rss() }), 100);

const afkEnv = JSON.parse(required("ACTIONS_AFK_ENV")) as Record<string, string>;
const log = pino({ level: logLevelOf(process.env.ACTIONS_LOG_LEVEL, "warn") });
// afk's own Octokit (its retries, conditional requests answered 304), writes not spaced: as bench/load.ts runs it.
const server = new Server({
  Probot: Probot.defaults({
    appId: required("ACTIONS_APP_ID"),
    privateKey: afkEnv.PRIVATE_KEY ?? testPrivateKey(),
    secret: required("ACTIONS_WEBHOOK_SECRET"),
    baseUrl: required("ACTIONS_GITHUB_API"),
    Octokit: RetryingOctokit,
    log,
  }),
  port: Number(required("ACTIONS_PORT")),
  host: "127.0.0.1",
  log,
});
const afk = testAfkApp({ env: afkEnv }, "replica-actions-bench");
await server.load(afk.app);
await server.start();
report({ kind: "ready", pid: process.pid, rss: process.memoryUsage.rss() });

createInterface({ input: process.stdin }).on("line", (line) => {
  if (line.trim() !== "exit") return;
  void (async () => {
    const coordinator = afk.coordinator();
    coordinator.shutdown("the Actions benchmark ended");
    await coordinator.idle();
    await server.stop();
    clearInterval(sampler);
    // `maxRSS` is the kernel's high-water mark of resident memory (KiB), between the samples too.
    report({ kind: "bye", rss: process.memoryUsage.rss(), maxRssBytes: process.resourceUsage().maxRSS * 1024 });
    process.exit(0);
  })();
});
