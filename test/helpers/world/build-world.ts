import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startAfk, type AfkInstance, type AfkStartOptions } from "../afk-harness.js";
import { AppProcess } from "../app-process.js";
import { createBareRepo, GitHttpServer } from "../git-http-server.js";
import { GitHubEmulator, type Role } from "../emulator/index.js";
import { ModelServer, type ScriptedTurn } from "../model-server.js";
import { startServedAfk, type ServedAfk } from "../served-afk.js";
import { FIXTURE_FILES, TEST_ANTHROPIC_KEY } from "./fixture-project.js";
import { WorldRepo } from "./world-repo.js";

/** A repository of the world, in an installation (made on first use), with the people who have a role on it. */
export interface RepoSpec {
  owner: string;
  name: string;
  installationId: number;
  /**
   * `.github/afk.yml`, or `null` for a repository without one. When not given: `test: node --test`
   * on a git-backed repository (the fixture project's tests), `test: npm test` on one without git.
   */
  config?: string | null;
  /** People with a role on the repository, by login; each becomes a user of the emulator first. */
  roles?: Record<string, Role>;
  /**
   * A real bare git repository behind it, served over smart HTTP with the emulator's token rules:
   * `true` for the fixture project, or the files of its first commit (the config is added to them).
   */
  git?: boolean | Record<string, string>;
}

export interface WorldOptions {
  repos?: RepoSpec[];
  /** More users of the emulator, added after the repositories' people; a login ending in `[bot]` is a bot. */
  users?: string[];
  /** Whether the emulator checks its own answers against GitHub's description too (on by default; load worlds turn it off for speed). */
  checkResponses?: boolean;
  /** Start the git server even though no repository given here has git (repositories added later will). */
  git?: boolean;
  /** A scripted model server, which every App of the world is pointed at (`ANTHROPIC_BASE_URL`). */
  model?: ScriptedTurn[];
  /** The start of the temporary directory's name (`afk-world-` by default). */
  name?: string;
}

/** How a world starts afk as `npm start` (test/helpers/app-process.ts). */
export interface AppProcessStart {
  /** afk's settings (`AFK_ALLOWLIST`, ...) and anything else for its environment. */
  env?: Record<string, string>;
  /** Its cache directory, under the world's root (`cache` by default; a restart on the same host passes the same name). */
  cache?: string;
  webhookSecret?: string;
  /** `ANTHROPIC_BASE_URL`: the world's model unless told (a gate in front of several models, say). */
  modelUrl?: string;
  logLevel?: string;
  logFile?: string;
}

/** Something a world stops when it closes. */
export interface Closeable {
  close(): unknown;
}

/**
 * A test world: one emulated GitHub with its installations, repositories and people, optionally
 * real git repositories behind them and a scripted model, and the afk Apps pointed at them, in this
 * process or as processes of their own. `close()` takes it all down, newest first: the Apps (so no
 * run is left talking to a server that is gone), what the test handed to `own`, the model, the git
 * server, the emulator, the temporary directory.
 */
export interface World {
  readonly github: GitHubEmulator;
  /** A temporary directory of the world's own (git repositories under `remote/`, App caches), removed on close. */
  readonly root: string;
  /** The scripted model; throws when the world has none. */
  readonly model: ModelServer;
  /** The git smart HTTP server; throws when the world has none. */
  readonly git: GitHttpServer;
  /** Adds a repository (and its git repository, when it has one). */
  addRepo(spec: RepoSpec): WorldRepo;
  /** A repository added before, by `owner/name`. */
  repo(fullName: string): WorldRepo;
  /** The environment afk gets in this world: the model's address and key and a cache directory, when the world has a model. */
  readonly appEnv: Record<string, string>;
  /** afk in this process, deliveries through `probot.receive`. */
  startAfk(options?: AfkStartOptions): Promise<AfkInstance>;
  /** afk in this process on Probot's own HTTP server, deliveries signed over HTTP. */
  serveAfk(options?: AfkStartOptions & { port?: number }): Promise<ServedAfk>;
  /** afk as users start it, `npm start` in a process of its own. */
  startAppProcess(options?: AppProcessStart): Promise<AppProcess>;
  /** Stops `resource` when the world closes, before the model, git and GitHub go. */
  own<T extends Closeable>(resource: T): T;
  /** Throws when the emulator saw a request GitHub's description does not allow, or the model a request it should not have. */
  assertClean(): void;
  close(): Promise<void>;
}

/** Closing a server that is closed already (a test that takes GitHub down on purpose) is not an error. */
function closedAlready(error: unknown): boolean {
  return error instanceof Error && "code" in error && error.code === "ERR_SERVER_NOT_RUNNING";
}

