import { createHash } from "node:crypto";
import { createRequire } from "node:module";
import { GITHUB_COM } from "./github-user-json.js";
import { addForeignCheckRun, setCommitStatus } from "./emulator/checks.js";
import { EMPTY_TREE, seederIdentity } from "./emulator/git-store.js";
import { mergePull, openPull } from "./emulator/pulls.js";
import { labelJson, userJson } from "./emulator/shapes.js";
import { EmulatorStore, type RepoState } from "./emulator/store.js";
import { webhookPayload } from "./emulator/webhooks.js";

/**
 * Webhook payloads for tests that describe a situation rather than hold it in an emulator: each
 * builder seeds a scratch emulator store (on github.com's hosts) with exactly what its input says,
 * then has the emulator build the payload (emulator/webhooks.ts, shaped by emulator/shapes.ts and
 * checked against GitHub's webhook schema), so these payloads and the emulator's own can never
 * disagree. A test that holds the situation in an emulator calls `emulator.deliver(...)` instead.
 */

export type JsonObject = Record<string, unknown>;

export interface PayloadUser extends JsonObject {
  login: string;
  id: number;
  node_id: string;
  type: string;
}

export interface PayloadLabel extends JsonObject {
  id: number;
  name: string;
  color: string;
}

export interface PayloadIssue extends JsonObject {
  id: number;
  number: number;
  title: string;
  body: string | null;
  state: string;
  labels: PayloadLabel[];
  user: PayloadUser;
}

export interface PayloadComment extends JsonObject {
  id: number;
  body: string;
  user: PayloadUser;
  html_url: string;
}

export interface PayloadRepository extends JsonObject {
  id: number;
  name: string;
  full_name: string;
  private: boolean;
  owner: PayloadUser;
}

export interface PayloadInstallation extends JsonObject {
  id: number;
  node_id: string;
}

export interface IssuesLabeledPayload extends JsonObject {
  action: "labeled";
  issue: PayloadIssue;
  label: PayloadLabel;
  repository: PayloadRepository;
  sender: PayloadUser;
  installation: PayloadInstallation;
}

export interface IssuesUnlabeledPayload extends JsonObject {
  action: "unlabeled";
  issue: PayloadIssue;
  label: PayloadLabel;
  repository: PayloadRepository;
  sender: PayloadUser;
  installation: PayloadInstallation;
}

export interface IssuesClosedPayload extends JsonObject {
  action: "closed";
  issue: PayloadIssue;
  repository: PayloadRepository;
  sender: PayloadUser;
  installation: PayloadInstallation;
}

export interface IssueCommentCreatedPayload extends JsonObject {
  action: "created";
  issue: PayloadIssue;
  comment: PayloadComment;
  repository: PayloadRepository;
  sender: PayloadUser;
  installation: PayloadInstallation;
}

export interface SenderInput {
  login: string;
  type?: "User" | "Bot";
  id?: number;
}

export interface IssueTarget {
  number: number;
  title?: string;
  body?: string | null;
  labels?: string[];
  state?: "open" | "closed";
  /** The issue's author; defaults to the sender. */
  user?: string;
  /** The "issue" is a pull request (comments on pull requests arrive as issue_comment events). */
  isPullRequest?: boolean;
}

export interface RepositoryTarget {
  owner: string;
  repo: string;
  installationId: number;
  private?: boolean;
  ownerType?: "User" | "Organization";
  /** The repository's default branch (`main` when not given, as the emulator's repositories have). */
  defaultBranch?: string;
}

export interface IssuesLabeledInput extends RepositoryTarget {
  issue: IssueTarget;
  label: string;
  sender: SenderInput;
}

export interface IssueCommentCreatedInput extends RepositoryTarget {
  issue: IssueTarget;
  comment: { body: string; id?: number };
  sender: SenderInput;
}

export interface PullRequestClosedInput extends RepositoryTarget {
  pull: { number: number; head: string; headSha: string; base?: string; merged: boolean; author: { login: string; type: "User" | "Bot" }; fromFork?: boolean };
  sender: SenderInput;
}

export interface CheckRunInput extends RepositoryTarget {
  checkRun: { id: number; headSha: string; headBranch: string; appSlug: string };
  sender: SenderInput;
}

// ---------------------------------------------------------------------------
// After the pull request: checks, statuses, reviews, pushes

