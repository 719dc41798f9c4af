import { randomUUID } from "node:crypto";
import { validateRequest } from "../openapi-validator.js";
import * as Actions from "./actions.js";
import { appRoutes } from "./apps.js";
import { gitAccessAllowed } from "./auth.js";
import { addEmptyCheckSuite, addForeignCheckRun, checkRoutes, setCommitStatus, updateForeignCheckRun } from "./checks.js";
import { commitFiles, commitObject, lookupPath } from "./git-store.js";
import { commitJson, gitRoutes } from "./git.js";
import type { Route } from "./http.js";
import { issueRoutes } from "./issues.js";
import type { CheckRunJson, CommentJson, CommitJson, CommitStatusJson, IssueJson, ReactionJson, ReviewCommentJson, ReviewJson } from "./json.js";
import { deliverToHook, ManifestFlow, manifestRoutes } from "./manifest.js";
import { ActionsOidcIssuer } from "./oidc.js";
import { mergePull, pullRoutes, pullSummary, submitReview } from "./pulls.js";
import { API_PREFIX, EmulatorServer, type ServerControls } from "./server.js";
import { checkRunJson } from "./shapes-checks.js";
import { commentJson, issueJson, reactionJson, reviewCommentJson, reviewJson } from "./shapes.js";
import { EmulatorStore, type UserState } from "./store.js";
import type * as T from "./types.js";
import { timestamp } from "./util.js";
import {
  buildWebhook,
  type DeliveryAction,
  type DeliveryEvent,
  type DeliveryInputs,
  type StatusDeliveryInput,
  type WebhookDelivery,
  type WebhookReceiver,
} from "./webhooks.js";

/**
 * An in-memory GitHub on loopback, served under `/api/v3` the way GitHub Enterprise Server does,
 * so Probot reaches it with `GHE_HOST=<emulator.host> GHE_PROTOCOL=http`. Tests seed it, let afk
 * talk to it, read what afk did, and have it deliver webhooks built from its own state.
 *
 * This class is the public face only; the parts live beside it: server.ts (HTTP, recording,
 * OpenAPI checks, faults, conditional requests), auth.ts (JWTs, tokens and their scope),
 * store.ts and git-store.ts (state), one module per API area, shapes.ts (all JSON), graphql.ts,
 * webhooks.ts and manifest.ts.
 */
export class GitHubEmulator implements ServerControls {
  /** Every request, in the order the emulator received them, with the status it answered. */
  readonly requests: T.RecordedRequest[] = [];
  /** Requests the OpenAPI description does not allow, or the emulator does not implement. */
  readonly violations: string[] = [];
  /** Consulted before routing; a reply it returns is sent as-is (for fault injection). */
  onRequest: ServerControls["onRequest"];
  /**
   * Awaited before a request is handled: a test holds one request (afk writing its hand-off, say)
   * while something else happens on GitHub first, as a slow network would let it.
   */
  holdRequest: ServerControls["holdRequest"];
  /** Delay before each request is handled. */
  latencyMs = 0;
  /** The `x-ratelimit-remaining` every REST answer carries (a constant: a test sets it to see afk read it). */
  rateLimitRemaining = 4990;
  /**
   * Status for routes the description has but the emulator does not implement. Note that
   * Probot's retry plugin (unless disabled) retries 5xx answers three times with 1+4+9 s back-off.
   */
  unimplementedStatus = 501;
  /** Also check the emulator's own 2xx JSON answers against the description (an emulator bug is then a violation). */
  checkResponses = false;
  /** Where `deliver` sends each webhook (Probot's `receive`, say); without one `deliver` only builds it. */
  webhookReceiver: WebhookReceiver | undefined;
  /** GitHub Actions' OIDC issuer on the emulator's host: its URLs, keys, the ID tokens it issued, and `mint` for forgeries. */
  readonly oidc: ActionsOidcIssuer;

  private readonly store: EmulatorStore;
  private readonly manifest = new ManifestFlow();
  private readonly actions: Actions.ActionsState;
  private readonly routes: Map<string, Route>;
  private readonly server: EmulatorServer;
  private port = 0;
  private readonly web: string | undefined;

