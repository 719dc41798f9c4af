import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { freePort, processGroupMembers, REPO_ROOT } from "./app-process.js";

/** Builds `dist/` as `npm start` does first (`npm run build`). */
export function buildApp(): void {
  execFileSync("npm", ["run", "build", "--silent"], { cwd: REPO_ROOT, stdio: "pipe", env: { ...process.env, npm_config_update_notifier: "false" } });
}

/**
 * The built App run as `npm start` runs it after building (`node dist/main.js`), but in
 * `cwd`: Probot reads `app.yml`, `package.json` and `.env` from its working directory and writes
 * `.env` there, so a temporary one plays a fresh clone. Only `env` reaches it (plus PATH and HOME),
 * so whatever else it knows comes from `.env`.
 */
export class BuiltApp {
  readonly #child: ChildProcess;
  readonly #lines: string[] = [];
  #exited = false;

  private constructor(
    child: ChildProcess,
    readonly port: number,
  ) {
    this.#child = child;
    for (const stream of [child.stdout, child.stderr]) {
      let partial = "";
      stream?.setEncoding("utf8");
      stream?.on("data", (chunk: string) => {
        const parts = (partial + chunk).split("\n");
        partial = parts.pop() ?? "";
        this.#lines.push(...parts);
      });
    }
    child.once("exit", () => {
      this.#exited = true;
    });
  }

  /** Starts the App in `cwd` and waits until it answers `GET /ping`. */
  static async start(cwd: string, env: Record<string, string>, timeoutMs = 30_000): Promise<BuiltApp> {
    const port = await freePort();
    const child = spawn(process.execPath, [join(REPO_ROOT, "dist", "main.js")], {
      cwd,
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/root", HOST: "127.0.0.1", PORT: String(port), LOG_FORMAT: "json", ...env },
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    });
    const app = new BuiltApp(child, port);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (app.#exited) throw new Error(`the App exited before it listened:\n${app.logs}`);
      try {
        const response = await fetch(`${app.url}/ping`, { signal: AbortSignal.timeout(1000) });
        if ((await response.text()).includes("PONG")) return app;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) {
        await app.stop();
        throw new Error(`the App did not answer GET /ping within ${timeoutMs} ms:\n${app.logs}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get logs(): string {
    return this.#lines.join("\n");
  }

  /** The `msg` of every JSON log record the App wrote. */
  messages(): string[] {
    return this.#lines.flatMap((line) => {
      try {
        const record: unknown = JSON.parse(line);
        return typeof record === "object" && record !== null && "msg" in record && typeof record.msg === "string" ? [record.msg] : [];
      } catch {
        return [];
      }
    });
  }

  /** SIGTERM to the App's process group, SIGKILL after 5 s; resolves once no process of it is left. */
  async stop(): Promise<void> {
    const pgid = this.#child.pid;
    if (pgid === undefined) return;
    const signal = (name: NodeJS.Signals) => {
      try {
        process.kill(-pgid, name);
      } catch {
        // gone already
      }
    };
    signal("SIGTERM");
    const deadline = Date.now() + 5_000;
    while (processGroupMembers(pgid).length > 0) {
      if (Date.now() > deadline) signal("SIGKILL");
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }
}
