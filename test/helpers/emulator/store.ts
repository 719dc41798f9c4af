import { createHash } from "node:crypto";
import { branchSha, commitFiles } from "./git-store.js";
import type {
  CheckRunRecord,
  CheckSuiteRecord,
  CommentRecord,
  EmulatorHosts,
  ForeignApp,
  InstallationState,
  IssueRecord,
  PullRecord,
  RepoState,
  ReviewCommentRecord,
  ReviewRecord,
  UserState,
} from "./records.js";
import type { AccountInput, IssuedToken, IssueState, PermissionLevel, RepoInput, ReviewState, UserType } from "./types.js";
import { timestamp } from "./util.js";

/**
 * Everything the emulated GitHub knows (the records of records.ts): users, installations and their
 * tokens, repositories with their issues, comments, labels, pull requests, reviews, check runs and
 * statuses, and the few operations on them more than one API area needs. No HTTP and no JSON
 * here: routes change records, shapes.ts turns them into JSON.
 */

export type * from "./records.js";

/** What app.yml asks for, so an installation made from it has these. */
export const DEFAULT_PERMISSIONS: Record<string, PermissionLevel> = {
  metadata: "read",
  contents: "write",
  issues: "write",
  checks: "write",
  pull_requests: "write",
  actions: "read",
  statuses: "read",
};
/** The events app.yml subscribes to, as an App registered from it has them. */
export const APP_EVENTS = ["issues", "issue_comment", "check_run", "check_suite", "pull_request", "pull_request_review", "status"];
/** GitHub Actions' App, as api.github.com shows it. */
export const GITHUB_ACTIONS_SLUG = "github-actions";
const GITHUB_ACTIONS_APP = {
  id: 15368,
  name: "GitHub Actions",
  owner: { login: "github", id: 9919, type: "Organization" },
  description: "Automate your workflow from idea to production",
  externalUrl: "https://help.github.com/en/actions",
  createdAt: "2018-07-30T09:30:17Z",
  updatedAt: "2024-04-10T20:33:16Z",
  permissions: {
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
  },
  events: [
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
  ],
} as const satisfies Omit<ForeignApp, "slug">;

const FIRST_IDS = {
  user: 1000,
  repo: 100_000,
  issue: 2_000_000,
  comment: 3_000_000,
  reaction: 4_000_000,
  label: 5_000_000,
  checkRun: 6_000_000,
  checkSuite: 7_000_000,
  status: 8_000_000,
  review: 9_000_000,
  reviewComment: 9_500_000,
};

export type IdKind = keyof typeof FIRST_IDS;

export interface StoreOptions {
  appId: number;
  appSlug: string;
  hosts: EmulatorHosts;
}

export class EmulatorStore {
  readonly appId: number;
  readonly appSlug: string;
  /** The App's own permissions and events (`GET /app`). */
  appPermissions: Record<string, PermissionLevel> = { ...DEFAULT_PERMISSIONS };
  appEvents: string[] = [...APP_EVENTS];
  hosts: EmulatorHosts;
  readonly users = new Map<string, UserState>();
  readonly installations = new Map<number, InstallationState>();
  readonly repos = new Map<string, RepoState>();
  readonly comments = new Map<number, CommentRecord>();
  /** Installation tokens handed out, oldest first. */
  readonly tokens: IssuedToken[] = [];
  readonly tokensByValue = new Map<string, IssuedToken>();
  readonly foreignApps = new Map<string, ForeignApp>();
  /** Random path segment of a job log's short-lived download URL → the log. */
  readonly jobLogLinks = new Map<string, { repoKey: string; jobId: number }>();
  readonly createdAt = timestamp(new Date(Date.UTC(2024, 0, 2, 3, 4, 5)));
  readonly appOwner: UserState;
  readonly bot: UserState;
  private readonly nextIds: Record<IdKind, number> = { ...FIRST_IDS };

  constructor(options: StoreOptions) {
    this.appId = options.appId;
    this.appSlug = options.appSlug;
    this.hosts = options.hosts;
    this.appOwner = this.addUser(`${this.appSlug}-developers`, "Organization");
    this.bot = this.addUser(`${this.appSlug}[bot]`, "Bot");
  }

  /** A fresh id of a kind; ids of one kind only grow. */
  nextId(kind: IdKind): number {
    return this.nextIds[kind]++;
  }

  /** The user with that login (case-insensitive), added with `type` (and `id`) the first time. */
  addUser(login: string, type: UserType = "User", id?: number): UserState {
    const existing = this.users.get(login.toLowerCase());
    if (existing !== undefined) return existing;
    const user: UserState = { login, id: id ?? this.nextId("user"), type };
    this.users.set(login.toLowerCase(), user);
    return user;
  }

