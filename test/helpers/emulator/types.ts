/** The emulator's public vocabulary: what tests seed it with and read back from it (JSON shapes are in json.ts). */

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
  /**
   * The web root its links name (`html_url`s, `https://github.com` say), as GitHub.com's API names
   * github.com while it answers on api.github.com; nothing is fetched there. Its own address when not given.
   */
  web?: string;
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

export type ReviewState = "APPROVED" | "CHANGES_REQUESTED" | "COMMENTED";

export interface ReviewInput {
  /** The reviewer's login; a login not seen before is added as a User (as `addUser` would). */
  user: string;
  state: ReviewState;
  body?: string;
  /** Line comments on the pull request's head (`line` is a line of the file at the head, right side). */
  comments?: Array<{ path: string; line: number; body: string }>;
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

/** A real bare git repository standing behind an emulated repository (served by `git http-backend`). */
export interface GitBacking {
  cloneUrl: string;
  gitDir: string;
}
