import { generateKeyPairSync } from "node:crypto";
import Bottleneck from "bottleneck";
import { createProbot, ProbotOctokit, type Probot } from "probot";
import type { Coordinator } from "../../src/dispatch/coordinator.js";
import type { Executor } from "../../src/run-contract/executor.js";
import { createAfkOctokit, GITHUB_REQUEST_POLICY } from "../../src/github/octokit.js";
import { createAfkApp } from "../../src/index.js";
import type { GitHubEmulator } from "./github-emulator.js";

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

let deliveries = 0;

const LOG_LEVELS = ["trace", "debug", "info", "warn", "error", "fatal", "silent"] as const;

/** `AFK_TEST_LOG_LEVEL=info npm test` shows the App's logs; tests are silent otherwise. */
function testLogLevel(): (typeof LOG_LEVELS)[number] {
  return LOG_LEVELS.find((level) => level === process.env.AFK_TEST_LOG_LEVEL) ?? "fatal";
}

/**
 * Starts afk as a Probot app pointed at the emulator through GHE_HOST and
 * GHE_PROTOCOL, exactly as an operator points it at GitHub Enterprise Server,
 * so every request (installation tokens included) goes to the emulator.
 */
export async function startAfk(
  emulator: GitHubEmulator,
  options: {
    env?: Record<string, string>;
    executor?: Executor;
    replicaId?: string;
    renewEveryMs?: number;
    recoverOnStart?: boolean;
    octokitRetries?: boolean;
    now?: () => Date;
  } = {},
): Promise<AfkInstance> {
  const probot = createProbot({
    env: {
      APP_ID: String(emulator.appId),
      PRIVATE_KEY: testPrivateKey(),
      WEBHOOK_SECRET: "test-secret",
      GHE_HOST: emulator.host,
      GHE_PROTOCOL: "http",
      LOG_LEVEL: testLogLevel(),
    },
    overrides: { Octokit: options.octokitRetries === true ? RetryingOctokit : UnthrottledOctokit },
  });
  let coordinator: Coordinator | undefined;
  await probot.load(
    createAfkApp({
      env: { AFK_ALLOWLIST: "*/*", AFK_REPLICA_ID: options.replicaId ?? "replica-test", AFK_CACHE_DIR: "/nonexistent", ...options.env },
      ...(options.executor === undefined ? {} : { executor: options.executor }),
      ...(options.renewEveryMs === undefined ? {} : { renewEveryMs: options.renewEveryMs }),
      // Tests start each App on a fresh emulator; the ones about restarts turn recovery on.
      recoverOnStart: options.recoverOnStart ?? false,
      retry: TEST_RETRY,
      ...(options.now === undefined ? {} : { now: options.now }),
      onLoad: (loaded) => {
        coordinator = loaded;
      },
    }),
  );
  if (coordinator === undefined) throw new Error("afk did not hand out its coordinator on load");
  const loaded = coordinator;
  return {
    probot,
    coordinator: loaded,
    async deliver(name, payload, id) {
      deliveries++;
      await probot.receive({ id: id ?? `delivery-${deliveries}`, name, payload } as Parameters<Probot["receive"]>[0]);
    },
    idle: () => loaded.idle(),
    quiet: () => loaded.quiet(),
  };
}
