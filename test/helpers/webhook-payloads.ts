import { createHash } from "node:crypto";
import { createRequire } from "node:module";
import { GITHUB_COM, githubUserJson } from "./github-user-json.js";

/**
 * Webhook payloads built from the real examples in `@octokit/webhooks-examples`,
 * changing only what a test needs (repository, installation, issue, sender…),
 * so everything else keeps GitHub's actual shape.
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
// Builders

/** A stable, plausible numeric id for a name, so the same login gets the same id in every payload. */
export function stableId(name: string): number {
  return (Number.parseInt(createHash("sha1").update(name).digest("hex").slice(0, 8), 16) % 90_000_000) + 10_000_000;
}

function nodeId(kind: string, id: number): string {
  return Buffer.from(`0${kind.length}:${kind}${id}`).toString("base64");
}

export function payloadUser(login: string, type: "User" | "Bot" | "Organization" = "User", id = stableId(`user:${login}`)): PayloadUser {
  return githubUserJson({ login, id, nodeId: nodeId(type, id), type }, GITHUB_COM);
}

export function payloadLabel(owner: string, repo: string, name: string): PayloadLabel {
  const id = stableId(`label:${owner}/${repo}:${name.toLowerCase()}`);
  return {
    id,
    node_id: nodeId("Label", id),
    url: `https://api.github.com/repos/${owner}/${repo}/labels/${encodeURIComponent(name)}`,
    name,
    color: "ededed",
    default: false,
    description: null,
  };
}

/** Rewrites every string mentioning the example's repository so URLs point at the target one. */
function retarget(value: unknown, from: string, to: string): unknown {
  if (typeof value === "string") return value.split(from).join(to);
  if (Array.isArray(value)) return value.map((item) => retarget(item, from, to));
  if (isObject(value)) return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, retarget(item, from, to)]));
  return value;
}

function objectAt(payload: JsonObject, key: string): JsonObject {
  const value = payload[key];
  if (!isObject(value)) throw new Error(`example payload has no object "${key}"`);
  return value;
}

interface Common {
  payload: JsonObject;
  repository: PayloadRepository;
  sender: PayloadUser;
  installation: PayloadInstallation;
}

function common(example: JsonObject, target: RepositoryTarget, senderInput: SenderInput): Common {
  const exampleRepository = objectAt(example, "repository");
  const fromName = typeof exampleRepository.full_name === "string" ? exampleRepository.full_name : "";
  const fullName = `${target.owner}/${target.repo}`;
  const retargeted = fromName === "" ? example : retarget(example, fromName, fullName);
  const payload = isObject(retargeted) ? retargeted : example;
  // An organization-owned example carries `organization`; the target says what the owner is.
  delete payload.organization;
  const ownerType = target.ownerType ?? "Organization";
  const owner = payloadUser(target.owner, ownerType);
  const repository: PayloadRepository = {
    ...objectAt(payload, "repository"),
    id: stableId(`repo:${fullName}`),
    node_id: nodeId("Repository", stableId(`repo:${fullName}`)),
    name: target.repo,
    full_name: fullName,
    private: target.private ?? false,
    visibility: target.private === true ? "private" : "public",
    owner,
    default_branch: target.defaultBranch ?? "main",
  };
  if (ownerType === "Organization") {
    payload.organization = {
      login: target.owner,
      id: owner.id,
      node_id: owner.node_id,
      url: `https://api.github.com/orgs/${target.owner}`,
      repos_url: `https://api.github.com/orgs/${target.owner}/repos`,
      events_url: `https://api.github.com/orgs/${target.owner}/events`,
      hooks_url: `https://api.github.com/orgs/${target.owner}/hooks`,
      issues_url: `https://api.github.com/orgs/${target.owner}/issues`,
      members_url: `https://api.github.com/orgs/${target.owner}/members{/member}`,
      public_members_url: `https://api.github.com/orgs/${target.owner}/public_members{/member}`,
      avatar_url: owner.avatar_url,
      description: null,
    };
  }
  const sender = payloadUser(senderInput.login, senderInput.type ?? "User", senderInput.id ?? stableId(`user:${senderInput.login}`));
  const installation: PayloadInstallation = { id: target.installationId, node_id: nodeId("Integration::Installation", target.installationId) };
  return { payload, repository, sender, installation };
}

