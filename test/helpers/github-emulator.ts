import { execFileSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { setTimeout as delay } from "node:timers/promises";
import { githubUserJson, type GitHubUserJson } from "./github-user-json.js";
import { validateRequest, validateResponse } from "./openapi-validator.js";

/**
 * An in-memory GitHub REST API on loopback, served under `/api/v3` the way
 * GitHub Enterprise Server does, so Probot reaches it with
 * `GHE_HOST=<emulator.host> GHE_PROTOCOL=http`.
 *
 * Every request is checked against GitHub's OpenAPI description first; what the
 * description does not allow, and what the emulator does not implement, is
 * answered 400 and collected in `violations`.
 *
 * Handlers are synchronous once the request body has been read, so each
 * request's read-check-write is atomic on Node's event loop (the lock's
 * compare-and-swap on refs depends on it).
 */

// ---------------------------------------------------------------------------
// A fetch for talking to the emulator under nock

/**
 * A `fetch` over `node:http`, for Octokit's `request.fetch` option when talking to the emulator.
 *
 * nock 15.0.0 breaks the global `fetch` for every request with a body that it lets through
 * (`enableNetConnect`): its interceptor treats the uncompressed body as empty (it checks
 * `.length` on an ArrayBuffer), rebuilds the request from the original one, and so marks the
 * original body as used; `@mswjs/interceptors` then fails with `TypeError: unusable` and Octokit
 * reports status 500. `node:http` requests pass through nock intact, so this goes that way.
 */
export async function loopbackFetch(input: string | URL | Request, init?: RequestInit): Promise<Response> {
  const request = new Request(input, init);
  const body = request.body === null ? undefined : Buffer.from(await request.arrayBuffer());
  const headers: Record<string, string> = {};
  request.headers.forEach((value, key) => {
    headers[key] = value;
  });
  return new Promise<Response>((resolve, reject) => {
    const outgoing = httpRequest(request.url, { method: request.method, headers, signal: request.signal }, (incoming) => {
      const chunks: Buffer[] = [];
      incoming.on("data", (chunk: Buffer) => chunks.push(chunk));
      incoming.on("error", reject);
      incoming.on("end", () => {
        const status = incoming.statusCode ?? 500;
        const responseHeaders = new Headers();
        for (const [key, value] of Object.entries(incoming.headers)) {
          for (const one of Array.isArray(value) ? value : value === undefined ? [] : [value]) responseHeaders.append(key, one);
        }
        const noBody = status === 204 || status === 304 || request.method === "HEAD";
        resolve(new Response(noBody ? null : Buffer.concat(chunks), { status, statusText: incoming.statusMessage ?? "", headers: responseHeaders }));
      });
    });
    outgoing.on("error", reject);
    outgoing.end(body);
  });
}

// ---------------------------------------------------------------------------
// Public types

export type Role = "admin" | "maintain" | "write" | "triage" | "read";
export type UserType = "User" | "Bot" | "Organization";
export type PermissionLevel = "read" | "write";
export type AuthKind = "app-jwt" | "installation" | "none";
export type IssueState = "open" | "closed";

export interface RecordedRequest {
  method: string;
  /** Path without `/api/v3` and without the query string, percent-decoding undone per segment. */
  path: string;
  query: Record<string, string>;
  body: unknown;
  status: number;
  operationId?: string;
  auth: AuthKind;
  response?: unknown;
}

export interface IssuedToken {
  token: string;
  installationId: number;
  /** Repository names the token is limited to; `undefined` means every repository of the installation. */
  repositories: string[] | undefined;
  permissions: Record<string, PermissionLevel>;
  expiresAt: string;
}

export interface FaultReply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface EmulatorOptions {
  appId?: number;
  appSlug?: string;
}

export interface AccountInput {
  login: string;
  type?: "User" | "Organization";
}

export interface RepoInput {
  owner: string;
  name: string;
  installationId: number;
  defaultBranch?: string;
  private?: boolean;
  /** Files of the default branch's initial commit, by path. */
  files?: Record<string, string>;
}

export interface IssueInput {
  title: string;
  body?: string;
  labels?: string[];
  user?: string;
  state?: IssueState;
}

export type UserJson = GitHubUserJson;

export interface LabelJson {
  id: number;
  node_id: string;
  url: string;
  name: string;
  description: string | null;
  color: string;
  default: boolean;
}

export interface AppJson {
  id: number;
  slug: string;
  node_id: string;
  client_id: string;
  owner: UserJson;
  name: string;
  description: string;
  external_url: string;
  html_url: string;
  created_at: string;
  updated_at: string;
  permissions: Record<string, PermissionLevel>;
  events: string[];
  installations_count: number;
}

export interface ReactionRollupJson {
  url: string;
  total_count: number;
  "+1": number;
  "-1": number;
  laugh: number;
  confused: number;
  heart: number;
  hooray: number;
  eyes: number;
  rocket: number;
}

export interface IssueJson {
  id: number;
  node_id: string;
  url: string;
  repository_url: string;
  labels_url: string;
  comments_url: string;
  events_url: string;
  html_url: string;
  timeline_url: string;
  number: number;
  state: IssueState;
  state_reason: string | null;
  title: string;
  body: string | null;
  user: UserJson;
  labels: LabelJson[];
  assignee: null;
  assignees: UserJson[];
  milestone: null;
  locked: boolean;
  active_lock_reason: null;
  comments: number;
  closed_at: string | null;
  closed_by: UserJson | null;
  created_at: string;
  updated_at: string;
  author_association: string;
  performed_via_github_app: AppJson | null;
  reactions: ReactionRollupJson;
  issue_dependencies_summary: { blocked_by: number; blocking: number; total_blocked_by: number; total_blocking: number };
}

export interface CommentJson {
  id: number;
  node_id: string;
  url: string;
  html_url: string;
  issue_url: string;
  body: string;
  user: UserJson;
  created_at: string;
  updated_at: string;
  author_association: string;
  performed_via_github_app: AppJson | null;
  reactions: ReactionRollupJson;
}

export interface ReactionJson {
  id: number;
  node_id: string;
  user: UserJson;
  content: string;
  created_at: string;
}

export interface GitIdentityJson {
  name: string;
  email: string;
  date: string;
}

export interface CommitJson {
  sha: string;
  node_id: string;
  url: string;
  html_url: string;
  author: GitIdentityJson;
  committer: GitIdentityJson;
  tree: { sha: string; url: string };
  message: string;
  parents: Array<{ sha: string; url: string; html_url: string }>;
  verification: { verified: boolean; reason: string; signature: null; payload: null; verified_at: null };
}

export interface RefJson {
  ref: string;
  node_id: string;
  url: string;
  object: { type: string; sha: string; url: string };
}

export interface CheckRunJson {
  id: number;
  head_sha: string;
  node_id: string;
  external_id: string;
  url: string;
  html_url: string;
  details_url: string;
  status: string;
  conclusion: string | null;
  started_at: string;
  completed_at: string | null;
  output: { title: string | null; summary: string | null; text: string | null; annotations_count: number; annotations_url: string };
  name: string;
  check_suite: { id: number };
  app: AppJson;
  pull_requests: never[];
}

// ---------------------------------------------------------------------------
// Internal state

type JsonObject = Record<string, unknown>;

interface UserState {
  login: string;
  id: number;
  type: UserType;
}

interface InstallationState {
  id: number;
  account: UserState;
  permissions: Record<string, PermissionLevel>;
  repositorySelection: "all" | "selected";
  createdAt: string;
}

interface GitIdentity {
  name: string;
  email: string;
  /** Unix seconds. */
  time: number;
}

interface TreeEntry {
  name: string;
  mode: string;
  type: "blob" | "tree" | "commit";
  sha: string;
}

type LeafEntry = Omit<TreeEntry, "name">;

type GitObject =
  | { type: "blob"; content: Buffer }
  | { type: "tree"; entries: TreeEntry[] }
  | { type: "commit"; tree: string; parents: string[]; message: string; author: GitIdentity; committer: GitIdentity };

interface LabelState {
  id: number;
  name: string;
  color: string;
  description: string | null;
}

interface ReactionState {
  id: number;
  user: string;
  content: string;
  createdAt: string;
}

interface IssueRecord {
  id: number;
  number: number;
  title: string;
  body: string | null;
  user: string;
  labels: string[];
  state: IssueState;
  stateReason: string | null;
  createdAt: string;
  updatedAt: string;
  closedAt: string | null;
  closedBy: string | null;
  viaApp: boolean;
  blockedBy: number[];
  reactions: ReactionState[];
  commentIds: number[];
}

interface CommentRecord {
  id: number;
  repoKey: string;
  issueNumber: number;
  body: string;
  user: string;
  viaApp: boolean;
  createdAt: string;
  updatedAt: string;
  reactions: ReactionState[];
}

interface CheckRunRecord {
  id: number;
  suiteId: number;
  name: string;
  headSha: string;
  externalId: string;
  detailsUrl: string | undefined;
  status: string;
  conclusion: string | null;
  startedAt: string;
  completedAt: string | null;
  output: { title: string | null; summary: string | null; text: string | null };
}

interface PullRecord {
  id: number;
  number: number;
  title: string;
  body: string;
  head: string;
  headSha: string;
  base: string;
  baseSha: string;
  draft: boolean;
  state: "open" | "closed";
  user: UserState;
  maintainerCanModify: boolean;
  requestedReviewers: UserState[];
  createdAt: string;
  updatedAt: string;
}

/** A real bare git repository standing behind an emulated repository (served by `git http-backend`). */
export interface GitBacking {
  cloneUrl: string;
  gitDir: string;
}

interface RepoState {
  id: number;
  pulls: Map<number, PullRecord>;
  git: GitBacking | undefined;
  owner: UserState;
  name: string;
  fullName: string;
  installationId: number;
  defaultBranch: string;
  private: boolean;
  createdAt: string;
  objects: Map<string, GitObject>;
  /** Full ref name (`refs/heads/main`) → object sha. */
  refs: Map<string, string>;
  issues: Map<number, IssueRecord>;
  nextIssueNumber: number;
  /** Lower-cased name → label. */
  labels: Map<string, LabelState>;
  /** Lower-cased login → role. */
  roles: Map<string, Role>;
  checkRuns: Map<number, CheckRunRecord>;
}

interface RequestContext {
  params: Record<string, string>;
  query: Record<string, string>;
  body: unknown;
  accept: string;
  /** Raw request path below `/api/v3`, for pagination links. */
  rawPath: string;
  token: IssuedToken | undefined;
  /** The repository of a `/repos/{owner}/{repo}/…` route, already authorised. */
  repo: () => RepoState;
}

interface Reply {
  status: number;
  body?: unknown;
  /** Sent as `text/plain` instead of JSON. */
  text?: string;
  headers?: Record<string, string>;
}

interface Route {
  auth: "app-jwt" | "installation";
  /** The installation permission the endpoint needs, as GitHub enforces it for integrations. */
  permission?: readonly [string, PermissionLevel];
  handle: (ctx: RequestContext) => Reply;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly extra: JsonObject = {},
  ) {
    super(message);
  }
}

// ---------------------------------------------------------------------------
// Small helpers

const API_PREFIX = "/api/v3";
const REACTION_CONTENTS = ["+1", "-1", "laugh", "confused", "heart", "hooray", "eyes", "rocket"] as const;
const DEFAULT_PERMISSIONS: Record<string, PermissionLevel> = {
  metadata: "read",
  contents: "write",
  issues: "write",
  checks: "write",
  pull_requests: "write",
};
/** The events app.yml subscribes to, as an App registered from it has them. */
const APP_EVENTS = ["issues", "issue_comment", "check_run", "check_suite", "pull_request", "pull_request_review", "status"];

function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function field(body: unknown, key: string): unknown {
  return isObject(body) ? body[key] : undefined;
}

function stringField(body: unknown, key: string): string | undefined {
  const value = field(body, key);
  return typeof value === "string" ? value : undefined;
}

function timestamp(date = new Date()): string {
  return date.toISOString().replace(/\.\d{3}Z$/, "Z");
}

function nodeId(prefix: string, id: number | string): string {
  return `${prefix}_${Buffer.from(`0:${id}`).toString("base64url")}`;
}

function gitHash(type: string, content: Buffer): string {
  return createHash("sha1").update(`${type} ${content.length}\0`).update(content).digest("hex");
}