  addInstallation(
    id: number,
    account: string | AccountInput,
    options: { permissions?: Record<string, PermissionLevel>; repositorySelection?: "all" | "selected" },
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

  /** Adds a repository with one commit of `files` on its default branch; a missing installation is made on the owner's account. */
  addRepo(input: RepoInput & { ownerType?: "User" | "Organization"; id?: number }): RepoState {
    if (!this.installations.has(input.installationId))
      this.addInstallation(input.installationId, { login: input.owner, type: input.ownerType ?? "Organization" }, {});
    const fullName = `${input.owner}/${input.name}`;
    if (this.repos.has(fullName.toLowerCase())) throw new Error(`addRepo: ${fullName} exists`);
    const repo: RepoState = {
      id: input.id ?? this.nextId("repo"),
      owner: this.users.get(input.owner.toLowerCase()) ?? this.addUser(input.owner, input.ownerType ?? "Organization"),
      name: input.name,
      fullName,
      installationId: input.installationId,
      defaultBranch: input.defaultBranch ?? "main",
      private: input.private ?? false,
      createdAt: this.createdAt,
      objects: new Map(),
      refs: new Map(),
      git: undefined,
      issues: new Map(),
      nextIssueNumber: 1,
      pulls: new Map(),
      labels: new Map(),
      roles: new Map(),
      checkRuns: new Map(),
      checkSuites: new Map(),
      statuses: [],
      reviews: new Map(),
      reviewComments: new Map(),
      jobLogs: new Map(),
    };
    this.repos.set(fullName.toLowerCase(), repo);
    commitFiles(repo, repo.defaultBranch, input.files ?? {}, "Initial commit");
    return repo;
  }

  /** For seeding and inspection: a repository that does not exist is a mistake in the test. */
  repo(fullName: string): RepoState {
    const repo = this.repos.get(fullName.toLowerCase());
    if (repo === undefined) throw new Error(`GitHub emulator: no repository ${fullName}`);
    return repo;
  }

  /** For seeding and inspection: an issue that does not exist is a mistake in the test. */
  issue(repo: RepoState, number: number): IssueRecord {
    const issue = repo.issues.get(number);
    if (issue === undefined) throw new Error(`GitHub emulator: no issue #${number} in ${repo.fullName}`);
    return issue;
  }

  pull(repo: RepoState, number: number): PullRecord {
    const pull = repo.pulls.get(number);
    if (pull === undefined) throw new Error(`GitHub emulator: no pull request #${number} in ${repo.fullName}`);
    return pull;
  }

  /** The emulator's own App, as a record like the other Apps'. */
  ownApp(): ForeignApp {
    return {
      id: this.appId,
      slug: this.appSlug,
      name: this.appSlug,
      owner: this.appOwner,
      description: `${this.appSlug} (GitHub emulator)`,
      externalUrl: this.hosts.web,
      createdAt: this.createdAt,
      updatedAt: this.createdAt,
      permissions: this.appPermissions,
      events: this.appEvents,
    };
  }

  /** The user for a login the emulator may not have seen. */
  userByLogin(login: string): UserState {
    return this.users.get(login.toLowerCase()) ?? this.addUser(login);
  }

  /** Opens an issue; `number` places it (the repository's next number otherwise), `id` names it (a fresh id otherwise). */
  createIssue(
    repo: RepoState,
    input: { title: string; body: string | null; labels: string[]; user: string; viaApp: boolean; number?: number; id?: number },
  ): IssueRecord {
    const now = timestamp();
    const number = input.number ?? repo.nextIssueNumber;
    repo.nextIssueNumber = Math.max(repo.nextIssueNumber, number + 1);
    const issue: IssueRecord = {
      id: input.id ?? this.nextId("issue"),
      number,
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

  changeState(issue: IssueRecord, state: IssueState, reason: string, by: string): void {
    issue.state = state;
    issue.stateReason = reason;
    issue.updatedAt = timestamp();
    issue.closedAt = state === "closed" ? issue.updatedAt : null;
    issue.closedBy = state === "closed" ? by : null;
  }

  createComment(repo: RepoState, issue: IssueRecord, input: { body: string; user: string; viaApp: boolean; id?: number }): CommentRecord {
    const now = timestamp();
    const comment: CommentRecord = {
      id: input.id ?? this.nextId("comment"),
      repoKey: repo.fullName.toLowerCase(),
      issueNumber: issue.number,
      body: input.body,
      user: input.user,
      viaApp: input.viaApp,
      createdAt: now,
      updatedAt: now,
      reactions: [],
    };
    this.comments.set(comment.id, comment);
    issue.commentIds.push(comment.id);
    issue.updatedAt = now;
    return comment;
  }

  commentsOf(issue: IssueRecord): CommentRecord[] {
    return issue.commentIds.flatMap((id) => {
      const comment = this.comments.get(id);
      return comment === undefined ? [] : [comment];
    });
  }

  /** Creates missing repository labels (GitHub does so when labels are added to an issue); returns the names as the repository spells them. */
  ensureLabels(repo: RepoState, names: string[]): string[] {
    const result: string[] = [];
    for (const name of names) {
      let label = repo.labels.get(name.toLowerCase());
      if (label === undefined) {
        label = { id: this.nextId("label"), name, color: "ededed", description: null };
        repo.labels.set(name.toLowerCase(), label);
      }
      if (!result.includes(label.name)) result.push(label.name);
    }
    return result;
  }

  /** The suite of an App on a commit, made on first use. */
  suiteFor(repo: RepoState, appId: number, headSha: string): CheckSuiteRecord {
    const key = `${appId}:${headSha}`;
    let suite = repo.checkSuites.get(key);
    if (suite === undefined) {
      suite = { id: this.nextId("checkSuite"), appId, headSha, createdAt: timestamp() };
      repo.checkSuites.set(key, suite);
    }
    return suite;
  }

  /** Another App by slug, made on first use with a stable id of its own (GitHub Actions has its real one; `id` fixes another's). */
  foreignApp(slug: string, id?: number): ForeignApp {
    const key = slug.toLowerCase();
    const existing = this.foreignApps.get(key);
    if (existing !== undefined) return existing;
    let app: ForeignApp;
    if (key === GITHUB_ACTIONS_SLUG) {
      const { owner, permissions, events, ...rest } = GITHUB_ACTIONS_APP;
      app = { ...rest, slug: GITHUB_ACTIONS_SLUG, owner: { ...owner }, permissions: { ...permissions }, events: [...events] };
    } else {
      const taken = new Set([this.appId, ...[...this.foreignApps.values()].map((other) => other.id)]);
      let chosen = id ?? 100_000 + (Number.parseInt(slugDigest(key), 16) % 800_000);
      while (id === undefined && taken.has(chosen)) chosen++;
      app = {
        id: chosen,
        slug,
        name: slug,
        owner: { login: `${slug}-developers`, id: 50_000_000 + chosen, type: "Organization" },
        description: `${slug} (another GitHub App)`,
        externalUrl: `https://${key}.example.com`,
        createdAt: this.createdAt,
        updatedAt: this.createdAt,
        permissions: { checks: "write", metadata: "read", statuses: "write" },
        events: ["check_run", "check_suite"],
      };
    }
    this.foreignApps.set(key, app);
    return app;
  }

  /**
   * The head commit of a pull request: while it is open, the head branch's current commit (in the git
   * backing, else the emulator's refs), so a push to the branch shows up; once closed, the last one seen.
   */
  pullHeadSha(repo: RepoState, pull: PullRecord): string {
    if (pull.state === "open") {
      const current = branchSha(repo, pull.head.includes(":") ? (pull.head.split(":")[1] ?? "") : pull.head);
      if (current !== undefined && current !== "") pull.headSha = current;
    }
    return pull.headSha;
  }

  /** The open pull requests whose head is `sha`. */
  openPullsAt(repo: RepoState, sha: string): PullRecord[] {
    return [...repo.pulls.values()].filter((pull) => pull.state === "open" && this.pullHeadSha(repo, pull) === sha);
  }

  /** Check runs on a commit, newest first; unless `filter` is `all`, only the newest run of each name per App. */
  runsAt(repo: RepoState, sha: string, filter: string | undefined = "latest"): CheckRunRecord[] {
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

  createReview(repo: RepoState, pull: PullRecord, input: { user: UserState; state: ReviewState; body: string; commitId: string; id?: number }): ReviewRecord {
    const { id, ...rest } = input;
    const review: ReviewRecord = { id: id ?? this.nextId("review"), pullNumber: pull.number, ...rest, submittedAt: timestamp() };
    repo.reviews.set(review.id, review);
    return review;
  }

  createReviewComment(
    repo: RepoState,
    review: ReviewRecord,
    input: { path: string; line: number; body: string; inReplyTo: number | undefined; diffHunk: string },
  ): ReviewCommentRecord {
    const comment: ReviewCommentRecord = {
      id: this.nextId("reviewComment"),
      reviewId: review.id,
      pullNumber: review.pullNumber,
      ...input,
      user: review.user,
      commitId: review.commitId,
      createdAt: review.submittedAt,
      updatedAt: review.submittedAt,
    };
    repo.reviewComments.set(comment.id, comment);
    return comment;
  }
}

function slugDigest(key: string): string {
  return createHash("sha1").update(key).digest("hex").slice(0, 8);
}

const FAILING_CONCLUSIONS = ["action_required", "failure", "timed_out", "cancelled"];

/** A check suite's status and conclusion from its newest runs, as GitHub rolls them up. */
export function rollUp(runs: Array<{ status: string; conclusion: string | null }>): { status: string; conclusion: string | null } {
  if (runs.length === 0) return { status: "queued", conclusion: null };
  if (runs.some((run) => run.status !== "completed")) {
    return { status: runs.some((run) => run.status !== "queued") ? "in_progress" : "queued", conclusion: null };
  }
  const conclusions = runs.map((run) => run.conclusion ?? "");
  const failing = FAILING_CONCLUSIONS.find((conclusion) => conclusions.includes(conclusion));
  if (failing !== undefined) return { status: "completed", conclusion: failing };
  return { status: "completed", conclusion: conclusions.includes("success") ? "success" : conclusions.includes("neutral") ? "neutral" : "skipped" };
}
