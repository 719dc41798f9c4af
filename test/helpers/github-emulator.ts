import { execFileSync } from "node:child_process";
import { createHash, createHmac, generateKeyPairSync, randomBytes, randomUUID } from "node:crypto";
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
 * Outside `/api/v3` it serves a few more things: `POST /api/graphql` (where Octokit's
 * graphql goes for a `…/api/v3` baseUrl), answering only the draft mutations
 * `markPullRequestReadyForReview` and `convertPullRequestToDraft` (anything else is a
 * violation); `/_logs/…`, the plain-text downloads a job's logs redirect to; and the two
 * web pages of registering an App from a manifest (the form a browser posts the manifest
 * to, and the installation page GitHub shows afterwards). Those pages are not API routes
 * and have no OpenAPI description: they are checked against GitHub's documented manifest
 * parameters instead (see "The manifest flow's web pages").
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
  const first = new Request(input, init);
  let url = first.url;
  let method = first.method;
  let body = first.body === null ? undefined : Buffer.from(await first.arrayBuffer());
  const headers: Record<string, string> = {};
  first.headers.forEach((value, key) => {
    headers[key] = value;
  });
  // Follows redirects as `fetch` does (GitHub answers a job's logs with a 302 to the log's location).
  for (let hops = 0; ; hops++) {
    const response = await loopbackRequest(url, method, headers, body, first.signal);
    const location = response.headers.get("location");
    if (![301, 302, 303, 307, 308].includes(response.status) || location === null || first.redirect === "manual") return response;
    if (first.redirect === "error") throw new TypeError(`fetch failed: redirected to ${location}`);
    if (hops >= 20) throw new TypeError("fetch failed: redirect count exceeded");
    const next = new URL(location, url);
    if (next.protocol !== "http:") throw new TypeError(`fetch failed: loopbackFetch cannot follow a redirect to ${next.href}`);
    if (next.origin !== new URL(url).origin) delete headers.authorization;
    if (response.status === 303 ? method !== "HEAD" : (response.status === 301 || response.status === 302) && method === "POST") {
      method = "GET";
      body = undefined;
      for (const key of Object.keys(headers)) if (key.startsWith("content-")) delete headers[key];
    }
    url = next.href;
  }
}

