import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { createHmac, randomUUID } from "node:crypto";
import { appendFileSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import { createServer } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { testPrivateKey } from "./afk-harness.js";

/** The repository root: `npm start` runs here, exactly as the README tells users to. */
export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

export const WEBHOOK_PATH = "/api/github/webhooks";

export interface AppProcessOptions {
  /** The emulator's `host:port`, for `GHE_HOST` (with `GHE_PROTOCOL=http`). */
  gheHost: string;
  appId: number;
  webhookSecret: string;
  /** `ANTHROPIC_BASE_URL`: the scripted model server (or a proxy in front of it). */
  anthropicBaseUrl: string;
  anthropicApiKey: string;
  /** `AFK_CACHE_DIR`. */
  cacheDir: string;
  /** Probot's `LOG_LEVEL`; `info` by default, so failure messages carry the App's own account. */
  logLevel?: string;
  /** Further operator settings (`AFK_ALLOWLIST`, `AFK_LOCK_LEASE_SECONDS`, ...). */
  env?: Record<string, string>;
  /** How long `npm start` may take to build and listen. */
  readyTimeoutMs?: number;
  /** Also append every line the App writes to this file (for reading a whole run afterwards). */
  logFile?: string;
}

export interface DeliveryResult {
  status: number;
  body: string;
  id: string;
}

/** Every process group started here and not yet seen gone, so nothing outlives the test process. */
const live = new Set<AppProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Last resort (the test process is exiting without its afterAll): no orphan App survives it.
  process.once("exit", () => {
    for (const app of live) app.killGroupSync("SIGKILL");
  });
}

