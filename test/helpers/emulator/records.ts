import type { GitHubHosts } from "../github-user-json.js";
import type { GitRepo } from "./git-store.js";
import type { CommitState, IssueState, PermissionLevel, ReviewState, Role, UserType } from "./types.js";

/** The records the store keeps: plain data, changed by the routes and seeding, read by shapes.ts. */

export interface UserState {
  login: string;
  id: number;
  type: UserType;
}

export interface InstallationState {
  id: number;
  account: UserState;
  permissions: Record<string, PermissionLevel>;
  repositorySelection: "all" | "selected";
  createdAt: string;
}

export interface LabelState {
  id: number;
  name: string;
  color: string;
  description: string | null;
}

export interface ReactionState {
  id: number;
  user: string;
  content: string;
  createdAt: string;
}

export interface IssueRecord {
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

export interface CommentRecord {
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

export interface CheckRunRecord {
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
export interface CheckSuiteRecord {
  id: number;
  appId: number;
  headSha: string;
  createdAt: string;
}

/** A GitHub App: the emulator's own, or another (GitHub Actions, a linter…) whose check runs show up on the repository. */
export interface ForeignApp {
  id: number;
  slug: string;
  name: string;
  owner: UserState;
  description: string;
  externalUrl: string;
  createdAt: string;
  updatedAt: string;
  permissions: Record<string, PermissionLevel>;
  events: string[];
}

export interface StatusRecord {
  id: number;
  sha: string;
  context: string;
  state: CommitState;
  description: string | null;
  targetUrl: string | null;
  creator: UserState;
  createdAt: string;
}

export interface ReviewRecord {
  id: number;
  pullNumber: number;
  user: UserState;
  body: string;
  state: ReviewState;
  commitId: string;
  submittedAt: string;
}

export interface ReviewCommentRecord {
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

export interface PullRecord {
  id: number;
  number: number;
  title: string;
  body: string;
  head: string;
  /** The lower-cased full name of the repository the head branch is on, when it is a fork (the base repository's otherwise). */
  headRepo?: string;
  /** The head commit: followed from the head branch while open (see `pullHeadSha`), frozen once closed. */
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

export interface RepoState extends GitRepo {
  id: number;
  owner: UserState;
  name: string;
  fullName: string;
  installationId: number;
  defaultBranch: string;
  private: boolean;
  createdAt: string;
  issues: Map<number, IssueRecord>;
  nextIssueNumber: number;
  pulls: Map<number, PullRecord>;
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

/** Where the emulated GitHub lives: its REST and web roots, and `host:port` for git and ssh URLs. */
export interface EmulatorHosts extends GitHubHosts {
  host: string;
}
