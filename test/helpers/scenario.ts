import type { AfkInstance, AfkStartOptions } from "./afk-harness.js";
import type { GitHubEmulator, Role } from "./emulator/index.js";
import type { HeldExecutor } from "./held-executor.js";
import { runStateOf } from "./run-state-of.js";
import { waitFor } from "./wait-for.js";
import type { ScriptedTurn } from "./model-server.js";
import { buildWorld, type World, type WorldOptions } from "./world/build-world.js";
import { closeWorldsAfterEach } from "./world/use-world.js";
import type { WorldRepo } from "./world/world-repo.js";

export const OWNER = "octo-org";
export const REPO = "app";
export const FULL_NAME = `${OWNER}/${REPO}`;
export const INSTALLATION_ID = 4242;

/** People with each role on the repository, by login. */
export const PEOPLE: Record<string, Role> = {
  "ada-admin": "admin",
  "max-maintain": "maintain",
  "wes-write": "write",
  "tia-triage": "triage",
  "rex-read": "read",
};

/** Users with no role on the repository: someone from outside, and a bot. */
const STRANGERS = ["outsider", "renovate[bot]"];

export interface Scenario {
  world: World;
  github: GitHubEmulator;
  afk: AfkInstance;
  /** Adds an issue and returns its number. */
  issue(input?: { title?: string; body?: string; labels?: string[] }): number;
  /** Delivers `issues.labeled` for `label` added by `sender`, and waits for afk to settle. */
  label(issue: number, sender: string, options?: { label?: string; deliveryId?: string; wait?: boolean }): Promise<void>;
  /** Delivers `issue_comment.created` with `body` by `sender`, and waits for afk to settle. */
  comment(issue: number, sender: string, body: string, options?: { wait?: boolean }): Promise<void>;
  /** Bodies of the comments afk's bot wrote on the issue. */
  afkComments(issue: number): string[];
  /** Starts another afk instance (a replica) on the same GitHub; the scenario it returns delivers to it. Stopped with the world. */
  replica(options?: AfkStartOptions): Promise<Scenario>;
  /** Closes the world: every afk instance, then GitHub. */
  close(): Promise<void>;
}

export interface ScenarioOptions extends AfkStartOptions {
  /** `.github/afk.yml`; `null` for none. When not given: `test: node --test` with git, `test: npm test` without. */
  config?: string | null;
  /** A real git repository behind `octo-org/app`: `true` for the fixture project, or its files. */
  git?: boolean | Record<string, string>;
  /** A scripted model server the App is pointed at. */
  model?: ScriptedTurn[];
}

/** A scenario's world: `octo-org/app` in installation 4242 with PEOPLE in their roles, and STRANGERS. */
export function scenarioWorld(options: ScenarioOptions = {}): WorldOptions {
  return {
    repos: [
      {
        owner: OWNER,
        name: REPO,
        installationId: INSTALLATION_ID,
        roles: PEOPLE,
        ...(options.config === undefined ? {} : { config: options.config }),
        ...(options.git === undefined ? {} : { git: options.git }),
      },
    ],
    users: STRANGERS,
    ...(options.model === undefined ? {} : { model: options.model }),
  };
}

/** Builds a scenario's world (see `scenarioWorld`) and starts afk in it. */
export async function startScenario(options: ScenarioOptions = {}): Promise<Scenario> {
  const { config, git, model, ...afkOptions } = options;
  const world = await buildWorld(scenarioWorld(options));
  try {
    return scenarioOn(world, await world.startAfk(afkOptions));
  } catch (error) {
    await world.close();
    throw error;
  }
}

/** A scenario on `octo-org/app` of `world`, delivering to `afk`. */
export function scenarioOn(world: World, afk: AfkInstance): Scenario {
  const repo: WorldRepo = world.repo(FULL_NAME);
  return {
    world,
    github: world.github,
    afk,
    issue: (input = {}) => repo.issue(input),
    async label(issue, sender, options = {}) {
      const payload = repo.labelPayload(issue, sender, options.label === undefined ? {} : { label: options.label });
      await afk.deliver("issues", payload, options.deliveryId);
      if (options.wait !== false) await afk.idle();
    },
    async comment(issue, sender, body, options = {}) {
      await afk.deliver("issue_comment", repo.commentPayload(issue, sender, body));
      if (options.wait !== false) await afk.idle();
    },
    afkComments: (issue) => repo.afkComments(issue),
    replica: async (options = {}) => scenarioOn(world, await world.startAfk(options)),
    close: () => world.close(),
  };
}

/**
 * Returns a `start` function for a test file's scenarios; after each test the scenario's world is
 * closed and the test fails if afk sent any request GitHub's description does not allow.
 */
export function useScenario(): (options?: ScenarioOptions) => Promise<Scenario> {
  const keep = closeWorldsAfterEach();
  return async (options) => {
    const scenario = await startScenario(options);
    keep(scenario.world);
    return scenario;
  };
}

/** Labels `first` and waits until its run holds the lock, then labels `second` and waits until it is queued. */
export async function oneRunningOneQueued(scenario: Scenario, executor: HeldExecutor): Promise<{ first: number; second: number }> {
  const first = scenario.issue();
  const second = scenario.issue();
  await scenario.label(first, "wes-write", { wait: false });
  await executor.waitForStarts(1);
  await scenario.label(second, "wes-write", { wait: false });
  await waitFor(() => runStateOf(scenario, second)?.status === "queued", `#${second} queued`);
  return { first, second };
}
