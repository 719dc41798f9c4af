import { generateKeyPairSync } from "node:crypto";
import Bottleneck from "bottleneck";
import { createProbot, ProbotOctokit, type ApplicationFunction, type Probot } from "probot";
import type { Coordinator } from "../../src/dispatch/coordinator.js";
import type { Executor } from "../../src/run-contract/executor.js";
import { createAfkOctokit, GITHUB_REQUEST_POLICY } from "../../src/github/octokit.js";
import { createAfkApp } from "../../src/index.js";
import type { StateObserver } from "../../src/observability/state-observer.js";
import type { GitHubEmulator } from "./emulator/index.js";

let privateKey: string | undefined;

type OctokitOptions = NonNullable<ConstructorParameters<typeof ProbotOctokit>[0]>;

/**
 * Probot's Octokit with retries and throttling off, as Probot's own tests run it. Probot merges its
 * throttle defaults over `ProbotOctokit.defaults(...)`, so the override has to sit in the constructor.
 * Throttling spaces writes a second apart to respect GitHub's secondary rate limits; against a local
 * emulator that is only waiting.
 */
export class UnthrottledOctokit extends ProbotOctokit {
  constructor(options: OctokitOptions = {}) {
    super({ ...options, throttle: { ...options.throttle, enabled: false }, retry: { ...options.retry, enabled: false } });
  }
}

/** afk's Octokit (its one retry policy, src/github/octokit.ts) waiting 5 ms where it would wait a second. */
const FastAfkOctokit = createAfkOctokit({ ...GITHUB_REQUEST_POLICY, secondMs: 5 });

/** One write at a time, as GitHub asks, but none of the second apart the throttling plugin keeps between writes. */
const unspacedWrites = {
  write: new Bottleneck.Group({ maxConcurrent: 1 }),
  notifications: new Bottleneck.Group({ maxConcurrent: 1 }),
  search: new Bottleneck.Group({ maxConcurrent: 1 }),
};

/**
 * afk's Octokit as in production: server errors tried again, rate limits waited out as GitHub asks,
 * each retry and give-up logged; but waiting milliseconds where it would wait seconds, and writes
 * not spaced. For tests that inject GitHub's failures.
 */
export class RetryingOctokit extends FastAfkOctokit {
  constructor(options: OctokitOptions = {}) {
    super({ ...options, throttle: options.throttle?.enabled === false ? options.throttle : { ...options.throttle, ...unspacedWrites } });
  }
}

/** afk's own retries of transient GitHub failures in tests: the same number of tries, millisecond waits. */
export const TEST_RETRY = { attempts: 5, baseMs: 5 };

/** A throwaway RSA key, made once per test process: the App signs its JWTs with it. */
export function testPrivateKey(): string {
  privateKey ??= generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ type: "pkcs1", format: "pem" }).toString();
  return privateKey;
}

export interface AfkInstance {
  probot: Probot;
  coordinator: Coordinator;
  /** Delivers a webhook the way Probot's server does after verifying its signature. */
  deliver(name: string, payload: object, id?: string): Promise<void>;
  /** Waits until this instance has no intake, dispatch or run in flight. */
  idle(): Promise<void>;
  /** Waits until this instance has no intake or dispatch in flight; runs may go on. */
  quiet(): Promise<void>;
}

/** How a test starts afk in its own process (on `probot.receive` or on Probot's server). */
export interface AfkStartOptions {
  /** afk's environment, over the tests' defaults (every repository allowed, a replica id, no cache directory). */
  env?: Record<string, string>;
  executor?: Executor;
  /** `AFK_REPLICA_ID`; each way of starting afk has its own default. */
  replicaId?: string;
  renewEveryMs?: number;
  /** Off by default: tests start each App on a fresh emulator; the ones about restarts turn recovery on. */
  recoverOnStart?: boolean;
  /** afk's Octokit with its retries (RetryingOctokit) instead of one that never retries. */
  octokitRetries?: boolean;
  now?: () => Date;
  observer?: StateObserver;
  readinessCacheMs?: number;
  /** How afk reaches the OIDC issuer and the model behind its job proxy (the emulator and model server need `loopbackFetch` under nock). */
  fetch?: typeof globalThis.fetch;
}

const LOG_LEVELS = ["trace", "debug", "info", "warn", "error", "fatal", "silent"] as const;

