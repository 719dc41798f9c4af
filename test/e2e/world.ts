import { execFileSync } from "node:child_process";
import { afterAll, beforeAll, type TestContext } from "vitest";
import { decodeStateMarker, type RunState } from "../../src/lifecycle/run-state.js";
import { decodeLockMessage, type LockRecord } from "../../src/lock/lock-record.js";
import type { AppProcess, DeliveryResult } from "../helpers/app-process.js";
import type { GitHttpServer } from "../helpers/git-http-server.js";
import type { GitHubEmulator } from "../helpers/emulator/index.js";
import { ModelServer, type ScriptedTurn } from "../helpers/model-server.js";
import { PEOPLE } from "../helpers/scenario.js";
import { buildWorld, type World } from "../helpers/world/build-world.js";
import type { WorldRepo } from "../helpers/world/world-repo.js";
import { ModelGate, type HeldRequest, type ModelRoute } from "./model-gate.js";

export const REPO = "app";
export const WEBHOOK_SECRET = "e2e-webhook-secret";
/**
 * The shortest lease afk accepts (30 s). The lease is written into the lock by the process that
 * holds it, so the process that is killed must already run with it for its stale lock to expire soon.
 */
export const LEASE_SECONDS = 30;
/**
 * `AFK_MODEL_RETRIES` of every App process: how often the SDK retries one model request answered
 * 429, 529 or 5xx or cut off (so a request is sent at most MODEL_RETRIES + 1 times).
 */
export const MODEL_RETRIES = 3;
/** Repositories the shared App acts on (`octo-<scenario>/app`); a scenario with an App of its own uses another owner. */
export const SHARED_ALLOWLIST = "octo-*/*";

let nextInstallationId = 5000;

/**
 * One scenario's repository `<owner>/app` in the emulated GitHub, in an installation of its own and
 * backed by a real bare git repository served over smart HTTP, with its own scripted model behind
 * the gate, and the App process its webhooks are delivered to.
 */
export class E2EScenario {
  readonly fullName: string;
  readonly installationId: number;
  /** The bare repository behind it. */
  readonly remote: string;
  /** The App process this scenario's webhooks go to (a scenario that restarts its App replaces it). */
  app: AppProcess;

  constructor(
    readonly world: E2EWorld,
    readonly repo: WorldRepo,
    readonly model: ModelServer,
    readonly route: ModelRoute,
    app: AppProcess,
  ) {
    this.fullName = repo.fullName;
    this.installationId = repo.installationId;
    this.remote = repo.remote;
    this.app = app;
  }

  get owner(): string {
    return this.repo.owner;
  }