  private constructor(options: T.EmulatorOptions) {
    this.web = options.web;
    this.store = new EmulatorStore({ appId: options.appId ?? 1, appSlug: options.appSlug ?? "afk", hosts: hostsAt(0, options.web) });
    this.actions = new Actions.ActionsState({
      web: () => this.store.hosts.web,
      idTokenRequest: (run) => this.oidc.idTokenRequest(run),
      report: (message) => this.violations.push(message),
    });
    this.oidc = new ActionsOidcIssuer(this.store, this.actions);
    this.routes = new Map([
      ...appRoutes(this.store),
      ...manifestRoutes(this.store, this.manifest),
      ...issueRoutes(this.store),
      ...gitRoutes(this.store),
      ...pullRoutes(this.store),
      ...checkRoutes(this.store),
      ...Actions.actionsRoutes(this.store, this.actions),
    ]);
    this.server = new EmulatorServer({
      controls: this,
      store: this.store,
      routes: this.routes,
      manifest: this.manifest,
      services: (request) => this.oidc.serve(request),
    });
  }

  static async start(options: T.EmulatorOptions = {}): Promise<GitHubEmulator> {
    const emulator = new GitHubEmulator(options);
    // Load and index the 13 MB description now rather than inside the first request.
    validateRequest({ method: "GET", path: "/app", query: {}, body: undefined });
    emulator.port = await emulator.server.listen();
    emulator.store.hosts = hostsAt(emulator.port, emulator.web);
    return emulator;
  }

  async close(): Promise<void> {
    await this.server.close();
  }

  get appId(): number {
    return this.store.appId;
  }

  get appSlug(): string {
    return this.store.appSlug;
  }

  /** The App's own permissions (`GET /app`); tests change them to play a misconfigured App. */
  get appPermissions(): Record<string, T.PermissionLevel> {
    return this.store.appPermissions;
  }

  set appPermissions(permissions: Record<string, T.PermissionLevel>) {
    this.store.appPermissions = permissions;
  }

  /** The App's events (`GET /app`). */
  get appEvents(): string[] {
    return this.store.appEvents;
  }

  set appEvents(events: string[]) {
    this.store.appEvents = events;
  }

  /** Installation tokens handed out, for assertions about scoping. */
  get tokens(): T.IssuedToken[] {
    return this.store.tokens;
  }

  /** Every manifest a browser posted to the registration form, in order. */
  get manifestForms(): T.ManifestFormPost[] {
    return this.manifest.forms;
  }

  /** The App registered through the manifest flow (`POST /app-manifests/{code}/conversions`), once there is one. */
  get registered(): T.RegisteredApp | undefined {
    return this.manifest.registered;
  }

  /** Deliveries sent to the registered App's hook URL (`deliverToHook`). */
  get hookDeliveries(): T.HookDelivery[] {
    return this.manifest.hookDeliveries;
  }

  /** `127.0.0.1:PORT`, for `GHE_HOST`. */
  get host(): string {
    return this.store.hosts.host;
  }

  /** `http://127.0.0.1:PORT/api/v3`, for an Octokit `baseUrl`. */
  get apiUrl(): string {
    return this.store.hosts.api;
  }

  /** The web root links point at, e.g. `html_url`s. */
  get webUrl(): string {
    return this.store.hosts.web;
  }

  /** The login of the App's bot user, e.g. `afk[bot]`. */
  get botLogin(): string {
    return this.store.bot.login;
  }

  /** The `METHOD template` keys the emulator implements (each must exist in the description). */
  get implementedRoutes(): string[] {
    return [...this.routes.keys()];
  }

  /** Returns the violations so far and forgets them (for tests that provoke one on purpose). */
  takeViolations(): string[] {
    return this.violations.splice(0, this.violations.length);
  }

  assertNoViolations(): void {
    if (this.violations.length > 0) {
      throw new Error(`The GitHub emulator saw ${this.violations.length} violation(s):\n- ${this.violations.join("\n- ")}`);
    }
  }

  // -------------------------------------------------------------------------
  // Seeding

  addUser(login: string, type: T.UserType = "User"): UserState {
    return this.store.addUser(login, type);
  }

  addInstallation(
    id: number,
    account: string | T.AccountInput,
    options: { permissions?: Record<string, T.PermissionLevel>; repositorySelection?: "all" | "selected" } = {},
  ): void {
    this.store.addInstallation(id, account, options);
  }

  /** Changes what an installation is granted (an owner who has not accepted a new permission, say). */
  setInstallationPermissions(id: number, permissions: Record<string, T.PermissionLevel>): void {
    const installation = this.store.installations.get(id);
    if (installation === undefined) throw new Error(`GitHub emulator: no installation ${id}`);
    installation.permissions = { ...permissions };
  }

  /** Adds a repository; an installation that does not exist yet is created on the owner's account. */
  addRepo(input: T.RepoInput): void {
    this.store.addRepo(input);
  }