/** Git orders tree entries by name, comparing a subtree's name as if it ended in "/". */
function sortTreeEntries(entries: TreeEntry[]): TreeEntry[] {
  const key = (entry: TreeEntry): Buffer => Buffer.from(entry.type === "tree" ? `${entry.name}/` : entry.name);
  return [...entries].sort((a, b) => Buffer.compare(key(a), key(b)));
}

function identityLine(identity: GitIdentity): string {
  return `${identity.name} <${identity.email}> ${identity.time} +0000`;
}

function serialize(object: GitObject): Buffer {
  switch (object.type) {
    case "blob":
      return object.content;
    case "tree":
      return Buffer.concat(
        object.entries.map((entry) =>
          Buffer.concat([Buffer.from(`${entry.mode.replace(/^0+/, "")} ${entry.name}\0`), Buffer.from(entry.sha, "hex")]),
        ),
      );
    case "commit": {
      const lines = [`tree ${object.tree}`, ...object.parents.map((parent) => `parent ${parent}`)];
      lines.push(`author ${identityLine(object.author)}`, `committer ${identityLine(object.committer)}`, "", object.message);
      return Buffer.from(lines.join("\n"));
    }
  }
}

function isSha(value: string): boolean {
  return /^[0-9a-f]{40}$/.test(value);
}

function positiveInt(value: string | undefined): number | undefined {
  if (value === undefined || !/^\d+$/.test(value)) return undefined;
  return Number(value);
}

function notFound(): HttpError {
  return new HttpError(404, "Not Found");
}

