import type { ApplicationFunction, ApplicationFunctionOptions, Probot } from "probot";
import { readOperatorSettings } from "./config/operator-settings.js";
import { Coordinator } from "./dispatch/coordinator.js";
import { resolve } from "node:path";
import type { Executor } from "./run-contract/executor.js";
import { GITHUB_RETRY, type RetryPolicy } from "./github/transient.js";
import type { GitHub } from "./github/types.js";
import { GitHubExecutor } from "./executor/github-executor.js";
import { ActionsExecutor } from "./executor/actions-executor.js";
import { costOf, priceOf } from "./executor/agent/model-pricing.js";
import { getPrivateKey } from "@probot/get-private-key";
import { jobCredentialKey } from "./actions/job-credential.js";
import { ModelProxy } from "./actions/model-proxy.js";
import { OidcVerifier, ReplayGuard } from "./actions/oidc-verifier.js";
import { JobService } from "./remote-jobs/job-service.js";
import { jobRoutes } from "./remote-jobs/job-routes.js";
import { registerRouter } from "./router.js";
import { Notifier, notifyingObserver } from "./notify/notifier.js";
import { drainOnSignals } from "./drain-on-signals.js";
import { DEFAULT_MODEL } from "./config/repo-config.js";
import { observabilityHandler } from "./observability/http-routes.js";
import { instrumentOctokit } from "./observability/instrument-octokit.js";
import { AfkMetrics } from "./observability/metrics.js";
import { cachedReadiness } from "./observability/readiness.js";
import { cacheDirCheck, githubCheck, modelCheck } from "./observability/readiness-checks.js";
import type { StateObserver } from "./observability/state-observer.js";

export interface AfkOptions {
  /** Environment to read operator settings from; defaults to `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** The executor runs are handed to; defaults to the sandboxed agent (`GitHubExecutor`). */
  executor?: Executor;
  /** How often runs renew their lock lease; defaults to a third of `AFK_LOCK_LEASE_SECONDS`. */
  renewEveryMs?: number;
  /** Receives the coordinator once the app is loaded (tests and benchmarks wait on it). */
  onLoad?: (coordinator: Coordinator) => void;
  /** Whether to pick up queued work, dead locks and runs waiting on CI at start-up (`Coordinator.recover`); on by default. */
  recoverOnStart?: boolean;
  /** How afk retries GitHub calls that fail transiently; `GITHUB_RETRY` by default (tests shorten the waits). */
  retry?: RetryPolicy;
  /** Whether SIGTERM and SIGINT drain the App (`AFK_SHUTDOWN_GRACE_SECONDS`); on for the App `npm start` runs, off in tests. */
  handleSignals?: boolean;
  /** The clock afk decides by; the system's by default (tests move it). */
  now?: () => Date;
  /** Told of every run state afk writes (before → after); never awaited, its errors only logged. */
  observer?: StateObserver;
  /** How afk reaches, for its jobs on GitHub Actions, the OIDC issuer's keys and the model behind its proxy; the platform's fetch by default. */
  fetch?: typeof globalThis.fetch;
  /** How long `/readyz` answers from its last checks before checking again; 5 s by default. */
  readinessCacheMs?: number;
}

/** A readiness probe waits this long for GitHub, the model and the disk each. */
const READINESS_TIMEOUT_MS = 5_000;