/** `sha256=<hex>`: GitHub's `x-hub-signature-256` of a raw body. */
export function webhookSignature(secret: string, body: string): string {
  return `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
}

/** A TCP port nobody listens on right now, on loopback. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === "string") throw new Error("no TCP port from the kernel");
  return address.port;
}

/** Whether `bwrap` (bubblewrap) runs here; without it the App is told `AFK_ALLOW_UNSANDBOXED=1`. */
export function bubblewrapAvailable(): boolean {
  try {
    execFileSync("bwrap", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/**
 * The real afk App as a user starts it: `npm start` (which builds to `dist/` and runs
 * `node dist/main.js`) in a child process of its own process group, configured only through
 * Probot's and afk's environment variables, and reached only over HTTP.
 */
export class AppProcess {
  readonly port: number;
  readonly secret: string;
  readonly startedAt: number;
  /** When the App first answered `GET /ping`. */
  readyAt = 0;
  readonly #pgid: number;
  readonly #lines: string[] = [];
  readonly #exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  #exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;

  readonly #logFile: string | undefined;

  private constructor(child: ChildProcess, port: number, secret: string, logFile: string | undefined) {
    if (child.pid === undefined) throw new Error("npm start did not get a pid");
    this.#pgid = child.pid;
    this.port = port;
    this.secret = secret;
    this.startedAt = Date.now();
    this.#logFile = logFile;
    const keep = (stream: NodeJS.ReadableStream | null, name: string) => {
      let partial = "";
      stream?.setEncoding("utf8");
      stream?.on("data", (chunk: string) => {
        const parts = (partial + chunk).split("\n");
        partial = parts.pop() ?? "";
        for (const line of parts) this.#keepLine(`[${name}] ${line}`);
      });
      stream?.on("end", () => {
        if (partial.length > 0) this.#keepLine(`[${name}] ${partial}`);
      });
    };
    keep(child.stdout, "out");
    keep(child.stderr, "err");
    this.#exited = new Promise((resolve) => {
      child.once("exit", (code, signal) => {
        this.#exit = { code, signal };
        resolve({ code, signal });
      });
    });
  }

  #keepLine(line: string): void {
    this.#lines.push(line);
    if (this.#logFile !== undefined) appendFileSync(this.#logFile, `${line}\n`);
    // Bounded: a long run's debug output must not grow the test process without limit.
    if (this.#lines.length > 20_000) this.#lines.splice(0, this.#lines.length - 20_000);
  }

  /** Starts `npm start` and waits until the App answers on its port (polling `GET /ping`, no fixed sleep). */
  static async start(options: AppProcessOptions): Promise<AppProcess> {
    installExitHook();
    const port = await freePort();
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin",
      HOME: process.env.HOME ?? "/root",
      ...(process.env.TMPDIR === undefined ? {} : { TMPDIR: process.env.TMPDIR }),
      // npm itself must not phone home (update check, funding, audit): the tests never reach the internet.
      npm_config_update_notifier: "false",
      npm_config_fund: "false",
      npm_config_audit: "false",
      npm_config_loglevel: "warn",
      APP_ID: String(options.appId),
      PRIVATE_KEY: testPrivateKey(),
      WEBHOOK_SECRET: options.webhookSecret,
      PORT: String(port),
      HOST: "127.0.0.1",
      GHE_HOST: options.gheHost,
      GHE_PROTOCOL: "http",
      LOG_LEVEL: options.logLevel ?? "info",
      LOG_FORMAT: "json",
      ANTHROPIC_API_KEY: options.anthropicApiKey,
      ANTHROPIC_BASE_URL: options.anthropicBaseUrl,
      AFK_CACHE_DIR: options.cacheDir,
      ...(bubblewrapAvailable() ? {} : { AFK_ALLOW_UNSANDBOXED: "1" }),
      ...options.env,
    };
    const child = spawn("npm", ["start"], { cwd: REPO_ROOT, env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
    const app = new AppProcess(child, port, options.webhookSecret, options.logFile);
    live.add(app);
    try {
      await app.#waitUntilReady(options.readyTimeoutMs ?? 90_000);
    } catch (error) {
      await app.kill("SIGKILL");
      throw error;
    }
    return app;
  }

  async #waitUntilReady(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.#exit !== undefined) throw new Error(`npm start exited (${JSON.stringify(this.#exit)}) before the App listened:\n${this.logTail()}`);
      try {
        const response = await fetch(`${this.url}/ping`, { signal: AbortSignal.timeout(1000) });
        const text = await response.text();
        if (response.status === 200 && text.includes("PONG")) {
          this.readyAt = Date.now();
          return;
        }
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`the App did not answer GET /ping within ${timeoutMs} ms:\n${this.logTail()}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get pid(): number {
    return this.#pgid;
  }

  /** Whether `npm start` has exited. */
  get exited(): boolean {
    return this.#exit !== undefined;
  }

  /** Resolves with how `npm start` exited, once it has. */
  exit(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    return this.#exited;
  }

  /**
   * Sends `signal` to the App's node process alone (`node dist/main.js`), as `docker stop` signals a
   * container's first process and systemd's `KillMode=mixed` the main one: its children are not signalled.
   */
  signalApp(signal: NodeJS.Signals): void {
    const node = processGroupMembers(this.#pgid).find((pid) => {
      try {
        const [program = "", ...args] = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
        return /(^|\/)node$/.test(program) && args.some((arg) => arg === "dist/main.js" || arg.endsWith("/dist/main.js"));
      } catch {
        return false;
      }
    });
    if (node === undefined) throw new Error("no `node dist/main.js` in the App's process group");
    process.kill(node, signal);
  }

  /** Everything the App wrote on stdout and stderr so far. */
  get logs(): string {
    return this.#lines.join("\n");
  }

  /** The last `lines` lines the App wrote (those `keep` accepts, when given). */
  logTail(lines = 60, keep?: (line: string) => boolean): string {
    return (keep === undefined ? this.#lines : this.#lines.filter(keep)).slice(-lines).join("\n");
  }

  /** The App's JSON log records (Probot's `LOG_FORMAT=json`), for assertions on what it said. */
  logRecords(): Array<Record<string, unknown>> {
    return this.#lines.flatMap((line) => {
      const json = line.replace(/^\[(out|err)\] /, "");
      if (!json.startsWith("{")) return [];
      try {
        const parsed: unknown = JSON.parse(json);
        return typeof parsed === "object" && parsed !== null && !Array.isArray(parsed) ? [Object.fromEntries(Object.entries(parsed))] : [];
      } catch {
        return [];
      }
    });
  }

  /** Waits until the App logs a record whose `msg` is `message` (Probot's JSON logs); throws with the log tail on timeout. */
  async waitForLog(message: string, timeoutMs = 30_000): Promise<Record<string, unknown>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.logRecords().find((record) => record.msg === message);
      if (found !== undefined) return found;
      if (this.#exit !== undefined) throw new Error(`the App exited before logging "${message}":\n${this.logTail()}`);
      if (Date.now() > deadline) throw new Error(`the App did not log "${message}" within ${timeoutMs} ms:\n${this.logTail()}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /**
   * Delivers a webhook as GitHub does: POST to the webhook path with `x-github-event`,
   * `x-github-delivery` and `x-hub-signature-256` (HMAC-SHA256 of the raw body with the secret).
   * `signature: null` leaves the signature header out; a string is sent as given.
   */
  async deliver(name: string, payload: object, options: { id?: string; signature?: string | null; body?: string } = {}): Promise<DeliveryResult> {
    const id = options.id ?? randomUUID();
    const body = options.body ?? JSON.stringify(payload);
    const signature = options.signature === undefined ? webhookSignature(this.secret, body) : options.signature;
    const headers: Record<string, string> = {
      "content-type": "application/json",
      "user-agent": "GitHub-Hookshot/e2e",
      "x-github-event": name,
      "x-github-delivery": id,
      "x-github-hook-id": "1",
      "x-github-hook-installation-target-type": "integration",
      ...(signature === null ? {} : { "x-hub-signature-256": signature }),
    };
    const response = await fetch(`${this.url}${WEBHOOK_PATH}`, { method: "POST", headers, body, signal: AbortSignal.timeout(20_000) });
    return { status: response.status, body: await response.text(), id };
  }

  /** Sends `signal` to the App's whole process group (npm, the shell, probot, git, bwrap) and waits until every process in it is gone. */
  async kill(signal: NodeJS.Signals): Promise<void> {
    this.killGroupSync(signal);
    const deadline = Date.now() + 10_000;
    while (this.#groupAlive()) {
      if (Date.now() > deadline) {
        this.killGroupSync("SIGKILL");
        if (Date.now() > deadline + 5_000) throw new Error(`process group ${this.#pgid} survived ${signal} and SIGKILL`);
      }
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    await this.#exited;
    live.delete(this);
  }

  /** Stops the App as an operator would (SIGTERM); SIGKILL if it lingers. */
  async stop(): Promise<void> {
    if (!this.#groupAlive() && this.#exit !== undefined) {
      live.delete(this);
      return;
    }
    await this.kill("SIGTERM");
  }

  /** Sends a signal to the process group without waiting. */
  killGroupSync(signal: NodeJS.Signals): void {
    try {
      process.kill(-this.#pgid, signal);
    } catch {
      // the group is gone already
    }
  }

  /** Whether any live (not zombie) process is left in the App's process group. */
  #groupAlive(): boolean {
    return processGroupMembers(this.#pgid).length > 0;
  }
}

/** Pids of the live (not zombie) processes in process group `pgid`, read from /proc. */
export function processGroupMembers(pgid: number): number[] {
  const members: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, "utf8");
    } catch {
      continue;
    }
    // pid (comm) state ppid pgrp ...; comm may hold spaces and parentheses, so read after the last ")".
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (fields[0] !== "Z" && Number(fields[2]) === pgid) members.push(Number(entry));
  }
  return members;
}

/**
 * Pids of live processes working in `dir` or below (their current directory): what an App left
 * running in its cache (git, bubblewrap, the agent's commands) shows up here even when it escaped the
 * App's process group, as bubblewrap's `--new-session` children do.
 */
export function processesWorkingIn(dir: string): number[] {
  const members: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cwd = readlinkSync(`/proc/${entry}/cwd`);
      if ((cwd === dir || cwd.startsWith(`${dir}/`)) && !readFileSync(`/proc/${entry}/stat`, "utf8").includes(") Z ")) members.push(Number(entry));
    } catch {
      // gone, or not ours to read
    }
  }
  return members;
}

/** Stops every App process still running (for `afterAll`, also after a failed test): SIGTERM, then SIGKILL if one lingers. */
export async function stopAllAppProcesses(): Promise<void> {
  await Promise.all([...live].map((app) => app.stop()));
}