/** Builds a world (see `World`); when building fails part-way, what was started is stopped again. */
export async function buildWorld(options: WorldOptions = {}): Promise<World> {
  const root = mkdtempSync(join(tmpdir(), options.name ?? "afk-world-"));
  /** What to stop on close, in the order it was started; closed from the end. */
  const started: Array<{ what: string; stop: () => Promise<unknown> }> = [];
  const stopAll = async (): Promise<void> => {
    const failures: unknown[] = [];
    for (const { what, stop } of started.splice(0).reverse()) {
      try {
        await stop();
      } catch (error) {
        if (!closedAlready(error)) failures.push(new Error(`the world could not stop ${what}`, { cause: error }));
      }
    }
    rmSync(root, { recursive: true, force: true });
    if (failures.length > 0) throw new AggregateError(failures, `closing the world failed ${failures.length} time(s)`);
  };

  try {
    // Its links name github.com, as GitHub.com's API does (afk's comments link the repository there); its API and git stay on loopback.
    const github = await GitHubEmulator.start({ web: "https://github.com" });
    started.push({ what: "the GitHub emulator", stop: () => github.close() });
    github.checkResponses = options.checkResponses ?? true;
    let git: GitHttpServer | undefined;
    if (options.git === true || (options.repos ?? []).some((repo) => (repo.git ?? false) !== false)) {
      const server = await GitHttpServer.start({
        root: join(root, "remote"),
        authorize: ({ repo, service, token }) => github.gitAccessAllowed(repo, token, service),
      });
      started.push({ what: "the git server", stop: () => server.close() });
      git = server;
    }
    let model: ModelServer | undefined;
    if (options.model !== undefined) {
      const server = await ModelServer.start(options.model);
      started.push({ what: "the model server", stop: () => server.close() });
      model = server;
    }
    const appEnv: Record<string, string> =
      model === undefined
        ? {}
        : { ANTHROPIC_API_KEY: TEST_ANTHROPIC_KEY, ANTHROPIC_BASE_URL: model.url, AFK_CACHE_DIR: join(root, "cache"), AFK_MODEL_RETRIES: "1" };
    const repos = new Map<string, WorldRepo>();
    const stopWith = <T>(what: string, resource: T, stop: (resource: T) => Promise<unknown>): T => {
      started.push({ what, stop: () => stop(resource) });
      return resource;
    };

    const world: World = {
      github,
      root,
      get model() {
        if (model === undefined) throw new Error("this world has no model server (buildWorld({ model: [...] }))");
        return model;
      },
      get git() {
        if (git === undefined) throw new Error("this world has no git server (buildWorld({ git: true }) or a repository with git)");
        return git;
      },
      appEnv,
      addRepo(spec) {
        const fullName = `${spec.owner}/${spec.name}`;
        const config = spec.config === undefined ? (spec.git === undefined || spec.git === false ? "test: npm test\n" : "test: node --test\n") : spec.config;
        const configFiles: Record<string, string> = config === null ? {} : { ".github/afk.yml": config };
        let remote: string | undefined;
        if (spec.git !== undefined && spec.git !== false) {
          const files = spec.git === true ? FIXTURE_FILES : spec.git;
          remote = createBareRepo(join(root, "remote"), fullName, { ...files, ...configFiles }).path;
        }
        github.addRepo({ owner: spec.owner, name: spec.name, installationId: spec.installationId, files: configFiles });
        for (const [login, role] of Object.entries(spec.roles ?? {})) {
          github.addUser(login);
          github.setPermission(fullName, login, role);
        }
        if (remote !== undefined) github.connectGit(fullName, { cloneUrl: world.git.cloneUrl(fullName), gitDir: remote });
        const repo = new WorldRepo(github, spec.owner, spec.name, spec.installationId, remote);
        repos.set(fullName, repo);
        return repo;
      },
      repo(fullName) {
        const repo = repos.get(fullName);
        if (repo === undefined) throw new Error(`this world has no repository ${fullName}`);
        return repo;
      },
      async startAfk(afkOptions = {}) {
        const afk = await startAfk(github, { ...afkOptions, env: { ...appEnv, ...afkOptions.env } });
        return stopWith("an afk instance", afk, async (instance) => {
          instance.coordinator.shutdown("the test ended");
          await instance.idle();
        });
      },
      async serveAfk(afkOptions = {}) {
        const afk = await startServedAfk(github, { ...afkOptions, env: { ...appEnv, ...afkOptions.env } });
        return stopWith("afk on Probot's server", afk, (served) => served.stop());
      },
      async startAppProcess(processOptions = {}) {
        const anthropicBaseUrl = processOptions.modelUrl ?? model?.url;
        if (anthropicBaseUrl === undefined) throw new Error("an App process needs a model: buildWorld({ model: [...] }) or startAppProcess({ modelUrl })");
        const app = await AppProcess.start({
          gheHost: github.host,
          appId: github.appId,
          webhookSecret: processOptions.webhookSecret ?? "test-secret",
          anthropicBaseUrl,
          anthropicApiKey: TEST_ANTHROPIC_KEY,
          cacheDir: join(root, processOptions.cache ?? "cache"),
          ...(processOptions.env === undefined ? {} : { env: processOptions.env }),
          ...(processOptions.logLevel === undefined ? {} : { logLevel: processOptions.logLevel }),
          ...(processOptions.logFile === undefined ? {} : { logFile: processOptions.logFile }),
        });
        return stopWith("an App process", app, (process) => process.stop());
      },
      own(resource) {
        return stopWith("a resource the test handed over", resource, async (owned) => owned.close());
      },
      assertClean() {
        github.assertNoViolations();
        if (model !== undefined && model.violations.length > 0) throw new Error(`The model server saw: ${model.violations.join("; ")}`);
      },
      close: stopAll,
    };

    for (const spec of options.repos ?? []) world.addRepo(spec);
    for (const login of options.users ?? []) github.addUser(login, login.endsWith("[bot]") ? "Bot" : "User");
    return world;
  } catch (error) {
    await stopAll().catch(() => undefined);
    throw error;
  }
}