  /** Commits a change to one file (or its deletion with `null`) on the default branch. */
  setFile(fullName: string, path: string, content: string | null): void {
    const repo = this.store.repo(fullName);
    commitFiles(repo, repo.defaultBranch, { [path]: content }, content === null ? `Delete ${path}` : `Update ${path}`);
  }

  setPermission(fullName: string, login: string, role: T.Role): void {
    this.store.addUser(login);
    this.store.repo(fullName).roles.set(login.toLowerCase(), role);
  }

  addIssue(fullName: string, input: T.IssueInput): IssueJson {
    const repo = this.store.repo(fullName);
    const user = input.user === undefined ? repo.owner.login : this.store.addUser(input.user).login;
    const issue = this.store.createIssue(repo, { title: input.title, body: input.body ?? null, labels: input.labels ?? [], user, viaApp: false });
    if (input.state === "closed") this.store.changeState(issue, "closed", "completed", issue.user);
    return issueJson(this.store, repo, issue);
  }

  /** Puts labels on an issue as GitHub does before it sends `issues.labeled` (missing repository labels are created). */
  seedLabels(fullName: string, number: number, labels: string[]): void {
    const repo = this.store.repo(fullName);
    const issue = this.store.issue(repo, number);
    for (const name of this.store.ensureLabels(repo, labels)) if (!issue.labels.includes(name)) issue.labels.push(name);
    issue.updatedAt = timestamp();
  }

  setIssueState(fullName: string, number: number, state: T.IssueState): void {
    const issue = this.store.issue(this.store.repo(fullName), number);
    this.store.changeState(issue, state, state === "closed" ? "completed" : "reopened", issue.user);
  }

  addBlockedBy(fullName: string, number: number, blockingNumber: number): void {
    const repo = this.store.repo(fullName);
    const issue = this.store.issue(repo, number);
    this.store.issue(repo, blockingNumber);
    if (!issue.blockedBy.includes(blockingNumber)) issue.blockedBy.push(blockingNumber);
  }

  /** Adds a comment; `createdAt`/`updatedAt` let a test place it (an edit after a run was requested, say). */
  addComment(fullName: string, issueNumber: number, input: { body: string; user: string; createdAt?: Date; updatedAt?: Date }): CommentJson {
    const repo = this.store.repo(fullName);
    const user = this.store.addUser(input.user);
    const comment = this.store.createComment(repo, this.store.issue(repo, issueNumber), {
      body: input.body,
      user: user.login,
      viaApp: user === this.store.bot,
    });
    if (input.createdAt !== undefined) comment.createdAt = timestamp(input.createdAt);
    if (input.updatedAt !== undefined) comment.updatedAt = timestamp(input.updatedAt);
    return commentJson(this.store, repo, comment);
  }

  /** Edits an issue's title or body as a person would on GitHub. */
  editIssue(fullName: string, number: number, input: { title?: string; body?: string }): void {
    const issue = this.store.issue(this.store.repo(fullName), number);
    if (input.title !== undefined) issue.title = input.title;
    if (input.body !== undefined) issue.body = input.body;
    issue.updatedAt = timestamp();
  }

  // -------------------------------------------------------------------------
  // Inspection

  /** The numbers of an issue's sub-issues, in the order they were added. */
  subIssues(fullName: string, number: number): number[] {
    return [...this.store.issue(this.store.repo(fullName), number).subIssues];
  }

  issue(fullName: string, number: number): IssueJson {
    const repo = this.store.repo(fullName);
    return issueJson(this.store, repo, this.store.issue(repo, number));
  }

  comments(fullName: string, number: number): CommentJson[] {
    const repo = this.store.repo(fullName);
    return this.store.commentsOf(this.store.issue(repo, number)).map((comment) => commentJson(this.store, repo, comment));
  }

  reactions(fullName: string, number: number): ReactionJson[] {
    return this.store.issue(this.store.repo(fullName), number).reactions.map((reaction) => reactionJson(this.store, reaction));
  }

  commentReactions(fullName: string, commentId: number): ReactionJson[] {
    const comment = this.store.comments.get(commentId);
    if (comment === undefined || comment.repoKey !== fullName.toLowerCase()) throw new Error(`GitHub emulator: no comment ${commentId} in ${fullName}`);
    return comment.reactions.map((reaction) => reactionJson(this.store, reaction));
  }

  labels(fullName: string, number: number): string[] {
    return [...this.store.issue(this.store.repo(fullName), number).labels];
  }

  /** The sha a ref points at; `ref` with or without the `refs/` prefix (`afk/lock`, `heads/main`). */
  ref(fullName: string, ref: string): string | undefined {
    return this.store.repo(fullName).refs.get(ref.startsWith("refs/") ? ref : `refs/${ref}`);
  }