function issueFor(payload: JsonObject, target: RepositoryTarget, input: IssueTarget, sender: PayloadUser, extraLabels: string[]): PayloadIssue {
  const example = objectAt(payload, "issue");
  delete example.pull_request;
  const names = [...(input.labels ?? [])];
  for (const name of extraLabels) if (!names.some((existing) => existing.toLowerCase() === name.toLowerCase())) names.push(name);
  const api = `https://api.github.com/repos/${target.owner}/${target.repo}/issues/${input.number}`;
  const state = input.state ?? "open";
  if (input.isPullRequest === true) {
    const pulls = `https://api.github.com/repos/${target.owner}/${target.repo}/pulls/${input.number}`;
    example.pull_request = {
      url: pulls,
      html_url: `https://github.com/${target.owner}/${target.repo}/pull/${input.number}`,
      diff_url: `${pulls}.diff`,
      patch_url: `${pulls}.patch`,
      merged_at: null,
    };
  }
  return {
    ...example,
    id: stableId(`issue:${target.owner}/${target.repo}#${input.number}`),
    node_id: nodeId("Issue", stableId(`issue:${target.owner}/${target.repo}#${input.number}`)),
    url: api,
    labels_url: `${api}/labels{/name}`,
    comments_url: `${api}/comments`,
    events_url: `${api}/events`,
    html_url: `https://github.com/${target.owner}/${target.repo}/issues/${input.number}`,
    number: input.number,
    title: input.title ?? `Issue ${input.number}`,
    body: input.body === undefined ? "" : input.body,
    state,
    closed_at: state === "closed" ? (typeof example.updated_at === "string" ? example.updated_at : null) : null,
    labels: names.map((name) => payloadLabel(target.owner, target.repo, name)),
    user: input.user === undefined ? sender : payloadUser(input.user),
  };
}

/** `issues.labeled`: `label` was just added to the issue (so it is also among `issue.labels`, as on GitHub). */
export function issuesLabeledPayload(input: IssuesLabeledInput): IssuesLabeledPayload {
  const { payload, repository, sender, installation } = common(examplePayload("issues", "labeled"), input, input.sender);
  const issue = issueFor(payload, input, input.issue, sender, [input.label]);
  return {
    ...payload,
    action: "labeled",
    issue,
    label: payloadLabel(input.owner, input.repo, input.label),
    repository,
    sender,
    installation,
  };
}

/** `issues.unlabeled`: `label` was just removed (so it is no longer among `issue.labels`). */
export function issuesUnlabeledPayload(input: IssuesLabeledInput): IssuesUnlabeledPayload {
  const { payload, repository, sender, installation } = common(examplePayload("issues", "unlabeled"), input, input.sender);
  const issue = issueFor(payload, input, { ...input.issue, labels: (input.issue.labels ?? []).filter((name) => name !== input.label) }, sender, []);
  return { ...payload, action: "unlabeled", issue, label: payloadLabel(input.owner, input.repo, input.label), repository, sender, installation };
}

/**
 * `issues.closed`. @octokit/webhooks-examples has no `closed` example, so this is its `reopened`
 * example with the action and the issue's state turned around, as GitHub sends it on close.
 */
export function issuesClosedPayload(input: Omit<IssuesLabeledInput, "label">): IssuesClosedPayload {
  const { payload, repository, sender, installation } = common(examplePayload("issues", "reopened"), input, input.sender);
  const issue = issueFor(payload, input, { ...input.issue, state: "closed" }, sender, []);
  return { ...payload, action: "closed", issue, repository, sender, installation };
}

export interface PullRequestClosedInput extends RepositoryTarget {
  pull: { number: number; head: string; headSha: string; base?: string; merged: boolean; author: { login: string; type: "User" | "Bot" }; fromFork?: boolean };
  sender: SenderInput;
}

/** `pull_request.closed`: merged or closed by the sender. */
export function pullRequestClosedPayload(input: PullRequestClosedInput): JsonObject {
  const { payload, repository, sender, installation } = common(examplePayload("pull_request", "closed"), input, input.sender);
  const example = objectAt(payload, "pull_request");
  const closedAt = "2026-11-23T12:00:00Z";
  const headRepo =
    input.pull.fromFork === true
      ? { ...repository, full_name: `someone-else/${input.repo}`, name: input.repo, owner: payloadUser("someone-else") }
      : repository;
  const side = (sideExample: unknown, ref: string, sha: string, repo: JsonObject): JsonObject => ({
    ...(isObject(sideExample) ? sideExample : {}),
    label: `${input.owner}:${ref}`,
    ref,
    sha,
    repo,
    user: repository.owner,
  });
  const pullRequest: JsonObject = {
    ...example,
    number: input.pull.number,
    state: "closed",
    user: payloadUser(input.pull.author.login, input.pull.author.type),
    closed_at: closedAt,
    merged: input.pull.merged,
    merged_at: input.pull.merged ? closedAt : null,
    merged_by: input.pull.merged ? sender : null,
    head: side(example.head, input.pull.head, input.pull.headSha, headRepo),
    base: side(example.base, input.pull.base ?? "main", "0".repeat(40), repository),
  };
  return { ...payload, action: "closed", number: input.pull.number, pull_request: pullRequest, repository, sender, installation };
}