export type CheckConclusion = "success" | "failure" | "neutral" | "cancelled" | "skipped" | "timed_out" | "action_required" | "stale" | "startup_failure";

/** An App as a check run or suite names it; `github-actions` gets GitHub Actions' name and owner. */
export interface PayloadAppInput {
  slug: string;
  id: number;
}

/** A pull request as `pull_requests` of a check run or suite lists it. */
export interface MinimalPullInput {
  number: number;
  headRef: string;
  headSha: string;
  baseRef: string;
  /** The base branch's head; a stable made-up sha when not given. */
  baseSha?: string;
}

/** A pull request as `pull_request` events and reviews carry it. */
export interface PullTargetInput extends MinimalPullInput {
  /** The author's login (`…[bot]` makes a Bot). */
  user: string;
  draft: boolean;
  title?: string;
  body?: string | null;
}

export interface PayloadCheckSuite extends JsonObject {
  id: number;
  head_branch: string | null;
  head_sha: string;
  status: string;
  conclusion: string | null;
  app: JsonObject & { id: number; slug: string };
  pull_requests: JsonObject[];
}

export interface PayloadCheckRun extends JsonObject {
  id: number;
  name: string;
  head_sha: string;
  status: string;
  conclusion: string | null;
  app: JsonObject & { id: number; slug: string };
  check_suite: JsonObject & { head_branch: string | null; head_sha: string };
  pull_requests: JsonObject[];
}

export interface PayloadPullRequest extends JsonObject {
  number: number;
  node_id: string;
  state: string;
  draft: boolean;
  user: PayloadUser;
  head: JsonObject & { ref: string; sha: string };
  base: JsonObject & { ref: string; sha: string };
}

export interface PayloadReview extends JsonObject {
  id: number;
  state: "approved" | "changes_requested" | "commented";
  body: string | null;
  user: PayloadUser;
  commit_id: string;
}

export interface CheckSuiteCompletedPayload extends JsonObject {
  action: "completed";
  check_suite: PayloadCheckSuite;
  repository: PayloadRepository;
  sender: PayloadUser;
  installation: PayloadInstallation;
}

export interface CheckRunCompletedPayload extends JsonObject {
  action: "completed";
  check_run: PayloadCheckRun;
  repository: PayloadRepository;
  sender: PayloadUser;
  installation: PayloadInstallation;
}

export interface StatusPayload extends JsonObject {
  id: number;
  sha: string;
  name: string;
  state: "pending" | "success" | "failure" | "error";
  context: string;
  description: string | null;
  target_url: string | null;
  branches: Array<{ name: string; commit: { sha: string; url: string }; protected: boolean }>;
  repository: PayloadRepository;
  sender: PayloadUser;
  installation: PayloadInstallation;
}

export interface PullRequestReviewSubmittedPayload extends JsonObject {
  action: "submitted";
  review: PayloadReview;
  pull_request: PayloadPullRequest;
  repository: PayloadRepository;
  sender: PayloadUser;
  installation: PayloadInstallation;
}

export interface PullRequestSynchronizePayload extends JsonObject {
  action: "synchronize";
  number: number;
  before: string;
  after: string;
  pull_request: PayloadPullRequest;
  repository: PayloadRepository;
  sender: PayloadUser;
  installation: PayloadInstallation;
}

export interface CheckSuiteCompletedInput extends RepositoryTarget {
  headSha: string;
  headBranch: string | null;
  conclusion: CheckConclusion;
  app: PayloadAppInput;
  pullRequests: MinimalPullInput[];
  sender: SenderInput;
  /** The head commit's message (the example's when not given). */
  headCommitMessage?: string;
}

export interface CheckRunCompletedInput extends RepositoryTarget {
  checkRun: { id: number; name: string; headSha: string; conclusion: CheckConclusion; app: PayloadAppInput; detailsUrl?: string };
  headBranch: string | null;
  pullRequests: MinimalPullInput[];
  sender: SenderInput;
}

export interface StatusInput extends RepositoryTarget {
  sha: string;
  state: "pending" | "success" | "failure" | "error";
  context: string;
  /** Branches whose head is `sha` (GitHub lists the branches containing the commit). */
  branches: string[];
  description?: string | null;
  targetUrl?: string | null;
  sender: SenderInput;
}

export interface PullRequestReviewSubmittedInput extends RepositoryTarget {
  pull: PullTargetInput;
  review: { id: number; state: "approved" | "changes_requested" | "commented"; body: string | null; user: string; authorAssociation?: string };
  sender: SenderInput;
}

