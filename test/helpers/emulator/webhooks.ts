import { validateWebhook } from "../openapi-validator.js";
import { branchesAt } from "./git-store.js";
import { checkRunWebhookJson, checkSuiteJson, statusCommitJson } from "./shapes-checks.js";
import { commentJson, installationLiteJson, issueJson, labelJson, organizationJson, pullJson, repoJson, reviewWebhookJson, userJson } from "./shapes.js";
import type { EmulatorStore, RepoState, UserState } from "./store.js";
import type { JsonObject } from "./util.js";

/**
 * Webhook payloads built from the emulator's own state, the way GitHub builds them from its own:
 * `issues.labeled` about issue 7 carries issue 7 as the REST API would answer it then (labels,
 * state, author), shaped by shapes.ts. Each payload is checked against GitHub's webhook schema
 * for its event and action before it leaves; a payload that does not match is an emulator bug.
 */

/** One delivery, as Probot's `receive` and GitHub's hook service carry it. */
export interface WebhookDelivery {
  /** The event (`x-github-event`). */
  name: string;
  /** The delivery id (`x-github-delivery`). */
  id: string;
  payload: JsonObject;
}

/** Where `deliver` sends each delivery (Probot's `receive`, or an App's webhook endpoint). */
export type WebhookReceiver = (delivery: WebhookDelivery) => Promise<unknown>;

/** What Probot's `webhooks` (from `@octokit/webhooks`) offers to take a delivery the way its HTTP server does. */
export interface SigningWebhooks {
  sign(payload: string): Promise<string>;
  verifyAndReceive(event: { id: string; name: string; payload: string; signature: string }): Promise<void>;
}

/** A receiver for a Probot app: each delivery signed with the app's secret and verified and received, as Probot's server does. */
export function probotReceiver(webhooks: SigningWebhooks): WebhookReceiver {
  return async (delivery) => {
    const payload = JSON.stringify(delivery.payload);
    await webhooks.verifyAndReceive({ id: delivery.id, name: delivery.name, payload, signature: await webhooks.sign(payload) });
  };
}

/** Who caused the event: a login (a `[bot]` login the emulator has not seen is added as a Bot). */
type Sender = { sender: string };
type IssueEvent = { repo: string; issue: number } & Sender;
type PullEvent = { repo: string; pull: number } & Sender;
type CheckRunEvent = { repo: string; checkRun: number } & Sender;

/** What each event and action is built from: names of things in the emulator (repository `owner/name`, numbers, ids). */
export interface DeliveryInputs {
  issues: {
    opened: IssueEvent;
    reopened: IssueEvent;
    closed: IssueEvent;
    /** `label` was just added: it is among the issue's labels (seed it first, as GitHub adds it before it sends the event). */
    labeled: IssueEvent & { label: string };
    /** `label` was just removed: it is no longer among the issue's labels. */
    unlabeled: IssueEvent & { label: string };
  };
  issue_comment: {
    /** The comment (by id) on its issue; the sender defaults to its author. */
    created: { repo: string; comment: number; sender?: string };
  };
  pull_request: {
    opened: PullEvent;
    closed: PullEvent;
    /** The head moved from `before` to the pull request's current head. */
    synchronize: PullEvent & { before: string };
  };
  pull_request_review: {
    /** The review (by id); the sender defaults to the reviewer. */
    submitted: { repo: string; pull: number; review: number; sender?: string };
  };
  check_run: {
    completed: CheckRunEvent;
    rerequested: CheckRunEvent;
    /** A button of the run was pressed (`identifier`). */
    requested_action: CheckRunEvent & { identifier: string };
  };
  check_suite: {
    /** The suite of App `app` (a slug) on `headSha`, rolled up from its runs. */
    completed: { repo: string; headSha: string; app: string } & Sender;
  };
}

/** `status` has no action: the newest status of `context` on `sha`. */
export interface StatusDeliveryInput {
  repo: string;
  sha: string;
  context: string;
  sender?: string;
}

export type DeliveryEvent = keyof DeliveryInputs;
export type DeliveryAction<E extends DeliveryEvent> = keyof DeliveryInputs[E] & string;

function senderOf(store: EmulatorStore, login: string): UserState {
  return store.users.get(login.toLowerCase()) ?? store.addUser(login, login.endsWith("[bot]") ? "Bot" : "User");
}

/** What every payload about a repository carries: the repository, its organisation, the sender and the installation. */
function envelope(store: EmulatorStore, repo: RepoState, sender: UserState): JsonObject {
  return {
    repository: repoJson(store, repo, "repository"),
    ...(repo.owner.type === "Organization" ? { organization: organizationJson(store, repo.owner) } : {}),
    sender: userJson(store, sender),
    installation: installationLiteJson(repo.installationId),
  };
}

function built(event: string, action: string | undefined, payload: JsonObject): JsonObject {
  const checked = validateWebhook(event, action, payload);
  if (!checked.ok) throw new Error(`GitHub emulator: ${checked.error}`);
  return payload;
}