export interface CheckRunInput extends RepositoryTarget {
  checkRun: { id: number; headSha: string; headBranch: string; appSlug: string };
  sender: SenderInput;
}

/**
 * `check_run.requested_action` (a button on the check run, `identifier`) or `check_run.rerequested`
 * (GitHub's "Re-run"), about the given check run.
 */
export function checkRunPayload(input: CheckRunInput, action: "requested_action" | "rerequested", identifier?: string): JsonObject {
  const { payload, repository, sender, installation } = common(examplePayload("check_run", action), input, input.sender);
  const example = objectAt(payload, "check_run");
  const suite = isObject(example.check_suite) ? example.check_suite : {};
  const app = isObject(example.app) ? example.app : {};
  const checkRun: JsonObject = {
    ...example,
    id: input.checkRun.id,
    name: "afk",
    head_sha: input.checkRun.headSha,
    app: { ...app, slug: input.checkRun.appSlug, name: input.checkRun.appSlug },
    check_suite: { ...suite, head_branch: input.checkRun.headBranch, head_sha: input.checkRun.headSha },
  };
  return {
    ...payload,
    action,
    check_run: checkRun,
    ...(identifier === undefined ? {} : { requested_action: { identifier } }),
    repository,
    sender,
    installation,
  };
}

/** `issue_comment.created`: the sender just commented `comment.body` on the issue. */
export function issueCommentCreatedPayload(input: IssueCommentCreatedInput): IssueCommentCreatedPayload {
  const { payload, repository, sender, installation } = common(examplePayload("issue_comment", "created"), input, input.sender);
  const issue = issueFor(payload, input, input.issue, sender, []);
  const id = input.comment.id ?? stableId(`comment:${input.owner}/${input.repo}#${input.issue.number}:${input.comment.body}`);
  const comment: PayloadComment = {
    ...objectAt(payload, "comment"),
    id,
    node_id: nodeId("IssueComment", id),
    url: `https://api.github.com/repos/${input.owner}/${input.repo}/issues/comments/${id}`,
    html_url: `https://github.com/${input.owner}/${input.repo}/issues/${input.issue.number}#issuecomment-${id}`,
    issue_url: `https://api.github.com/repos/${input.owner}/${input.repo}/issues/${input.issue.number}`,
    body: input.comment.body,
    user: sender,
    author_association: "NONE",
  };
  return { ...payload, action: "created", issue, comment, repository, sender, installation };
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

function apiRepo(target: RepositoryTarget): string {
  return `https://api.github.com/repos/${target.owner}/${target.repo}`;
}

function loginType(login: string): "User" | "Bot" {
  return login.endsWith("[bot]") ? "Bot" : "User";
}

/** A stable, sha-shaped stand-in for a commit a test does not care about. */
function madeUpSha(seed: string): string {
  return createHash("sha1").update(seed).digest("hex");
}

function baseShaOf(target: RepositoryTarget, pull: MinimalPullInput): string {
  return pull.baseSha ?? madeUpSha(`base:${target.owner}/${target.repo}:${pull.baseRef}`);
}

function minimalPulls(target: RepositoryTarget, pulls: MinimalPullInput[]): JsonObject[] {
  const repo = { id: stableId(`repo:${target.owner}/${target.repo}`), url: apiRepo(target), name: target.repo };
  return pulls.map((pull) => ({
    url: `${apiRepo(target)}/pulls/${pull.number}`,
    id: stableId(`pull:${target.owner}/${target.repo}#${pull.number}`),
    number: pull.number,
    head: { ref: pull.headRef, sha: pull.headSha, repo },
    base: { ref: pull.baseRef, sha: baseShaOf(target, pull), repo },
  }));
}

/** The example's App, renamed; GitHub Actions keeps its real name, owner and links. */
function payloadApp(example: unknown, app: PayloadAppInput): JsonObject & { id: number; slug: string } {
  const base = isObject(example) ? example : {};
  const actions = app.slug === "github-actions";
  return {
    ...base,
    id: app.id,
    slug: app.slug,
    node_id: nodeId("App", app.id),
    name: actions ? "GitHub Actions" : app.slug,
    ...(actions
      ? {
          owner: payloadUser("github", "Organization", 9919),
          description: "Automate your workflow from idea to production",
          external_url: "https://help.github.com/en/actions",
        }
      : {}),
    html_url: `https://github.com/apps/${app.slug}`,
  };
}

function pullRequestFor(example: unknown, target: RepositoryTarget, repository: PayloadRepository, pull: PullTargetInput, headSha: string): PayloadPullRequest {
  const base = isObject(example) ? example : {};
  const api = apiRepo(target);
  const html = `https://github.com/${target.owner}/${target.repo}/pull/${pull.number}`;
  const url = `${api}/pulls/${pull.number}`;
  const issueUrl = `${api}/issues/${pull.number}`;
  const id = stableId(`pull:${target.owner}/${target.repo}#${pull.number}`);
  const side = (sideExample: unknown, ref: string, sha: string): JsonObject & { ref: string; sha: string } => ({
    ...(isObject(sideExample) ? sideExample : {}),
    label: `${target.owner}:${ref}`,
    ref,
    sha,
    user: repository.owner,
    repo: repository,
  });
  const link = (href: string): JsonObject => ({ href });
  return {
    ...base,
    url,
    id,
    node_id: nodeId("PullRequest", id),
    html_url: html,
    diff_url: `${html}.diff`,
    patch_url: `${html}.patch`,
    issue_url: issueUrl,
    number: pull.number,
    state: "open",
    locked: false,
    title: pull.title ?? `Pull request ${pull.number}`,
    user: payloadUser(pull.user, loginType(pull.user)),
    body: pull.body === undefined ? "" : pull.body,
    closed_at: null,
    merged_at: null,
    commits_url: `${url}/commits`,
    review_comments_url: `${url}/comments`,
    review_comment_url: `${api}/pulls/comments{/number}`,
    comments_url: `${issueUrl}/comments`,
    statuses_url: `${api}/statuses/${headSha}`,
    head: side(base.head, pull.headRef, headSha),
    base: side(base.base, pull.baseRef, baseShaOf(target, pull)),
    _links: {
      self: link(url),
      html: link(html),
      issue: link(issueUrl),
      comments: link(`${issueUrl}/comments`),
      review_comments: link(`${url}/comments`),
      review_comment: link(`${api}/pulls/comments{/number}`),
      commits: link(`${url}/commits`),
      statuses: link(`${api}/statuses/${headSha}`),
    },
    author_association: "NONE",
    draft: pull.draft,
    ...("merged" in base ? { merged: false, merged_by: null } : {}),
  };
}

/** `check_suite.completed`: every run of `app` on `headSha` has finished, with the suite's `conclusion`. */
export function checkSuiteCompletedPayload(input: CheckSuiteCompletedInput): CheckSuiteCompletedPayload {
  const { payload, repository, sender, installation } = common(examplePayload("check_suite", "completed"), input, input.sender);
  const example = objectAt(payload, "check_suite");
  const id = stableId(`suite:${input.owner}/${input.repo}:${input.app.id}:${input.headSha}`);
  const url = `${apiRepo(input)}/check-suites/${id}`;
  const headCommit = isObject(example.head_commit) ? example.head_commit : {};
  const checkSuite: PayloadCheckSuite = {
    ...example,
    id,
    node_id: nodeId("CheckSuite", id),
    head_branch: input.headBranch,
    head_sha: input.headSha,
    status: "completed",
    conclusion: input.conclusion,
    url,
    after: input.headSha,
    pull_requests: minimalPulls(input, input.pullRequests),
    app: payloadApp(example.app, input.app),
    check_runs_url: `${url}/check-runs`,
    head_commit: { ...headCommit, id: input.headSha, ...(input.headCommitMessage === undefined ? {} : { message: input.headCommitMessage }) },
  };
  return { ...payload, action: "completed", check_suite: checkSuite, repository, sender, installation };
}

/** `check_run.completed`: a run of `checkRun.app` on the head of `headBranch` finished with `conclusion`. */
export function checkRunCompletedPayload(input: CheckRunCompletedInput): CheckRunCompletedPayload {
  const { payload, repository, sender, installation } = common(examplePayload("check_run", "completed"), input, input.sender);
  const example = objectAt(payload, "check_run");
  const run = input.checkRun;
  const suiteExample = isObject(example.check_suite) ? example.check_suite : {};
  const suiteId = stableId(`suite:${input.owner}/${input.repo}:${run.app.id}:${run.headSha}`);
  const url = `${apiRepo(input)}/check-runs/${run.id}`;
  const html = `https://github.com/${input.owner}/${input.repo}/runs/${run.id}`;
  const pullRequests = minimalPulls(input, input.pullRequests);
  const app = payloadApp(example.app, run.app);
  const output = isObject(example.output) ? example.output : {};
  const checkRun: PayloadCheckRun = {
    ...example,
    id: run.id,
    node_id: nodeId("CheckRun", run.id),
    name: run.name,
    head_sha: run.headSha,
    url,
    html_url: html,
    details_url:
      run.detailsUrl ?? (run.app.slug === "github-actions" ? `https://github.com/${input.owner}/${input.repo}/actions/runs/${suiteId}/job/${run.id}` : html),
    status: "completed",
    conclusion: run.conclusion,
    output: { ...output, annotations_url: `${url}/annotations` },
    app,
    check_suite: {
      ...suiteExample,
      id: suiteId,
      node_id: nodeId("CheckSuite", suiteId),
      head_branch: input.headBranch,
      head_sha: run.headSha,
      url: `${apiRepo(input)}/check-suites/${suiteId}`,
      after: run.headSha,
      pull_requests: pullRequests,
      app,
    },
    pull_requests: pullRequests,
  };
  return { ...payload, action: "completed", check_run: checkRun, repository, sender, installation };
}

/** `status`: a commit status was posted on `sha` (the examples carry no `installation`; it is added, as GitHub sends it to Apps). */
export function statusPayload(input: StatusInput): StatusPayload {
  const { payload, repository, sender, installation } = common(examplePayload("status"), input, input.sender);
  const api = apiRepo(input);
  const commitExample = objectAt(payload, "commit");
  const innerCommit = isObject(commitExample.commit) ? commitExample.commit : {};
  const id = stableId(`status:${input.owner}/${input.repo}:${input.sha}:${input.context}:${input.state}`);
  const commit: JsonObject = {
    ...commitExample,
    sha: input.sha,
    node_id: nodeId("Commit", stableId(`commit:${input.sha}`)),
    commit: { ...innerCommit, url: `${api}/git/commits/${input.sha}` },
    url: `${api}/commits/${input.sha}`,
    html_url: `https://github.com/${input.owner}/${input.repo}/commit/${input.sha}`,
    comments_url: `${api}/commits/${input.sha}/comments`,
  };
  return {
    ...payload,
    id,
    sha: input.sha,
    name: `${input.owner}/${input.repo}`,
    target_url: input.targetUrl ?? null,
    context: input.context,
    description: input.description ?? null,
    state: input.state,
    commit,
    branches: input.branches.map((name) => ({ name, commit: { sha: input.sha, url: `${api}/commits/${input.sha}` }, protected: false })),
    repository,
    sender,
    installation,
  };
}

/** `pull_request_review.submitted`: `review.user` reviewed the pull request's head. */
export function pullRequestReviewSubmittedPayload(input: PullRequestReviewSubmittedInput): PullRequestReviewSubmittedPayload {
  const { payload, repository, sender, installation } = common(examplePayload("pull_request_review", "submitted"), input, input.sender);
  const pullRequest = pullRequestFor(payload.pull_request, input, repository, input.pull, input.pull.headSha);
  const html = `https://github.com/${input.owner}/${input.repo}/pull/${input.pull.number}#pullrequestreview-${input.review.id}`;
  const pullUrl = `${apiRepo(input)}/pulls/${input.pull.number}`;
  const review: PayloadReview = {
    ...objectAt(payload, "review"),
    id: input.review.id,
    node_id: nodeId("PullRequestReview", input.review.id),
    user: payloadUser(input.review.user, loginType(input.review.user)),
    body: input.review.body,
    commit_id: input.pull.headSha,
    state: input.review.state,
    html_url: html,
    pull_request_url: pullUrl,
    author_association: input.review.authorAssociation ?? "NONE",
    _links: { html: { href: html }, pull_request: { href: pullUrl } },
  };
  return { ...payload, action: "submitted", review, pull_request: pullRequest, repository, sender, installation };
}

/** `pull_request.synchronize`: the head branch moved from `before` to `after` (a push). */
export function pullRequestSynchronizePayload(input: PullRequestSynchronizeInput): PullRequestSynchronizePayload {
  const { payload, repository, sender, installation } = common(examplePayload("pull_request", "synchronize"), input, input.sender);
  const pullRequest = pullRequestFor(payload.pull_request, input, repository, input.pull, input.after);
  return {
    ...payload,
    action: "synchronize",
    number: input.pull.number,
    before: input.before,
    after: input.after,
    pull_request: pullRequest,
    repository,
    sender,
    installation,
  };
}
