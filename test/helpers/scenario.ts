import { afterEach } from "vitest";
import type { Executor } from "../../src/run-contract/executor.js";
import { startAfk, type AfkInstance } from "./afk-harness.js";
import { GitHubEmulator, type Role } from "./github-emulator.js";
import type { HeldExecutor } from "./held-executor.js";
import { runStateOf } from "./run-state-of.js";
import { waitFor } from "./wait-for.js";
import { issueCommentCreatedPayload, issuesLabeledPayload } from "./webhook-payloads.js";

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

export interface Scenario {
  github: GitHubEmulator;
  afk: AfkInstance;
  /** Adds an issue and returns its number. */
  issue(input?: { title?: string; body?: string; labels?: string[] }): number;
  /** Delivers `issues.labeled` for `label` added by `sender`, and waits for afk to settle. */
  label(issue: number, sender: string, options?: { label?: string; senderType?: "User" | "Bot"; deliveryId?: string; wait?: boolean }): Promise<void>;
  /** Delivers `issue_comment.created` with `body` by `sender`, and waits for afk to settle. */
  comment(issue: number, sender: string, body: string, options?: { senderType?: "User" | "Bot"; wait?: boolean }): Promise<void>;
  /** Bodies of the comments afk's bot wrote on the issue. */
  afkComments(issue: number): string[];
  close(): Promise<void>;
}

export async function startScenario(
  options: {
    config?: string | null;
    env?: Record<string, string>;
    executor?: Executor;
    github?: GitHubEmulator;
    octokitRetries?: boolean;
    now?: () => Date;
  } = {},
): Promise<Scenario> {
  const github = options.github ?? (await GitHubEmulator.start());
  // The emulator checks its own answers against the description too, so afk is tested against GitHub-shaped responses.
  github.checkResponses = true;
  const config = options.config === undefined ? "test: npm test\n" : options.config;
  github.addRepo({ owner: OWNER, name: REPO, installationId: INSTALLATION_ID, files: config === null ? {} : { ".github/afk.yml": config } });
  for (const [login, role] of Object.entries(PEOPLE)) {
    github.addUser(login);
    github.setPermission(FULL_NAME, login, role);
  }
  github.addUser("outsider");
  github.addUser("renovate[bot]", "Bot");
  const afk = await startAfk(github, {
    ...(options.env === undefined ? {} : { env: options.env }),
    ...(options.executor === undefined ? {} : { executor: options.executor }),
    ...(options.octokitRetries === undefined ? {} : { octokitRetries: options.octokitRetries }),
    ...(options.now === undefined ? {} : { now: options.now }),
  });
  return scenarioFor(github, afk);
}

export function scenarioFor(github: GitHubEmulator, afk: AfkInstance): Scenario {
  return {
    github,
    afk,
    issue(input = {}) {
      return github.addIssue(FULL_NAME, {
        title: input.title ?? "Add a greeting",
        body: input.body ?? "Please add a greeting.",
        labels: input.labels ?? [],
        user: "ada-admin",
      }).number;
    },
    async label(issue, sender, options = {}) {
      const label = options.label ?? "ready-for-agent";
      const existing = github.issue(FULL_NAME, issue);
      const payload = issuesLabeledPayload({
        owner: OWNER,
        repo: REPO,
        installationId: INSTALLATION_ID,
        issue: {
          number: issue,
          title: existing.title,
          body: existing.body ?? "",
          labels: [...github.labels(FULL_NAME, issue), label],
          state: existing.state === "closed" ? "closed" : "open",
        },
        label,
        sender: { login: sender, type: options.senderType ?? (sender.endsWith("[bot]") ? "Bot" : "User") },
      });
      // GitHub adds the label before it sends the event.
      github.seedLabels(FULL_NAME, issue, [label]);
      await afk.deliver("issues", payload, options.deliveryId);
      if (options.wait !== false) await afk.idle();
    },
    async comment(issue, sender, body, options = {}) {
      const existing = github.issue(FULL_NAME, issue);
      const created = github.addComment(FULL_NAME, issue, { body, user: sender });
      const payload = issueCommentCreatedPayload({
        owner: OWNER,
        repo: REPO,
        installationId: INSTALLATION_ID,
        issue: {
          number: issue,
          title: existing.title,
          body: existing.body ?? "",
          labels: github.labels(FULL_NAME, issue),
          state: existing.state === "closed" ? "closed" : "open",
        },
        comment: { body, id: created.id },
        sender: { login: sender, type: options.senderType ?? (sender.endsWith("[bot]") ? "Bot" : "User") },
      });
      await afk.deliver("issue_comment", payload);
      if (options.wait !== false) await afk.idle();
    },
    afkComments(issue) {
      return github
        .comments(FULL_NAME, issue)
        .filter((comment) => comment.user.login === github.botLogin)
        .map((comment) => comment.body ?? "");
    },
    async close() {
      afk.coordinator.shutdown("the test ended");
      await afk.idle();
      await github.close();
    },
  };
}

type ScenarioOptions = Parameters<typeof startScenario>[0];

/**
 * Returns a `start` function for a test file's scenarios; after each test the scenario is shut
 * down and the test fails if afk sent any request GitHub's description does not allow.
 */
export function useScenario(): (options?: ScenarioOptions) => Promise<Scenario> {
  let current: Scenario | undefined;
  afterEach(async () => {
    const scenario = current;
    current = undefined;
    if (scenario === undefined) return;
    await scenario.close();
    scenario.github.assertNoViolations();
  });
  return async (options) => {
    current = await startScenario(options);
    return current;
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