/** Builds (and checks) the payload of `event.action` from the emulator's state. */
export function webhookPayload<E extends DeliveryEvent, A extends DeliveryAction<E>>(
  store: EmulatorStore,
  event: E,
  action: A,
  input: DeliveryInputs[E][A],
): JsonObject;
export function webhookPayload(store: EmulatorStore, event: "status", action: null, input: StatusDeliveryInput): JsonObject;
export function webhookPayload(store: EmulatorStore, event: string, action: string | null, input: unknown): JsonObject {
  return buildWebhook(store, event, action, input);
}

/** `webhookPayload` for callers holding the event, action and input untyped (the input is checked as it is read). */
export function buildWebhook(store: EmulatorStore, event: string, action: string | null, input: unknown): JsonObject {
  const payload = assemble(store, event, action, input);
  return built(event, action ?? undefined, action === null ? payload : { action, ...payload });
}

function assemble(store: EmulatorStore, event: string, action: string | null, input: unknown): JsonObject {
  const key = `${event}.${action ?? ""}`;
  if (!isInput(input)) throw new Error(`deliver ${key}: the input names no repository`);
  const repo = store.repo(input.repo);
  const number = (name: string): number => {
    const value = input[name];
    if (typeof value !== "number") throw new Error(`deliver ${key}: ${name} must be a number`);
    return value;
  };
  const text = (name: string): string => {
    const value = input[name];
    if (typeof value !== "string") throw new Error(`deliver ${key}: ${name} must be a string`);
    return value;
  };
  const sender = (fallback?: string): UserState => senderOf(store, typeof input.sender === "string" ? input.sender : (fallback ?? repo.owner.login));
  switch (event) {
    case "issues": {
      const issue = store.issue(repo, number("issue"));
      const label = action === "labeled" || action === "unlabeled" ? { label: labelJson(store, repo, text("label")) } : {};
      return { issue: issueJson(store, repo, issue), ...label, ...envelope(store, repo, sender()) };
    }
    case "issue_comment": {
      const comment = store.comments.get(number("comment"));
      const issue = comment === undefined ? undefined : repo.issues.get(comment.issueNumber);
      if (comment === undefined || issue === undefined) throw new Error(`deliver ${key}: no comment ${String(input.comment)} in ${repo.fullName}`);
      return { issue: issueJson(store, repo, issue), comment: commentJson(store, repo, comment), ...envelope(store, repo, sender(comment.user)) };
    }
    case "pull_request": {
      const pull = store.pull(repo, number("pull"));
      const push = action === "synchronize" ? { before: text("before"), after: store.pullHeadSha(repo, pull) } : {};
      return { number: pull.number, ...push, pull_request: pullJson(store, repo, pull, "full"), ...envelope(store, repo, sender()) };
    }
    case "pull_request_review": {
      const pull = store.pull(repo, number("pull"));
      const review = repo.reviews.get(number("review"));
      if (review === undefined || review.pullNumber !== pull.number) throw new Error(`deliver ${key}: no review ${String(input.review)} on #${pull.number}`);
      const reviewJson = reviewWebhookJson(store, repo, review);
      return { review: reviewJson, pull_request: pullJson(store, repo, pull, "full"), ...envelope(store, repo, sender(review.user.login)) };
    }
    case "check_run": {
      const run = repo.checkRuns.get(number("checkRun"));
      if (run === undefined) throw new Error(`deliver ${key}: no check run ${String(input.checkRun)} in ${repo.fullName}`);
      const requested = action === "requested_action" ? { requested_action: { identifier: text("identifier") } } : {};
      return { check_run: checkRunWebhookJson(store, repo, run), ...requested, ...envelope(store, repo, sender()) };
    }
    case "check_suite": {
      const app = store.foreignApps.get(text("app").toLowerCase()) ?? (text("app").toLowerCase() === store.appSlug.toLowerCase() ? store.ownApp() : undefined);
      const suite = app === undefined ? undefined : repo.checkSuites.get(`${app.id}:${text("headSha")}`);
      if (suite === undefined) throw new Error(`deliver ${key}: no check suite of ${text("app")} on ${text("headSha")} in ${repo.fullName}`);
      return { check_suite: checkSuiteJson(store, repo, suite), ...envelope(store, repo, sender()) };
    }
    case "status": {
      const sha = text("sha");
      const status = repo.statuses.filter((candidate) => candidate.sha === sha && candidate.context === text("context")).at(-1);
      if (status === undefined) throw new Error(`deliver ${key}: no status ${text("context")} on ${sha} in ${repo.fullName}`);
      const api = `${store.hosts.api}/repos/${repo.fullName}`;
      return {
        id: status.id,
        sha,
        name: repo.fullName,
        target_url: status.targetUrl,
        avatar_url: userJson(store, status.creator).avatar_url,
        context: status.context,
        description: status.description,
        state: status.state,
        commit: statusCommitJson(store, repo, sha),
        branches: branchesAt(repo, sha).map((name) => ({ name, commit: { sha, url: `${api}/commits/${sha}` }, protected: false })),
        created_at: status.createdAt,
        updated_at: status.createdAt,
        ...envelope(store, repo, sender(status.creator.login)),
      };
    }
    default:
      throw new Error(`deliver: the emulator builds no ${key} payload`);
  }
}

function isInput(value: unknown): value is { repo: string } & Record<string, unknown> {
  return typeof value === "object" && value !== null && "repo" in value && typeof value.repo === "string";
}