function loopbackRequest(url: string, method: string, headers: Record<string, string>, body: Buffer | undefined, signal: AbortSignal): Promise<Response> {
  return new Promise<Response>((resolve, reject) => {
    const outgoing = httpRequest(url, { method, headers, signal }, (incoming) => {
      const chunks: Buffer[] = [];
      incoming.on("data", (chunk: Buffer) => chunks.push(chunk));
      incoming.on("error", reject);
      incoming.on("end", () => {
        const status = incoming.statusCode ?? 500;
        const responseHeaders = new Headers();
        for (const [key, value] of Object.entries(incoming.headers)) {
          for (const one of Array.isArray(value) ? value : value === undefined ? [] : [value]) responseHeaders.append(key, one);
        }
        const noBody = status === 204 || status === 304 || method === "HEAD";
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

/** What a browser posted to GitHub's "register a GitHub App from a manifest" form. */
export interface ManifestFormPost {
  /** `/settings/apps/new` (a personal account) or `/organizations/<org>/settings/apps/new`. */
  path: string;
  /** The organisation the App is registered for, from the path. */
  organization: string | undefined;
  /** The `manifest` form field exactly as the browser sent it (not parsed). */
  manifest: string;
  /** The `state` query parameter GitHub hands back on the redirect, if any. */
  state: string | undefined;
}

/** The App registered through the manifest flow, once its code was converted. */
export interface RegisteredApp {
  /** The manifest GitHub registered the App from (parsed). */
  manifest: Record<string, unknown>;
  /** Where GitHub sends the App's webhook deliveries (`hook_attributes.url`); undefined when the App has no webhook. */
  hookUrl: string | undefined;
  webhookSecret: string;
  /** The App's private key (PKCS#1 PEM), as `pem` in the conversion's answer. */
  pem: string;
  clientId: string;
  clientSecret: string;
}

/** What GitHub's hook service got back when it delivered one event to a registered App's hook URL. */
export interface HookDelivery {
  id: string;
  event: string;
  status: number;
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
  /** Open pull requests of the repository whose head is the run's `head_sha`, as GitHub lists them. */
  pull_requests: PullRequestMinimalJson[];
}

export interface PullRequestMinimalJson {
  id: number;
  number: number;
  url: string;
  head: { ref: string; sha: string; repo: { id: number; url: string; name: string } };
  base: { ref: string; sha: string; repo: { id: number; url: string; name: string } };
}

export type CheckRunStatus = "queued" | "in_progress" | "completed";
export type CheckRunConclusion = "success" | "failure" | "neutral" | "cancelled" | "skipped" | "timed_out" | "action_required";

export interface CheckRunOutputInput {
  title?: string;
  summary?: string;
  text?: string;
}

export interface ForeignCheckRunInput {
  headSha: string;
  name: string;
  /** The App that owns the run; `github-actions` is GitHub Actions (whose check run ids are job ids). */
  appSlug: string;
  /** Defaults to `completed` when a conclusion is given, else `queued`. */
  status?: CheckRunStatus;
  conclusion?: CheckRunConclusion | null;
  output?: CheckRunOutputInput;
  detailsUrl?: string;
}

export interface ForeignCheckRunUpdate {
  status?: CheckRunStatus;
  conclusion?: CheckRunConclusion | null;
  output?: CheckRunOutputInput;
}

export type CommitState = "pending" | "success" | "failure" | "error";

export interface CommitStatusInput {
  context: string;
  state: CommitState;
  description?: string;
  targetUrl?: string;
  /** Who posted the status; defaults to the repository's owner. A login not seen before is added as a User. */
  creator?: string;
}

export interface CommitStatusJson {
  url: string;
  avatar_url: string | null;
  id: number;
  node_id: string;
  state: CommitState;
  description: string | null;
  target_url: string | null;
  context: string;
  created_at: string;
  updated_at: string;
  creator: UserJson;
}

export type ReviewState = "APPROVED" | "CHANGES_REQUESTED" | "COMMENTED";

export interface ReviewInput {
  /** The reviewer's login; a login not seen before is added as a User (as `addUser` would). */
  user: string;
  state: ReviewState;
  body?: string;
  /** Line comments on the pull request's head (`line` is a line of the file at the head, right side). */
  comments?: Array<{ path: string; line: number; body: string }>;
}

export interface ReviewJson {
  id: number;
  node_id: string;
  user: UserJson;
  body: string;
  state: ReviewState;
  html_url: string;
  pull_request_url: string;
  _links: { html: { href: string }; pull_request: { href: string } };
  submitted_at: string;
  commit_id: string;
  author_association: string;
}

export interface ReviewCommentJson {
  url: string;
  pull_request_review_id: number;
  id: number;
  node_id: string;
  diff_hunk: string;
  path: string;
  position: number;
  original_position: number;
  commit_id: string;
  original_commit_id: string;
  in_reply_to_id?: number;
  user: UserJson;
  body: string;
  created_at: string;
  updated_at: string;
  html_url: string;
  pull_request_url: string;
  author_association: string;
  _links: { self: { href: string }; html: { href: string }; pull_request: { href: string } };
  start_line: null;
  original_start_line: null;
  start_side: null;
  line: number;
  original_line: number;
  side: "RIGHT";
  subject_type: "line";
  reactions: ReactionRollupJson;
}

/** A pull request as `pulls()` reports it. */
export interface PullSummary {
  number: number;
  nodeId: string;
  title: string;
  body: string;
  head: string;
  /** The head branch's current commit (it follows pushes while the pull request is open). */
  headSha: string;
  base: string;
  draft: boolean;
  state: string;
  merged: boolean;
  user: string;
  requestedReviewers: string[];
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
  /** Sub-issue numbers (`POST …/sub_issues`), in the order they were added, and the parent's number. */
  subIssues: number[];
  parent?: number;
  reactions: ReactionState[];
  commentIds: number[];
  /** Every pull request is an issue too (same number): comments and labels on it go through the issues API. */
  pullRequest?: boolean;
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
  /** The App that created the run: the emulator's own App, or one from `addForeignCheckRun`. */
  appId: number;
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

/** The check suite GitHub keeps per App and head commit. */
interface CheckSuiteRecord {
  id: number;
  appId: number;
  headSha: string;
  createdAt: string;
}

/** Another GitHub App (GitHub Actions, a linter…) whose check runs show up on the repository. */
interface ForeignApp {
  id: number;
  slug: string;
  name: string;
  owner: UserState;
  description: string;
  externalUrl: string;
}

interface StatusRecord {
  id: number;
  sha: string;
  context: string;
  state: CommitState;
  description: string | null;
  targetUrl: string | null;
  creator: UserState;
  createdAt: string;
}

interface ReviewRecord {
  id: number;
  pullNumber: number;
  user: UserState;
  body: string;
  state: ReviewState;
  commitId: string;
  submittedAt: string;
}

interface ReviewCommentRecord {
  id: number;
  reviewId: number;
  pullNumber: number;
  inReplyTo: number | undefined;
  path: string;
  line: number;
  body: string;
  user: UserState;
  commitId: string;
  diffHunk: string;
  createdAt: string;
  updatedAt: string;
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
  closedAt: string | null;
  merged: boolean;
  mergedAt: string | null;
  mergedBy: UserState | null;
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
  /** `${appId}:${headSha}` → suite. */
  checkSuites: Map<string, CheckSuiteRecord>;
  statuses: StatusRecord[];
  reviews: Map<number, ReviewRecord>;
  reviewComments: Map<number, ReviewCommentRecord>;
  /** Actions job id → log text. */
  jobLogs: Map<number, string>;
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
  /** Sent as `text/html` (the web pages, never an API answer). */
  html?: string;
  headers?: Record<string, string>;
}

interface Route {
  /** `none`: GitHub asks for no credentials (the manifest conversion, where the code is the credential). */
  auth: "app-jwt" | "installation" | "none";
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
/** Where job logs are downloaded from (GitHub redirects to a signed URL on another host). */
const LOG_PREFIX = "/_logs/";
/** Where Octokit's graphql sends queries when its baseUrl ends in `/api/v3` (GitHub Enterprise Server). */
const GRAPHQL_PATH = "/api/graphql";
/** The web form a manifest is posted to: for a personal account, or (group 1) for an organisation. */
const MANIFEST_FORM_PATH = /^(?:\/organizations\/([^/]+))?\/settings\/apps\/new$/;
/** The page GitHub sends a person to after registering an App: `html_url` + `/installations/new`. */
const INSTALL_PAGE_PATH = /^\/apps\/([^/]+)\/installations\/new$/;
/** How long a manifest code can be converted (GitHub: "within one hour"). */
const MANIFEST_CODE_TTL_MS = 60 * 60 * 1000;
const REACTION_CONTENTS = ["+1", "-1", "laugh", "confused", "heart", "hooray", "eyes", "rocket"] as const;
/** What app.yml asks for, so an installation made from it has these. */
const DEFAULT_PERMISSIONS: Record<string, PermissionLevel> = {
  metadata: "read",
  contents: "write",
  issues: "write",
  checks: "write",
  pull_requests: "write",
  actions: "read",
  statuses: "read",
};
/** GitHub Actions' App, as api.github.com shows it. */
const GITHUB_ACTIONS_APP = { id: 15368, slug: "github-actions", name: "GitHub Actions", ownerLogin: "github", ownerId: 9919 } as const;
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
        object.entries.map((entry) => Buffer.concat([Buffer.from(`${entry.mode.replace(/^0+/, "")} ${entry.name}\0`), Buffer.from(entry.sha, "hex")])),
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

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function parseJsonObject(text: string): JsonObject | undefined {
  try {
    const parsed: unknown = JSON.parse(text);
    return isObject(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Why GitHub would refuse a posted manifest, after its documented parameters: JSON; `url` (the
 * homepage) required; `hook_attributes.url` required when `hook_attributes` is given; permissions
 * `read` or `write`; events and callback URLs lists of strings. Unknown keys are ignored, as
 * Probot's `version` is. Empty when the manifest is acceptable.
 */
export function manifestProblems(raw: string): string[] {
  let manifest: unknown;
  try {
    manifest = JSON.parse(raw);
  } catch (error) {
    return [`not valid JSON (${error instanceof Error ? error.message : String(error)}): ${raw.slice(0, 120)}`];
  }
  if (!isObject(manifest)) return ["not a JSON object"];
  const problems: string[] = [];
  const isUrl = (value: unknown): boolean => typeof value === "string" && URL.canParse(value) && /^https?:$/.test(new URL(value).protocol);
  if (!isUrl(manifest.url)) problems.push("url (the homepage) must be an http(s) URL");
  for (const key of ["redirect_url", "setup_url"]) if (manifest[key] !== undefined && !isUrl(manifest[key])) problems.push(`${key} must be an http(s) URL`);
  if (manifest.name !== undefined && (typeof manifest.name !== "string" || manifest.name.length === 0 || manifest.name.length > 34))
    problems.push("name must be 1 to 34 characters");
  if (manifest.description !== undefined && typeof manifest.description !== "string") problems.push("description must be a string");
  if (manifest.public !== undefined && typeof manifest.public !== "boolean") problems.push("public must be a boolean");
  const hook = manifest.hook_attributes;
  if (hook !== undefined && !(isObject(hook) && isUrl(hook.url) && (hook.active === undefined || typeof hook.active === "boolean"))) {
    problems.push("hook_attributes.url must be an http(s) URL (and active a boolean)");
  }
  const permissions = manifest.default_permissions;
  if (permissions !== undefined && !(isObject(permissions) && Object.values(permissions).every((level) => level === "read" || level === "write"))) {
    problems.push("default_permissions must map each permission to read or write");
  }
  for (const key of ["default_events", "callback_urls"]) {
    const list = manifest[key];
    if (list !== undefined && !(Array.isArray(list) && list.every((item) => typeof item === "string"))) problems.push(`${key} must be a list of strings`);
  }
  return problems;
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
  /**
   * Awaited before a request is handled: a test holds one request (afk writing its hand-off, say)
   * while something else happens on GitHub first, as a slow network would let it.
   */
  holdRequest: ((r: { method: string; path: string; body: string }) => Promise<void> | undefined) | undefined;
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
  /** Every manifest a browser posted to the registration form, in order. */
  readonly manifestForms: ManifestFormPost[] = [];
  /** The App registered through the manifest flow (`POST /app-manifests/{code}/conversions`), once there is one. */
  registered: RegisteredApp | undefined;
  /** Deliveries sent to the registered App's hook URL (`deliverToHook`). */
  readonly hookDeliveries: HookDelivery[] = [];

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
  private nextStatusId = 8_000_000;
  private nextReviewId = 9_000_000;
  private nextReviewCommentId = 9_500_000;
  private nextRequestId = 1;
  private readonly foreignApps = new Map<string, ForeignApp>();
  /** Random path segment of a job log's download URL → the log. */
  private readonly logLinks = new Map<string, { repoKey: string; jobId: number }>();
  /** Manifest codes handed out on the redirect and not yet converted (each converts once). */
  private readonly manifestCodes = new Map<string, { manifest: Record<string, unknown>; expiresAt: number }>();

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
      checkSuites: new Map(),
      statuses: [],
      reviews: new Map(),
      reviewComments: new Map(),
      jobLogs: new Map(),
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

  /** The numbers of an issue's sub-issues, in the order they were added. */
  subIssues(fullName: string, number: number): number[] {
    return [...this.issueState(this.repoState(fullName), number).subIssues];
  }

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
  // After the pull request: other Apps' check runs, commit statuses, Actions logs, reviews

  /**
   * A check run by another App (`github-actions` is GitHub Actions, and then the run's id is also
   * its job id for `setJobLog`). Each App slug gets a stable id of its own.
   */
  /**
   * The check suite GitHub makes on a push for an App with checks that has nothing to run there:
   * queued for ever, with no check runs.
   */
  addEmptyCheckSuite(fullName: string, input: { headSha: string; appSlug: string }): void {
    const repo = this.repoState(fullName);
    this.suiteFor(repo, this.foreignApp(input.appSlug).id, input.headSha);
  }

  addForeignCheckRun(fullName: string, input: ForeignCheckRunInput): CheckRunJson {
    const repo = this.repoState(fullName);
    if (!isSha(input.headSha)) throw new Error(`addForeignCheckRun: headSha ${input.headSha} is not a full commit sha`);
    const appId = input.appSlug.toLowerCase() === this.appSlug.toLowerCase() ? this.appId : this.foreignApp(input.appSlug).id;
    const conclusion = input.conclusion ?? null;
    const status = input.status ?? (conclusion === null ? "queued" : "completed");
    if (status === "completed" && conclusion === null) throw new Error("addForeignCheckRun: a completed check run needs a conclusion");
    if (status !== "completed" && conclusion !== null) throw new Error(`addForeignCheckRun: a ${status} check run has no conclusion`);
    const now = timestamp();
    const id = this.nextCheckRunId++;
    const suite = this.suiteFor(repo, appId, input.headSha);
    const run: CheckRunRecord = {
      id,
      suiteId: suite.id,
      appId,
      name: input.name,
      headSha: input.headSha,
      externalId: "",
      detailsUrl:
        input.detailsUrl ?? (input.appSlug === GITHUB_ACTIONS_APP.slug ? `${this.webUrl}/${repo.fullName}/actions/runs/${suite.id}/job/${id}` : undefined),
      status,
      conclusion,
      startedAt: now,
      completedAt: status === "completed" ? now : null,
      output: { title: input.output?.title ?? null, summary: input.output?.summary ?? null, text: input.output?.text ?? null },
    };
    repo.checkRuns.set(id, run);
    return this.checkRunJson(repo, run);
  }

  /** Moves another App's check run along (queued → in_progress → completed with a conclusion). */
  updateForeignCheckRun(fullName: string, id: number, update: ForeignCheckRunUpdate): CheckRunJson {
    const repo = this.repoState(fullName);
    const run = repo.checkRuns.get(id);
    if (run === undefined) throw new Error(`GitHub emulator: no check run ${id} in ${fullName}`);
    if (update.status !== undefined) run.status = update.status;
    if (update.conclusion !== undefined) {
      run.conclusion = update.conclusion;
      if (update.conclusion !== null) run.status = "completed";
    }
    if (run.status === "completed") {
      if (run.conclusion === null) throw new Error("updateForeignCheckRun: a completed check run needs a conclusion");
      run.completedAt ??= timestamp();
    } else {
      run.conclusion = null;
      run.completedAt = null;
    }
    if (update.output !== undefined) {
      run.output = {
        title: update.output.title ?? run.output.title,
        summary: update.output.summary ?? run.output.summary,
        text: update.output.text ?? run.output.text,
      };
    }
    return this.checkRunJson(repo, run);
  }

  /** Posts a commit status (a CI outside GitHub Actions, say); the newest per context counts in the combined status. */
  setCommitStatus(fullName: string, sha: string, input: CommitStatusInput): CommitStatusJson {
    const repo = this.repoState(fullName);
    if (!isSha(sha)) throw new Error(`setCommitStatus: ${sha} is not a full commit sha`);
    const status: StatusRecord = {
      id: this.nextStatusId++,
      sha,
      context: input.context,
      state: input.state,
      description: input.description ?? null,
      targetUrl: input.targetUrl ?? null,
      creator: input.creator === undefined ? repo.owner : this.addUser(input.creator),
      createdAt: timestamp(),
    };
    repo.statuses.push(status);
    return this.statusJson(repo, status);
  }

  /** The log of an Actions job (a GitHub Actions check run's id is its job id). */
  setJobLog(fullName: string, jobId: number, text: string): void {
    this.repoState(fullName).jobLogs.set(jobId, text);
  }

  /**
   * A review submitted on a pull request's current head, with optional line comments. A reviewer
   * login the emulator has not seen is added as a User (as `addUser` would); approving or
   * requesting changes on one's own pull request throws, as GitHub refuses it.
   */
  submitReview(fullName: string, pullNumber: number, input: ReviewInput): { review: ReviewJson; comments: ReviewCommentJson[] } {
    const repo = this.repoState(fullName);
    const pull = this.pullState(repo, pullNumber);
    const user = this.addUser(input.user);
    if (user === pull.user && input.state !== "COMMENTED") {
      throw new Error(`submitReview: ${user.login} cannot ${input.state === "APPROVED" ? "approve" : "request changes on"} their own pull request`);
    }
    const headSha = this.pullHeadSha(repo, pull);
    for (const comment of input.comments ?? []) {
      if (this.fileAt(repo, headSha, comment.path) === undefined) throw new Error(`submitReview: ${comment.path} does not exist at ${headSha}`);
    }
    const review = this.createReview(repo, pull, user, input.state, input.body ?? "", headSha);
    const comments = (input.comments ?? []).map((comment) => {
      const record = this.createReviewComment(repo, pull, review, {
        path: comment.path,
        line: comment.line,
        body: comment.body,
        inReplyTo: undefined,
        diffHunk: this.diffHunk(repo, pull, headSha, comment.path, comment.line),
      });
      return this.reviewCommentJson(repo, record);
    });
    return { review: this.reviewJson(repo, review), comments };
  }

  /** The reviews of a pull request, oldest first. */
  reviews(fullName: string, pullNumber: number): ReviewJson[] {
    const repo = this.repoState(fullName);
    return [...repo.reviews.values()].filter((review) => review.pullNumber === pullNumber).map((review) => this.reviewJson(repo, review));
  }

  /** The review comments of a pull request (replies included), oldest first. */
  reviewComments(fullName: string, pullNumber: number): ReviewCommentJson[] {
    const repo = this.repoState(fullName);
    return [...repo.reviewComments.values()].filter((comment) => comment.pullNumber === pullNumber).map((comment) => this.reviewCommentJson(repo, comment));
  }

  // -------------------------------------------------------------------------
  // The router: one entry per (method, OpenAPI path template).

  private readonly routes = new Map<string, Route>([
    ["GET /app", { auth: "app-jwt", handle: () => ({ status: 200, body: this.appJson() }) }],
    [
      "GET /app/installations",
      {
        auth: "app-jwt",
        handle: (ctx) =>
          this.page(
            ctx,
            [...this.installations.values()].map((i) => this.installationJson(i)),
          ),
      },
    ],
    [
      "GET /app/installations/{installation_id}",
      { auth: "app-jwt", handle: (ctx) => ({ status: 200, body: this.installationJson(this.installationOf(ctx)) }) },
    ],
    ["POST /app/installations/{installation_id}/access_tokens", { auth: "app-jwt", handle: (ctx) => this.createAccessToken(ctx) }],
    ["POST /app-manifests/{code}/conversions", { auth: "none", handle: (ctx) => this.convertManifest(ctx) }],
    ["GET /installation/repositories", { auth: "installation", handle: (ctx) => this.listInstallationRepos(ctx) }],

    [
      "GET /repos/{owner}/{repo}",
      { auth: "installation", permission: ["metadata", "read"], handle: (ctx) => ({ status: 200, body: this.repoJson(ctx.repo()) }) },
    ],
    [
      "GET /repos/{owner}/{repo}/installation",
      { auth: "app-jwt", handle: (ctx) => ({ status: 200, body: this.installationJson(this.installationState(ctx.repo().installationId)) }) },
    ],
    [
      "GET /repos/{owner}/{repo}/collaborators/{username}/permission",
      { auth: "installation", permission: ["metadata", "read"], handle: (ctx) => this.collaboratorPermission(ctx) },
    ],
    ["GET /repos/{owner}/{repo}/contents/{path}", { auth: "installation", permission: ["contents", "read"], handle: (ctx) => this.getContent(ctx) }],

    ["GET /repos/{owner}/{repo}/issues", { auth: "installation", permission: ["issues", "read"], handle: (ctx) => this.listIssues(ctx) }],
    ["POST /repos/{owner}/{repo}/issues", { auth: "installation", permission: ["issues", "write"], handle: (ctx) => this.createIssueRoute(ctx) }],
    [
      "GET /repos/{owner}/{repo}/issues/{issue_number}",
      { auth: "installation", permission: ["issues", "read"], handle: (ctx) => ({ status: 200, body: this.issueJson(ctx.repo(), this.issueOf(ctx)) }) },
    ],
    ["PATCH /repos/{owner}/{repo}/issues/{issue_number}", { auth: "installation", permission: ["issues", "write"], handle: (ctx) => this.updateIssue(ctx) }],
    [
      "GET /repos/{owner}/{repo}/issues/{issue_number}/sub_issues",
      { auth: "installation", permission: ["issues", "read"], handle: (ctx) => this.listSubIssues(ctx) },
    ],
    [
      "POST /repos/{owner}/{repo}/issues/{issue_number}/sub_issues",
      { auth: "installation", permission: ["issues", "write"], handle: (ctx) => this.addSubIssue(ctx) },
    ],
    [
      "GET /repos/{owner}/{repo}/issues/{issue_number}/dependencies/blocked_by",
      { auth: "installation", permission: ["issues", "read"], handle: (ctx) => this.listBlockedBy(ctx) },
    ],

    [
      "GET /repos/{owner}/{repo}/issues/{issue_number}/comments",
      { auth: "installation", permission: ["issues", "read"], handle: (ctx) => this.listComments(ctx) },
    ],
    [
      "POST /repos/{owner}/{repo}/issues/{issue_number}/comments",
      { auth: "installation", permission: ["issues", "write"], handle: (ctx) => this.createCommentRoute(ctx) },
    ],
    [
      "GET /repos/{owner}/{repo}/issues/comments/{comment_id}",
      { auth: "installation", permission: ["issues", "read"], handle: (ctx) => ({ status: 200, body: this.commentJson(ctx.repo(), this.commentOf(ctx)) }) },
    ],
    [
      "PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}",
      { auth: "installation", permission: ["issues", "write"], handle: (ctx) => this.updateComment(ctx) },
    ],
    [
      "DELETE /repos/{owner}/{repo}/issues/comments/{comment_id}",
      { auth: "installation", permission: ["issues", "write"], handle: (ctx) => this.deleteComment(ctx) },
    ],

    [
      "GET /repos/{owner}/{repo}/issues/{issue_number}/reactions",
      { auth: "installation", permission: ["issues", "read"], handle: (ctx) => this.listReactions(ctx, this.issueOf(ctx).reactions) },
    ],
    [
      "POST /repos/{owner}/{repo}/issues/{issue_number}/reactions",
      { auth: "installation", permission: ["issues", "write"], handle: (ctx) => this.react(ctx, this.issueOf(ctx).reactions) },
    ],
    [
      "DELETE /repos/{owner}/{repo}/issues/{issue_number}/reactions/{reaction_id}",
      { auth: "installation", permission: ["issues", "write"], handle: (ctx) => this.unreact(ctx, this.issueOf(ctx).reactions) },
    ],
    [
      "GET /repos/{owner}/{repo}/issues/comments/{comment_id}/reactions",
      { auth: "installation", permission: ["issues", "read"], handle: (ctx) => this.listReactions(ctx, this.commentOf(ctx).reactions) },
    ],
    [
      "POST /repos/{owner}/{repo}/issues/comments/{comment_id}/reactions",
      { auth: "installation", permission: ["issues", "write"], handle: (ctx) => this.react(ctx, this.commentOf(ctx).reactions) },
    ],
    [
      "DELETE /repos/{owner}/{repo}/issues/comments/{comment_id}/reactions/{reaction_id}",
      { auth: "installation", permission: ["issues", "write"], handle: (ctx) => this.unreact(ctx, this.commentOf(ctx).reactions) },
    ],

    [
      "GET /repos/{owner}/{repo}/issues/{issue_number}/labels",
      { auth: "installation", permission: ["issues", "read"], handle: (ctx) => this.page(ctx, this.issueLabelsJson(ctx.repo(), this.issueOf(ctx))) },
    ],
    [
      "POST /repos/{owner}/{repo}/issues/{issue_number}/labels",
      { auth: "installation", permission: ["issues", "write"], handle: (ctx) => this.addLabels(ctx, false) },
    ],
    [
      "PUT /repos/{owner}/{repo}/issues/{issue_number}/labels",
      { auth: "installation", permission: ["issues", "write"], handle: (ctx) => this.addLabels(ctx, true) },
    ],
    [
      "DELETE /repos/{owner}/{repo}/issues/{issue_number}/labels",
      { auth: "installation", permission: ["issues", "write"], handle: (ctx) => this.removeAllLabels(ctx) },
    ],
    [
      "DELETE /repos/{owner}/{repo}/issues/{issue_number}/labels/{name}",
      { auth: "installation", permission: ["issues", "write"], handle: (ctx) => this.removeLabel(ctx) },
    ],

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
    [
      "GET /repos/{owner}/{repo}/pulls/{pull_number}",
      {
        auth: "installation",
        permission: ["pull_requests", "read"],
        handle: (ctx) => ({ status: 200, body: this.pullJson(ctx.repo(), this.pullOf(ctx), "full") }),
      },
    ],
    [
      "PATCH /repos/{owner}/{repo}/pulls/{pull_number}",
      { auth: "installation", permission: ["pull_requests", "write"], handle: (ctx) => this.updatePull(ctx) },
    ],
    [
      "POST /repos/{owner}/{repo}/pulls/{pull_number}/requested_reviewers",
      { auth: "installation", permission: ["pull_requests", "write"], handle: (ctx) => this.requestReviewers(ctx) },
    ],
    ["POST /repos/{owner}/{repo}/check-runs", { auth: "installation", permission: ["checks", "write"], handle: (ctx) => this.createCheckRun(ctx) }],
    [
      "GET /repos/{owner}/{repo}/check-runs/{check_run_id}",
      { auth: "installation", permission: ["checks", "read"], handle: (ctx) => ({ status: 200, body: this.checkRunJson(ctx.repo(), this.checkRunOf(ctx)) }) },
    ],
    [
      "PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}",
      { auth: "installation", permission: ["checks", "write"], handle: (ctx) => this.updateCheckRun(ctx) },
    ],
    [
      "GET /repos/{owner}/{repo}/commits/{ref}/check-runs",
      { auth: "installation", permission: ["checks", "read"], handle: (ctx) => this.listCheckRunsForRef(ctx) },
    ],
    [
      "GET /repos/{owner}/{repo}/commits/{ref}/check-suites",
      { auth: "installation", permission: ["checks", "read"], handle: (ctx) => this.listCheckSuitesForRef(ctx) },
    ],
    ["GET /repos/{owner}/{repo}/commits/{ref}/status", { auth: "installation", permission: ["statuses", "read"], handle: (ctx) => this.combinedStatus(ctx) }],
    ["GET /repos/{owner}/{repo}/commits/{ref}/statuses", { auth: "installation", permission: ["statuses", "read"], handle: (ctx) => this.listStatuses(ctx) }],
    ["GET /repos/{owner}/{repo}/actions/jobs/{job_id}/logs", { auth: "installation", permission: ["actions", "read"], handle: (ctx) => this.jobLogs(ctx) }],

    [
      "GET /repos/{owner}/{repo}/pulls/{pull_number}/reviews",
      { auth: "installation", permission: ["pull_requests", "read"], handle: (ctx) => this.listReviews(ctx) },
    ],
    [
      "GET /repos/{owner}/{repo}/pulls/{pull_number}/reviews/{review_id}",
      {
        auth: "installation",
        permission: ["pull_requests", "read"],
        handle: (ctx) => ({ status: 200, body: this.reviewJson(ctx.repo(), this.reviewOf(ctx)) }),
      },
    ],
    [
      "GET /repos/{owner}/{repo}/pulls/{pull_number}/reviews/{review_id}/comments",
      { auth: "installation", permission: ["pull_requests", "read"], handle: (ctx) => this.listCommentsForReview(ctx) },
    ],
    [
      "GET /repos/{owner}/{repo}/pulls/{pull_number}/comments",
      { auth: "installation", permission: ["pull_requests", "read"], handle: (ctx) => this.listReviewComments(ctx) },
    ],
    [
      "POST /repos/{owner}/{repo}/pulls/{pull_number}/comments/{comment_id}/replies",
      { auth: "installation", permission: ["pull_requests", "write"], handle: (ctx) => this.replyToReviewComment(ctx) },
    ],
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
    const hold = this.holdRequest?.({
      method: (req.method ?? "GET").toUpperCase(),
      path: new URL(req.url ?? "/", "http://emulator.invalid").pathname.replace(API_PREFIX, ""),
      body: Buffer.concat(chunks).toString("utf8"),
    });
    if (hold !== undefined) await hold;
    // From here on everything is synchronous: one request's state change cannot interleave with another's.
    const method = (req.method ?? "GET").toUpperCase();
    const url = new URL(req.url ?? "/", "http://emulator.invalid");
    const query: Record<string, string> = {};
    for (const [key, value] of url.searchParams) query[key] = value;
    if (url.pathname.startsWith(LOG_PREFIX) && method === "GET") return this.send(res, this.serveLog(url.pathname.slice(LOG_PREFIX.length)));
    const page = this.serveWebPage(method, url, Buffer.concat(chunks).toString("utf8"));
    if (page !== undefined) return this.send(res, page);
    if (url.pathname === GRAPHQL_PATH) {
      const auth = this.identify(req.headers.authorization);
      const record: RecordedRequest = { method, path: "/graphql", query, body: undefined, status: 0, auth: auth.kind };
      this.requests.push(record);
      const reply = this.graphql(record, chunks, auth);
      record.status = reply.status;
      if (reply.body !== undefined) record.response = reply.body;
      return this.send(res, reply);
    }
    const rawPath = url.pathname.startsWith(`${API_PREFIX}/`) ? url.pathname.slice(API_PREFIX.length) : url.pathname;
    const path = rawPath.split("/").map(decodeSegment).join("/");
    const auth = this.identify(req.headers.authorization);
    const record: RecordedRequest = { method, path, query, body: undefined, status: 0, auth: auth.kind };
    this.requests.push(record);

    const reply = this.dispatch(req, record, { chunks, rawPath, under: url.pathname.startsWith(`${API_PREFIX}/`), auth });
    record.status = reply.status;
    if (reply.body !== undefined) record.response = reply.body;
    // GitHub reports the rate limit on every REST answer; a fault's own headers (a 429, say) win.
    this.send(res, { ...reply, headers: { ...this.rateLimitHeaders(), ...reply.headers } });
  }

  /** What every REST answer says of the rate limit: `rateLimitRemaining` of 5,000, resetting in an hour. */
  private rateLimitHeaders(): Record<string, string> {
    return {
      "x-ratelimit-limit": "5000",
      "x-ratelimit-remaining": String(this.rateLimitRemaining),
      "x-ratelimit-used": String(5000 - this.rateLimitRemaining),
      "x-ratelimit-reset": String(Math.ceil(Date.now() / 1000) + 3600),
      "x-ratelimit-resource": "core",
    };
  }

  private dispatch(req: IncomingMessage, record: RecordedRequest, input: { chunks: Buffer[]; rawPath: string; under: boolean; auth: Authentication }): Reply {
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
    if (reply.text !== undefined || reply.html !== undefined) {
      const payload = Buffer.from(reply.html ?? reply.text ?? "", "utf8");
      const type = reply.html === undefined ? "text/plain; charset=utf-8" : "text/html; charset=utf-8";
      res.writeHead(reply.status, { "content-type": type, "content-length": String(payload.length), ...headers });
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
    const repos = this.reposOfInstallation(token.installationId).filter((repo) => token.repositories === undefined || token.repositories.includes(repo.name));
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
    return this.page(
      ctx,
      issues.map((issue) => this.issueJson(repo, issue)),
    );
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

  private listSubIssues(ctx: RequestContext): Reply {
    const repo = ctx.repo();
    const subIssues = this.issueOf(ctx).subIssues.flatMap((number) => {
      const sub = repo.issues.get(number);
      return sub === undefined ? [] : [this.issueJson(repo, sub)];
    });
    return this.page(ctx, subIssues);
  }

  /** As GitHub: the sub-issue is named by its id (not its number), may have one parent, and the answer is the parent. */
  private addSubIssue(ctx: RequestContext): Reply {
    const repo = ctx.repo();
    const parent = this.issueOf(ctx);
    const id = field(ctx.body, "sub_issue_id");
    const sub = [...repo.issues.values()].find((issue) => issue.id === id);
    if (sub === undefined)
      return { status: 404, body: { message: "Not Found", documentation_url: "https://docs.github.com/rest/issues/sub-issues#add-sub-issue" } };
    if ((sub.parent !== undefined && field(ctx.body, "replace_parent") !== true) || sub.number === parent.number) {
      return {
        status: 422,
        body: {
          message: "Validation Failed",
          errors: [{ resource: "Issue", code: "custom", message: "Issue may not contain duplicate sub-issues or already have a parent" }],
          documentation_url: "https://docs.github.com/rest/issues/sub-issues#add-sub-issue",
        },
      };
    }
    if (sub.parent !== undefined) {
      const old = repo.issues.get(sub.parent);
      if (old !== undefined) old.subIssues = old.subIssues.filter((number) => number !== sub.number);
    }
    sub.parent = parent.number;
    parent.subIssues.push(sub.number);
    return { status: 201, body: this.issueJson(repo, parent) };
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
    return this.page(
      ctx,
      comments.map((comment) => this.commentJson(repo, comment)),
    );
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
      if (content !== undefined && sha !== undefined)
        throw new HttpError(422, "Invalid tree info", { errors: ["tree.sha and tree.content are mutually exclusive"] });
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
  pulls(fullName: string): PullSummary[] {
    const repo = this.repoState(fullName);
    return [...repo.pulls.values()].map((pull) => ({
      number: pull.number,
      nodeId: nodeId("PR", pull.id),
      title: pull.title,
      body: pull.body,
      head: pull.head,
      headSha: this.pullHeadSha(repo, pull),
      base: pull.base,
      draft: pull.draft,
      state: pull.state,
      merged: pull.merged,
      user: pull.user.login,
      requestedReviewers: pull.requestedReviewers.map((user) => user.login),
    }));
  }

  /** Merges an open pull request as `mergedBy` would on GitHub (closed, merged, merged_by, merged_at). */
  mergePull(fullName: string, number: number, mergedBy: string): void {
    const repo = this.repoState(fullName);
    const pull = this.pullState(repo, number);
    if (pull.state !== "open") throw new Error(`GitHub emulator: pull request #${number} in ${fullName} is not open`);
    pull.headSha = this.pullHeadSha(repo, pull);
    const now = timestamp();
    pull.state = "closed";
    pull.merged = true;
    pull.mergedAt = now;
    pull.mergedBy = this.addUser(mergedBy);
    pull.closedAt = now;
    pull.updatedAt = now;
  }

  /**
   * The head commit of a pull request: while it is open, the head branch's current commit (in the git
   * backing, else the emulator's refs), so a push to the branch shows up; once closed, the last one seen.
   */
  private pullHeadSha(repo: RepoState, pull: PullRecord): string {
    if (pull.state === "open") {
      const current = this.branchSha(repo, pull.head.includes(":") ? (pull.head.split(":")[1] ?? "") : pull.head);
      if (current !== undefined && current !== "") pull.headSha = current;
    }
    return pull.headSha;
  }

  private pullState(repo: RepoState, number: number): PullRecord {
    const pull = repo.pulls.get(number);
    if (pull === undefined) throw new Error(`GitHub emulator: no pull request #${number} in ${repo.fullName}`);
    return pull;
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
    return this.page(
      ctx,
      pulls.map((pull) => this.pullJson(repo, pull, "simple")),
    );
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
      throw new HttpError(422, "Validation Failed", {
        errors: [{ resource: "PullRequest", code: "custom", message: `A pull request already exists for ${repo.owner.login}:${head}.` }],
      });
    }
    const actor = this.actor(ctx);
    const asIssue = this.createIssue(repo, {
      title: String(field(ctx.body, "title") ?? ""),
      body: stringField(ctx.body, "body") ?? "",
      labels: [],
      user: actor.login,
      viaApp: true,
    });
    asIssue.pullRequest = true;
    const number = asIssue.number;
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
      closedAt: null,
      merged: false,
      mergedAt: null,
      mergedBy: null,
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
    if (state === "open" && pull.merged)
      throw new HttpError(422, "Validation Failed", {
        errors: [{ resource: "PullRequest", code: "custom", field: "state", message: "state cannot be changed. The pull request cannot be reopened." }],
      });
    if (title !== undefined) pull.title = title;
    if (body !== undefined) pull.body = body;
    pull.updatedAt = timestamp();
    if ((state === "open" || state === "closed") && state !== pull.state) {
      pull.state = state;
      pull.closedAt = state === "closed" ? pull.updatedAt : null;
    }
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
        throw new HttpError(
          422,
          "Reviews may only be requested from collaborators. One or more of the users or teams you specified is not a collaborator of the " +
            `${repo.fullName} repository.`,
        );
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
    const headSha = this.pullHeadSha(repo, pull);
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
      statuses_url: `${api}/statuses/${headSha}`,
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
      closed_at: pull.closedAt,
      merged_at: pull.mergedAt,
      // A merged pull request's merge commit; the emulator merges by fast-forward, so it is the head.
      merge_commit_sha: pull.merged ? headSha : null,
      assignee: null,
      assignees: [],
      requested_reviewers: pull.requestedReviewers.map((user) => this.userJson(user)),
      requested_teams: [],
      head: side(pull.head, headSha),
      base: side(pull.base, pull.baseSha),
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
      auto_merge: null,
      draft: pull.draft,
    };
    if (shape === "full") {
      Object.assign(json, {
        merged: pull.merged,
        mergeable: null,
        rebaseable: null,
        mergeable_state: "unknown",
        merged_by: pull.mergedBy === null ? null : this.userJson(pull.mergedBy),
        comments: repo.issues.get(pull.number)?.commentIds.length ?? 0,
        review_comments: [...repo.reviewComments.values()].filter((comment) => comment.pullNumber === pull.number).length,
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
      suiteId: this.suiteFor(repo, this.appId, headSha).id,
      appId: this.appId,
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
    // An App can only change its own check runs.
    if (run.appId !== this.appId) throw new HttpError(403, "Resource not accessible by integration");
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
      throw new HttpError(422, 'Invalid request.\n\n"conclusion" wasn\'t supplied.');
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
  // Checks and statuses of a commit, Actions logs

  /** The commit a `{ref}` names: a full sha, or a branch (`main`, `heads/main`, `refs/heads/main`) or tag. */
  private refSha(repo: RepoState, ref: string, status: 404 | 422): string {
    let sha: string | undefined;
    if (isSha(ref)) {
      if (
        this.commitObject(repo, ref) !== undefined ||
        this.gitHasCommit(repo, ref) ||
        [...repo.checkRuns.values()].some((run) => run.headSha === ref) ||
        repo.statuses.some((s) => s.sha === ref)
      )
        sha = ref;
    } else {
      const name = ref.replace(/^refs\//, "").replace(/^heads\//, "");
      sha = this.branchSha(repo, name);
      if (sha === undefined || sha === "") {
        const tag = name.replace(/^tags\//, "");
        sha =
          repo.refs.get(`refs/tags/${tag}`) ??
          (/^[A-Za-z0-9._\/-]+$/.test(tag) ? this.gitRun(repo, ["rev-parse", "--verify", "--quiet", `refs/tags/${tag}^{commit}`]) : undefined);
      }
    }
    if (sha === undefined || sha === "") throw new HttpError(status, `No commit found for SHA: ${ref}`);
    return sha;
  }

  /** Newest first; with `latest`, only the newest run of each name per App. */
  private runsAt(repo: RepoState, sha: string, filter: string | undefined): CheckRunRecord[] {
    const runs = [...repo.checkRuns.values()].filter((run) => run.headSha === sha).sort((a, b) => b.id - a.id);
    if (filter === "all") return runs;
    const seen = new Set<string>();
    return runs.filter((run) => {
      const key = `${run.appId}:${run.name}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
  }

  private listCheckRunsForRef(ctx: RequestContext): Reply {
    const repo = ctx.repo();
    const sha = this.refSha(repo, ctx.params.ref ?? "", 422);
    const appId = positiveInt(ctx.query.app_id);
    const runs = this.runsAt(repo, sha, ctx.query.filter)
      .filter((run) => ctx.query.check_name === undefined || run.name === ctx.query.check_name)
      .filter((run) => ctx.query.status === undefined || run.status === ctx.query.status)
      .filter((run) => appId === undefined || run.appId === appId);
    const { perPage, page } = pageParams(ctx.query);
    return {
      status: 200,
      body: { total_count: runs.length, check_runs: runs.slice((page - 1) * perPage, page * perPage).map((run) => this.checkRunJson(repo, run)) },
      headers: this.linkHeader(ctx, runs.length),
    };
  }

  private listCheckSuitesForRef(ctx: RequestContext): Reply {
    const repo = ctx.repo();
    const sha = this.refSha(repo, ctx.params.ref ?? "", 422);
    const appId = positiveInt(ctx.query.app_id);
    const latest = this.runsAt(repo, sha, "latest");
    const suites = [...repo.checkSuites.values()]
      .filter((suite) => suite.headSha === sha && (appId === undefined || suite.appId === appId))
      .filter((suite) => ctx.query.check_name === undefined || latest.some((run) => run.suiteId === suite.id && run.name === ctx.query.check_name))
      .sort((a, b) => a.id - b.id);
    const { perPage, page } = pageParams(ctx.query);
    return {
      status: 200,
      body: { total_count: suites.length, check_suites: suites.slice((page - 1) * perPage, page * perPage).map((suite) => this.checkSuiteJson(repo, suite)) },
      headers: this.linkHeader(ctx, suites.length),
    };
  }

  private suiteFor(repo: RepoState, appId: number, headSha: string): CheckSuiteRecord {
    const key = `${appId}:${headSha}`;
    let suite = repo.checkSuites.get(key);
    if (suite === undefined) {
      suite = { id: this.nextCheckSuiteId++, appId, headSha, createdAt: timestamp() };
      repo.checkSuites.set(key, suite);
    }
    return suite;
  }

  /** The newest status of each context, oldest context first. */
  private latestStatuses(repo: RepoState, sha: string): StatusRecord[] {
    const latest = new Map<string, StatusRecord>();
    for (const status of repo.statuses) if (status.sha === sha) latest.set(status.context, status);
    return [...latest.values()].sort((a, b) => a.id - b.id);
  }

  private combinedStatus(ctx: RequestContext): Reply {
    const repo = ctx.repo();
    const sha = this.refSha(repo, ctx.params.ref ?? "", 404);
    const latest = this.latestStatuses(repo, sha);
    // GitHub: failure if any context is error or failure, pending if none or any is pending, else success.
    const state = latest.some((s) => s.state === "failure" || s.state === "error")
      ? "failure"
      : latest.length === 0 || latest.some((s) => s.state === "pending")
        ? "pending"
        : "success";
    const { perPage, page } = pageParams(ctx.query);
    const api = `${this.apiUrl}/repos/${repo.fullName}`;
    return {
      status: 200,
      body: {
        state,
        statuses: latest.slice((page - 1) * perPage, page * perPage).map((status) => {
          const { creator: _creator, ...simple } = this.statusJson(repo, status);
          return simple;
        }),
        sha,
        total_count: latest.length,
        repository: this.repoJson(repo, "repository"),
        commit_url: `${api}/commits/${sha}`,
        url: `${api}/commits/${sha}/status`,
      },
      headers: this.linkHeader(ctx, latest.length),
    };
  }

  private listStatuses(ctx: RequestContext): Reply {
    const repo = ctx.repo();
    const sha = this.refSha(repo, ctx.params.ref ?? "", 404);
    const statuses = repo.statuses.filter((status) => status.sha === sha).sort((a, b) => b.id - a.id);
    return this.page(
      ctx,
      statuses.map((status) => this.statusJson(repo, status)),
    );
  }

  /** GitHub answers 302 to a short-lived download URL; here one on the emulator, outside the API. */
  private jobLogs(ctx: RequestContext): Reply {
    const repo = ctx.repo();
    const jobId = Number(ctx.params.job_id);
    if (!repo.jobLogs.has(jobId)) throw notFound();
    const link = randomBytes(16).toString("hex");
    this.logLinks.set(link, { repoKey: repo.fullName.toLowerCase(), jobId });
    return { status: 302, headers: { location: `${this.webUrl}${LOG_PREFIX}${link}` } };
  }

  private serveLog(link: string): Reply {
    const target = this.logLinks.get(link);
    const text = target === undefined ? undefined : this.repos.get(target.repoKey)?.jobLogs.get(target.jobId);
    if (text === undefined) return { status: 404, text: "The specified blob does not exist." };
    return { status: 200, text };
  }

  // -------------------------------------------------------------------------
  // The manifest flow's web pages (not API routes: no OpenAPI description applies)
  //
  // https://docs.github.com/apps/sharing-github-apps/registering-a-github-app-from-a-manifest
  // 1. A browser posts the form field `manifest` (JSON) to `/settings/apps/new` or
  //    `/organizations/<org>/settings/apps/new`. GitHub shows the App's name for the person to
  //    confirm; here that confirmation is taken as given.
  // 2. GitHub redirects to the manifest's `redirect_url` with `?code=` (and `&state=`).
  // 3. The App converts the code with `POST /app-manifests/{code}/conversions` (an API route, below).

  /** Answers the manifest flow's web pages; `undefined` for anything else (the API and the rest go on). */
  private serveWebPage(method: string, url: URL, body: string): Reply | undefined {
    const form = MANIFEST_FORM_PATH.exec(url.pathname);
    if (form !== null && method === "POST") return this.receiveManifestForm(url, form[1], body);
    const install = INSTALL_PAGE_PATH.exec(url.pathname);
    if (install !== null && method === "GET") {
      this.requests.push({ method, path: url.pathname, query: {}, body: undefined, status: 200, auth: "none" });
      const name = decodeSegment(install[1] ?? "");
      return {
        status: 200,
        html: `<!DOCTYPE html><html><head><title>Install ${escapeHtml(name)}</title></head><body><h1>Install ${escapeHtml(name)}</h1></body></html>`,
      };
    }
    // Browsers ask every site for its icon; none is served, and that is not the code under test.
    if (url.pathname === "/favicon.ico" && method === "GET") return { status: 404, text: "Not Found" };
    return undefined;
  }

  private receiveManifestForm(url: URL, organization: string | undefined, body: string): Reply {
    const fields = new URLSearchParams(body);
    const raw = fields.get("manifest") ?? "";
    const state = url.searchParams.get("state") ?? undefined;
    this.manifestForms.push({ path: url.pathname, organization: organization === undefined ? undefined : decodeSegment(organization), manifest: raw, state });
    const record: RecordedRequest = { method: "POST", path: url.pathname, query: Object.fromEntries(url.searchParams), body: raw, status: 0, auth: "none" };
    this.requests.push(record);
    const parsed = parseJsonObject(raw);
    const problems = manifestProblems(raw);
    // GitHub sends the person back to `redirect_url` with the code; without one the flow ends at GitHub.
    if (parsed !== undefined && parsed.redirect_url === undefined) problems.push("redirect_url is missing: GitHub would not send the code back to the App");
    if (problems.length > 0 || parsed === undefined) {
      // GitHub shows the person an error page; a test sees it as a violation.
      this.violations.push(`POST ${url.pathname}: the manifest was refused: ${problems.join("; ")}`);
      record.status = 422;
      return {
        status: 422,
        html: `<!DOCTYPE html><html><body><h1>Invalid GitHub App configuration</h1><ul>${problems.map((p) => `<li>${escapeHtml(p)}</li>`).join("")}</ul></body></html>`,
      };
    }
    const code = randomBytes(10).toString("hex");
    this.manifestCodes.set(code, { manifest: parsed, expiresAt: Date.now() + MANIFEST_CODE_TTL_MS });
    const redirect = new URL(String(parsed.redirect_url));
    redirect.searchParams.set("code", code);
    if (state !== undefined) redirect.searchParams.set("state", state);
    record.status = 302;
    return { status: 302, headers: { location: redirect.href } };
  }

  /** `POST /app-manifests/{code}/conversions`: the App's credentials, once per code. */
  private convertManifest(ctx: RequestContext): Reply {
    const code = ctx.params.code ?? "";
    const pending = this.manifestCodes.get(code);
    this.manifestCodes.delete(code);
    if (pending === undefined || pending.expiresAt < Date.now()) throw notFound();
    const { manifest } = pending;
    const name = String(manifest.name);
    const slug = name
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, "-")
      .replace(/^-|-$/g, "");
    if (slug !== this.appSlug)
      throw new HttpError(422, `GitHub emulator: the App registered is "${slug}", but this emulator plays "${this.appSlug}" (start it with appSlug)`);
    const permissions = manifest.default_permissions;
    const events = manifest.default_events;
    if (isObject(permissions))
      this.appPermissions = Object.fromEntries(
        Object.entries(permissions).flatMap(([key, level]) => (level === "read" || level === "write" ? [[key, level]] : [])),
      );
    if (Array.isArray(events)) this.appEvents = events.filter((event): event is string => typeof event === "string");
    const hook = manifest.hook_attributes;
    const hookUrl = isObject(hook) && hook.active !== false && typeof hook.url === "string" ? hook.url : undefined;
    const app = this.appJson();
    this.registered = {
      manifest,
      hookUrl,
      webhookSecret: randomBytes(20).toString("hex"),
      pem: generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ type: "pkcs1", format: "pem" }).toString(),
      clientId: app.client_id,
      clientSecret: randomBytes(20).toString("hex"),
    };
    const description = manifest.description;
    return {
      status: 201,
      body: {
        ...app,
        name,
        description: typeof description === "string" ? description : null,
        external_url: String(manifest.url),
        client_secret: this.registered.clientSecret,
        webhook_secret: this.registered.webhookSecret,
        pem: this.registered.pem,
      },
    };
  }

  /**
   * Delivers `event` to the registered App's hook URL as GitHub's hook service does: a JSON POST
   * signed with the webhook secret GitHub issued at registration (`x-hub-signature-256`).
   */
  async deliverToHook(event: string, payload: object): Promise<HookDelivery> {
    const app = this.registered;
    if (app?.hookUrl === undefined) throw new Error("no App with a webhook was registered through the manifest flow");
    const id = randomUUID();
    const body = JSON.stringify(payload);
    const response = await loopbackFetch(app.hookUrl, {
      method: "POST",
      body,
      headers: {
        "content-type": "application/json",
        "user-agent": "GitHub-Hookshot/emulator",
        "x-github-event": event,
        "x-github-delivery": id,
        "x-github-hook-id": "1",
        "x-github-hook-installation-target-id": String(this.appId),
        "x-github-hook-installation-target-type": "integration",
        "x-hub-signature-256": `sha256=${createHmac("sha256", app.webhookSecret).update(body).digest("hex")}`,
      },
      signal: AbortSignal.timeout(10_000),
    });
    await response.arrayBuffer();
    const delivery = { id, event, status: response.status };
    this.hookDeliveries.push(delivery);
    return delivery;
  }

  // -------------------------------------------------------------------------
  // Pull request reviews and review comments

  private reviewOf(ctx: RequestContext): ReviewRecord {
    const pull = this.pullOf(ctx);
    const review = ctx.repo().reviews.get(Number(ctx.params.review_id));
    if (review === undefined || review.pullNumber !== pull.number) throw notFound();
    return review;
  }

  private listReviews(ctx: RequestContext): Reply {
    const repo = ctx.repo();
    const pull = this.pullOf(ctx);
    const reviews = [...repo.reviews.values()].filter((review) => review.pullNumber === pull.number);
    return this.page(
      ctx,
      reviews.map((review) => this.reviewJson(repo, review)),
    );
  }

  private listCommentsForReview(ctx: RequestContext): Reply {
    const repo = ctx.repo();
    const review = this.reviewOf(ctx);
    const comments = [...repo.reviewComments.values()].filter((comment) => comment.reviewId === review.id);
    return this.page(
      ctx,
      comments.map((comment) => this.reviewCommentJson(repo, comment)),
    );
  }

  private listReviewComments(ctx: RequestContext): Reply {
    const repo = ctx.repo();
    const pull = this.pullOf(ctx);
    const since = ctx.query.since === undefined ? undefined : Date.parse(ctx.query.since);
    const key = (comment: ReviewCommentRecord): number => (ctx.query.sort === "updated" ? Date.parse(comment.updatedAt) : Date.parse(comment.createdAt));
    // GitHub: `direction` is ignored without `sort`; with `sort` it defaults to desc.
    const direction = ctx.query.sort === undefined ? 1 : ctx.query.direction === "asc" ? 1 : -1;
    const comments = [...repo.reviewComments.values()]
      .filter((comment) => comment.pullNumber === pull.number && (since === undefined || Date.parse(comment.updatedAt) >= since))
      .sort((a, b) => direction * (key(a) - key(b) || a.id - b.id));
    return this.page(
      ctx,
      comments.map((comment) => this.reviewCommentJson(repo, comment)),
    );
  }

  /** A reply joins the thread of the comment's top-level comment, in a review of its own (as on GitHub). */
  private replyToReviewComment(ctx: RequestContext): Reply {
    const repo = ctx.repo();
    const pull = this.pullOf(ctx);
    const parent = repo.reviewComments.get(Number(ctx.params.comment_id));
    if (parent === undefined || parent.pullNumber !== pull.number) throw notFound();
    const user = this.actor(ctx);
    const review = this.createReview(repo, pull, user, "COMMENTED", "", this.pullHeadSha(repo, pull));
    const comment = this.createReviewComment(repo, pull, review, {
      path: parent.path,
      line: parent.line,
      body: String(field(ctx.body, "body")),
      inReplyTo: parent.inReplyTo ?? parent.id,
      diffHunk: parent.diffHunk,
    });
    const json = this.reviewCommentJson(repo, comment);
    return { status: 201, body: json, headers: { location: json.url } };
  }

  private createReview(repo: RepoState, pull: PullRecord, user: UserState, state: ReviewState, body: string, commitId: string): ReviewRecord {
    const review: ReviewRecord = { id: this.nextReviewId++, pullNumber: pull.number, user, body, state, commitId, submittedAt: timestamp() };
    repo.reviews.set(review.id, review);
    return review;
  }

  private createReviewComment(
    repo: RepoState,
    pull: PullRecord,
    review: ReviewRecord,
    input: { path: string; line: number; body: string; inReplyTo: number | undefined; diffHunk: string },
  ): ReviewCommentRecord {
    const comment: ReviewCommentRecord = {
      id: this.nextReviewCommentId++,
      reviewId: review.id,
      pullNumber: pull.number,
      inReplyTo: input.inReplyTo,
      path: input.path,
      line: input.line,
      body: input.body,
      user: review.user,
      commitId: review.commitId,
      diffHunk: input.diffHunk,
      createdAt: review.submittedAt,
      updatedAt: review.submittedAt,
    };
    repo.reviewComments.set(comment.id, comment);
    return comment;
  }

  /** A file's text at a commit, from the git backing or the emulator's own objects. */
  private fileAt(repo: RepoState, sha: string, path: string): string | undefined {
    const entry = this.lookupPath(repo, sha, path);
    const blob = entry === undefined ? undefined : repo.objects.get(entry.sha);
    if (blob?.type === "blob") return blob.content.toString("utf8");
    if (!isSha(sha) || path.startsWith("-")) return undefined;
    return this.gitRun(repo, ["show", `${sha}:${path}`]);
  }

  /**
   * The diff hunk GitHub shows above a line comment: the hunk of the pull request's diff holding the
   * line, up to that line. A line outside the diff gets a one-line hunk of its own.
   */
  private diffHunk(repo: RepoState, pull: PullRecord, headSha: string, path: string, line: number): string {
    const diff =
      isSha(pull.baseSha) && isSha(headSha) ? this.gitRun(repo, ["diff", "--no-color", "--unified=3", `${pull.baseSha}...${headSha}`, "--", path]) : undefined;
    let hunk: string[] = [];
    let next = 0;
    for (const text of (diff ?? "").split("\n")) {
      const header = /^@@ -\d+(?:,\d+)? \+(\d+)(?:,\d+)? @@/.exec(text);
      if (header !== null) {
        hunk = [text];
        next = Number(header[1]);
        continue;
      }
      if (hunk.length === 0 || text.startsWith("\\")) continue;
      hunk.push(text);
      if (text.startsWith("-")) continue;
      if (next === line) return hunk.join("\n");
      next++;
    }
    const content = this.fileAt(repo, headSha, path)?.split("\n")[line - 1] ?? "";
    return `@@ -${line},1 +${line},1 @@\n ${content}`;
  }

  // -------------------------------------------------------------------------
  // GraphQL: the two draft mutations afk uses (REST cannot flip a pull request's draft state)

  private graphql(record: RecordedRequest, chunks: Buffer[], auth: Authentication): Reply {
    const docs = "https://docs.github.com/graphql";
    const unsupported = (error: GraphqlError): Reply => {
      this.violations.push(`POST /graphql: ${error.message}${error.note === undefined ? "" : ` (${error.note})`}`);
      return { status: 200, body: { errors: [error.json()] } };
    };
    if (record.method !== "POST") {
      this.violations.push(`${record.method} /graphql: GitHub's GraphQL API takes POST`);
      return { status: 404, body: { message: "Not Found", documentation_url: docs } };
    }
    const text = Buffer.concat(chunks).toString("utf8");
    let body: unknown;
    try {
      body = text.trim() === "" ? undefined : JSON.parse(text);
    } catch {
      this.violations.push(`POST /graphql: Problems parsing JSON: ${text.slice(0, 200)}`);
      return { status: 400, body: { message: "Problems parsing JSON", documentation_url: docs } };
    }
    record.body = body;
    const fault = this.onRequest?.({ method: record.method, path: "/graphql" });
    if (fault !== undefined) return { status: fault.status, body: fault.body, ...(fault.headers === undefined ? {} : { headers: fault.headers }) };
    if (auth.kind !== "installation") {
      return { status: 401, body: { message: auth.kind === "none" ? auth.problem : "Bad credentials", documentation_url: docs } };
    }
    const query = stringField(body, "query");
    if (query === undefined) return unsupported(new GraphqlError("A query attribute must be specified and must be a string."));
    const variables = field(body, "variables");
    let mutations: DraftMutation[];
    try {
      mutations = checkDraftMutations(selectOperation(parseGraphql(query), stringField(body, "operationName")), isObject(variables) ? variables : {});
    } catch (error) {
      if (error instanceof GraphqlError) return unsupported(error);
      throw error;
    }
    const data: JsonObject = {};
    const errors: JsonObject[] = [];
    for (const mutation of mutations) {
      if (mutation.name === "__typename") {
        data[mutation.key] = "Mutation";
        continue;
      }
      const result = this.draftMutation(mutation, auth.token);
      if ("error" in result) {
        data[mutation.key] = null;
        errors.push({ type: result.error.type, path: [mutation.key], locations: [mutation.location], message: result.error.message });
      } else {
        data[mutation.key] = result.value;
      }
    }
    return { status: 200, body: errors.length === 0 ? { data } : { data, errors } };
  }

  private draftMutation(mutation: DraftMutation, token: IssuedToken): { value: JsonObject } | { error: { type: string; message: string } } {
    const found = [...this.repos.values()].flatMap((repo) =>
      [...repo.pulls.values()].filter((pull) => nodeId("PR", pull.id) === mutation.pullRequestId).map((pull) => ({ repo, pull })),
    )[0];
    if (found === undefined || found.repo.installationId !== token.installationId) {
      return { error: { type: "NOT_FOUND", message: `Could not resolve to a node with the global id of '${mutation.pullRequestId}'` } };
    }
    const { repo, pull } = found;
    const selected = token.repositories === undefined || token.repositories.some((name) => name.toLowerCase() === repo.name.toLowerCase());
    if (!selected || token.permissions.pull_requests !== "write") return { error: { type: "FORBIDDEN", message: "Resource not accessible by integration" } };
    if (pull.state !== "open") return { error: { type: "UNPROCESSABLE", message: `Pull request is ${pull.merged ? "merged" : "closed"}` } };
    if (pull.draft !== mutation.draft) {
      pull.draft = mutation.draft;
      pull.updatedAt = timestamp();
    }
    const value: JsonObject = {};
    for (const selection of mutation.payload) {
      if (selection.name === "__typename") value[selection.key] = mutation.payloadType;
      else if (selection.name === "clientMutationId") value[selection.key] = mutation.clientMutationId;
      else value[selection.key] = this.pullRequestGraphql(repo, pull, selection.fields);
    }
    return { value };
  }

  private pullRequestGraphql(repo: RepoState, pull: PullRecord, fields: GraphqlLeaf[]): JsonObject {
    const values: Record<PullRequestGraphqlField, unknown> = {
      __typename: "PullRequest",
      id: nodeId("PR", pull.id),
      number: pull.number,
      isDraft: pull.draft,
      state: pull.merged ? "MERGED" : pull.state === "open" ? "OPEN" : "CLOSED",
      title: pull.title,
      url: `${this.webUrl}/${repo.fullName}/pull/${pull.number}`,
      headRefName: pull.head,
      headRefOid: this.pullHeadSha(repo, pull),
      baseRefName: pull.base,
      merged: pull.merged,
      closed: pull.state === "closed",
    };
    return Object.fromEntries(fields.map((leaf) => [leaf.key, values[leaf.name]]));
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
      subIssues: [],
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
    const candidates = isSha(ref)
      ? [ref]
      : ref.startsWith("refs/")
        ? [repo.refs.get(ref)]
        : [repo.refs.get(`refs/heads/${ref}`), repo.refs.get(`refs/tags/${ref}`)];
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
      html_url: `${this.webUrl}/${repo.fullName}/${issue.pullRequest === true ? "pull" : "issues"}/${issue.number}`,
      ...(issue.pullRequest === true
        ? {
            pull_request: {
              url: `${this.apiUrl}/repos/${repo.fullName}/pulls/${issue.number}`,
              html_url: `${this.webUrl}/${repo.fullName}/pull/${issue.number}`,
              diff_url: `${this.webUrl}/${repo.fullName}/pull/${issue.number}.diff`,
              patch_url: `${this.webUrl}/${repo.fullName}/pull/${issue.number}.patch`,
            },
          }
        : {}),
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
      app: this.appJsonById(run.appId),
      pull_requests: this.pullsAt(repo, run.headSha),
    };
  }

  /** Another App by slug, made on first use with a stable id of its own (GitHub Actions has its real one). */
  private foreignApp(slug: string): ForeignApp {
    const key = slug.toLowerCase();
    const existing = this.foreignApps.get(key);
    if (existing !== undefined) return existing;
    let app: ForeignApp;
    if (key === GITHUB_ACTIONS_APP.slug) {
      app = {
        id: GITHUB_ACTIONS_APP.id,
        slug: GITHUB_ACTIONS_APP.slug,
        name: GITHUB_ACTIONS_APP.name,
        owner: { login: GITHUB_ACTIONS_APP.ownerLogin, id: GITHUB_ACTIONS_APP.ownerId, type: "Organization" },
        description: "Automate your workflow from idea to production",
        externalUrl: "https://help.github.com/en/actions",
      };
    } else {
      const taken = new Set([this.appId, ...[...this.foreignApps.values()].map((other) => other.id)]);
      let id = 100_000 + (Number.parseInt(createHash("sha1").update(key).digest("hex").slice(0, 8), 16) % 800_000);
      while (taken.has(id)) id++;
      app = {
        id,
        slug,
        name: slug,
        owner: { login: `${slug}-developers`, id: 50_000_000 + id, type: "Organization" },
        description: `${slug} (another GitHub App)`,
        externalUrl: `https://${key}.example.com`,
      };
    }
    this.foreignApps.set(key, app);
    return app;
  }

  private appJsonById(appId: number): AppJson {
    const app = [...this.foreignApps.values()].find((candidate) => candidate.id === appId);
    if (app === undefined || appId === this.appId) return this.appJson();
    const actions = app.id === GITHUB_ACTIONS_APP.id;
    return {
      id: app.id,
      slug: app.slug,
      node_id: nodeId("A", app.id),
      client_id: `Iv1.${createHash("sha1").update(String(app.id)).digest("hex").slice(0, 16)}`,
      owner: this.userJson(app.owner),
      name: app.name,
      description: app.description,
      external_url: app.externalUrl,
      html_url: `${this.webUrl}/apps/${app.slug}`,
      created_at: actions ? "2018-07-30T09:30:17Z" : this.createdAt,
      updated_at: actions ? "2024-04-10T20:33:16Z" : this.createdAt,
      permissions: actions
        ? {
            actions: "write",
            checks: "write",
            contents: "write",
            deployments: "write",
            issues: "write",
            metadata: "read",
            packages: "write",
            pages: "write",
            pull_requests: "write",
            statuses: "write",
          }
        : { checks: "write", metadata: "read", statuses: "write" },
      events: actions
        ? [
            "check_run",
            "check_suite",
            "create",
            "delete",
            "issues",
            "issue_comment",
            "pull_request",
            "pull_request_review",
            "push",
            "status",
            "workflow_dispatch",
            "workflow_run",
          ]
        : ["check_run", "check_suite"],
      installations_count: 1,
    };
  }

  /** The open pull requests whose head is `sha`, as `pull_requests` of check runs and suites lists them. */
  private pullsAt(repo: RepoState, sha: string): PullRequestMinimalJson[] {
    const repoRef = { id: repo.id, url: `${this.apiUrl}/repos/${repo.fullName}`, name: repo.name };
    return [...repo.pulls.values()]
      .filter((pull) => pull.state === "open" && this.pullHeadSha(repo, pull) === sha)
      .map((pull) => ({
        id: pull.id,
        number: pull.number,
        url: `${this.apiUrl}/repos/${repo.fullName}/pulls/${pull.number}`,
        head: { ref: pull.head, sha, repo: repoRef },
        base: { ref: pull.base, sha: this.branchSha(repo, pull.base) ?? pull.baseSha, repo: repoRef },
      }));
  }

  /** The branch a commit is the head of: an open pull request's, else any branch pointing at it. */
  private headBranchOf(repo: RepoState, sha: string): string | null {
    const pull = [...repo.pulls.values()].find((candidate) => candidate.state === "open" && this.pullHeadSha(repo, candidate) === sha);
    if (pull !== undefined) return pull.head;
    for (const [name, target] of repo.refs) if (target === sha && name.startsWith("refs/heads/")) return name.slice("refs/heads/".length);
    const fromGit = this.gitRun(repo, ["for-each-ref", "--points-at", sha, "--format=%(refname:short)", "refs/heads"]);
    return fromGit === undefined || fromGit === "" ? null : (fromGit.split("\n")[0] ?? null);
  }

  /** A commit's tree, parents, message and people, from the emulator's objects or the git backing. */
  private commitSummary(
    repo: RepoState,
    sha: string,
  ): { tree: string; parents: string[]; message: string; author: GitIdentity; committer: GitIdentity } | undefined {
    const commit = this.commitObject(repo, sha);
    if (commit !== undefined) return commit;
    if (!isSha(sha)) return undefined;
    const raw = this.gitRun(repo, ["show", "-s", "--format=%T%x00%P%x00%an%x00%ae%x00%at%x00%cn%x00%ce%x00%ct%x00%B", sha]);
    if (raw === undefined) return undefined;
    const [tree = "", parents = "", an = "", ae = "", at = "0", cn = "", ce = "", ct = "0", ...message] = raw.split("\0");
    return {
      tree,
      parents: parents.split(" ").filter((parent) => parent !== ""),
      message: message.join("\0").trim(),
      author: { name: an, email: ae, time: Number(at) },
      committer: { name: cn, email: ce, time: Number(ct) },
    };
  }

  private checkSuiteJson(repo: RepoState, suite: CheckSuiteRecord): JsonObject {
    const url = `${this.apiUrl}/repos/${repo.fullName}/check-suites/${suite.id}`;
    const runs = this.runsAt(repo, suite.headSha, "latest").filter((run) => run.suiteId === suite.id);
    const { status, conclusion } = rollUp(runs);
    const commit = this.commitSummary(repo, suite.headSha);
    const times = runs.flatMap((run) => [run.startedAt, run.completedAt ?? run.startedAt]).sort();
    return {
      id: suite.id,
      node_id: nodeId("CS", suite.id),
      head_branch: this.headBranchOf(repo, suite.headSha),
      head_sha: suite.headSha,
      status,
      conclusion,
      url,
      before: commit?.parents[0] ?? null,
      after: suite.headSha,
      pull_requests: this.pullsAt(repo, suite.headSha),
      app: this.appJsonById(suite.appId),
      repository: this.repoJson(repo, "repository"),
      created_at: suite.createdAt,
      updated_at: times.at(-1) ?? suite.createdAt,
      head_commit: {
        id: suite.headSha,
        tree_id: commit?.tree ?? EMPTY_TREE,
        message: commit?.message ?? "",
        timestamp: commit === undefined ? suite.createdAt : timestamp(new Date(commit.committer.time * 1000)),
        author: commit === undefined ? null : { name: commit.author.name, email: commit.author.email },
        committer: commit === undefined ? null : { name: commit.committer.name, email: commit.committer.email },
      },
      latest_check_runs_count: runs.length,
      check_runs_url: `${url}/check-runs`,
      rerequestable: true,
      runs_rerequestable: true,
    };
  }

  private statusJson(repo: RepoState, status: StatusRecord): CommitStatusJson {
    const creator = this.userJson(status.creator);
    return {
      url: `${this.apiUrl}/repos/${repo.fullName}/statuses/${status.sha}`,
      avatar_url: creator.avatar_url,
      id: status.id,
      node_id: nodeId("SC", status.id),
      state: status.state,
      description: status.description,
      target_url: status.targetUrl,
      context: status.context,
      created_at: status.createdAt,
      updated_at: status.createdAt,
      creator,
    };
  }

  private reviewJson(repo: RepoState, review: ReviewRecord): ReviewJson {
    const html = `${this.webUrl}/${repo.fullName}/pull/${review.pullNumber}#pullrequestreview-${review.id}`;
    const pullUrl = `${this.apiUrl}/repos/${repo.fullName}/pulls/${review.pullNumber}`;
    return {
      id: review.id,
      node_id: nodeId("PRR", review.id),
      user: this.userJson(review.user),
      body: review.body,
      state: review.state,
      html_url: html,
      pull_request_url: pullUrl,
      _links: { html: { href: html }, pull_request: { href: pullUrl } },
      submitted_at: review.submittedAt,
      commit_id: review.commitId,
      author_association: this.authorAssociation(repo, review.user.login),
    };
  }

  private reviewCommentJson(repo: RepoState, comment: ReviewCommentRecord): ReviewCommentJson {
    const url = `${this.apiUrl}/repos/${repo.fullName}/pulls/comments/${comment.id}`;
    const html = `${this.webUrl}/${repo.fullName}/pull/${comment.pullNumber}#discussion_r${comment.id}`;
    const pullUrl = `${this.apiUrl}/repos/${repo.fullName}/pulls/${comment.pullNumber}`;
    // The line's position in the hunk: lines after the `@@` header.
    const position = Math.max(1, comment.diffHunk.split("\n").length - 1);
    return {
      url,
      pull_request_review_id: comment.reviewId,
      id: comment.id,
      node_id: nodeId("PRRC", comment.id),
      diff_hunk: comment.diffHunk,
      path: comment.path,
      position,
      original_position: position,
      commit_id: comment.commitId,
      original_commit_id: comment.commitId,
      ...(comment.inReplyTo === undefined ? {} : { in_reply_to_id: comment.inReplyTo }),
      user: this.userJson(comment.user),
      body: comment.body,
      created_at: comment.createdAt,
      updated_at: comment.updatedAt,
      html_url: html,
      pull_request_url: pullUrl,
      author_association: this.authorAssociation(repo, comment.user.login),
      _links: { self: { href: url }, html: { href: html }, pull_request: { href: pullUrl } },
      start_line: null,
      original_start_line: null,
      start_side: null,
      line: comment.line,
      original_line: comment.line,
      side: "RIGHT",
      subject_type: "line",
      reactions: this.rollup(`${url}/reactions`, []),
    };
  }
}

// ---------------------------------------------------------------------------
// Module-private helpers that need the types above

type Authentication = { kind: "none"; problem: string } | { kind: "app-jwt" } | { kind: "installation"; token: IssuedToken };

const EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904";
const FAILING_CONCLUSIONS = ["action_required", "failure", "timed_out", "cancelled"];

/** A check suite's status and conclusion from its newest runs, as GitHub rolls them up. */
function rollUp(runs: Array<{ status: string; conclusion: string | null }>): { status: string; conclusion: string | null } {
  if (runs.length === 0) return { status: "queued", conclusion: null };
  if (runs.some((run) => run.status !== "completed")) {
    return { status: runs.some((run) => run.status !== "queued") ? "in_progress" : "queued", conclusion: null };
  }
  const conclusions = runs.map((run) => run.conclusion ?? "");
  const failing = FAILING_CONCLUSIONS.find((conclusion) => conclusions.includes(conclusion));
  if (failing !== undefined) return { status: "completed", conclusion: failing };
  return { status: "completed", conclusion: conclusions.includes("success") ? "success" : conclusions.includes("neutral") ? "neutral" : "skipped" };
}

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

// ---------------------------------------------------------------------------
// GraphQL: just enough of the language for the draft mutations

const DRAFT_MUTATIONS = {
  markPullRequestReadyForReview: { draft: false, payloadType: "MarkPullRequestReadyForReviewPayload", inputType: "MarkPullRequestReadyForReviewInput" },
  convertPullRequestToDraft: { draft: true, payloadType: "ConvertPullRequestToDraftPayload", inputType: "ConvertPullRequestToDraftInput" },
} as const;
const PULL_REQUEST_GRAPHQL_FIELDS = [
  "__typename",
  "id",
  "number",
  "isDraft",
  "state",
  "title",
  "url",
  "headRefName",
  "headRefOid",
  "baseRefName",
  "merged",
  "closed",
] as const;
type PullRequestGraphqlField = (typeof PULL_REQUEST_GRAPHQL_FIELDS)[number];
const EMULATOR_GRAPHQL_NOTE = "the GitHub emulator implements only the mutations markPullRequestReadyForReview and convertPullRequestToDraft";

/** A GraphQL error as GitHub reports it in `errors`; `note` only goes into the emulator's violation. */
class GraphqlError extends Error {
  constructor(
    message: string,
    readonly extra: JsonObject = {},
    readonly note?: string,
  ) {
    super(message);
  }

  json(): JsonObject {
    return { ...this.extra, message: this.message };
  }
}

interface GraphqlLocation {
  line: number;
  column: number;
}

type GraphqlValue =
  | { kind: "variable"; name: string }
  | { kind: "scalar"; value: string | number | boolean | null }
  | { kind: "enum"; value: string }
  | { kind: "list"; values: GraphqlValue[] }
  | { kind: "object"; fields: Array<{ name: string; value: GraphqlValue }> };

interface GraphqlField {
  alias: string | undefined;
  name: string;
  args: Array<{ name: string; value: GraphqlValue }>;
  selections: GraphqlField[] | undefined;
  location: GraphqlLocation;
}

interface GraphqlOperation {
  type: string;
  name: string | undefined;
  variables: Array<{ name: string; type: string; defaultValue: GraphqlValue | undefined; location: GraphqlLocation }>;
  selections: GraphqlField[];
}

interface GraphqlToken {
  kind: "punct" | "name" | "number" | "string" | "eof";
  text: string;
  location: GraphqlLocation;
}

interface GraphqlLeaf {
  key: string;
  name: PullRequestGraphqlField;
}

/** One top-level field of a checked mutation. */
interface DraftMutation {
  key: string;
  name: keyof typeof DRAFT_MUTATIONS | "__typename";
  location: GraphqlLocation;
  pullRequestId: string;
  clientMutationId: string | null;
  draft: boolean;
  payloadType: string;
  payload: Array<{ key: string; name: "__typename" | "clientMutationId" | "pullRequest"; fields: GraphqlLeaf[] }>;
}

function lexGraphql(source: string): GraphqlToken[] {
  const tokens: GraphqlToken[] = [];
  let i = 0;
  let line = 1;
  let lineStart = 0;
  const sticky = (pattern: RegExp): string | undefined => {
    pattern.lastIndex = i;
    return pattern.exec(source)?.[0];
  };
  while (i < source.length) {
    const c = source.charAt(i);
    if (c === "\n") {
      line++;
      i++;
      lineStart = i;
      continue;
    }
    if (c === " " || c === "\t" || c === "\r" || c === "," || c === "\ufeff") {
      i++;
      continue;
    }
    if (c === "#") {
      while (i < source.length && source.charAt(i) !== "\n") i++;
      continue;
    }
    const location = { line, column: i - lineStart + 1 };
    if (source.startsWith("...", i)) {
      tokens.push({ kind: "punct", text: "...", location });
      i += 3;
    } else if ("!$()[]{}:=@|&".includes(c)) {
      tokens.push({ kind: "punct", text: c, location });
      i++;
    } else if (source.startsWith('"""', i)) {
      const end = source.indexOf('"""', i + 3);
      if (end < 0) throw new GraphqlError(`Parse error on unterminated string at [${line}, ${location.column}]`, { locations: [location] });
      const text = source.slice(i + 3, end);
      for (const ch of text) if (ch === "\n") line++;
      tokens.push({ kind: "string", text, location });
      i = end + 3;
      if (text.includes("\n")) lineStart = source.lastIndexOf("\n", i) + 1;
    } else if (c === '"') {
      const raw = sticky(/"(?:[^"\\\n]|\\.)*"/y);
      if (raw === undefined) throw new GraphqlError(`Parse error on unterminated string at [${line}, ${location.column}]`, { locations: [location] });
      let text: string;
      try {
        text = String(JSON.parse(raw));
      } catch {
        throw new GraphqlError(`Parse error on bad string ${raw} at [${line}, ${location.column}]`, { locations: [location] });
      }
      tokens.push({ kind: "string", text, location });
      i += raw.length;
    } else {
      const name = sticky(/[_A-Za-z][_0-9A-Za-z]*/y);
      const number = name === undefined ? sticky(/-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y) : undefined;
      const text = name ?? number;
      if (text === undefined) throw new GraphqlError(`Parse error on "${c}" at [${line}, ${location.column}]`, { locations: [location] });
      tokens.push({ kind: name === undefined ? "number" : "name", text, location });
      i += text.length;
    }
  }
  tokens.push({ kind: "eof", text: "", location: { line, column: i - lineStart + 1 } });
  return tokens;
}

/** Operations (no fragments, no directives: the emulator does not need them) of a GraphQL document. */
function parseGraphql(source: string): GraphqlOperation[] {
  const tokens = lexGraphql(source);
  let index = 0;
  const peek = (): GraphqlToken => tokens[index] ?? { kind: "eof", text: "", location: { line: 0, column: 0 } };
  const next = (): GraphqlToken => {
    const token = peek();
    if (index < tokens.length - 1) index++;
    return token;
  };
  const fail = (token: GraphqlToken): never => {
    const { line, column } = token.location;
    const what = token.kind === "eof" ? "end of file" : `"${token.text}"`;
    throw new GraphqlError(`Parse error on ${what} at [${line}, ${column}]`, { locations: [token.location] });
  };
  const isPunct = (text: string): boolean => peek().kind === "punct" && peek().text === text;
  const expectPunct = (text: string): void => {
    if (!isPunct(text)) fail(peek());
    next();
  };
  const expectName = (): GraphqlToken => {
    if (peek().kind !== "name") fail(peek());
    return next();
  };
  const unsupported = (what: string): never => {
    const token = peek();
    throw new GraphqlError(`${what} are not supported by the GitHub emulator`, { locations: [token.location] }, EMULATOR_GRAPHQL_NOTE);
  };
  const parseValue = (): GraphqlValue => {
    const token = peek();
    if (isPunct("$")) {
      next();
      return { kind: "variable", name: expectName().text };
    }
    if (isPunct("[")) {
      next();
      const values: GraphqlValue[] = [];
      while (!isPunct("]")) {
        if (peek().kind === "eof") fail(peek());
        values.push(parseValue());
      }
      next();
      return { kind: "list", values };
    }
    if (isPunct("{")) {
      next();
      const fields: Array<{ name: string; value: GraphqlValue }> = [];
      while (!isPunct("}")) {
        const name = expectName().text;
        expectPunct(":");
        fields.push({ name, value: parseValue() });
      }
      next();
      return { kind: "object", fields };
    }
    next();
    if (token.kind === "string") return { kind: "scalar", value: token.text };
    if (token.kind === "number") return { kind: "scalar", value: Number(token.text) };
    if (token.kind === "name") {
      if (token.text === "true" || token.text === "false") return { kind: "scalar", value: token.text === "true" };
      if (token.text === "null") return { kind: "scalar", value: null };
      return { kind: "enum", value: token.text };
    }
    return fail(token);
  };
  const parseType = (): string => {
    let type: string;
    if (isPunct("[")) {
      next();
      type = `[${parseType()}]`;
      expectPunct("]");
    } else {
      type = expectName().text;
    }
    if (isPunct("!")) {
      next();
      type += "!";
    }
    return type;
  };
  const parseSelections = (): GraphqlField[] => {
    expectPunct("{");
    const fields: GraphqlField[] = [];
    while (!isPunct("}")) {
      if (isPunct("...")) unsupported("Fragments");
      const first = expectName();
      let alias: string | undefined;
      let name = first.text;
      if (isPunct(":")) {
        next();
        alias = first.text;
        name = expectName().text;
      }
      const args: Array<{ name: string; value: GraphqlValue }> = [];
      if (isPunct("(")) {
        next();
        while (!isPunct(")")) {
          const argument = expectName().text;
          expectPunct(":");
          args.push({ name: argument, value: parseValue() });
        }
        next();
      }
      if (isPunct("@")) unsupported("Directives");
      fields.push({ alias, name, args, selections: isPunct("{") ? parseSelections() : undefined, location: first.location });
    }
    next();
    if (fields.length === 0) fail(peek());
    return fields;
  };
  const operations: GraphqlOperation[] = [];
  while (peek().kind !== "eof") {
    if (isPunct("{")) {
      operations.push({ type: "query", name: undefined, variables: [], selections: parseSelections() });
      continue;
    }
    const keyword = expectName();
    if (keyword.text === "fragment") {
      index--;
      unsupported("Fragments");
    }
    if (keyword.text !== "query" && keyword.text !== "mutation" && keyword.text !== "subscription") fail(keyword);
    const name = peek().kind === "name" ? next().text : undefined;
    const variables: GraphqlOperation["variables"] = [];
    if (isPunct("(")) {
      next();
      while (!isPunct(")")) {
        const location = peek().location;
        expectPunct("$");
        const variable = expectName().text;
        expectPunct(":");
        const type = parseType();
        let defaultValue: GraphqlValue | undefined;
        if (isPunct("=")) {
          next();
          defaultValue = parseValue();
        }
        variables.push({ name: variable, type, defaultValue, location });
      }
      next();
    }
    if (isPunct("@")) unsupported("Directives");
    operations.push({ type: keyword.text, name, variables, selections: parseSelections() });
  }
  if (operations.length === 0) fail(peek());
  return operations;
}

function selectOperation(operations: GraphqlOperation[], operationName: string | undefined): GraphqlOperation {
  if (operationName !== undefined && operationName !== "") {
    const named = operations.find((operation) => operation.name === operationName);
    if (named === undefined) throw new GraphqlError(`No operation named "${operationName}"`);
    return named;
  }
  const [only, ...others] = operations;
  if (only === undefined || others.length > 0) throw new GraphqlError("An operation name is required");
  return only;
}

/** Resolves a value against the request's variables (undeclared variables are an error, as on GitHub). */
function graphqlValue(value: GraphqlValue, variables: Map<string, unknown>, operation: GraphqlOperation): unknown {
  switch (value.kind) {
    case "variable": {
      if (!variables.has(value.name)) {
        throw new GraphqlError(`Variable $${value.name} is used by ${operation.name ?? "anonymous mutation"} but not declared`, {
          extensions: { code: "variableNotDefined", variableName: value.name },
        });
      }
      return variables.get(value.name);
    }
    case "scalar":
      return value.value;
    case "enum":
      return value.value;
    case "list":
      return value.values.map((item) => graphqlValue(item, variables, operation));
    case "object":
      return Object.fromEntries(value.fields.map((item) => [item.name, graphqlValue(item.value, variables, operation)]));
  }
}

function isPullRequestGraphqlField(name: string): name is PullRequestGraphqlField {
  return PULL_REQUEST_GRAPHQL_FIELDS.some((candidate) => candidate === name);
}

function isDraftMutationName(name: string): name is keyof typeof DRAFT_MUTATIONS {
  return name === "markPullRequestReadyForReview" || name === "convertPullRequestToDraft";
}

/** Checks an operation is one of the draft mutations, well formed, as GitHub's schema would; returns its fields. */
function checkDraftMutations(operation: GraphqlOperation, provided: JsonObject): DraftMutation[] {
  if (operation.type !== "mutation") {
    const first = operation.selections[0];
    throw new GraphqlError(
      `Field '${first?.name ?? "?"}' on type 'Query' is not answered by the GitHub emulator`,
      { locations: first === undefined ? [] : [first.location] },
      EMULATOR_GRAPHQL_NOTE,
    );
  }
  const variables = new Map<string, unknown>();
  for (const variable of operation.variables) {
    const value = provided[variable.name] ?? (variable.defaultValue === undefined ? undefined : graphqlValue(variable.defaultValue, new Map(), operation));
    if (variable.type.endsWith("!") && (value === undefined || value === null)) {
      throw new GraphqlError(`Variable $${variable.name} of type ${variable.type} was provided invalid value`, {
        locations: [variable.location],
        extensions: { value: null, problems: [{ path: [], explanation: "Expected value to not be null" }] },
      });
    }
    variables.set(variable.name, value ?? null);
  }
  return operation.selections.map((selection): DraftMutation => {
    const key = selection.alias ?? selection.name;
    const where = { locations: [selection.location], path: ["mutation", key] };
    if (selection.name === "__typename") {
      return { key, name: "__typename", location: selection.location, pullRequestId: "", clientMutationId: null, draft: false, payloadType: "", payload: [] };
    }
    if (!isDraftMutationName(selection.name)) {
      throw new GraphqlError(
        `Field '${selection.name}' doesn't exist on type 'Mutation'`,
        { ...where, extensions: { code: "undefinedField", typeName: "Mutation", fieldName: selection.name } },
        EMULATOR_GRAPHQL_NOTE,
      );
    }
    const spec = DRAFT_MUTATIONS[selection.name];
    for (const argument of selection.args) {
      if (argument.name !== "input") throw new GraphqlError(`Field '${selection.name}' doesn't accept argument '${argument.name}'`, where);
    }
    const inputArgument = selection.args.find((argument) => argument.name === "input");
    if (inputArgument === undefined) throw new GraphqlError(`Field '${selection.name}' is missing required arguments: input`, where);
    const input = graphqlValue(inputArgument.value, variables, operation);
    if (!isObject(input))
      throw new GraphqlError(
        `Argument 'input' on Field '${selection.name}' has an invalid value (${JSON.stringify(input)}). Expected type '${spec.inputType}!'.`,
        where,
      );
    for (const name of Object.keys(input)) {
      if (name !== "pullRequestId" && name !== "clientMutationId")
        throw new GraphqlError(`InputObject '${spec.inputType}' doesn't accept argument '${name}'`, where);
    }
    const pullRequestId = input.pullRequestId;
    const clientMutationId = input.clientMutationId ?? null;
    if (typeof pullRequestId !== "string")
      throw new GraphqlError(`Argument 'pullRequestId' on InputObject '${spec.inputType}' is required. Expected type ID!`, where);
    if (clientMutationId !== null && typeof clientMutationId !== "string")
      throw new GraphqlError(`Argument 'clientMutationId' on InputObject '${spec.inputType}' has an invalid value. Expected type 'String'.`, where);
    if (selection.selections === undefined) {
      throw new GraphqlError(
        `Field must have selections (field '${selection.name}' returns ${spec.payloadType} but has no selections. Did you mean '${selection.name} { ... }'?)`,
        where,
      );
    }
    const payload = selection.selections.map((item): DraftMutation["payload"][number] => {
      const itemKey = item.alias ?? item.name;
      if (item.name === "__typename" || item.name === "clientMutationId") {
        if (item.selections !== undefined)
          throw new GraphqlError(
            `Selections can't be made on scalars (field '${item.name}' returns String but has selections [${item.selections.map((leaf) => leaf.name).join(", ")}])`,
            where,
          );
        return { key: itemKey, name: item.name, fields: [] };
      }
      if (item.name !== "pullRequest") {
        throw new GraphqlError(`Field '${item.name}' doesn't exist on type '${spec.payloadType}'`, {
          ...where,
          extensions: { code: "undefinedField", typeName: spec.payloadType, fieldName: item.name },
        });
      }
      if (item.selections === undefined)
        throw new GraphqlError(
          "Field must have selections (field 'pullRequest' returns PullRequest but has no selections. Did you mean 'pullRequest { ... }'?)",
          where,
        );
      const fields = item.selections.map((leaf): GraphqlLeaf => {
        if (!isPullRequestGraphqlField(leaf.name)) {
          throw new GraphqlError(
            `Field '${leaf.name}' is not answered on type 'PullRequest' by the GitHub emulator`,
            { ...where, extensions: { code: "undefinedField", typeName: "PullRequest", fieldName: leaf.name } },
            `it answers ${PULL_REQUEST_GRAPHQL_FIELDS.join(", ")}`,
          );
        }
        if (leaf.selections !== undefined || leaf.args.length > 0) throw new GraphqlError(`Selections can't be made on scalars (field '${leaf.name}')`, where);
        return { key: leaf.alias ?? leaf.name, name: leaf.name };
      });
      return { key: itemKey, name: "pullRequest", fields };
    });
    return {
      key,
      name: selection.name,
      location: selection.location,
      pullRequestId,
      clientMutationId: typeof clientMutationId === "string" ? clientMutationId : null,
      draft: spec.draft,
      payloadType: spec.payloadType,
      payload,
    };
  });
}