export interface PullRequestSynchronizeInput extends RepositoryTarget {
  pull: PullTargetInput;
  /** The head before the push; `after` is the new head (and the pull request's `head.sha`). */
  before: string;
  after: string;
  sender: SenderInput;
}

// ---------------------------------------------------------------------------
// The examples

interface WebhookDefinition {
  name: string;
  examples: JsonObject[];
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

let definitions: WebhookDefinition[] | undefined;

function webhookDefinitions(): WebhookDefinition[] {
  if (definitions === undefined) {
    const require = createRequire(import.meta.url);
    const raw: unknown = require("@octokit/webhooks-examples");
    if (!Array.isArray(raw)) throw new Error("@octokit/webhooks-examples did not export an array");
    definitions = raw.flatMap((entry: unknown) => {
      if (!isObject(entry) || typeof entry.name !== "string" || !Array.isArray(entry.examples)) return [];
      return [{ name: entry.name, examples: entry.examples.filter(isObject) }];
    });
  }
  return definitions;
}

/** A deep copy of the first real example of `event` with `action` (or the first example when no action is given). */
export function examplePayload(event: string, action?: string): JsonObject {
  const definition = webhookDefinitions().find((candidate) => candidate.name === event);
  if (definition === undefined) throw new Error(`@octokit/webhooks-examples has no event "${event}"`);
  const example = definition.examples.find((candidate) => action === undefined || candidate.action === action);
  if (example === undefined) throw new Error(`@octokit/webhooks-examples has no "${event}" example with action "${action ?? ""}"`);
  return structuredClone(example);
}

// ---------------------------------------------------------------------------
// The scratch world a builder describes

/** A stable, plausible numeric id for a name, so the same login gets the same id in every payload. */
export function stableId(name: string): number {
  return (Number.parseInt(createHash("sha1").update(name).digest("hex").slice(0, 8), 16) % 90_000_000) + 10_000_000;
}

/** A stable, sha-shaped stand-in for a commit a test does not care about. */
function madeUpSha(seed: string): string {
  return createHash("sha1").update(seed).digest("hex");
}

function loginType(login: string): "User" | "Bot" {
  return login.endsWith("[bot]") ? "Bot" : "User";
}

interface Scratch {
  store: EmulatorStore;
  repo: RepoState;
  /** The sender's login, as the store knows them. */
  sender: string;
}

/** A store on github.com's hosts holding the target repository (its owner an organisation unless told) and the sender. */
function scratch(target: RepositoryTarget, sender: SenderInput): Scratch {
  const store = new EmulatorStore({ appId: 1, appSlug: "afk", hosts: { ...GITHUB_COM, host: "github.com" } });
  const fullName = `${target.owner}/${target.repo}`;
  const ownerType = target.ownerType ?? "Organization";
  store.addUser(target.owner, ownerType, stableId(`user:${target.owner}`));
  const repo = store.addRepo({
    owner: target.owner,
    name: target.repo,
    ownerType,
    id: stableId(`repo:${fullName}`),
    installationId: target.installationId,
    private: target.private ?? false,
    defaultBranch: target.defaultBranch ?? "main",
  });
  return { store, repo, sender: person(store, sender.login, sender.type ?? "User", sender.id).login };
}

function person(store: EmulatorStore, login: string, type: "User" | "Bot" = loginType(login), id = stableId(`user:${login}`)): { login: string } {
  return store.addUser(login, type, id);
}

/** Opens the issue the input describes (its labels with `extraLabels`, authored by the sender unless told). */
function seedIssue(world: Scratch, input: IssueTarget, extraLabels: string[]): number {
  const labels = [...(input.labels ?? [])];
  for (const name of extraLabels) if (!labels.some((existing) => existing.toLowerCase() === name.toLowerCase())) labels.push(name);
  const user = input.user === undefined ? world.sender : person(world.store, input.user).login;
  const body = input.body === undefined ? "" : input.body;
  const issue = world.store.createIssue(world.repo, {
    title: input.title ?? `Issue ${input.number}`,
    body,
    labels,
    user,
    viaApp: false,
    number: input.number,
    id: stableId(`issue:${world.repo.fullName}#${input.number}`),
  });
  if (input.isPullRequest === true) issue.pullRequest = true;
  if (input.state === "closed") world.store.changeState(issue, "closed", "completed", world.sender);
  return issue.number;
}

/** Opens the pull request the input describes, its head branch at `headSha` (and its base at `baseSha`). */
function seedPull(world: Scratch, pull: PullTargetInput, headSha: string): number {
  const baseSha = pull.baseSha ?? madeUpSha(`base:${world.repo.fullName}:${pull.baseRef}`);
  world.repo.refs.set(`refs/heads/${pull.headRef}`, headSha);
  world.repo.refs.set(`refs/heads/${pull.baseRef}`, baseSha);
  const user = person(world.store, pull.user).login;
  const title = pull.title ?? `Pull request ${pull.number}`;
  const body = pull.body ?? "";
  return openPull(world.store, world.repo, {
    number: pull.number,
    title,
    body,
    head: pull.headRef,
    headSha,
    base: pull.baseRef,
    baseSha,
    draft: pull.draft,
    user,
  }).number;
}

/** The open pull requests a check run or suite lists, and the branch its commit is the head of. */
function seedCommit(world: Scratch, sha: string, headBranch: string | null, pulls: MinimalPullInput[], message?: string): void {
  for (const pull of pulls) seedPull(world, { ...pull, user: world.store.bot.login, draft: false }, pull.headSha);
  if (headBranch !== null) world.repo.refs.set(`refs/heads/${headBranch}`, sha);
  // A commit the emulator knows by its id only (pushed elsewhere), for the message its payloads carry.
  if (message !== undefined)
    world.repo.objects.set(sha, { type: "commit", tree: EMPTY_TREE, parents: [], message, author: seederIdentity(), committer: seederIdentity() });
}

/** The payload as the emulator built and checked it, with the keys its declared type promises. */
function conforms<T extends JsonObject>(payload: JsonObject, ...keys: Array<keyof T & string>): payload is T {
  return keys.every((key) => key in payload);
}

function typed<T extends JsonObject>(payload: JsonObject, ...keys: Array<keyof T & string>): T {
  if (!conforms<T>(payload, ...keys)) throw new Error(`the emulator built a payload without ${keys.filter((key) => !(key in payload)).join(", ")}`);
  return payload;
}

const ISSUE_KEYS = ["action", "issue", "repository", "sender", "installation"] as const;

// ---------------------------------------------------------------------------
// Builders

/** A user as payloads carry it (`simple-user`). */
export function payloadUser(login: string, type: "User" | "Bot" | "Organization" = "User", id = stableId(`user:${login}`)): PayloadUser {
  const store = new EmulatorStore({ appId: 1, appSlug: "afk", hosts: { ...GITHUB_COM, host: "github.com" } });
  return userJson(store, store.addUser(login, type, id));
}

/** A repository label as payloads carry it. */
export function payloadLabel(owner: string, repo: string, name: string): PayloadLabel {
  const world = scratch({ owner, repo, installationId: 1 }, { login: owner });
  world.store.ensureLabels(world.repo, [name]);
  return { ...labelJson(world.store, world.repo, name) };
}

/** `issues.labeled`: `label` was just added to the issue (so it is also among `issue.labels`, as on GitHub). */
export function issuesLabeledPayload(input: IssuesLabeledInput): IssuesLabeledPayload {
  const world = scratch(input, input.sender);
  const issue = seedIssue(world, input.issue, [input.label]);
  const payload = webhookPayload(world.store, "issues", "labeled", { repo: world.repo.fullName, issue, label: input.label, sender: world.sender });
  return typed<IssuesLabeledPayload>(payload, ...ISSUE_KEYS, "label");
}

/** `issues.unlabeled`: `label` was just removed (so it is no longer among `issue.labels`). */
export function issuesUnlabeledPayload(input: IssuesLabeledInput): IssuesUnlabeledPayload {
  const world = scratch(input, input.sender);
  world.store.ensureLabels(world.repo, [input.label]);
  const issue = seedIssue(world, { ...input.issue, labels: (input.issue.labels ?? []).filter((name) => name !== input.label) }, []);
  const payload = webhookPayload(world.store, "issues", "unlabeled", { repo: world.repo.fullName, issue, label: input.label, sender: world.sender });
  return typed<IssuesUnlabeledPayload>(payload, ...ISSUE_KEYS, "label");
}

/** `issues.closed`: the sender closed the issue. */
export function issuesClosedPayload(input: Omit<IssuesLabeledInput, "label">): IssuesClosedPayload {
  const world = scratch(input, input.sender);
  const issue = seedIssue(world, { ...input.issue, state: "closed" }, []);
  return typed<IssuesClosedPayload>(webhookPayload(world.store, "issues", "closed", { repo: world.repo.fullName, issue, sender: world.sender }), ...ISSUE_KEYS);
}

/** `issue_comment.created`: the sender just commented `comment.body` on the issue. */
export function issueCommentCreatedPayload(input: IssueCommentCreatedInput): IssueCommentCreatedPayload {
  const world = scratch(input, input.sender);
  const issue = world.store.issue(world.repo, seedIssue(world, input.issue, []));
  const id = input.comment.id ?? stableId(`comment:${world.repo.fullName}#${input.issue.number}:${input.comment.body}`);
  world.store.createComment(world.repo, issue, { body: input.comment.body, user: world.sender, viaApp: false, id });
  const payload = webhookPayload(world.store, "issue_comment", "created", { repo: world.repo.fullName, comment: id, sender: world.sender });
  return typed<IssueCommentCreatedPayload>(payload, ...ISSUE_KEYS, "comment");
}

/** `pull_request.closed`: merged or closed by the sender; `fromFork` puts its head branch on `someone-else`'s fork. */
export function pullRequestClosedPayload(input: PullRequestClosedInput): JsonObject {
  const world = scratch(input, input.sender);
  const { pull } = input;
  person(world.store, pull.author.login, pull.author.type);
  const number = seedPull(
    world,
    {
      number: pull.number,
      headRef: pull.head,
      headSha: pull.headSha,
      baseRef: pull.base ?? "main",
      baseSha: "0".repeat(40),
      user: pull.author.login,
      draft: false,
    },
    pull.headSha,
  );
  const record = world.store.pull(world.repo, number);
  if (pull.fromFork === true) {
    const fork = world.store.addRepo({ owner: "someone-else", name: input.repo, ownerType: "User", installationId: input.installationId });
    record.headRepo = fork.fullName.toLowerCase();
    world.repo.refs.delete(`refs/heads/${pull.head}`);
  }
  if (pull.merged) mergePull(world.store, world.repo, number, world.sender);
  else {
    record.state = "closed";
    record.closedAt = record.updatedAt;
  }
  return webhookPayload(world.store, "pull_request", "closed", { repo: world.repo.fullName, pull: number, sender: world.sender });
}

/**
 * `check_run.requested_action` (a button on the check run, `identifier`) or `check_run.rerequested`
 * (GitHub's "Re-run"), about the given check run (named `afk`) of App `appSlug` on the head of `headBranch`.
 */
export function checkRunPayload(input: CheckRunInput, action: "requested_action" | "rerequested", identifier?: string): JsonObject {
  const world = scratch(input, input.sender);
  const run = input.checkRun;
  seedCommit(world, run.headSha, run.headBranch, []);
  const progress = action === "rerequested" ? { conclusion: "failure" as const } : { status: "in_progress" as const };
  addForeignCheckRun(world.store, world.repo, { id: run.id, headSha: run.headSha, name: "afk", appSlug: run.appSlug, ...progress });
  const common = { repo: world.repo.fullName, checkRun: run.id, sender: world.sender };
  if (action === "rerequested") return webhookPayload(world.store, "check_run", "rerequested", common);
  return webhookPayload(world.store, "check_run", "requested_action", { ...common, identifier: identifier ?? "" });
}

/** `check_suite.completed`: every run of `app` on `headSha` has finished, with the suite's `conclusion`. */
export function checkSuiteCompletedPayload(input: CheckSuiteCompletedInput): CheckSuiteCompletedPayload {
  const world = scratch(input, input.sender);
  seedCommit(world, input.headSha, input.headBranch, input.pullRequests, input.headCommitMessage);
  addForeignCheckRun(world.store, world.repo, {
    headSha: input.headSha,
    name: "ci",
    appSlug: input.app.slug,
    appId: input.app.id,
    conclusion: rolledUpAs(input.conclusion),
  });
  const payload = webhookPayload(world.store, "check_suite", "completed", {
    repo: world.repo.fullName,
    headSha: input.headSha,
    app: input.app.slug,
    sender: world.sender,
  });
  const suite = typed<CheckSuiteCompletedPayload>(payload, "action", "check_suite", "repository", "sender", "installation");
  // Conclusions a run cannot have (a stale or never-started suite) are the suite's own.
  suite.check_suite.conclusion = input.conclusion;
  return suite;
}

/** A run conclusion that rolls up into the suite conclusion `wanted`. */
function rolledUpAs(wanted: CheckConclusion): "success" | "failure" | "neutral" | "cancelled" | "skipped" | "timed_out" | "action_required" {
  return wanted === "stale" || wanted === "startup_failure" ? "failure" : wanted;
}

/** `check_run.completed`: a run of `checkRun.app` on the head of `headBranch` finished with `conclusion`. */
export function checkRunCompletedPayload(input: CheckRunCompletedInput): CheckRunCompletedPayload {
  const world = scratch(input, input.sender);
  const run = input.checkRun;
  seedCommit(world, run.headSha, input.headBranch, input.pullRequests);
  const details = run.detailsUrl === undefined ? {} : { detailsUrl: run.detailsUrl };
  addForeignCheckRun(world.store, world.repo, {
    id: run.id,
    headSha: run.headSha,
    name: run.name,
    appSlug: run.app.slug,
    appId: run.app.id,
    conclusion: rolledUpAs(run.conclusion),
    ...details,
  });
  const payload = webhookPayload(world.store, "check_run", "completed", { repo: world.repo.fullName, checkRun: run.id, sender: world.sender });
  const completed = typed<CheckRunCompletedPayload>(payload, "action", "check_run", "repository", "sender", "installation");
  completed.check_run.conclusion = run.conclusion;
  return completed;
}

/** `status`: a commit status was posted on `sha` by the sender, whose head is each of `branches`. */
export function statusPayload(input: StatusInput): StatusPayload {
  const world = scratch(input, input.sender);
  for (const branch of input.branches) world.repo.refs.set(`refs/heads/${branch}`, input.sha);
  setCommitStatus(world.store, world.repo, input.sha, {
    context: input.context,
    state: input.state,
    creator: world.sender,
    ...(typeof input.description === "string" ? { description: input.description } : {}),
    ...(typeof input.targetUrl === "string" ? { targetUrl: input.targetUrl } : {}),
  });
  const payload = webhookPayload(world.store, "status", null, { repo: world.repo.fullName, sha: input.sha, context: input.context, sender: world.sender });
  return typed<StatusPayload>(
    payload,
    "id",
    "sha",
    "name",
    "state",
    "context",
    "description",
    "target_url",
    "branches",
    "repository",
    "sender",
    "installation",
  );
}

/** `pull_request_review.submitted`: `review.user` reviewed the pull request's head (a `COLLABORATOR` reviewer gets write access). */
export function pullRequestReviewSubmittedPayload(input: PullRequestReviewSubmittedInput): PullRequestReviewSubmittedPayload {
  const world = scratch(input, input.sender);
  const number = seedPull(world, input.pull, input.pull.headSha);
  const reviewer = world.store.addUser(input.review.user, loginType(input.review.user), stableId(`user:${input.review.user}`));
  if (input.review.authorAssociation === "COLLABORATOR") world.repo.roles.set(reviewer.login.toLowerCase(), "write");
  const state = input.review.state === "approved" ? "APPROVED" : input.review.state === "changes_requested" ? "CHANGES_REQUESTED" : "COMMENTED";
  const pull = world.store.pull(world.repo, number);
  world.store.createReview(world.repo, pull, { id: input.review.id, user: reviewer, state, body: input.review.body ?? "", commitId: input.pull.headSha });
  const payload = webhookPayload(world.store, "pull_request_review", "submitted", {
    repo: world.repo.fullName,
    pull: number,
    review: input.review.id,
    sender: world.sender,
  });
  return typed<PullRequestReviewSubmittedPayload>(payload, "action", "review", "pull_request", "repository", "sender", "installation");
}

/** `pull_request.synchronize`: the head branch moved from `before` to `after` (a push). */
export function pullRequestSynchronizePayload(input: PullRequestSynchronizeInput): PullRequestSynchronizePayload {
  const world = scratch(input, input.sender);
  const number = seedPull(world, input.pull, input.after);
  const payload = webhookPayload(world.store, "pull_request", "synchronize", {
    repo: world.repo.fullName,
    pull: number,
    before: input.before,
    sender: world.sender,
  });
  return typed<PullRequestSynchronizePayload>(payload, "action", "number", "before", "after", "pull_request", "repository", "sender", "installation");
}