/** A level of Probot's log (`LOG_LEVEL`). */
export type LogLevel = (typeof LOG_LEVELS)[number];

/** The level named by `value` (an environment variable, say), or `fallback` when it names none. */
export function logLevelOf(value: string | undefined, fallback: LogLevel): LogLevel {
  return LOG_LEVELS.find((level) => level === value) ?? fallback;
}

/** Where a test App finds GitHub: the emulator, or the address of one in another process. */
export interface GitHubAddress {
  /** `host:port`, for `GHE_HOST` (with `GHE_PROTOCOL=http`). */
  host: string;
  appId: number | string;
}

/**
 * A Probot pointed at `github` through GHE_HOST and GHE_PROTOCOL, exactly as an operator points it
 * at GitHub Enterprise Server, so every request (installation tokens included) goes there; signed
 * with the tests' throwaway key.
 */
export function createTestProbot(
  github: GitHubAddress,
  options: { secret?: string; Octokit?: typeof ProbotOctokit; logLevel?: LogLevel; logFormat?: "json" } = {},
): Probot {
  return createProbot({
    env: {
      APP_ID: String(github.appId),
      PRIVATE_KEY: testPrivateKey(),
      WEBHOOK_SECRET: options.secret ?? "test-secret",
      GHE_HOST: github.host,
      GHE_PROTOCOL: "http",
      // `AFK_TEST_LOG_LEVEL=info npm test` shows the App's logs; tests are silent otherwise.
      LOG_LEVEL: options.logLevel ?? logLevelOf(process.env.AFK_TEST_LOG_LEVEL, "fatal"),
      ...(options.logFormat === undefined ? {} : { LOG_FORMAT: options.logFormat }),
    },
    overrides: { Octokit: options.Octokit ?? UnthrottledOctokit },
  });
}

/** The Octokit class a test App uses: one that never retries, or afk's own retries with short waits. */
export function testOctokit(options: AfkStartOptions): typeof ProbotOctokit {
  return options.octokitRetries === true ? RetryingOctokit : UnthrottledOctokit;
}

/**
 * afk's app function with the tests' settings, and the coordinator it hands out once loaded (it
 * throws before then). Every way a test starts afk in its own process goes through here.
 */
export function testAfkApp(options: AfkStartOptions, defaultReplicaId: string): { app: ApplicationFunction; coordinator(): Coordinator } {
  let loaded: Coordinator | undefined;
  const app = createAfkApp({
    env: { AFK_ALLOWLIST: "*/*", AFK_REPLICA_ID: options.replicaId ?? defaultReplicaId, AFK_CACHE_DIR: "/nonexistent", ...options.env },
    ...(options.executor === undefined ? {} : { executor: options.executor }),
    ...(options.renewEveryMs === undefined ? {} : { renewEveryMs: options.renewEveryMs }),
    ...(options.observer === undefined ? {} : { observer: options.observer }),
    ...(options.readinessCacheMs === undefined ? {} : { readinessCacheMs: options.readinessCacheMs }),
    ...(options.fetch === undefined ? {} : { fetch: options.fetch }),
    recoverOnStart: options.recoverOnStart ?? false,
    retry: TEST_RETRY,
    ...(options.now === undefined ? {} : { now: options.now }),
    onLoad: (coordinator) => {
      loaded = coordinator;
    },
  });
  return {
    app,
    coordinator() {
      if (loaded === undefined) throw new Error("afk did not hand out its coordinator on load");
      return loaded;
    },
  };
}

let deliveries = 0;

/**
 * Starts afk as a Probot app in this process, pointed at the emulator (see `createTestProbot`);
 * deliveries go straight to `probot.receive`. A world (test/helpers/world/) starts it for tests and
 * stops it with the world.
 */
export async function startAfk(emulator: GitHubEmulator, options: AfkStartOptions = {}): Promise<AfkInstance> {
  const probot = createTestProbot(emulator, { Octokit: testOctokit(options) });
  const afk = testAfkApp(options, "replica-test");
  await probot.load(afk.app);
  const coordinator = afk.coordinator();
  return {
    probot,
    coordinator,
    async deliver(name, payload, id) {
      deliveries++;
      await probot.receive({ id: id ?? `delivery-${deliveries}`, name, payload } as Parameters<Probot["receive"]>[0]);
    },
    idle: () => coordinator.idle(),
    quiet: () => coordinator.quiet(),
  };
}