/** Builds the afk Probot app. Invalid operator settings throw here, so the App fails at start-up. */
export function createAfkApp(options: AfkOptions = {}): ApplicationFunction {
  return (app: Probot, appOptions?: ApplicationFunctionOptions) => {
    const env = options.env ?? process.env;
    const settings = readOperatorSettings(env);
    const retry = options.retry ?? GITHUB_RETRY;
    const metrics = new AfkMetrics();
    // Every client afk makes outside a webhook is counted; its requests are retried by the Octokit Probot was given (`AfkOctokit`, src/main.ts), and by nothing else.
    const octokitFor = async (installationId: number) => instrumentOctokit(await app.auth(installationId), metrics);
    const appOctokit = async () => instrumentOctokit(await app.auth(), metrics);
    const botLogin = cachedBotLogin(appOctokit);
    const local = new GitHubExecutor({
      settings,
      anthropicApiKey: env.ANTHROPIC_API_KEY,
      anthropicBaseUrl: env.ANTHROPIC_BASE_URL,
      octokitFor,
      appOctokit,
      botLogin,
      secrets: [env.WEBHOOK_SECRET, env.PRIVATE_KEY, env.AFK_NOTIFY_URL].filter((secret): secret is string => secret !== undefined && secret.length > 0),
      hiddenPaths: env.PRIVATE_KEY_PATH === undefined ? [] : [resolve(env.PRIVATE_KEY_PATH)],
      log: app.log,
    });
    const { actions } = settings.executor;
    const executor =
      options.executor ??
      (actions === undefined
        ? local
        : new ActionsExecutor({ executor: settings.executor, actions, local, anthropicApiKey: env.ANTHROPIC_API_KEY, octokitFor, appOctokit }));
    // Notifications ride on the state observer: every run state afk writes, before → after.
    const notifier = settings.notifyUrl === undefined ? undefined : new Notifier({ url: settings.notifyUrl, log: app.log });
    const observer = options.observer ?? (notifier === undefined ? undefined : notifyingObserver(notifier));
    const coordinator = new Coordinator({
      settings,
      executor,
      log: app.log,
      octokitFor,
      appOctokit,
      botLogin,
      ...(options.renewEveryMs === undefined ? {} : { renewEveryMs: options.renewEveryMs }),
      retry,
      ...(options.now === undefined ? {} : { now: options.now }),
      metrics,
      ...(observer === undefined ? {} : { observer }),
    });
    metrics.watch({ queueLength: () => coordinator.queueLength, locksHeld: () => coordinator.locksHeld });
    if (settings.allowlist.length === 0) app.log.warn("AFK_ALLOWLIST is empty: afk will act on no repository until it lists some (owner/repo globs)");
    if (settings.killSwitch) app.log.warn("AFK_KILL_SWITCH is on: afk starts no new work");
    if (!settings.hasAnthropicKey && options.executor === undefined)
      app.log.warn("ANTHROPIC_API_KEY is not set: runs will end at once, asking the operator to set it");
    registerRouter(app, coordinator, metrics);
    // A probe asks once, without afk's retries: readiness is about now.
    const readiness = cachedReadiness(
      [
        githubCheck(() => app.auth()),
        modelCheck({ apiKey: env.ANTHROPIC_API_KEY, baseURL: env.ANTHROPIC_BASE_URL, model: settings.model ?? DEFAULT_MODEL }),
        cacheDirCheck(settings.cacheDir),
      ],
      { cacheMs: options.readinessCacheMs ?? 5_000, timeoutMs: READINESS_TIMEOUT_MS },
    );
    if (serveHttp(app, appOptions, observabilityHandler({ metrics, readiness }))) metrics.includeProcessMetrics();
    if (actions !== undefined) {
      // Jobs on GitHub Actions reach afk here: their start, heartbeats, result and model calls (ADR 0008).
      const proxy = new ModelProxy({
        upstreamBaseUrl: env.ANTHROPIC_BASE_URL ?? "https://api.anthropic.com",
        apiKey: env.ANTHROPIC_API_KEY ?? "",
        costOf: (model, usage) => {
          const price = priceOf(model);
          return price === undefined ? undefined : costOf(usage, price);
        },
        log: app.log,
        ...(options.fetch === undefined ? {} : { fetch: options.fetch }),
      });
      const jobs = new JobService({
        runtime: coordinator,
        actions,
        executor: local,
        verifier: new OidcVerifier({ issuer: actions.oidcIssuer, ...(options.fetch === undefined ? {} : { fetch: options.fetch }) }),
        replay: new ReplayGuard(),
        credentialKey: jobCredentialKey(appPrivateKey(env)),
        spend: proxy.ledger,
        metrics,
        appOctokit,
        octokitFor,
      });
      if (!serveHttp(app, appOptions, jobRoutes(jobs, proxy, app.log)))
        app.log.error("AFK_EXECUTOR uses GitHub Actions, but this Probot has no HTTP server to answer its jobs on");
    }
    if (options.recoverOnStart !== false) {
      coordinator.background("recover work after start-up", async () => void (await coordinator.recover()));
    }
    if (options.handleSignals === true) {
      drainOnSignals({
        coordinator,
        graceSeconds: settings.shutdownGraceSeconds,
        log: app.log,
        ...(notifier === undefined ? {} : { flushNotifications: () => notifier.flush() }),
      });
    }
    options.onLoad?.(coordinator);
  };
}

/**
 * Adds afk's routes (`/healthz`, `/readyz`, `/metrics`) to Probot's HTTP server; false when there is
 * none (a Probot loaded without a server: `probot.load` in tests, serverless adapters).
 */
function serveHttp(app: Probot, appOptions: ApplicationFunctionOptions | undefined, handler: Parameters<ApplicationFunctionOptions["addHandler"]>[0]): boolean {
  if (appOptions === undefined) return false;
  try {
    appOptions.addHandler(handler);
    return true;
  } catch (error) {
    app.log.debug({ err: error }, "afk: no HTTP server to serve /healthz, /readyz and /metrics on");
    return false;
  }
}

/** The App's private key (PRIVATE_KEY, or the file PRIVATE_KEY_PATH names), from which every replica derives the key of job credentials. */
function appPrivateKey(env: NodeJS.ProcessEnv): string {
  const key = getPrivateKey({ env });
  if (key === null) throw new Error("afk cannot start: AFK_EXECUTOR uses GitHub Actions, which needs the App's private key in PRIVATE_KEY or PRIVATE_KEY_PATH");
  return key;
}

function cachedBotLogin(appOctokit: () => Promise<GitHub>): () => Promise<string> {
  let login: Promise<string> | undefined;
  return () => {
    login ??= appOctokit()
      .then((octokit) => octokit.rest.apps.getAuthenticated())
      .then(({ data }) => {
        if (data === null || data.slug === undefined) throw new Error("GET /app returned no slug; cannot tell afk's own comments apart");
        return `${data.slug}[bot]`;
      })
      .catch((error: unknown) => {
        login = undefined;
        throw error;
      });
    return login;
  };
}

export default createAfkApp({ handleSignals: true });