  get #github(): GitHubEmulator {
    return this.world.github;
  }

  /** Holds this repository's next model call until `release()`. */
  holdNext(): HeldRequest {
    return this.route.holdNext();
  }

  issue(input: { title: string; body?: string; user?: string }): number {
    return this.repo.issue({ ...input, body: input.body ?? "" });
  }

  /** `sender` adds `label` on GitHub (the label is on the issue before the event is sent); returns the `issues.labeled` payload GitHub sends. */
  labelPayload(issue: number, sender: string, label = "ready-for-agent"): object {
    return this.repo.labelPayload(issue, sender, { label });
  }

  async label(issue: number, sender: string, label = "ready-for-agent"): Promise<void> {
    await this.deliverOk("issues", this.labelPayload(issue, sender, label));
  }

  /** `sender` comments `body` on GitHub; returns the `issue_comment.created` payload GitHub sends. */
  commentPayload(issue: number, sender: string, body: string): object {
    return this.repo.commentPayload(issue, sender, body);
  }

  async comment(issue: number, sender: string, body: string): Promise<void> {
    await this.deliverOk("issue_comment", this.commentPayload(issue, sender, body));
  }

  /** Delivers a webhook to this scenario's App as GitHub does (signed unless told otherwise). */
  deliver(name: string, payload: object, options: { id?: string; signature?: string | null } = {}): Promise<DeliveryResult> {
    return this.app.deliver(name, payload, options);
  }

  /** Delivers a signed webhook and expects Probot's 200. */
  async deliverOk(name: string, payload: object): Promise<string> {
    const result = await this.app.deliver(name, payload);
    if (result.status !== 200) throw new Error(`the App answered ${result.status} to ${name}: ${result.body}\n${this.appLog()}`);
    return result.id;
  }

  /** Bodies of the comments afk's bot wrote on an issue or pull request. */
  afkComments(issue: number): string[] {
    return this.repo.afkComments(issue);
  }

  /** afk's progress comment (the one carrying the state marker), as a person reads it. */
  progress(issue: number): string | undefined {
    return this.afkComments(issue).find((body) => body.includes("<!-- afk:state"));
  }

  /** The run state in the progress comment's marker (what `test/helpers/run-state-of.ts` reads for in-process scenarios). */
  state(issue: number): RunState | undefined {
    const decoded = decodeStateMarker(this.progress(issue) ?? "");
    return decoded.kind === "state" ? decoded.state : undefined;
  }

  labels(issue: number): string[] {
    return this.#github.labels(this.fullName, issue);
  }

  /** The record in `refs/afk/lock`, or undefined when there is no lock ref. */
  lock(): LockRecord | undefined {
    return this.lockHistory()[0];
  }

  /** Every record the lock ref has held, newest first (its commits chain each change to the one before). */
  lockHistory(): LockRecord[] {
    const records: LockRecord[] = [];
    let sha = this.#github.ref(this.fullName, "afk/lock");
    while (sha !== undefined) {
      const commit = this.#github.commit(this.fullName, sha);
      if (commit === undefined) break;
      const record = decodeLockMessage(commit.message);
      if (record === undefined) throw new Error(`refs/afk/lock points at a commit afk did not write: ${commit.message}`);
      records.push(record);
      sha = commit.parents[0]?.sha;
    }
    return records;
  }

  /** The App's JSON log records about this repository with message `msg`. */
  logged(msg: string): Array<Record<string, unknown>> {
    return this.app.logRecords().filter((record) => record.msg === msg && record.repo === this.fullName);
  }

  /** The subjects of the commits on `branch` that are not on `main`, newest first (from the real bare repository). */
  commitsOn(branch: string): string[] {
    return this.git("log", "--format=%s", `main..${branch}`)
      .split("\n")
      .filter((line) => line.length > 0);
  }

  /** `git` on the real bare repository; its output without the trailing newline. */
  git(...args: string[]): string {
    return this.repo.git(...args);
  }

  /** A file on a branch of the real bare repository. */
  fileOn(branch: string, path: string): string {
    return execFileSync("git", ["--git-dir", this.remote, "show", `${branch}:${path}`], { encoding: "utf8" });
  }

  /** Writes afk made through the emulator to one issue (anything but GET on `/repos/o/r/issues/N` and below). */
  writesAbout(issue: number): string[] {
    const prefix = `/repos/${this.fullName}/issues/${issue}`;
    return this.#github.requests
      .filter((request) => request.method !== "GET" && (request.path === prefix || request.path.startsWith(`${prefix}/`)))
      .map((request) => `${request.method} ${request.path}`);
  }

  /** The App's log lines about this repository (the shared App logs every scenario's work). */
  appLog(lines = 40): string {
    // Lines about no repository (start-up, errors) are kept, but not one quoting another scenario's repository (a refused delivery logs its whole payload).
    const aboutAnother = new RegExp(`[\\w.-]+/${REPO}\\b`);
    return this.app
      .logTail(lines, (line) => line.includes(this.fullName) || (!line.includes('"repo"') && !line.includes('"name":"http"') && !aboutAnother.test(line)))
      .split("\n")
      .map((line) => (line.length > 2_000 ? `${line.slice(0, 2_000)}… (${line.length} characters)` : line))
      .join("\n");
  }

  /** Polls `condition` (every 50 ms) until it holds; on timeout the error carries the App's last log lines. */
  async eventually(condition: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!condition()) {
      if (Date.now() > deadline)
        throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} in ${this.fullName}; the App's last log lines:\n${this.appLog()}`);
      if (this.app.exited) throw new Error(`the App exited while waiting for ${what}:\n${this.app.logTail(40)}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** Waits for `promise`; on timeout the error carries the App's last log lines. */
  async within<T>(promise: Promise<T>, what: string, timeoutMs = 30_000): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what} in ${this.fullName}; the App's last log lines:\n${this.appLog()}`)),
        timeoutMs,
      );
    });
    try {
      return await Promise.race([promise, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}

export interface ScenarioOptions {
  /** The repository's files (the fixture project by default) and `.github/afk.yml`. */
  files?: Record<string, string>;
  config?: string;
  /** The scripted model's answers, in order. */
  script: ScriptedTurn[];
  /** The App process to deliver to; the shared one by default. */
  app?: AppProcess;
}

export interface E2EWorld {
  readonly github: GitHubEmulator;
  readonly git: GitHttpServer;
  readonly gate: ModelGate;
  readonly root: string;
  /** The App process the scenarios share (started once: `npm start` builds first). */
  readonly app: AppProcess;
  /**
   * Starts another App process with the same settings, acting on `allowlist` (afk's `AFK_ALLOWLIST`),
   * with its cache in `<root>/<cache>` (a restart on the same host passes the same name).
   */
  startApp(allowlist: string, cache: string, env?: Record<string, string>): Promise<AppProcess>;
  /**
   * A fresh repository `<owner>/app` in an installation of its own, with its model; everything it
   * set up is torn down when the test ends. Owners `octo-*` are the shared App's.
   */
  scenario(context: TestContext, owner: string, options: ScenarioOptions): Promise<E2EScenario>;
}

/**
 * One emulated GitHub, one git smart HTTP server and one model gate for a test file, and one real
 * App process (`npm start`) pointed at them that the scenarios share: starting it builds the App
 * (`npm start` runs `tsc`), so the file pays that once. Each scenario works in its own installation
 * and repository, so the scenarios run at once. They still share one queue: Probot throttles the
 * writes made with the clients it gives webhook handlers (`context.octokit`) with one limiter for
 * the whole process, whatever the installation (one write a second), while the clients afk gets
 * from `app.auth(installationId)` are not throttled. So the file lasts about as long as the shared
 * App's queue of throttled writes: every write a scenario adds makes the others wait. Every child
 * process is killed in `afterAll`, also when a test fails.
 */
export function useE2EWorld(): E2EWorld {
  let built: World | undefined;
  let gate: ModelGate | undefined;
  let shared: AppProcess | undefined;

  const need = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`the e2e world has no ${what} (beforeAll failed?)`);
    return value;
  };

  const world: E2EWorld = {
    get github() {
      return need(built, "GitHub emulator").github;
    },
    get git() {
      return need(built, "git server").git;
    },
    get gate() {
      return need(gate, "model gate");
    },
    get root() {
      return need(built, "temporary directory").root;
    },
    get app() {
      return need(shared, "App process");
    },
    async startApp(allowlist, cache, env = {}) {
      return need(built, "world").startAppProcess({
        webhookSecret: WEBHOOK_SECRET,
        modelUrl: world.gate.url,
        cache,
        env: { AFK_ALLOWLIST: allowlist, AFK_LOCK_LEASE_SECONDS: String(LEASE_SECONDS), AFK_MODEL_RETRIES: String(MODEL_RETRIES), ...env },
        // `AFK_E2E_LOG=/path` keeps every line the App processes wrote; `AFK_E2E_LOG_LEVEL=debug` says more.
        ...(process.env.AFK_E2E_LOG === undefined ? {} : { logFile: process.env.AFK_E2E_LOG }),
        ...(process.env.AFK_E2E_LOG_LEVEL === undefined ? {} : { logLevel: process.env.AFK_E2E_LOG_LEVEL }),
      });
    },
    async scenario(context, owner, options) {
      const repo = need(built, "world").addRepo({
        owner,
        name: REPO,
        installationId: nextInstallationId++,
        config: options.config ?? "test: node --test\n",
        roles: PEOPLE,
        git: options.files ?? true,
      });
      const model = await ModelServer.start(options.script);
      const route = world.gate.route(repo.fullName, model.url);
      const scenario = new E2EScenario(world, repo, model, route, options.app ?? world.app);
      context.onTestFinished(async () => {
        route.close();
        await model.close();
        if (context.task.result?.state === "fail") console.error(`[e2e] ${repo.fullName}: the App's log lines about it:\n${scenario.appLog(80)}`);
        if (model.violations.length > 0) throw new Error(`The model server of ${repo.fullName} saw: ${model.violations.join("; ")}`);
      });
      return scenario;
    },
  };

  beforeAll(async () => {
    built = await buildWorld({ name: "afk-e2e-", git: true, users: [...Object.keys(PEOPLE), "outsider"] });
    gate = built.own(await ModelGate.start());
    shared = await world.startApp(SHARED_ALLOWLIST, "cache-shared");
  }, 120_000);

  afterAll(async () => {
    // The world stops every App process it started (also after a failed test), then the gate, git and GitHub.
    await built?.close();
    // What no scenario checked (work that went on after its test ended) still fails the file.
    const left = [...(built?.github.takeViolations() ?? []), ...(gate?.violations ?? [])];
    if (left.length > 0) throw new Error(`Left after the scenarios:\n- ${left.join("\n- ")}`);
  }, 60_000);

  return world;
}
