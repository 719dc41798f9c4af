import type { ApplicationFunction, Probot } from "probot";
import { readOperatorSettings } from "./config/operator-settings.js";
import { Coordinator } from "./dispatch/coordinator.js";
import { noExecutor, type Executor } from "./executor/executor.js";
import { registerRouter } from "./router.js";

export interface AfkOptions {
  /** Environment to read operator settings from; defaults to `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** The executor runs are handed to; defaults to `noExecutor`, which fails runs honestly. */
  executor?: Executor;
  /** How often runs renew their lock lease; defaults to a third of `AFK_LOCK_LEASE_SECONDS`. */
  renewEveryMs?: number;
  /** Receives the coordinator once the app is loaded (tests and benchmarks wait on it). */
  onLoad?: (coordinator: Coordinator) => void;
}

/** Builds the afk Probot app. Invalid operator settings throw here, so the App fails at start-up. */
export function createAfkApp(options: AfkOptions = {}): ApplicationFunction {
  return (app: Probot) => {
    const settings = readOperatorSettings(options.env ?? process.env);
    const coordinator = new Coordinator({
      settings,
      executor: options.executor ?? noExecutor,
      log: app.log,
      octokitFor: (installationId) => app.auth(installationId),
      botLogin: cachedBotLogin(app),
      ...(options.renewEveryMs === undefined ? {} : { renewEveryMs: options.renewEveryMs }),
    });
    if (settings.allowlist.length === 0) app.log.warn("AFK_ALLOWLIST is empty: afk will act on no repository until it lists some (owner/repo globs)");
    if (settings.killSwitch) app.log.warn("AFK_KILL_SWITCH is on: afk starts no new work");
    registerRouter(app, coordinator);
    options.onLoad?.(coordinator);
  };
}

function cachedBotLogin(app: Probot): () => Promise<string> {
  let login: Promise<string> | undefined;
  return () => {
    login ??= app
      .auth()
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

export default createAfkApp();
