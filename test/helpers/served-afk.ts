import { Writable } from "node:stream";
import { pino } from "pino";
import { Probot, Server } from "probot";
import { testAfkApp, testOctokit, testPrivateKey, type AfkInstance, type AfkStartOptions } from "./afk-harness.js";
import { freePort } from "./app-process.js";
import type { GitHubEmulator } from "./emulator/index.js";
import { postWebhook } from "./post-webhook.js";

const SECRET = "test-secret";

/** afk on Probot's own HTTP server, in this process: deliveries arrive signed over HTTP, as GitHub sends them. */
export interface ServedAfk extends AfkInstance {
  url: string;
  /** Every line the App logged, parsed (pino's JSON, as `LOG_FORMAT=json` writes it). */
  logs: Array<Record<string, unknown>>;
  get(path: string): Promise<{ status: number; contentType: string; body: string }>;
  stop(): Promise<void>;
}

/**
 * Starts afk the way `probot run` does (Probot's `Server`, the app function loaded into it, then
 * `start()`), pointed at the emulator as at GitHub Enterprise Server, on a free loopback port.
 */
export async function startServedAfk(emulator: GitHubEmulator, options: AfkStartOptions & { port?: number } = {}): Promise<ServedAfk> {
  const logs: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString("utf8").split("\n")) if (line.trim().length > 0) logs.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const log = pino({ level: "info" }, sink);
  const port = options.port ?? (await freePort());
  const server = new Server({
    Probot: Probot.defaults({
      appId: emulator.appId,
      privateKey: testPrivateKey(),
      secret: SECRET,
      baseUrl: emulator.apiUrl,
      Octokit: testOctokit(options),
      log,
    }),
    port,
    host: "127.0.0.1",
    log,
  });
  let probot: Probot | undefined;
  const afk = testAfkApp(options, "replica-served");
  await server.load(async (app, appOptions) => {
    probot = app;
    await afk.app(app, appOptions);
  });
  await server.start();
  if (probot === undefined) throw new Error("afk did not load into Probot's server");
  const coordinator = afk.coordinator();
  const url = `http://127.0.0.1:${port}`;
  let deliveries = 0;
  return {
    probot,
    coordinator,
    url,
    logs,
    async deliver(name, payload, id) {
      deliveries++;
      await postWebhook({ port, secret: SECRET, name, id: id ?? `served-delivery-${deliveries}`, payload });
    },
    idle: () => coordinator.idle(),
    quiet: () => coordinator.quiet(),
    async get(path) {
      const response = await fetch(`${url}${path}`, { signal: AbortSignal.timeout(15_000) });
      return { status: response.status, contentType: response.headers.get("content-type") ?? "", body: await response.text() };
    },
    async stop() {
      coordinator.shutdown("the test ended");
      await coordinator.idle();
      await server.stop();
    },
  };
}

/** The samples of a Prometheus text exposition: metric name, labels and value, comments left out. */
export function parseMetrics(text: string): Array<{ name: string; labels: Record<string, string>; value: number }> {
  return text
    .split("\n")
    .filter((line) => line.length > 0 && !line.startsWith("#"))
    .map((line) => {
      const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
      if (match === null) throw new Error(`not a Prometheus sample line: ${line}`);
      const labels: Record<string, string> = {};
      for (const pair of (match[2] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[pair[1] ?? ""] = pair[2] ?? "";
      return { name: match[1] ?? "", labels, value: Number(match[3]) };
    });
}

/** The value of the one sample named `name` whose labels include `labels`; undefined when there is none. */
export function sampleValue(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const matching = parseMetrics(text).filter((sample) => sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value));
  if (matching.length > 1) throw new Error(`${matching.length} samples of ${name} match ${JSON.stringify(labels)}`);
  return matching[0]?.value;
}