/** The `permission` field GitHub reports for a role: maintain reads as write, triage as read. */
function legacyPermission(role: Role | undefined): "admin" | "write" | "read" | "none" {
  switch (role) {
    case "admin":
      return "admin";
    case "maintain":
    case "write":
      return "write";
    case "triage":
    case "read":
      return "read";
    case undefined:
      return "none";
  }
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

function decodeJwtPart(part: string): unknown {
  try {
    return JSON.parse(Buffer.from(part, "base64url").toString("utf8"));
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------

export class GitHubEmulator {
  readonly appId: number;
  readonly appSlug: string;
  /** The App's own permissions and events (`GET /app`); tests change them to play a misconfigured App. */
  appPermissions: Record<string, PermissionLevel> = { ...DEFAULT_PERMISSIONS };
  appEvents: string[] = [...APP_EVENTS];
  /** Every request, in the order the emulator answered them. */
  readonly requests: RecordedRequest[] = [];
  /** Requests the OpenAPI description does not allow, or the emulator does not implement. */
  readonly violations: string[] = [];
  /** Installation tokens handed out, for assertions about scoping. */
  readonly tokens: IssuedToken[] = [];
  /** Consulted before routing; a reply it returns is sent as-is (for fault injection). */
  onRequest: ((r: { method: string; path: string }) => FaultReply | undefined) | undefined;
  /** Delay before each request is handled. */
  latencyMs = 0;
  /**
   * Status for routes the description has but the emulator does not implement. Note that
   * Probot's retry plugin (unless disabled) retries 5xx answers three times with 1+4+9 s back-off.
   */
  unimplementedStatus = 501;
  /** Also check the emulator's own 2xx JSON answers against the description (an emulator bug is then a violation). */
  checkResponses = false;

  private readonly server: Server;
  private port = 0;
  private readonly users = new Map<string, UserState>();
  private readonly installations = new Map<number, InstallationState>();
  private readonly repos = new Map<string, RepoState>();
  private readonly comments_ = new Map<number, CommentRecord>();
  private readonly tokensByValue = new Map<string, IssuedToken>();
  private readonly createdAt = timestamp(new Date(Date.UTC(2024, 0, 2, 3, 4, 5)));
  private readonly appOwner: UserState;
  private readonly bot: UserState;
  private nextUserId = 1000;
  private nextRepoId = 100_000;
  private nextIssueId = 2_000_000;
  private nextCommentId = 3_000_000;
  private nextReactionId = 4_000_000;
  private nextLabelId = 5_000_000;
  private nextCheckRunId = 6_000_000;
  private nextCheckSuiteId = 7_000_000;
  private nextRequestId = 1;

  private constructor(options: EmulatorOptions) {
    this.appId = options.appId ?? 1;
    this.appSlug = options.appSlug ?? "afk";
    this.appOwner = this.addUser(`${this.appSlug}-developers`, "Organization");
    this.bot = this.addUser(`${this.appSlug}[bot]`, "Bot");
    this.server = createServer((req, res) => {
      this.serve(req, res).catch((error: unknown) => {
        const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
        this.violations.push(`emulator crashed on ${req.method ?? "?"} ${req.url ?? "?"}: ${message}`);
        if (!res.headersSent) res.writeHead(500, { "content-type": "application/json; charset=utf-8" });
        res.end(JSON.stringify({ message: "emulator error" }));
      });
    });
  }

  static async start(options: EmulatorOptions = {}): Promise<GitHubEmulator> {
    const emulator = new GitHubEmulator(options);
    // Load and index the 13 MB description now rather than inside the first request.
    validateRequest({ method: "GET", path: "/app", query: {}, body: undefined });
    await new Promise<void>((resolve, reject) => {
      emulator.server.once("error", reject);
      emulator.server.listen(0, "127.0.0.1", () => resolve());
    });
    const address = emulator.server.address();
    if (address === null || typeof address === "string") throw new Error("emulator did not get a TCP port");
    emulator.port = address.port;
    return emulator;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.close((error) => (error ? reject(error) : resolve()));
      this.server.closeAllConnections();
    });
  }

  /** `127.0.0.1:PORT`, for `GHE_HOST`. */
  get host(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** `http://127.0.0.1:PORT/api/v3`, for an Octokit `baseUrl`. */
  get apiUrl(): string {
    return `http://${this.host}${API_PREFIX}`;
  }

  /** The web root links point at, e.g. `html_url`s. */
  get webUrl(): string {
    return `http://${this.host}`;
  }

  /** The login of the App's bot user, e.g. `afk[bot]`. */
  get botLogin(): string {
    return this.bot.login;
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

  addUser(login: string, type: UserType = "User"): UserState {
    const existing = this.users.get(login.toLowerCase());
    if (existing !== undefined) return existing;
    const user: UserState = { login, id: this.nextUserId++, type };
    this.users.set(login.toLowerCase(), user);
    return user;
  }

  addInstallation(
    id: number,
    account: string | AccountInput,
    options: { permissions?: Record<string, PermissionLevel>; repositorySelection?: "all" | "selected" } = {},
  ): void {
    const input = typeof account === "string" ? { login: account } : account;
    const user = this.users.get(input.login.toLowerCase()) ?? this.addUser(input.login, input.type ?? "Organization");
    this.installations.set(id, {
      id,
      account: user,
      permissions: options.permissions ?? { ...DEFAULT_PERMISSIONS },
      repositorySelection: options.repositorySelection ?? "selected",
      createdAt: this.createdAt,
    });
  }

  /** Changes what an installation is granted (an owner who has not accepted a new permission, say). */
  setInstallationPermissions(id: number, permissions: Record<string, PermissionLevel>): void {
    const installation = this.installations.get(id);
    if (installation === undefined) throw new Error(`GitHub emulator: no installation ${id}`);
    installation.permissions = { ...permissions };
  }

  /** Adds a repository; an installation that does not exist yet is created on the owner's account. */
  addRepo(input: RepoInput): void {
    if (!this.installations.has(input.installationId)) this.addInstallation(input.installationId, input.owner);
    const fullName = `${input.owner}/${input.name}`;
    if (this.repos.has(fullName.toLowerCase())) throw new Error(`addRepo: ${fullName} exists`);
    const owner = this.users.get(input.owner.toLowerCase()) ?? this.addUser(input.owner, "Organization");
    const repo: RepoState = {
      id: this.nextRepoId++,
      owner,
      name: input.name,
      fullName,
      installationId: input.installationId,
      defaultBranch: input.defaultBranch ?? "main",
      private: input.private ?? false,
      createdAt: this.createdAt,
      objects: new Map(),
      refs: new Map(),
      issues: new Map(),
      nextIssueNumber: 1,
      labels: new Map(),
      roles: new Map(),
      checkRuns: new Map(),
      pulls: new Map(),
      git: undefined,
    };
    this.repos.set(fullName.toLowerCase(), repo);
    const files = new Map<string, LeafEntry>();
    for (const [path, content] of Object.entries(input.files ?? {})) {
      setLeaf(files, path, { mode: "100644", type: "blob", sha: this.store(repo, { type: "blob", content: Buffer.from(content) }) });
    }
    const commit = this.store(repo, {
      type: "commit",
      tree: this.writeTree(repo, files),
      parents: [],
      message: "Initial commit",
      author: this.seederIdentity(),
      committer: this.seederIdentity(),
    });
    repo.refs.set(`refs/heads/${repo.defaultBranch}`, commit);
  }

  /** Commits a change to one file (or its deletion with `null`) on the default branch. */
  setFile(fullName: string, path: string, content: string | null): void {
    const repo = this.repoState(fullName);
    const branch = `refs/heads/${repo.defaultBranch}`;
    const head = repo.refs.get(branch);
    const files = new Map<string, LeafEntry>();
    const parent = head === undefined ? undefined : this.commitObject(repo, head);
    if (parent !== undefined) this.flatten(repo, parent.tree, "", files);
    if (content === null) deletePath(files, path);
    else setLeaf(files, path, { mode: "100644", type: "blob", sha: this.store(repo, { type: "blob", content: Buffer.from(content) }) });
    const commit = this.store(repo, {
      type: "commit",
      tree: this.writeTree(repo, files),
      parents: head === undefined ? [] : [head],
      message: content === null ? `Delete ${path}` : `Update ${path}`,
      author: this.seederIdentity(),
      committer: this.seederIdentity(),
    });
    repo.refs.set(branch, commit);
  }

  setPermission(fullName: string, login: string, role: Role): void {
    this.addUser(login);
    this.repoState(fullName).roles.set(login.toLowerCase(), role);
  }

  addIssue(fullName: string, input: IssueInput): IssueJson {
    const repo = this.repoState(fullName);
    const issue = this.createIssue(repo, {
      title: input.title,
      body: input.body ?? null,
      labels: input.labels ?? [],
      user: input.user === undefined ? repo.owner.login : this.addUser(input.user).login,
      viaApp: false,
    });
    if (input.state === "closed") this.changeState(issue, "closed", "completed", issue.user);
    return this.issueJson(repo, issue);
  }

  /** Puts labels on an issue as GitHub does before it sends `issues.labeled` (missing repository labels are created). */
  seedLabels(fullName: string, number: number, labels: string[]): void {
    const repo = this.repoState(fullName);
    const issue = this.issueState(repo, number);
    for (const name of this.ensureLabels(repo, labels)) if (!issue.labels.includes(name)) issue.labels.push(name);
    issue.updatedAt = timestamp();
  }

  setIssueState(fullName: string, number: number, state: IssueState): void {
    const issue = this.issueState(this.repoState(fullName), number);
    this.changeState(issue, state, state === "closed" ? "completed" : "reopened", issue.user);
  }

  addBlockedBy(fullName: string, number: number, blockingNumber: number): void {
    const repo = this.repoState(fullName);
    const issue = this.issueState(repo, number);
    this.issueState(repo, blockingNumber);
    if (!issue.blockedBy.includes(blockingNumber)) issue.blockedBy.push(blockingNumber);
  }

  /** Adds a comment; `createdAt`/`updatedAt` let a test place it (an edit after a run was requested, say). */
  addComment(fullName: string, issueNumber: number, input: { body: string; user: string; createdAt?: Date; updatedAt?: Date }): CommentJson {
    const repo = this.repoState(fullName);
    const user = this.addUser(input.user);
    const comment = this.createComment(repo, this.issueState(repo, issueNumber), input.body, user.login, user === this.bot);
    if (input.createdAt !== undefined) comment.createdAt = timestamp(input.createdAt);
    if (input.updatedAt !== undefined) comment.updatedAt = timestamp(input.updatedAt);
    return this.commentJson(repo, comment);
  }

  /** Edits an issue's title or body as a person would on GitHub. */
  editIssue(fullName: string, number: number, input: { title?: string; body?: string }): void {
    const issue = this.issueState(this.repoState(fullName), number);
    if (input.title !== undefined) issue.title = input.title;
    if (input.body !== undefined) issue.body = input.body;
    issue.updatedAt = timestamp();
  }

  // -------------------------------------------------------------------------
  // Inspection

  issue(fullName: string, number: number): IssueJson {
    const repo = this.repoState(fullName);
    return this.issueJson(repo, this.issueState(repo, number));
  }

  comments(fullName: string, number: number): CommentJson[] {
    const repo = this.repoState(fullName);
    return this.commentsOf(this.issueState(repo, number)).map((comment) => this.commentJson(repo, comment));
  }

  reactions(fullName: string, number: number): ReactionJson[] {
    return this.issueState(this.repoState(fullName), number).reactions.map((reaction) => this.reactionJson(reaction));
  }

  commentReactions(fullName: string, commentId: number): ReactionJson[] {
    const comment = this.comments_.get(commentId);
    if (comment === undefined || comment.repoKey !== fullName.toLowerCase()) throw new Error(`GitHub emulator: no comment ${commentId} in ${fullName}`);
    return comment.reactions.map((reaction) => this.reactionJson(reaction));
  }

  labels(fullName: string, number: number): string[] {
    return [...this.issueState(this.repoState(fullName), number).labels];
  }

  /** The sha a ref points at; `ref` with or without the `refs/` prefix (`afk/lock`, `heads/main`). */
  ref(fullName: string, ref: string): string | undefined {
    return this.repoState(fullName).refs.get(ref.startsWith("refs/") ? ref : `refs/${ref}`);
  }

  commit(fullName: string, sha: string): CommitJson | undefined {
    const repo = this.repoState(fullName);
    return this.commitObject(repo, sha) === undefined ? undefined : this.commitJson(repo, sha);
  }

  /** The file's content at the head of the default branch, or undefined. */
  file(fullName: string, path: string): string | undefined {
    const repo = this.repoState(fullName);
    const head = repo.refs.get(`refs/heads/${repo.defaultBranch}`);
    const found = head === undefined ? undefined : this.lookupPath(repo, head, path);
    if (found === undefined || found.type !== "blob") return undefined;
    const blob = repo.objects.get(found.sha);
    return blob?.type === "blob" ? blob.content.toString("utf8") : undefined;
  }

  checkRuns(fullName: string): CheckRunJson[] {
    const repo = this.repoState(fullName);
    return [...repo.checkRuns.values()].map((run) => this.checkRunJson(repo, run));
  }

  // -------------------------------------------------------------------------
  // The router: one entry per (method, OpenAPI path template).

  private readonly routes = new Map<string, Route>([
    ["GET /app", { auth: "app-jwt", handle: () => ({ status: 200, body: this.appJson() }) }],
    ["GET /app/installations", { auth: "app-jwt", handle: (ctx) => this.page(ctx, [...this.installations.values()].map((i) => this.installationJson(i))) }],
    ["GET /app/installations/{installation_id}", { auth: "app-jwt", handle: (ctx) => ({ status: 200, body: this.installationJson(this.installationOf(ctx)) }) }],
    ["POST /app/installations/{installation_id}/access_tokens", { auth: "app-jwt", handle: (ctx) => this.createAccessToken(ctx) }],
    ["GET /installation/repositories", { auth: "installation", handle: (ctx) => this.listInstallationRepos(ctx) }],

    ["GET /repos/{owner}/{repo}", { auth: "installation", permission: ["metadata", "read"], handle: (ctx) => ({ status: 200, body: this.repoJson(ctx.repo()) }) }],
    ["GET /repos/{owner}/{repo}/installation", { auth: "app-jwt", handle: (ctx) => ({ status: 200, body: this.installationJson(this.installationState(ctx.repo().installationId)) }) }],
    ["GET /repos/{owner}/{repo}/collaborators/{username}/permission", { auth: "installation", permission: ["metadata", "read"], handle: (ctx) => this.collaboratorPermission(ctx) }],
    ["GET /repos/{owner}/{repo}/contents/{path}", { auth: "installation", permission: ["contents", "read"], handle: (ctx) => this.getContent(ctx) }],

    ["GET /repos/{owner}/{repo}/issues", { auth: "installation", permission: ["issues", "read"], handle: (ctx) => this.listIssues(ctx) }],
    ["POST /repos/{owner}/{repo}/issues", { auth: "installation", permission: ["issues", "write"], handle: (ctx) => this.createIssueRoute(ctx) }],
    ["GET /repos/{owner}/{repo}/issues/{issue_number}", { auth: "installation", permission: ["issues", "read"], handle: (ctx) => ({ status: 200, body: this.issueJson(ctx.repo(), this.issueOf(ctx)) }) }],
    ["PATCH /repos/{owner}/{repo}/issues/{issue_number}", { auth: "installation", permission: ["issues", "write"], handle: (ctx) => this.updateIssue(ctx) }],
    ["GET /repos/{owner}/{repo}/issues/{issue_number}/dependencies/blocked_by", { auth: "installation", permission: ["issues", "read"], handle: (ctx) => this.listBlockedBy(ctx) }],

    ["GET /repos/{owner}/{repo}/issues/{issue_number}/comments", { auth: "installation", permission: ["issues", "read"], handle: (ctx) => this.listComments(ctx) }],
    ["POST /repos/{owner}/{repo}/issues/{issue_number}/comments", { auth: "installation", permission: ["issues", "write"], handle: (ctx) => this.createCommentRoute(ctx) }],
    ["GET /repos/{owner}/{repo}/issues/comments/{comment_id}", { auth: "installation", permission: ["issues", "read"], handle: (ctx) => ({ status: 200, body: this.commentJson(ctx.repo(), this.commentOf(ctx)) }) }],
    ["PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}", { auth: "installation", permission: ["issues", "write"], handle: (ctx) => this.updateComment(ctx) }],
    ["DELETE /repos/{owner}/{repo}/issues/comments/{comment_id}", { auth: "installation", permission: ["issues", "write"], handle: (ctx) => this.deleteComment(ctx) }],

    ["GET /repos/{owner}/{repo}/issues/{issue_number}/reactions", { auth: "installation", permission: ["issues", "read"], handle: (ctx) => this.listReactions(ctx, this.issueOf(ctx).reactions) }],
    ["POST /repos/{owner}/{repo}/issues/{issue_number}/reactions", { auth: "installation", permission: ["issues", "write"], handle: (ctx) => this.react(ctx, this.issueOf(ctx).reactions) }],
    ["DELETE /repos/{owner}/{repo}/issues/{issue_number}/reactions/{reaction_id}", { auth: "installation", permission: ["issues", "write"], handle: (ctx) => this.unreact(ctx, this.issueOf(ctx).reactions) }],
    ["GET /repos/{owner}/{repo}/issues/comments/{comment_id}/reactions", { auth: "installation", permission: ["issues", "read"], handle: (ctx) => this.listReactions(ctx, this.commentOf(ctx).reactions) }],
    ["POST /repos/{owner}/{repo}/issues/comments/{comment_id}/reactions", { auth: "installation", permission: ["issues", "write"], handle: (ctx) => this.react(ctx, this.commentOf(ctx).reactions) }],
    ["DELETE /repos/{owner}/{repo}/issues/comments/{comment_id}/reactions/{reaction_id}", { auth: "installation", permission: ["issues", "write"], handle: (ctx) => this.unreact(ctx, this.commentOf(ctx).reactions) }],

    ["GET /repos/{owner}/{repo}/issues/{issue_number}/labels", { auth: "installation", permission: ["issues", "read"], handle: (ctx) => this.page(ctx, this.issueLabelsJson(ctx.repo(), this.issueOf(ctx))) }],
    ["POST /repos/{owner}/{repo}/issues/{issue_number}/labels", { auth: "installation", permission: ["issues", "write"], handle: (ctx) => this.addLabels(ctx, false) }],
    ["PUT /repos/{owner}/{repo}/issues/{issue_number}/labels", { auth: "installation", permission: ["issues", "write"], handle: (ctx) => this.addLabels(ctx, true) }],
    ["DELETE /repos/{owner}/{repo}/issues/{issue_number}/labels", { auth: "installation", permission: ["issues", "write"], handle: (ctx) => this.removeAllLabels(ctx) }],
    ["DELETE /repos/{owner}/{repo}/issues/{issue_number}/labels/{name}", { auth: "installation", permission: ["issues", "write"], handle: (ctx) => this.removeLabel(ctx) }],

    ["POST /repos/{owner}/{repo}/git/trees", { auth: "installation", permission: ["contents", "write"], handle: (ctx) => this.createTree(ctx) }],
    ["GET /repos/{owner}/{repo}/git/trees/{tree_sha}", { auth: "installation", permission: ["contents", "read"], handle: (ctx) => this.getTree(ctx) }],
    ["POST /repos/{owner}/{repo}/git/commits", { auth: "installation", permission: ["contents", "write"], handle: (ctx) => this.createCommit(ctx) }],
    ["GET /repos/{owner}/{repo}/git/commits/{commit_sha}", { auth: "installation", permission: ["contents", "read"], handle: (ctx) => this.getCommit(ctx) }],
    ["GET /repos/{owner}/{repo}/git/ref/{ref}", { auth: "installation", permission: ["contents", "read"], handle: (ctx) => this.getRef(ctx) }],
    ["POST /repos/{owner}/{repo}/git/refs", { auth: "installation", permission: ["contents", "write"], handle: (ctx) => this.createRef(ctx) }],
    ["PATCH /repos/{owner}/{repo}/git/refs/{ref}", { auth: "installation", permission: ["contents", "write"], handle: (ctx) => this.updateRef(ctx) }],
    ["DELETE /repos/{owner}/{repo}/git/refs/{ref}", { auth: "installation", permission: ["contents", "write"], handle: (ctx) => this.deleteRef(ctx) }],

    ["GET /repos/{owner}/{repo}/pulls", { auth: "installation", permission: ["pull_requests", "read"], handle: (ctx) => this.listPulls(ctx) }],
    ["POST /repos/{owner}/{repo}/pulls", { auth: "installation", permission: ["pull_requests", "write"], handle: (ctx) => this.createPull(ctx) }],
    ["GET /repos/{owner}/{repo}/pulls/{pull_number}", { auth: "installation", permission: ["pull_requests", "read"], handle: (ctx) => ({ status: 200, body: this.pullJson(ctx.repo(), this.pullOf(ctx), "full") }) }],
    ["PATCH /repos/{owner}/{repo}/pulls/{pull_number}", { auth: "installation", permission: ["pull_requests", "write"], handle: (ctx) => this.updatePull(ctx) }],
    ["POST /repos/{owner}/{repo}/pulls/{pull_number}/requested_reviewers", { auth: "installation", permission: ["pull_requests", "write"], handle: (ctx) => this.requestReviewers(ctx) }],
    ["POST /repos/{owner}/{repo}/check-runs", { auth: "installation", permission: ["checks", "write"], handle: (ctx) => this.createCheckRun(ctx) }],
    ["GET /repos/{owner}/{repo}/check-runs/{check_run_id}", { auth: "installation", permission: ["checks", "read"], handle: (ctx) => ({ status: 200, body: this.checkRunJson(ctx.repo(), this.checkRunOf(ctx)) }) }],
    ["PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}", { auth: "installation", permission: ["checks", "write"], handle: (ctx) => this.updateCheckRun(ctx) }],
  ]);

  /** The `METHOD template` keys the emulator implements (each must exist in the description). */
  get implementedRoutes(): string[] {
    return [...this.routes.keys()];
  }

  // -------------------------------------------------------------------------
  // Serving

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
    if (this.latencyMs > 0) await delay(this.latencyMs);
    // From here on everything is synchronous: one request's state change cannot interleave with another's.
    const method = (req.method ?? "GET").toUpperCase();
    const url = new URL(req.url ?? "/", "http://emulator.invalid");
    const query: Record<string, string> = {};
    for (const [key, value] of url.searchParams) query[key] = value;
    const rawPath = url.pathname.startsWith(`${API_PREFIX}/`) ? url.pathname.slice(API_PREFIX.length) : url.pathname;
    const path = rawPath.split("/").map(decodeSegment).join("/");
    const auth = this.identify(req.headers.authorization);
    const record: RecordedRequest = { method, path, query, body: undefined, status: 0, auth: auth.kind };
    this.requests.push(record);

    const reply = this.dispatch(req, record, { chunks, rawPath, under: url.pathname.startsWith(`${API_PREFIX}/`), auth });
    record.status = reply.status;
    if (reply.body !== undefined) record.response = reply.body;
    this.send(res, reply);
  }

  private dispatch(
    req: IncomingMessage,
    record: RecordedRequest,
    input: { chunks: Buffer[]; rawPath: string; under: boolean; auth: Authentication },
  ): Reply {
    const { method, path, query } = record;
    const violation = (message: string, status = 400): Reply => {
      this.violations.push(`${method} ${path}: ${message}`);
      return { status, body: { message: `GitHub emulator: ${message}`, documentation_url: "https://docs.github.com/rest" } };
    };
    if (!input.under) return violation(`request outside ${API_PREFIX} (is Octokit's baseUrl ${this.apiUrl}?)`, 404);

    let body: unknown;
    if (input.chunks.length > 0) {
      const text = Buffer.concat(input.chunks).toString("utf8");
      if (text.trim() !== "") {
        try {
          body = JSON.parse(text);
        } catch {
          return violation(`Problems parsing JSON: ${text.slice(0, 200)}`);
        }
      }
    }
    record.body = body;

    const fault = this.onRequest?.({ method, path });
    if (fault !== undefined) return { status: fault.status, body: fault.body, ...(fault.headers === undefined ? {} : { headers: fault.headers }) };

    const validation = validateRequest({ method, path: input.rawPath, query, body });
    if (!validation.ok) return violation(validation.error);
    record.operationId = validation.operationId;
    const route = this.routes.get(`${method} ${validation.template}`);
    if (route === undefined) {
      return violation(`${validation.operationId} (${method} ${validation.template}) is not implemented by the GitHub emulator`, this.unimplementedStatus);
    }

    try {
      const ctx = this.authorize(route, input.auth, {
        params: validation.params,
        query,
        body,
        accept: req.headers.accept ?? "",
        rawPath: input.rawPath,
      });
      const reply = route.handle(ctx);
      if (this.checkResponses && reply.status < 300 && reply.body !== undefined) {
        const checked = validateResponse({ method, template: validation.template, status: reply.status, body: reply.body });
        if (!checked.ok) this.violations.push(`emulator bug: ${checked.error}`);
      }
      return reply;
    } catch (error) {
      if (error instanceof HttpError) {
        return {
          status: error.status,
          body: { message: error.message, ...error.extra, documentation_url: "https://docs.github.com/rest", status: String(error.status) },
        };
      }
      throw error;
    }
  }

  private send(res: ServerResponse, reply: Reply): void {
    const headers: Record<string, string> = {
      "x-github-request-id": `EMU:${(this.nextRequestId++).toString(16).toUpperCase()}`,
      "x-github-media-type": "github.v3; format=json",
      ...reply.headers,
    };
    if (reply.text !== undefined) {
      const payload = Buffer.from(reply.text, "utf8");
      res.writeHead(reply.status, { "content-type": "text/plain; charset=utf-8", "content-length": String(payload.length), ...headers });
      res.end(payload);
    } else if (reply.body === undefined || reply.status === 204) {
      res.writeHead(reply.status, headers);
      res.end();
    } else {
      const payload = Buffer.from(JSON.stringify(reply.body), "utf8");
      res.writeHead(reply.status, { "content-type": "application/json; charset=utf-8", "content-length": String(payload.length), ...headers });
      res.end(payload);
    }
  }

  // -------------------------------------------------------------------------
  // Authentication and authorisation

  private identify(header: string | undefined): Authentication {
    if (header === undefined) return { kind: "none", problem: "Requires authentication" };
    const match = /^(token|bearer)\s+(\S+)$/i.exec(header.trim());
    const credential = match?.[2];
    if (credential === undefined) return { kind: "none", problem: "Bad credentials" };
    const parts = credential.split(".");
    if (parts.length === 3) {
      const payload = decodeJwtPart(parts[1] ?? "");
      if (!isObject(decodeJwtPart(parts[0] ?? "")) || !isObject(payload)) return { kind: "none", problem: "A JSON web token could not be decoded" };
      if (String(payload.iss) !== String(this.appId)) {
        return { kind: "none", problem: `'Issuer' claim ('iss') must be an Integer and match the App's id ${this.appId}` };
      }
      if (typeof payload.exp === "number" && payload.exp * 1000 < Date.now()) {
        return { kind: "none", problem: "'Expiration time' claim ('exp') is too far in the past" };
      }
      return { kind: "app-jwt" };
    }
    const token = this.tokensByValue.get(credential);
    if (token === undefined) return { kind: "none", problem: "Bad credentials" };
    if (Date.parse(token.expiresAt) < Date.now()) return { kind: "none", problem: "Bad credentials" };
    return { kind: "installation", token };
  }

  private authorize(route: Route, auth: Authentication, base: Omit<RequestContext, "token" | "repo">): RequestContext {
    if (route.auth === "app-jwt" && auth.kind !== "app-jwt") {
      throw new HttpError(401, auth.kind === "none" ? auth.problem : "A JSON web token could not be decoded");
    }
    if (route.auth === "installation" && auth.kind !== "installation") {
      throw new HttpError(401, auth.kind === "none" ? auth.problem : "Bad credentials");
    }
    const token = auth.kind === "installation" ? auth.token : undefined;
    let repo: RepoState | undefined;
    const { owner, repo: name } = base.params;
    if (owner !== undefined && name !== undefined) {
      repo = this.repos.get(`${owner}/${name}`.toLowerCase());
      // A token never learns about repositories outside its installation: GitHub answers 404, not 401/403.
      if (repo === undefined || (token !== undefined && token.installationId !== repo.installationId)) throw notFound();
      if (token?.repositories !== undefined && !token.repositories.some((r) => r.toLowerCase() === repo?.name.toLowerCase())) {
        throw new HttpError(403, "Resource not accessible by integration");
      }
    }
    if (token !== undefined && route.permission !== undefined) {
      const [permission, level] = route.permission;
      const granted = token.permissions[permission];
      if (granted === undefined || (level === "write" && granted !== "write")) throw new HttpError(403, "Resource not accessible by integration");
    }
    const resolved = repo;
    return {
      ...base,
      token,
      repo: () => {
        if (resolved === undefined) throw notFound();
        return resolved;
      },
    };
  }

  private createAccessToken(ctx: RequestContext): Reply {
    const installation = this.installationOf(ctx);
    const repos = this.reposOfInstallation(installation.id);
    let selected: RepoState[] | undefined;
    const names = field(ctx.body, "repositories");
    const ids = field(ctx.body, "repository_ids");
    if (Array.isArray(names) || Array.isArray(ids)) {
      selected = [];
      for (const name of Array.isArray(names) ? names : []) {
        const repo = repos.find((r) => typeof name === "string" && r.name.toLowerCase() === name.toLowerCase());
        if (repo === undefined) throw inaccessibleRepositories();
        selected.push(repo);
      }
      for (const id of Array.isArray(ids) ? ids : []) {
        const repo = repos.find((r) => r.id === id);
        if (repo === undefined) throw inaccessibleRepositories();
        if (!selected.includes(repo)) selected.push(repo);
      }
    }
    let permissions = { ...installation.permissions };
    const requested = field(ctx.body, "permissions");
    if (isObject(requested)) {
      // GitHub always grants metadata:read, whatever a token asks for.
      permissions = { metadata: "read" };
      for (const [name, level] of Object.entries(requested)) {
        const granted = installation.permissions[name];
        if ((level !== "read" && level !== "write") || granted === undefined || (level === "write" && granted !== "write")) {
          throw new HttpError(422, "The permissions requested are not granted to this installation.");
        }
        permissions[name] = level;
      }
    }
    const issued: IssuedToken = {
      token: `ghs_${randomBytes(18).toString("hex").slice(0, 36)}`,
      installationId: installation.id,
      repositories: selected?.map((repo) => repo.name),
      permissions,
      expiresAt: timestamp(new Date(Date.now() + 3600_000)),
    };
    this.tokens.push(issued);
    this.tokensByValue.set(issued.token, issued);
    const body: JsonObject = {
      token: issued.token,
      expires_at: issued.expiresAt,
      permissions,
      repository_selection: selected === undefined ? installation.repositorySelection : "selected",
    };
    if (selected !== undefined) body.repositories = selected.map((repo) => this.repoJson(repo, "repository"));
    return { status: 201, body };
  }

  private listInstallationRepos(ctx: RequestContext): Reply {
    const token = ctx.token;
    if (token === undefined) throw new HttpError(401, "Bad credentials");
    const installation = this.installationState(token.installationId);
    const repos = this.reposOfInstallation(token.installationId).filter(
      (repo) => token.repositories === undefined || token.repositories.includes(repo.name),
    );
    const { perPage, page } = pageParams(ctx.query);
    return {
      status: 200,
      body: {
        total_count: repos.length,
        repository_selection: installation.repositorySelection,
        repositories: repos.slice((page - 1) * perPage, page * perPage).map((repo) => this.repoJson(repo, "repository")),
      },
      headers: this.linkHeader(ctx, repos.length),
    };
  }

  // -------------------------------------------------------------------------
  // Repository, permission, contents

  private collaboratorPermission(ctx: RequestContext): Reply {
    const repo = ctx.repo();
    const username = ctx.params.username ?? "";
    const user = this.users.get(username.toLowerCase());
    if (user === undefined) throw new HttpError(404, `${username} is not a user`);
    let role = repo.roles.get(user.login.toLowerCase());
    if (role === undefined && user === repo.owner && user.type === "User") role = "admin";
    let permission = legacyPermission(role);
    let roleName: string = role ?? "none";
    if (role === undefined && !repo.private) {
      permission = "read";
      roleName = "read";
    }
    const rank = ["none", "read", "triage", "write", "maintain", "admin"].indexOf(role ?? (repo.private ? "none" : "read"));
    return {
      status: 200,
      body: {
        permission,
        role_name: roleName,
        user: {
          ...this.userJson(user),
          permissions: { pull: rank >= 1, triage: rank >= 2, push: rank >= 3, maintain: rank >= 4, admin: rank >= 5 },
          role_name: roleName,
        },
      },
    };
  }

  private getContent(ctx: RequestContext): Reply {
    const repo = ctx.repo();
    const path = (ctx.params.path ?? "").replace(/^\/+|\/+$/g, "");
    const refName = ctx.query.ref ?? repo.defaultBranch;
    const commit = this.resolveCommitish(repo, refName);
    if (commit === undefined) throw new HttpError(404, `No commit found for the ref ${refName}`);
    const entry = this.lookupPath(repo, commit, path);
    if (entry === undefined) throw notFound();
    const object = repo.objects.get(entry.sha);
    const base = `${this.apiUrl}/repos/${repo.fullName}/contents`;
    const describe = (name: string, itemPath: string, item: LeafEntry | TreeEntry): JsonObject => {
      const stored = repo.objects.get(item.sha);
      const isDir = item.type === "tree";
      const htmlUrl = `${this.webUrl}/${repo.fullName}/${isDir ? "tree" : "blob"}/${refName}/${itemPath}`;
      const gitUrl = `${this.apiUrl}/repos/${repo.fullName}/git/${isDir ? "trees" : "blobs"}/${item.sha}`;
      const selfUrl = `${base}/${itemPath}?ref=${encodeURIComponent(refName)}`;
      return {
        type: isDir ? "dir" : "file",
        size: stored?.type === "blob" ? stored.content.length : 0,
        name,
        path: itemPath,
        sha: item.sha,
        url: selfUrl,
        git_url: gitUrl,
        html_url: htmlUrl,
        download_url: isDir ? null : `${this.webUrl}/${repo.fullName}/raw/${refName}/${itemPath}`,
        _links: { self: selfUrl, git: gitUrl, html: htmlUrl },
      };
    };
    if (object?.type === "tree") {
      return {
        status: 200,
        body: object.entries.map((child) => describe(child.name, path === "" ? child.name : `${path}/${child.name}`, child)),
      };
    }
    if (object?.type !== "blob") throw notFound();
    if (ctx.accept.includes("raw")) return { status: 200, text: object.content.toString("utf8") };
    const base64 = object.content.toString("base64");
    return {
      status: 200,
      body: {
        ...describe(path.split("/").pop() ?? path, path, entry),
        content: (base64.match(/.{1,60}/g) ?? []).join("\n") + (base64 === "" ? "" : "\n"),
        encoding: "base64",
      },
    };
  }

  // -------------------------------------------------------------------------
  // Issues

  private listIssues(ctx: RequestContext): Reply {
    const repo = ctx.repo();
    const state = ctx.query.state ?? "open";
    const wanted = (ctx.query.labels ?? "")
      .split(",")
      .map((label) => label.trim().toLowerCase())
      .filter((label) => label !== "");
    const since = ctx.query.since === undefined ? undefined : Date.parse(ctx.query.since);
    const creator = ctx.query.creator?.toLowerCase();
    const sortKey = ctx.query.sort ?? "created";
    const direction = ctx.query.direction === "asc" ? 1 : -1;
    const issues = [...repo.issues.values()]
      .filter((issue) => state === "all" || issue.state === state)
      .filter((issue) => wanted.every((label) => issue.labels.some((name) => name.toLowerCase() === label)))
      .filter((issue) => since === undefined || Date.parse(issue.updatedAt) >= since)
      .filter((issue) => creator === undefined || issue.user.toLowerCase() === creator)
      .sort((a, b) => {
        const key = (issue: IssueRecord): number =>
          sortKey === "updated" ? Date.parse(issue.updatedAt) : sortKey === "comments" ? issue.commentIds.length : Date.parse(issue.createdAt);
        return direction * (key(a) - key(b) || a.number - b.number);
      });
    return this.page(ctx, issues.map((issue) => this.issueJson(repo, issue)));
  }

  private createIssueRoute(ctx: RequestContext): Reply {
    const repo = ctx.repo();
    const title = field(ctx.body, "title");
    const issue = this.createIssue(repo, {
      title: String(title),
      body: stringField(ctx.body, "body") ?? null,
      labels: labelNames(field(ctx.body, "labels")),
      user: this.actor(ctx).login,
      viaApp: ctx.token !== undefined,
    });
    return { status: 201, body: this.issueJson(repo, issue) };
  }

  private updateIssue(ctx: RequestContext): Reply {
    const repo = ctx.repo();
    const issue = this.issueOf(ctx);
    const body = ctx.body;
    const title = field(body, "title");
    if (typeof title === "string" || typeof title === "number") issue.title = String(title);
    if (isObject(body) && "body" in body) issue.body = stringField(body, "body") ?? null;
    const labels = field(body, "labels");
    if (Array.isArray(labels)) issue.labels = this.ensureLabels(repo, labelNames(labels));
    const state = field(body, "state");
    const reason = stringField(body, "state_reason");
    if (state === "closed" || state === "open") {
      if (state !== issue.state) this.changeState(issue, state, reason ?? (state === "closed" ? "completed" : "reopened"), this.actor(ctx).login);
    } else if (reason !== undefined && issue.state === "closed") {
      issue.stateReason = reason;
    }
    issue.updatedAt = timestamp();
    return { status: 200, body: this.issueJson(repo, issue) };
  }

  private listBlockedBy(ctx: RequestContext): Reply {
    const repo = ctx.repo();
    const blockers = this.issueOf(ctx).blockedBy.flatMap((number) => {
      const blocker = repo.issues.get(number);
      return blocker === undefined ? [] : [this.issueJson(repo, blocker)];
    });
    return this.page(ctx, blockers);
  }

  // -------------------------------------------------------------------------
  // Comments and reactions

  private listComments(ctx: RequestContext): Reply {
    const repo = ctx.repo();
    const since = ctx.query.since === undefined ? undefined : Date.parse(ctx.query.since);
    const comments = this.commentsOf(this.issueOf(ctx)).filter((comment) => since === undefined || Date.parse(comment.updatedAt) >= since);
    return this.page(ctx, comments.map((comment) => this.commentJson(repo, comment)));
  }

  private createCommentRoute(ctx: RequestContext): Reply {
    const repo = ctx.repo();
    const issue = this.issueOf(ctx);
    const comment = this.createComment(repo, issue, String(field(ctx.body, "body")), this.actor(ctx).login, ctx.token !== undefined);
    const json = this.commentJson(repo, comment);
    return { status: 201, body: json, headers: { location: json.url } };
  }

  private updateComment(ctx: RequestContext): Reply {
    const repo = ctx.repo();
    const comment = this.commentOf(ctx);
    comment.body = String(field(ctx.body, "body"));
    comment.updatedAt = timestamp();
    return { status: 200, body: this.commentJson(repo, comment) };
  }

  private deleteComment(ctx: RequestContext): Reply {
    const repo = ctx.repo();
    const comment = this.commentOf(ctx);
    this.comments_.delete(comment.id);
    const issue = repo.issues.get(comment.issueNumber);
    if (issue !== undefined) issue.commentIds = issue.commentIds.filter((id) => id !== comment.id);
    return { status: 204 };
  }

  private listReactions(ctx: RequestContext, reactions: ReactionState[]): Reply {
    const content = ctx.query.content;
    return this.page(
      ctx,
      reactions.filter((reaction) => content === undefined || reaction.content === content).map((reaction) => this.reactionJson(reaction)),
    );
  }

  private react(ctx: RequestContext, reactions: ReactionState[]): Reply {
    const content = String(field(ctx.body, "content"));
    const user = this.actor(ctx).login;
    const existing = reactions.find((reaction) => reaction.user === user && reaction.content === content);
    if (existing !== undefined) return { status: 200, body: this.reactionJson(existing) };
    const reaction: ReactionState = { id: this.nextReactionId++, user, content, createdAt: timestamp() };
    reactions.push(reaction);
    return { status: 201, body: this.reactionJson(reaction) };
  }

  private unreact(ctx: RequestContext, reactions: ReactionState[]): Reply {
    const id = Number(ctx.params.reaction_id);
    const index = reactions.findIndex((reaction) => reaction.id === id);
    if (index < 0) throw notFound();
    reactions.splice(index, 1);
    return { status: 204 };
  }

  // -------------------------------------------------------------------------
  // Labels

  private addLabels(ctx: RequestContext, replace: boolean): Reply {
    const repo = ctx.repo();
    const issue = this.issueOf(ctx);
    const names = this.ensureLabels(repo, labelNames(field(ctx.body, "labels")));
    if (replace) issue.labels = names;
    else for (const name of names) if (!issue.labels.some((label) => label.toLowerCase() === name.toLowerCase())) issue.labels.push(name);
    issue.updatedAt = timestamp();
    return { status: 200, body: this.issueLabelsJson(repo, issue) };
  }

  private removeAllLabels(ctx: RequestContext): Reply {
    const issue = this.issueOf(ctx);
    issue.labels = [];
    issue.updatedAt = timestamp();
    return { status: 204 };
  }

  private removeLabel(ctx: RequestContext): Reply {
    const repo = ctx.repo();
    const issue = this.issueOf(ctx);
    const name = (ctx.params.name ?? "").toLowerCase();
    const index = issue.labels.findIndex((label) => label.toLowerCase() === name);
    if (index < 0) throw new HttpError(404, "Label does not exist");
    issue.labels.splice(index, 1);
    issue.updatedAt = timestamp();
    return { status: 200, body: this.issueLabelsJson(repo, issue) };
  }

  // -------------------------------------------------------------------------
  // Git database

  private createTree(ctx: RequestContext): Reply {
    const repo = ctx.repo();
    const files = new Map<string, LeafEntry>();
    const baseTree = stringField(ctx.body, "base_tree");
    if (baseTree !== undefined) {
      if (repo.objects.get(baseTree)?.type !== "tree") throw new HttpError(422, "base_tree is not a valid tree oid");
      this.flatten(repo, baseTree, "", files);
    }
    const entries = field(ctx.body, "tree");
    for (const entry of Array.isArray(entries) ? entries : []) {
      const path = stringField(entry, "path");
      const mode = stringField(entry, "mode");
      const type = stringField(entry, "type");
      const sha = field(entry, "sha");
      const content = stringField(entry, "content");
      if (path === undefined || mode === undefined || (type !== "blob" && type !== "tree" && type !== "commit")) {
        throw new HttpError(422, "Invalid tree info", { errors: ["tree.path, tree.mode and tree.type are required"] });
      }
      if (content !== undefined && sha !== undefined) throw new HttpError(422, "Invalid tree info", { errors: ["tree.sha and tree.content are mutually exclusive"] });
      if (sha === null) {
        deletePath(files, path);
      } else if (content !== undefined) {
        if (type !== "blob") throw new HttpError(422, "Invalid tree info", { errors: ["tree.content requires type blob"] });
        setLeaf(files, path, { mode, type, sha: this.store(repo, { type: "blob", content: Buffer.from(content, "utf8") }) });
      } else if (typeof sha === "string") {
        const object = repo.objects.get(sha);
        if (type === "tree") {
          if (object?.type !== "tree") throw new HttpError(422, `tree.sha ${sha} is not a valid tree`);
          deletePath(files, path);
          this.flatten(repo, sha, `${path}/`, files);
        } else {
          if (type === "blob" && object?.type !== "blob") throw new HttpError(422, `tree.sha ${sha} is not a valid blob`);
          setLeaf(files, path, { mode, type, sha });
        }
      } else {
        throw new HttpError(422, "Invalid tree info", { errors: ["tree.sha or tree.content is required"] });
      }
    }
    const sha = this.writeTree(repo, files);
    return { status: 201, body: this.treeJson(repo, sha), headers: { location: `${this.apiUrl}/repos/${repo.fullName}/git/trees/${sha}` } };
  }

  private getTree(ctx: RequestContext): Reply {
    const repo = ctx.repo();
    const sha = ctx.params.tree_sha ?? "";
    if (repo.objects.get(sha)?.type !== "tree") throw notFound();
    return { status: 200, body: this.treeJson(repo, sha) };
  }

  private createCommit(ctx: RequestContext): Reply {
    const repo = ctx.repo();
    const tree = stringField(ctx.body, "tree") ?? "";
    if (repo.objects.get(tree)?.type !== "tree") throw new HttpError(422, "Tree SHA does not exist");
    const parentsField = field(ctx.body, "parents");
    const parents = Array.isArray(parentsField) ? parentsField.map(String) : [];
    for (const parent of parents) {
      if (this.commitObject(repo, parent) === undefined) throw new HttpError(422, "Parent SHA does not exist or is not a commit object");
    }
    const author = gitIdentity(field(ctx.body, "author"), this.actorIdentity(ctx));
    const committer = gitIdentity(field(ctx.body, "committer"), author);
    const sha = this.store(repo, { type: "commit", tree, parents, message: String(field(ctx.body, "message")), author, committer });
    const json = this.commitJson(repo, sha);
    return { status: 201, body: json, headers: { location: json.url } };
  }

  private getCommit(ctx: RequestContext): Reply {
    const repo = ctx.repo();
    const sha = ctx.params.commit_sha ?? "";
    if (this.commitObject(repo, sha) === undefined) throw notFound();
    return { status: 200, body: this.commitJson(repo, sha) };
  }

  private getRef(ctx: RequestContext): Reply {
    const repo = ctx.repo();
    const name = `refs/${ctx.params.ref ?? ""}`;
    const sha = repo.refs.get(name);
    if (sha === undefined) throw notFound();
    return { status: 200, body: this.refJson(repo, name, sha) };
  }

  private createRef(ctx: RequestContext): Reply {
    const repo = ctx.repo();
    const name = stringField(ctx.body, "ref") ?? "";
    const sha = stringField(ctx.body, "sha") ?? "";
    if (!name.startsWith("refs/") || name.split("/").length < 3 || name.split("/").some((part) => part === "")) {
      throw new HttpError(422, "Reference name must start with 'refs/' and have at least two slashes.");
    }
    if (repo.refs.has(name)) throw new HttpError(422, "Reference already exists");
    if (!repo.objects.has(sha)) throw new HttpError(422, "Object does not exist");
    repo.refs.set(name, sha);
    const json = this.refJson(repo, name, sha);
    return { status: 201, body: json, headers: { location: json.url } };
  }

  private updateRef(ctx: RequestContext): Reply {
    const repo = ctx.repo();
    const name = `refs/${ctx.params.ref ?? ""}`;
    const sha = stringField(ctx.body, "sha") ?? "";
    const force = field(ctx.body, "force") === true;
    const current = repo.refs.get(name);
    if (current === undefined) throw new HttpError(422, "Reference does not exist");
    if (!repo.objects.has(sha)) throw new HttpError(422, "Object does not exist");
    if (!force && !this.isAncestor(repo, current, sha)) throw new HttpError(422, "Update is not a fast forward");
    repo.refs.set(name, sha);
    return { status: 200, body: this.refJson(repo, name, sha) };
  }

  private deleteRef(ctx: RequestContext): Reply {
    const repo = ctx.repo();
    const name = `refs/${ctx.params.ref ?? ""}`;
    if (!repo.refs.delete(name)) throw new HttpError(422, "Reference does not exist");
    return { status: 204 };
  }

  /** Whether `ancestor` is `descendant` or reachable from it through parents. */
  private isAncestor(repo: RepoState, ancestor: string, descendant: string): boolean {
    const seen = new Set<string>();
    const queue = [descendant];
    for (let next = queue.pop(); next !== undefined; next = queue.pop()) {
      if (next === ancestor) return true;
      if (seen.has(next)) continue;
      seen.add(next);
      const commit = this.commitObject(repo, next);
      if (commit !== undefined) queue.push(...commit.parents);
    }
    return false;
  }

  // -------------------------------------------------------------------------
  // Real git behind a repository, and pull requests

  /** Puts a real bare repository behind an emulated one: `clone_url` points at it, pull requests and check runs see its commits. */
  connectGit(fullName: string, backing: GitBacking): void {
    this.repoState(fullName).git = backing;
  }

  /**
   * Whether an installation token may read (`upload-pack`) or push to (`receive-pack`) a repository
   * over git, as GitHub decides it: a live token, selected for that repository if it names any, with
   * contents read or write.
   */
  gitAccessAllowed(fullName: string, token: string | undefined, service: "upload-pack" | "receive-pack"): boolean {
    if (token === undefined) return false;
    const issued = this.tokensByValue.get(token);
    if (issued === undefined || Date.parse(issued.expiresAt) <= Date.now()) return false;
    const repo = this.repos.get(fullName.toLowerCase());
    if (repo === undefined || repo.installationId !== issued.installationId) return false;
    if (issued.repositories !== undefined && !issued.repositories.some((name) => name.toLowerCase() === repo.name.toLowerCase())) return false;
    const level = issued.permissions.contents;
    return service === "upload-pack" ? level === "read" || level === "write" : level === "write";
  }

  /** The pull requests of a repository, for assertions. */
  pulls(fullName: string): Array<{ number: number; title: string; body: string; head: string; headSha: string; base: string; draft: boolean; state: string; user: string; requestedReviewers: string[] }> {
    return [...this.repoState(fullName).pulls.values()].map((pull) => ({
      number: pull.number,
      title: pull.title,
      body: pull.body,
      head: pull.head,
      headSha: pull.headSha,
      base: pull.base,
      draft: pull.draft,
      state: pull.state,
      user: pull.user.login,
      requestedReviewers: pull.requestedReviewers.map((user) => user.login),
    }));
  }

  private gitRun(repo: RepoState, args: string[]): string | undefined {
    if (repo.git === undefined) return undefined;
    try {
      return execFileSync("git", ["--git-dir", repo.git.gitDir, ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
    } catch {
      return undefined;
    }
  }

  private gitHasCommit(repo: RepoState, sha: string): boolean {
    return isSha(sha) && this.gitRun(repo, ["cat-file", "-e", `${sha}^{commit}`]) !== undefined;
  }

  private branchSha(repo: RepoState, branch: string): string | undefined {
    if (!/^[A-Za-z0-9._\/-]+$/.test(branch)) return undefined;
    return this.gitRun(repo, ["rev-parse", "--verify", "--quiet", `refs/heads/${branch}^{commit}`]) || repo.refs.get(`refs/heads/${branch}`);
  }

  private pullOf(ctx: RequestContext): PullRecord {
    const pull = ctx.repo().pulls.get(Number(ctx.params.pull_number));
    if (pull === undefined) throw notFound();
    return pull;
  }

  private listPulls(ctx: RequestContext): Reply {
    const repo = ctx.repo();
    const state = ctx.query.state ?? "open";
    const head = ctx.query.head;
    const pulls = [...repo.pulls.values()].filter(
      (pull) => (state === "all" || pull.state === state) && (head === undefined || `${repo.owner.login}:${pull.head}`.toLowerCase() === head.toLowerCase()),
    );
    return this.page(ctx, pulls.map((pull) => this.pullJson(repo, pull, "simple")));
  }

  private createPull(ctx: RequestContext): Reply {
    const repo = ctx.repo();
    const head = stringField(ctx.body, "head") ?? "";
    const base = stringField(ctx.body, "base") ?? "";
    const headSha = this.branchSha(repo, head.includes(":") ? (head.split(":")[1] ?? "") : head);
    const baseSha = this.branchSha(repo, base);
    const invalid = (fieldName: string): HttpError =>
      new HttpError(422, "Validation Failed", { errors: [{ resource: "PullRequest", field: fieldName, code: "invalid" }] });
    if (headSha === undefined) throw invalid("head");
    if (baseSha === undefined) throw invalid("base");
    if ([...repo.pulls.values()].some((pull) => pull.state === "open" && pull.head === head)) {
      throw new HttpError(422, "Validation Failed", { errors: [{ resource: "PullRequest", code: "custom", message: `A pull request already exists for ${repo.owner.login}:${head}.` }] });
    }
    const number = repo.nextIssueNumber++;
    const now = timestamp();
    const pull: PullRecord = {
      id: this.nextIssueId++,
      number,
      title: String(field(ctx.body, "title") ?? ""),
      body: stringField(ctx.body, "body") ?? "",
      head,
      headSha,
      base,
      baseSha,
      draft: field(ctx.body, "draft") === true,
      state: "open",
      user: this.actor(ctx),
      maintainerCanModify: field(ctx.body, "maintainer_can_modify") === true,
      requestedReviewers: [],
      createdAt: now,
      updatedAt: now,
    };
    repo.pulls.set(number, pull);
    const json = this.pullJson(repo, pull, "full");
    return { status: 201, body: json, headers: { location: String(json.url) } };
  }

  private updatePull(ctx: RequestContext): Reply {
    const repo = ctx.repo();
    const pull = this.pullOf(ctx);
    const title = stringField(ctx.body, "title");
    const body = stringField(ctx.body, "body");
    const state = stringField(ctx.body, "state");
    if (title !== undefined) pull.title = title;
    if (body !== undefined) pull.body = body;
    if (state === "open" || state === "closed") pull.state = state;
    pull.updatedAt = timestamp();
    return { status: 200, body: this.pullJson(repo, pull, "full") };
  }

  private requestReviewers(ctx: RequestContext): Reply {
    const repo = ctx.repo();
    const pull = this.pullOf(ctx);
    const reviewers = field(ctx.body, "reviewers");
    for (const login of Array.isArray(reviewers) ? reviewers : []) {
      if (typeof login !== "string") continue;
      const user = this.users.get(login.toLowerCase());
      // GitHub: a review request must name a collaborator, and never the pull request's author.
      if (user === undefined || repo.roles.get(login.toLowerCase()) === undefined) {
        throw new HttpError(422, "Reviews may only be requested from collaborators. One or more of the users or teams you specified is not a collaborator of the " + `${repo.fullName} repository.`);
      }
      if (user === pull.user) throw new HttpError(422, "Review cannot be requested from pull request author.");
      if (!pull.requestedReviewers.includes(user)) pull.requestedReviewers.push(user);
    }
    return { status: 201, body: this.pullJson(repo, pull, "simple") };
  }

  private pullJson(repo: RepoState, pull: PullRecord, shape: "simple" | "full"): JsonObject {
    const api = `${this.apiUrl}/repos/${repo.fullName}`;
    const html = `${this.webUrl}/${repo.fullName}/pull/${pull.number}`;
    const url = `${api}/pulls/${pull.number}`;
    const issueUrl = `${api}/issues/${pull.number}`;
    const side = (ref: string, sha: string): JsonObject => ({
      label: `${repo.owner.login}:${ref}`,
      ref,
      sha,
      user: this.userJson(repo.owner),
      repo: this.repoJson(repo, "repository"),
    });
    const link = (href: string): JsonObject => ({ href });
    const json: JsonObject = {
      url,
      id: pull.id,
      node_id: nodeId("PR", pull.id),
      html_url: html,
      diff_url: `${html}.diff`,
      patch_url: `${html}.patch`,
      issue_url: issueUrl,
      commits_url: `${url}/commits`,
      review_comments_url: `${url}/comments`,
      review_comment_url: `${api}/pulls/comments{/number}`,
      comments_url: `${issueUrl}/comments`,
      statuses_url: `${api}/statuses/${pull.headSha}`,
      number: pull.number,
      state: pull.state,
      locked: false,
      title: pull.title,
      user: this.userJson(pull.user),
      body: pull.body,
      labels: [],
      milestone: null,
      active_lock_reason: null,
      created_at: pull.createdAt,
      updated_at: pull.updatedAt,
      closed_at: pull.state === "closed" ? pull.updatedAt : null,
      merged_at: null,
      merge_commit_sha: null,
      assignee: null,
      assignees: [],
      requested_reviewers: pull.requestedReviewers.map((user) => this.userJson(user)),
      requested_teams: [],
      head: side(pull.head, pull.headSha),
      base: side(pull.base, pull.baseSha),
      _links: {
        self: link(url),
        html: link(html),
        issue: link(issueUrl),
        comments: link(`${issueUrl}/comments`),
        review_comments: link(`${url}/comments`),
        review_comment: link(`${api}/pulls/comments{/number}`),
        commits: link(`${url}/commits`),
        statuses: link(`${api}/statuses/${pull.headSha}`),
      },
      author_association: "NONE",
      auto_merge: null,
      draft: pull.draft,
    };
    if (shape === "full") {
      Object.assign(json, {
        merged: false,
        mergeable: null,
        rebaseable: null,
        mergeable_state: "unknown",
        merged_by: null,
        comments: 0,
        review_comments: 0,
        maintainer_can_modify: pull.maintainerCanModify,
        commits: 1,
        additions: 0,
        deletions: 0,
        changed_files: 0,
      });
    }
    return json;
  }

  // -------------------------------------------------------------------------
  // Check runs

  private createCheckRun(ctx: RequestContext): Reply {
    const repo = ctx.repo();
    const headSha = stringField(ctx.body, "head_sha") ?? "";
    if (this.commitObject(repo, headSha) === undefined && !this.gitHasCommit(repo, headSha)) throw new HttpError(422, `No commit found for SHA: ${headSha}`);
    const run: CheckRunRecord = {
      id: this.nextCheckRunId++,
      suiteId: this.nextCheckSuiteId++,
      name: String(field(ctx.body, "name")),
      headSha,
      externalId: "",
      detailsUrl: undefined,
      status: "queued",
      conclusion: null,
      startedAt: timestamp(),
      completedAt: null,
      output: { title: null, summary: null, text: null },
    };
    this.applyCheckRun(run, ctx.body);
    repo.checkRuns.set(run.id, run);
    return { status: 201, body: this.checkRunJson(repo, run) };
  }

  private updateCheckRun(ctx: RequestContext): Reply {
    const repo = ctx.repo();
    const run = this.checkRunOf(ctx);
    const name = stringField(ctx.body, "name");
    if (name !== undefined) run.name = name;
    this.applyCheckRun(run, ctx.body);
    return { status: 200, body: this.checkRunJson(repo, run) };
  }

  private applyCheckRun(run: CheckRunRecord, body: unknown): void {
    const externalId = stringField(body, "external_id");
    if (externalId !== undefined) run.externalId = externalId;
    const detailsUrl = stringField(body, "details_url");
    if (detailsUrl !== undefined) run.detailsUrl = detailsUrl;
    const startedAt = stringField(body, "started_at");
    if (startedAt !== undefined) run.startedAt = startedAt;
    const status = stringField(body, "status");
    const conclusion = stringField(body, "conclusion");
    if (status === "completed" && conclusion === undefined && run.conclusion === null) {
      throw new HttpError(422, "Invalid request.\n\n\"conclusion\" wasn't supplied.");
    }
    if (status !== undefined) run.status = status;
    if (conclusion !== undefined) {
      run.conclusion = conclusion;
      run.status = "completed";
    }
    if (run.status === "completed") run.completedAt = stringField(body, "completed_at") ?? run.completedAt ?? timestamp();
    const output = field(body, "output");
    if (isObject(output)) {
      run.output = {
        title: stringField(output, "title") ?? run.output.title,
        summary: stringField(output, "summary") ?? run.output.summary,
        text: stringField(output, "text") ?? run.output.text,
      };
    }
  }

  // -------------------------------------------------------------------------
  // State helpers

  private repoState(fullName: string): RepoState {
    const repo = this.repos.get(fullName.toLowerCase());
    if (repo === undefined) throw new Error(`GitHub emulator: no repository ${fullName}`);
    return repo;
  }

  private installationState(id: number): InstallationState {
    const installation = this.installations.get(id);
    if (installation === undefined) throw notFound();
    return installation;
  }

  private installationOf(ctx: RequestContext): InstallationState {
    return this.installationState(Number(ctx.params.installation_id));
  }

  private reposOfInstallation(id: number): RepoState[] {
    return [...this.repos.values()].filter((repo) => repo.installationId === id);
  }

  /** For seeding and inspection: a missing issue is a mistake in the test. */
  private issueState(repo: RepoState, number: number): IssueRecord {
    const issue = repo.issues.get(number);
    if (issue === undefined) throw new Error(`GitHub emulator: no issue #${number} in ${repo.fullName}`);
    return issue;
  }

  private issueOf(ctx: RequestContext): IssueRecord {
    const issue = ctx.repo().issues.get(Number(ctx.params.issue_number));
    if (issue === undefined) throw notFound();
    return issue;
  }

  private commentState(repo: RepoState, id: number): CommentRecord {
    const comment = this.comments_.get(id);
    if (comment === undefined || comment.repoKey !== repo.fullName.toLowerCase()) throw notFound();
    return comment;
  }

  private commentOf(ctx: RequestContext): CommentRecord {
    return this.commentState(ctx.repo(), Number(ctx.params.comment_id));
  }

  private commentsOf(issue: IssueRecord): CommentRecord[] {
    return issue.commentIds.flatMap((id) => {
      const comment = this.comments_.get(id);
      return comment === undefined ? [] : [comment];
    });
  }

  private checkRunOf(ctx: RequestContext): CheckRunRecord {
    const run = ctx.repo().checkRuns.get(Number(ctx.params.check_run_id));
    if (run === undefined) throw notFound();
    return run;
  }

  /** Who a request acts as: the App's bot for installation tokens. */
  private actor(ctx: RequestContext): UserState {
    if (ctx.token === undefined) throw new HttpError(401, "Requires authentication");
    return this.bot;
  }

  private actorIdentity(ctx: RequestContext): GitIdentity {
    const user = this.actor(ctx);
    return { name: user.login, email: `${user.id}+${user.login}@users.noreply.github.com`, time: Math.floor(Date.now() / 1000) };
  }

  private seederIdentity(): GitIdentity {
    return { name: "Emulator Seeder", email: "seeder@example.invalid", time: Math.floor(Date.now() / 1000) };
  }

  private createIssue(repo: RepoState, input: { title: string; body: string | null; labels: string[]; user: string; viaApp: boolean }): IssueRecord {
    const now = timestamp();
    const issue: IssueRecord = {
      id: this.nextIssueId++,
      number: repo.nextIssueNumber++,
      title: input.title,
      body: input.body,
      user: input.user,
      labels: this.ensureLabels(repo, input.labels),
      state: "open",
      stateReason: null,
      createdAt: now,
      updatedAt: now,
      closedAt: null,
      closedBy: null,
      viaApp: input.viaApp,
      blockedBy: [],
      reactions: [],
      commentIds: [],
    };
    repo.issues.set(issue.number, issue);
    return issue;
  }

  private changeState(issue: IssueRecord, state: IssueState, reason: string, by: string): void {
    issue.state = state;
    issue.stateReason = reason;
    issue.updatedAt = timestamp();
    issue.closedAt = state === "closed" ? issue.updatedAt : null;
    issue.closedBy = state === "closed" ? by : null;
  }

  private createComment(repo: RepoState, issue: IssueRecord, body: string, user: string, viaApp: boolean): CommentRecord {
    const now = timestamp();
    const comment: CommentRecord = {
      id: this.nextCommentId++,
      repoKey: repo.fullName.toLowerCase(),
      issueNumber: issue.number,
      body,
      user,
      viaApp,
      createdAt: now,
      updatedAt: now,
      reactions: [],
    };
    this.comments_.set(comment.id, comment);
    issue.commentIds.push(comment.id);
    issue.updatedAt = now;
    return comment;
  }

  /** Creates missing repository labels (GitHub does so when labels are added to an issue); returns the names as the repository spells them. */
  private ensureLabels(repo: RepoState, names: string[]): string[] {
    const result: string[] = [];
    for (const name of names) {
      let label = repo.labels.get(name.toLowerCase());
      if (label === undefined) {
        label = { id: this.nextLabelId++, name, color: "ededed", description: null };
        repo.labels.set(name.toLowerCase(), label);
      }
      if (!result.includes(label.name)) result.push(label.name);
    }
    return result;
  }

  private store(repo: RepoState, object: GitObject): string {
    const sha = gitHash(object.type, serialize(object));
    if (!repo.objects.has(sha)) repo.objects.set(sha, object);
    return sha;
  }

  private commitObject(repo: RepoState, sha: string): Extract<GitObject, { type: "commit" }> | undefined {
    const object = repo.objects.get(sha);
    return object?.type === "commit" ? object : undefined;
  }

  /** Adds every non-tree entry below `treeSha` to `out`, keyed by its full path. */
  private flatten(repo: RepoState, treeSha: string, prefix: string, out: Map<string, LeafEntry>): void {
    const tree = repo.objects.get(treeSha);
    if (tree?.type !== "tree") return;
    for (const entry of tree.entries) {
      if (entry.type === "tree") this.flatten(repo, entry.sha, `${prefix}${entry.name}/`, out);
      else out.set(`${prefix}${entry.name}`, { mode: entry.mode, type: entry.type, sha: entry.sha });
    }
  }

  /** Writes nested trees for a flat path → entry map and returns the root tree's sha. */
  private writeTree(repo: RepoState, files: Map<string, LeafEntry>): string {
    const entries: TreeEntry[] = [];
    const directories = new Map<string, Map<string, LeafEntry>>();
    for (const [path, leaf] of files) {
      const slash = path.indexOf("/");
      if (slash < 0) {
        entries.push({ name: path, ...leaf });
        continue;
      }
      const directory = path.slice(0, slash);
      let children = directories.get(directory);
      if (children === undefined) {
        children = new Map();
        directories.set(directory, children);
      }
      children.set(path.slice(slash + 1), leaf);
    }
    for (const [name, children] of directories) entries.push({ name, mode: "040000", type: "tree", sha: this.writeTree(repo, children) });
    return this.store(repo, { type: "tree", entries: sortTreeEntries(entries) });
  }

  private resolveCommitish(repo: RepoState, ref: string): string | undefined {
    const candidates = isSha(ref) ? [ref] : ref.startsWith("refs/") ? [repo.refs.get(ref)] : [repo.refs.get(`refs/heads/${ref}`), repo.refs.get(`refs/tags/${ref}`)];
    return candidates.find((sha): sha is string => sha !== undefined && this.commitObject(repo, sha) !== undefined);
  }

  private lookupPath(repo: RepoState, commitSha: string, path: string): LeafEntry | TreeEntry | undefined {
    const commit = this.commitObject(repo, commitSha);
    if (commit === undefined) return undefined;
    let current: LeafEntry | TreeEntry = { mode: "040000", type: "tree", sha: commit.tree };
    for (const segment of path.split("/").filter((part) => part !== "")) {
      const tree = repo.objects.get(current.sha);
      if (tree?.type !== "tree") return undefined;
      const child = tree.entries.find((entry) => entry.name === segment);
      if (child === undefined) return undefined;
      current = child;
    }
    return current;
  }

  // -------------------------------------------------------------------------
  // Pagination

  /** Slices `items` by `per_page`/`page` and adds GitHub's `Link` header. */
  private page(ctx: RequestContext, items: unknown[]): Reply {
    const { perPage, page } = pageParams(ctx.query);
    return { status: 200, body: items.slice((page - 1) * perPage, page * perPage), headers: this.linkHeader(ctx, items.length) };
  }

  private linkHeader(ctx: RequestContext, total: number): Record<string, string> {
    const { perPage, page } = pageParams(ctx.query);
    const last = Math.max(1, Math.ceil(total / perPage));
    const link = (target: number, rel: string): string => {
      const params = new URLSearchParams({ ...ctx.query, page: String(target) });
      return `<${this.apiUrl}${ctx.rawPath}?${params.toString()}>; rel="${rel}"`;
    };
    const links: string[] = [];
    if (page > 1) links.push(link(Math.min(page - 1, last), "prev"));
    if (page < last) links.push(link(page + 1, "next"), link(last, "last"));
    if (page > 1) links.push(link(1, "first"));
    return links.length === 0 ? {} : { link: links.join(", ") };
  }

  // -------------------------------------------------------------------------
  // JSON shapes (fields follow GitHub's OpenAPI response schemas)

  private userJson(user: UserState): UserJson {
    return githubUserJson(
      { login: user.login, id: user.id, nodeId: nodeId(user.type === "Bot" ? "BOT" : user.type === "Organization" ? "O" : "U", user.id), type: user.type },
      { api: this.apiUrl, web: this.webUrl, avatars: `${this.webUrl}/avatars` },
    );
  }

  private userByLogin(login: string): UserState {
    return this.users.get(login.toLowerCase()) ?? this.addUser(login);
  }

  private appJson(): AppJson {
    return {
      id: this.appId,
      slug: this.appSlug,
      node_id: nodeId("A", this.appId),
      client_id: `Iv1.${createHash("sha1").update(String(this.appId)).digest("hex").slice(0, 16)}`,
      owner: this.userJson(this.appOwner),
      name: this.appSlug,
      description: `${this.appSlug} (GitHub emulator)`,
      external_url: this.webUrl,
      html_url: `${this.webUrl}/apps/${this.appSlug}`,
      created_at: this.createdAt,
      updated_at: this.createdAt,
      permissions: { ...this.appPermissions },
      events: [...this.appEvents],
      installations_count: this.installations.size,
    };
  }

  private installationJson(installation: InstallationState): JsonObject {
    const account = installation.account;
    return {
      id: installation.id,
      account: this.userJson(account),
      repository_selection: installation.repositorySelection,
      access_tokens_url: `${this.apiUrl}/app/installations/${installation.id}/access_tokens`,
      repositories_url: `${this.apiUrl}/installation/repositories`,
      html_url:
        account.type === "Organization"
          ? `${this.webUrl}/organizations/${account.login}/settings/installations/${installation.id}`
          : `${this.webUrl}/settings/installations/${installation.id}`,
      app_id: this.appId,
      client_id: this.appJson().client_id,
      app_slug: this.appSlug,
      target_id: account.id,
      target_type: account.type,
      permissions: installation.permissions,
      events: [...APP_EVENTS],
      created_at: installation.createdAt,
      updated_at: installation.createdAt,
      single_file_name: null,
      has_multiple_single_files: false,
      single_file_paths: [],
      suspended_by: null,
      suspended_at: null,
    };
  }

  private repoJson(repo: RepoState, shape: "full-repository" | "repository" = "full-repository"): JsonObject {
    const api = `${this.apiUrl}/repos/${repo.fullName}`;
    const html = `${this.webUrl}/${repo.fullName}`;
    const openIssues = [...repo.issues.values()].filter((issue) => issue.state === "open").length;
    const json: JsonObject = {
      id: repo.id,
      node_id: nodeId("R", repo.id),
      name: repo.name,
      full_name: repo.fullName,
      owner: this.userJson(repo.owner),
      private: repo.private,
      html_url: html,
      description: null,
      fork: false,
      url: api,
      archive_url: `${api}/{archive_format}{/ref}`,
      assignees_url: `${api}/assignees{/user}`,
      blobs_url: `${api}/git/blobs{/sha}`,
      branches_url: `${api}/branches{/branch}`,
      collaborators_url: `${api}/collaborators{/collaborator}`,
      comments_url: `${api}/comments{/number}`,
      commits_url: `${api}/commits{/sha}`,
      compare_url: `${api}/compare/{base}...{head}`,
      contents_url: `${api}/contents/{+path}`,
      contributors_url: `${api}/contributors`,
      deployments_url: `${api}/deployments`,
      downloads_url: `${api}/downloads`,
      events_url: `${api}/events`,
      forks_url: `${api}/forks`,
      git_commits_url: `${api}/git/commits{/sha}`,
      git_refs_url: `${api}/git/refs{/sha}`,
      git_tags_url: `${api}/git/tags{/sha}`,
      git_url: `git://${this.host}/${repo.fullName}.git`,
      issue_comment_url: `${api}/issues/comments{/number}`,
      issue_events_url: `${api}/issues/events{/number}`,
      issues_url: `${api}/issues{/number}`,
      keys_url: `${api}/keys{/key_id}`,
      labels_url: `${api}/labels{/name}`,
      languages_url: `${api}/languages`,
      merges_url: `${api}/merges`,
      milestones_url: `${api}/milestones{/number}`,
      notifications_url: `${api}/notifications{?since,all,participating}`,
      pulls_url: `${api}/pulls{/number}`,
      releases_url: `${api}/releases{/id}`,
      ssh_url: `git@${this.host}:${repo.fullName}.git`,
      stargazers_url: `${api}/stargazers`,
      statuses_url: `${api}/statuses/{sha}`,
      subscribers_url: `${api}/subscribers`,
      subscription_url: `${api}/subscription`,
      tags_url: `${api}/tags`,
      teams_url: `${api}/teams`,
      trees_url: `${api}/git/trees{/sha}`,
      clone_url: repo.git?.cloneUrl ?? `${html}.git`,
      mirror_url: null,
      hooks_url: `${api}/hooks`,
      svn_url: html,
      homepage: null,
      language: null,
      forks_count: 0,
      forks: 0,
      stargazers_count: 0,
      watchers_count: 0,
      watchers: 0,
      size: 0,
      default_branch: repo.defaultBranch,
      open_issues_count: openIssues,
      open_issues: openIssues,
      is_template: false,
      topics: [],
      has_issues: true,
      has_projects: true,
      has_wiki: true,
      has_pages: false,
      has_downloads: true,
      has_discussions: false,
      archived: false,
      disabled: false,
      visibility: repo.private ? "private" : "public",
      pushed_at: repo.createdAt,
      created_at: repo.createdAt,
      updated_at: repo.createdAt,
      allow_forking: true,
      web_commit_signoff_required: false,
      license: null,
    };
    if (shape === "full-repository") {
      json.network_count = 0;
      json.subscribers_count = 0;
    }
    return json;
  }

  private labelJson(repo: RepoState, name: string): LabelJson {
    const label = repo.labels.get(name.toLowerCase()) ?? { id: 0, name, color: "ededed", description: null };
    return {
      id: label.id,
      node_id: nodeId("LA", label.id),
      url: `${this.apiUrl}/repos/${repo.fullName}/labels/${encodeURIComponent(label.name)}`,
      name: label.name,
      description: label.description,
      color: label.color,
      default: false,
    };
  }

  private issueLabelsJson(repo: RepoState, issue: IssueRecord): LabelJson[] {
    return issue.labels.map((name) => this.labelJson(repo, name));
  }

  private authorAssociation(repo: RepoState, login: string): string {
    if (login.toLowerCase() === repo.owner.login.toLowerCase()) return "OWNER";
    if (repo.roles.has(login.toLowerCase())) return "COLLABORATOR";
    return "NONE";
  }

  private rollup(url: string, reactions: ReactionState[]): ReactionRollupJson {
    const count = (content: (typeof REACTION_CONTENTS)[number]): number => reactions.filter((reaction) => reaction.content === content).length;
    return {
      url,
      total_count: reactions.length,
      "+1": count("+1"),
      "-1": count("-1"),
      laugh: count("laugh"),
      confused: count("confused"),
      heart: count("heart"),
      hooray: count("hooray"),
      eyes: count("eyes"),
      rocket: count("rocket"),
    };
  }

  private issueJson(repo: RepoState, issue: IssueRecord): IssueJson {
    const url = `${this.apiUrl}/repos/${repo.fullName}/issues/${issue.number}`;
    const blocking = [...repo.issues.values()].filter((other) => other.blockedBy.includes(issue.number));
    const openBlockers = issue.blockedBy.filter((number) => repo.issues.get(number)?.state === "open");
    return {
      id: issue.id,
      node_id: nodeId("I", issue.id),
      url,
      repository_url: `${this.apiUrl}/repos/${repo.fullName}`,
      labels_url: `${url}/labels{/name}`,
      comments_url: `${url}/comments`,
      events_url: `${url}/events`,
      html_url: `${this.webUrl}/${repo.fullName}/issues/${issue.number}`,
      timeline_url: `${url}/timeline`,
      number: issue.number,
      state: issue.state,
      state_reason: issue.stateReason,
      title: issue.title,
      body: issue.body,
      user: this.userJson(this.userByLogin(issue.user)),
      labels: this.issueLabelsJson(repo, issue),
      assignee: null,
      assignees: [],
      milestone: null,
      locked: false,
      active_lock_reason: null,
      comments: issue.commentIds.length,
      closed_at: issue.closedAt,
      closed_by: issue.closedBy === null ? null : this.userJson(this.userByLogin(issue.closedBy)),
      created_at: issue.createdAt,
      updated_at: issue.updatedAt,
      author_association: this.authorAssociation(repo, issue.user),
      performed_via_github_app: issue.viaApp ? this.appJson() : null,
      reactions: this.rollup(`${url}/reactions`, issue.reactions),
      issue_dependencies_summary: {
        blocked_by: openBlockers.length,
        blocking: blocking.filter((other) => other.state === "open").length,
        total_blocked_by: issue.blockedBy.length,
        total_blocking: blocking.length,
      },
    };
  }

  private commentJson(repo: RepoState, comment: CommentRecord): CommentJson {
    const url = `${this.apiUrl}/repos/${repo.fullName}/issues/comments/${comment.id}`;
    return {
      id: comment.id,
      node_id: nodeId("IC", comment.id),
      url,
      html_url: `${this.webUrl}/${repo.fullName}/issues/${comment.issueNumber}#issuecomment-${comment.id}`,
      issue_url: `${this.apiUrl}/repos/${repo.fullName}/issues/${comment.issueNumber}`,
      body: comment.body,
      user: this.userJson(this.userByLogin(comment.user)),
      created_at: comment.createdAt,
      updated_at: comment.updatedAt,
      author_association: this.authorAssociation(repo, comment.user),
      performed_via_github_app: comment.viaApp ? this.appJson() : null,
      reactions: this.rollup(`${url}/reactions`, comment.reactions),
    };
  }

  private reactionJson(reaction: ReactionState): ReactionJson {
    return {
      id: reaction.id,
      node_id: nodeId("REA", reaction.id),
      user: this.userJson(this.userByLogin(reaction.user)),
      content: reaction.content,
      created_at: reaction.createdAt,
    };
  }

  private treeJson(repo: RepoState, sha: string): JsonObject {
    const tree = repo.objects.get(sha);
    const entries = tree?.type === "tree" ? tree.entries : [];
    const api = `${this.apiUrl}/repos/${repo.fullName}/git`;
    return {
      sha,
      url: `${api}/trees/${sha}`,
      truncated: false,
      tree: entries.map((entry) => {
        const object = repo.objects.get(entry.sha);
        return {
          path: entry.name,
          mode: entry.mode,
          type: entry.type,
          sha: entry.sha,
          ...(object?.type === "blob" ? { size: object.content.length } : {}),
          url: `${api}/${entry.type === "tree" ? "trees" : "blobs"}/${entry.sha}`,
        };
      }),
    };
  }

  private commitJson(repo: RepoState, sha: string): CommitJson {
    const commit = this.commitObject(repo, sha);
    if (commit === undefined) throw notFound();
    const api = `${this.apiUrl}/repos/${repo.fullName}/git`;
    const identity = (who: GitIdentity): GitIdentityJson => ({ name: who.name, email: who.email, date: timestamp(new Date(who.time * 1000)) });
    return {
      sha,
      node_id: nodeId("C", sha),
      url: `${api}/commits/${sha}`,
      html_url: `${this.webUrl}/${repo.fullName}/commit/${sha}`,
      author: identity(commit.author),
      committer: identity(commit.committer),
      tree: { sha: commit.tree, url: `${api}/trees/${commit.tree}` },
      message: commit.message,
      parents: commit.parents.map((parent) => ({ sha: parent, url: `${api}/commits/${parent}`, html_url: `${this.webUrl}/${repo.fullName}/commit/${parent}` })),
      verification: { verified: false, reason: "unsigned", signature: null, payload: null, verified_at: null },
    };
  }

  private refJson(repo: RepoState, name: string, sha: string): RefJson {
    const api = `${this.apiUrl}/repos/${repo.fullName}/git`;
    const type = repo.objects.get(sha)?.type ?? "commit";
    return {
      ref: name,
      node_id: nodeId("REF", `${repo.id}:${name}`),
      url: `${api}/${name}`,
      object: { type, sha, url: `${api}/${type}s/${sha}` },
    };
  }

  private checkRunJson(repo: RepoState, run: CheckRunRecord): CheckRunJson {
    const url = `${this.apiUrl}/repos/${repo.fullName}/check-runs/${run.id}`;
    const htmlUrl = `${this.webUrl}/${repo.fullName}/runs/${run.id}`;
    return {
      id: run.id,
      head_sha: run.headSha,
      node_id: nodeId("CR", run.id),
      external_id: run.externalId,
      url,
      html_url: htmlUrl,
      details_url: run.detailsUrl ?? htmlUrl,
      status: run.status,
      conclusion: run.conclusion,
      started_at: run.startedAt,
      completed_at: run.completedAt,
      output: { ...run.output, annotations_count: 0, annotations_url: `${url}/annotations` },
      name: run.name,
      check_suite: { id: run.suiteId },
      app: this.appJson(),
      pull_requests: [],
    };
  }
}

// ---------------------------------------------------------------------------
// Module-private helpers that need the types above

type Authentication = { kind: "none"; problem: string } | { kind: "app-jwt" } | { kind: "installation"; token: IssuedToken };

function inaccessibleRepositories(): HttpError {
  return new HttpError(422, "There is at least one repository that does not exist or is not accessible to the parent installation.");
}

function pageParams(query: Record<string, string>): { perPage: number; page: number } {
  const perPage = Math.min(100, Math.max(1, positiveInt(query.per_page) ?? 30));
  const page = Math.max(1, positiveInt(query.page) ?? 1);
  return { perPage, page };
}

/** Label names from a request's `labels`: strings or `{ name }` objects. */
function labelNames(value: unknown): string[] {
  if (!Array.isArray(value)) return [];
  return value.flatMap((item) => {
    if (typeof item === "string") return [item];
    const name = stringField(item, "name");
    return name === undefined ? [] : [name];
  });
}

function gitIdentity(value: unknown, fallback: GitIdentity): GitIdentity {
  const name = stringField(value, "name");
  const email = stringField(value, "email");
  if (name === undefined || email === undefined) return fallback;
  const date = stringField(value, "date");
  const time = date === undefined ? fallback.time : Math.floor(Date.parse(date) / 1000);
  return { name, email, time: Number.isFinite(time) ? time : fallback.time };
}

/** Sets a file in a flat path map, replacing anything that conflicts with it as a directory or a parent. */
function setLeaf(files: Map<string, LeafEntry>, path: string, leaf: LeafEntry): void {
  const clean = path.replace(/^\/+|\/+$/g, "");
  deletePath(files, clean);
  const parts = clean.split("/");
  for (let i = 1; i < parts.length; i++) files.delete(parts.slice(0, i).join("/"));
  files.set(clean, leaf);
}

function deletePath(files: Map<string, LeafEntry>, path: string): void {
  const clean = path.replace(/^\/+|\/+$/g, "");
  for (const key of [...files.keys()]) if (key === clean || key.startsWith(`${clean}/`)) files.delete(key);
}
