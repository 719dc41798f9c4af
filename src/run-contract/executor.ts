import type { RepoConfig } from "../config/repo-config.js";
import type { RepoRef } from "../github/types.js";
import type { Job, Phase } from "./job.js";
import type { CheckRunDetails } from "./evidence.js";

/** Everything an executor gets to do one run. It never sees a webhook payload. */
export interface RunJob {
  repo: RepoRef;
  issue: number;
  runId: string;
  /** Who asked for the run and when; their review is requested on the pull request. */
  trigger: { actor: string; at: string; bodyDigest: string | undefined };
  config: RepoConfig;
  /** The model to use (repository config, then operator default). */
  model: string;
  /** Aborted when the run is stopped, its lock is lost, or the App shuts down. */
  signal: AbortSignal;
  /** What the agent does: implement, fix red CI, rework after review, plan, or answer a question. */
  kind: Job;
  /** What a follow-up continues and why (empty for a first implementation). */
  context: JobContext;
}

/** What afk's earlier work on the issue left, and what asked for this job. */
export interface JobContext {
  /** afk's branch and pull request, for fix-ci and rework. */
  branch?: string;
  pullRequest?: PullRequestRef;
  /** The commit CI judged red (fix-ci). */
  ciHead?: string;
  /** Who asked (reviewer, commenter) and the review or comment that says what (rework, ask). */
  requestedBy?: string;
  reviewId?: number;
  commentId?: number;
  /** Which fix attempt or rework cycle this is (1-based). */
  attempt?: number;
  /** The approved plan's comment, read into the implementation task. */
  planCommentId?: number;
  /** afk's pull request from an earlier run of the issue, closed as superseded once this job delivers. */
  supersedes?: number;
}

/** How an executor reports progress; each call edits the progress comment. */
export interface RunReporter {
  phase(phase: Phase): Promise<void>;
  /** The model spend so far; shown on the issue as it grows (written at most every few seconds). */
  spend(spend: Spend): void;
}

/** Tokens of a request or a run, as the Messages API's `usage` reports them. */
export interface TokenUsage {
  /** Input tokens billed at the full rate (after the last cache breakpoint). */
  input: number;
  output: number;
  /** `cache_creation_input_tokens` */
  cacheWrite: number;
  /** `cache_read_input_tokens` */
  cacheRead: number;
}

/** What the model cost in a run. */
export interface Spend {
  usd: number;
  turns: number;
  /** Tokens by kind, when the run reports them (afk's metrics count them apart). */
  tokens?: TokenUsage;
}

/** The pull request a run opened. */
export interface PullRequestRef {
  number: number;
  url: string;
  draft: boolean;
  /** Its GraphQL node id (marking it ready for review takes one); absent in states written before afk kept it. */
  nodeId?: string | undefined;
}

/** What a run produced on GitHub, whatever its outcome. */
export interface RunProducts {
  spend?: Spend;
  branch?: string;
  pullRequest?: PullRequestRef;
  checkRunId?: number;
  /** The commit afk pushed; the `afk` check run goes on it. */
  headSha?: string;
  /** What the check run shows besides the state: test evidence, the agent's summary, the transcript tail. */
  evidence?: CheckRunDetails;
  /** The commit of this job's run log (`refs/afk/runs/<run id>`), when afk kept one. */
  runLog?: string;
}

/** A job afk dispatched to run elsewhere: the workflow run of afk's runner repository that runs it (ADR 0008). */
export interface RemoteJob {
  /** `owner/name` of the runner repository. */
  runnerRepo: string;
  workflowRunId: number;
  /** The commit the job works from (afk pinned it when it dispatched); the change it returns must sit on it. */
  baseSha: string;
}

/**
 * How a run ended. `dispatched`: it did not end here; the job runs as `remote` and the run stays
 * running (the lock held) until its result or its lease's end. `waiting`: afk pushed `headSha` with the tests passing (on its pull request, or
 * the default branch in direct mode) and the run waits for CI and review (the lock is released).
 * `planned`: the plan is posted as a comment and waits for `/afk approve`. `escalated`: handed to a person (`ready-for-human`), with the
 * work so far kept on the branch when there was any. `done`: nothing further to wait for.
 */
export type RunOutcome = RunProducts &
  (
    | { status: "dispatched"; message: string; remote: RemoteJob }
    | { status: "done"; message: string }
    /** `baseSha`: in direct mode, the commit afk's work started from, whose CI tells afk's failures from older ones. */
    | { status: "waiting"; message: string; headSha: string; baseSha?: string }
    | { status: "planned"; message: string; planCommentId: number }
    | { status: "escalated"; message: string }
    | { status: "failed"; message: string; retryable: boolean }
    | { status: "stopped"; message: string }
  );

/** Runs the agent for one issue. The App's is `GitHubExecutor`; tests substitute their own. */
export interface Executor {
  readonly name: string;
  execute(job: RunJob, reporter: RunReporter): Promise<RunOutcome>;
}