  /** A file's text at a commit of the emulator's own objects (a run log's `run.md` under `refs/afk/runs/…`), or undefined. */
  fileAtCommit(fullName: string, sha: string, path: string): string | undefined {
    const repo = this.store.repo(fullName);
    const found = commitObject(repo, sha) === undefined ? undefined : lookupPath(repo, sha, path);
    const blob = found === undefined ? undefined : repo.objects.get(found.sha);
    return blob?.type === "blob" ? blob.content.toString("utf8") : undefined;
  }

  /** The names of a repository's refs under a prefix (`refs/afk/runs/`), in name order. */
  refsUnder(fullName: string, prefix: string): string[] {
    return [...this.store.repo(fullName).refs.keys()].filter((name) => name.startsWith(prefix)).sort();
  }

  commit(fullName: string, sha: string): CommitJson | undefined {
    const repo = this.store.repo(fullName);
    return commitObject(repo, sha) === undefined ? undefined : commitJson(this.store, repo, sha);
  }

  /** The file's content at the head of the default branch, or undefined. */
  file(fullName: string, path: string): string | undefined {
    const repo = this.store.repo(fullName);
    const head = repo.refs.get(`refs/heads/${repo.defaultBranch}`);
    const found = head === undefined ? undefined : lookupPath(repo, head, path);
    const blob = found === undefined ? undefined : repo.objects.get(found.sha);
    return blob?.type === "blob" ? blob.content.toString("utf8") : undefined;
  }

  checkRuns(fullName: string): CheckRunJson[] {
    const repo = this.store.repo(fullName);
    return [...repo.checkRuns.values()].map((run) => checkRunJson(this.store, repo, run));
  }

  /** The pull requests of a repository, for assertions. */
  pulls(fullName: string): T.PullSummary[] {
    const repo = this.store.repo(fullName);
    return [...repo.pulls.values()].map((pull) => pullSummary(this.store, repo, pull));
  }

  /** The reviews of a pull request, oldest first. */
  reviews(fullName: string, pullNumber: number): ReviewJson[] {
    const repo = this.store.repo(fullName);
    return [...repo.reviews.values()].filter((review) => review.pullNumber === pullNumber).map((review) => reviewJson(this.store, repo, review));
  }

  /** The review comments of a pull request (replies included), oldest first. */
  reviewComments(fullName: string, pullNumber: number): ReviewCommentJson[] {
    const repo = this.store.repo(fullName);
    return [...repo.reviewComments.values()]
      .filter((comment) => comment.pullNumber === pullNumber)
      .map((comment) => reviewCommentJson(this.store, repo, comment));
  }

  // -------------------------------------------------------------------------
  // After the pull request: other Apps' check runs, commit statuses, Actions logs, reviews, merges

  /** The check suite GitHub makes on a push for an App with checks that has nothing to run there: queued for ever, with no runs. */
  addEmptyCheckSuite(fullName: string, input: { headSha: string; appSlug: string }): void {
    addEmptyCheckSuite(this.store, this.store.repo(fullName), input);
  }

  /** A check run by another App (`github-actions` is GitHub Actions, whose run id is also its job id for `setJobLog`). */
  addForeignCheckRun(fullName: string, input: T.ForeignCheckRunInput): CheckRunJson {
    return addForeignCheckRun(this.store, this.store.repo(fullName), input);
  }

  /** Moves another App's check run along (queued → in_progress → completed with a conclusion). */
  updateForeignCheckRun(fullName: string, id: number, update: T.ForeignCheckRunUpdate): CheckRunJson {
    return updateForeignCheckRun(this.store, this.store.repo(fullName), id, update);
  }

  /** Posts a commit status (a CI outside GitHub Actions, say); the newest per context counts in the combined status. */
  setCommitStatus(fullName: string, sha: string, input: T.CommitStatusInput): CommitStatusJson {
    return setCommitStatus(this.store, this.store.repo(fullName), sha, input);
  }

  /** The log of an Actions job (a GitHub Actions check run's id is its job id). */
  setJobLog(fullName: string, jobId: number, text: string): void {
    this.store.repo(fullName).jobLogs.set(jobId, text);
  }

  /** A review on a pull request's current head, with optional line comments (see pulls.ts `submitReview`). */
  submitReview(fullName: string, pullNumber: number, input: T.ReviewInput): { review: ReviewJson; comments: ReviewCommentJson[] } {
    return submitReview(this.store, this.store.repo(fullName), pullNumber, input);
  }

  /** Merges an open pull request as `mergedBy` would on GitHub (closed, merged, merged_by, merged_at). */
  mergePull(fullName: string, number: number, mergedBy: string): void {
    mergePull(this.store, this.store.repo(fullName), number, mergedBy);
  }

  /** Puts a real bare repository behind an emulated one: `clone_url` points at it, pull requests and check runs see its commits. */
  connectGit(fullName: string, backing: T.GitBacking): void {
    this.store.repo(fullName).git = backing;
  }

  /** Whether an installation token may fetch (`upload-pack`) or push (`receive-pack`) over git, as GitHub decides it. */
  gitAccessAllowed(fullName: string, token: string | undefined, service: "upload-pack" | "receive-pack"): boolean {
    return gitAccessAllowed(this.store, fullName, token, service);
  }

  // -------------------------------------------------------------------------
  // GitHub Actions: workflow runs a dispatch created, and the runner a test plays

  /** The workflow runs of a repository, oldest first. */
  workflowRuns(fullName: string): Actions.WorkflowRunSummary[] {
    return this.actions.runsOf(this.store.repo(fullName)).map((run) => Actions.workflowRunSummary(run, this.store.hosts.web));
  }

  /**
   * Calls `listener` for each workflow run a dispatch creates, just after the dispatch is answered,
   * with the run, its workflow file, its ID token request and a signal aborted when the run is
   * cancelled. A listener that throws or rejects is a violation. Returns the unsubscribe.
   */
  onWorkflowDispatch(listener: Actions.WorkflowDispatchListener): () => void {
    return this.actions.onDispatch(listener);
  }

  /** Moves a workflow run along as its runner would (queued → in_progress → completed with a conclusion; `cancelled` aborts its signal). */
  setWorkflowRunStatus(
    fullName: string,
    runId: number,
    status: Actions.WorkflowRunStatus,
    conclusion?: Actions.WorkflowRunConclusion,
  ): Actions.WorkflowRunSummary {
    const run = this.actions.run(this.store.repo(fullName), runId);
    Actions.setRunStatus(run, status, conclusion);
    return Actions.workflowRunSummary(run, this.store.hosts.web);
  }

  /** What Actions puts in the run's job's `ACTIONS_ID_TOKEN_REQUEST_URL` / `ACTIONS_ID_TOKEN_REQUEST_TOKEN`. */
  idTokenRequest(fullName: string, runId: number): Actions.IdTokenRequest {
    return this.oidc.idTokenRequest(this.actions.run(this.store.repo(fullName), runId));
  }

  // -------------------------------------------------------------------------
  // Webhooks

  /**
   * A webhook built from the emulator's state (see webhooks.ts for what each event reads), checked
   * against GitHub's webhook schema, and handed to `webhookReceiver` when there is one.
   */
  async deliver<E extends DeliveryEvent, A extends DeliveryAction<E>>(event: E, action: A, input: DeliveryInputs[E][A]): Promise<WebhookDelivery>;
  async deliver(event: "status", action: null, input: StatusDeliveryInput): Promise<WebhookDelivery>;
  async deliver(event: DeliveryEvent | "status", action: string | null, input: unknown): Promise<WebhookDelivery> {
    const delivery = this.buildDelivery(event, action, input);
    if (this.webhookReceiver !== undefined) await this.webhookReceiver(delivery);
    return delivery;
  }

  /** The delivery `deliver` would send, built from the emulator's state and checked the same way, but not sent (a test hands it to afk itself). */
  webhook<E extends DeliveryEvent, A extends DeliveryAction<E>>(event: E, action: A, input: DeliveryInputs[E][A]): WebhookDelivery;
  webhook(event: "status", action: null, input: StatusDeliveryInput): WebhookDelivery;
  webhook(event: DeliveryEvent | "status", action: string | null, input: unknown): WebhookDelivery {
    return this.buildDelivery(event, action, input);
  }

  private buildDelivery(event: DeliveryEvent | "status", action: string | null, input: unknown): WebhookDelivery {
    return { name: event, id: randomUUID(), payload: buildWebhook(this.store, event, action, input) };
  }

  /** Delivers `event` to the App registered through the manifest flow, signed with its webhook secret. */
  deliverToHook(event: string, payload: object): Promise<T.HookDelivery> {
    return deliverToHook(this.store, this.manifest, event, payload);
  }
}

function hostsAt(port: number, web?: string): EmulatorStore["hosts"] {
  const host = `127.0.0.1:${port}`;
  return { host, api: `http://${host}${API_PREFIX}`, web: web ?? `http://${host}`, avatars: `http://${host}/avatars` };
}
