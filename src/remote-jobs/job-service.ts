import type { Logger } from "probot";
import type { ExpectedJob } from "../actions/job-claims.js";
import { mintJobCredential, readJobCredential, type JobCredentialClaims } from "../actions/job-credential.js";
import type { OidcVerifier, ReplayGuard } from "../actions/oidc-verifier.js";
import { RUNNER_WORKFLOW_PATH } from "../actions/runner-workflow.js";
import type { ActionsSettings, OperatorSettings } from "../config/operator-settings.js";
import type { DeliveryContext } from "../dispatch/delivery-context.js";
import { ProgressWriter } from "../dispatch/progress-writer.js";
import { runJobOf } from "../dispatch/run-supervisor.js";
import type { Moved, EventFor } from "../dispatch/runtime.js";
import type { GitHubExecutor } from "../executor/github-executor.js";
import { errorMessage, errorStatus, ownerAndRepo, type GitHub, type RepoRef } from "../github/types.js";
import { installationClientFor } from "../github/workflow-runs.js";
import type { RunState } from "../lifecycle/run-state.js";
import type { AfkMetrics } from "../observability/metrics.js";
import { runEndRecord } from "../observability/run-record.js";
import { renewLeaseOf } from "../lock/repo-lock.js";
import type { RemoteJob, RunOutcome, Spend } from "../run-contract/executor.js";
import {
  JOB_PATHS,
  jobHeartbeatSchema,
  jobResultSchema,
  jobStartSchema,
  parseRunReference,
  type HeartbeatAnswer,
  type JobSpec,
} from "../run-contract/job-protocol.js";

/** What afk answers a job: an HTTP status and a JSON body (`{ error }` when refused). */
export interface JobAnswer {
  status: number;
  body: unknown;
}

/** The model proxy's count of what each run spent, which afk trusts over the job's own account. */
export interface SpendCounter {
  spendOf(runId: string): Spend;
}

/** What the job service needs of the App (the coordinator): a repository's context, and moving a run through the lifecycle. */
export interface JobServiceRuntime {
  readonly settings: OperatorSettings;
  readonly log: Logger;
  now(): Date;
  contextFor(repo: RepoRef): Promise<DeliveryContext>;
  move(context: DeliveryContext, issue: number, eventFor: EventFor): Promise<Moved | undefined>;
}

export interface JobServiceDeps {
  runtime: JobServiceRuntime;
  actions: ActionsSettings;
  /** afk's own executor: it gathers a job's task and delivers its change. */
  executor: GitHubExecutor;
  verifier: OidcVerifier;
  replay: ReplayGuard;
  /** The key job credentials are signed with (`jobCredentialKey` of the App's private key). */
  credentialKey: Buffer;
  spend: SpendCounter;
  /** Counts a remote run's end as the run supervisor counts a local one. */
  metrics?: AfkMetrics;
  appOctokit(): Promise<GitHub>;
  octokitFor(installationId: number): Promise<GitHub>;
}

/** How long the runner repository's default branch is remembered (the workflow ref a job's token must name). */
const RUNNER_BRANCH_TTL_MS = 10 * 60_000;

/** How far past the run's time budget the job's credential still works: its result may come a little after. */
const CREDENTIAL_SLACK_MS = 15 * 60_000;

/**
 * afk's side of a job on GitHub Actions (ADR 0008): it serves the job's start (its OIDC token checked
 * against the workflow run afk recorded for the run), its heartbeats (each renews the lock's lease and
 * says whether to go on) and its result (checked, delivered as a local run's change is, and settled).
 * Nothing is kept between requests but the replay guard: the run's state marker, the lock and the
 * signed credential say everything, so any replica serves any request.
 */
export class JobService {
  readonly #deps: JobServiceDeps;
  #runnerBranch: { name: string; at: number } | undefined;
  /** Results being delivered by this process (a job's retry while the first is still under way is refused). */
  readonly #delivering = new Set<string>();

  constructor(deps: JobServiceDeps) {
    this.#deps = deps;
  }

  /** A job starts: it names its run (`body`) and proves it with its OIDC token. Answers the job spec. */
  async start(oidcToken: string, body: unknown): Promise<JobAnswer> {
    const request = jobStartSchema.safeParse(body);
    if (!request.success) return refuse(400, "the start request is not {v: 1, run: owner/repo#issue:run-id}");
    const reference = parseRunReference(request.data.run);
    if (reference === undefined) return refuse(400, `${JSON.stringify(request.data.run.slice(0, 100))} does not name an afk run (owner/repo#issue:run-id)`);
    // Only a token of the runner repository's workflow, for afk, costs afk a request to GitHub: the
    // issuer signs tokens for anyone's workflows, so everything but the run is checked here first.
    const first = await this.#verifyToken(oidcToken, {
      audience: this.#deps.actions.publicUrl,
      runnerRepo: this.#deps.actions.runnerRepo,
      workflowPath: RUNNER_WORKFLOW_PATH,
    });
    if (first !== undefined) return first;
    const repo = await this.#repoRef(reference.repository);
    if (repo === undefined) return refuse(404, `afk knows no run ${reference.runId} of ${reference.repository}`);
    const context = await this.#deps.runtime.contextFor(repo);
    const state = await stateOf(context, reference.issue);
    const remote = waitingFor(state, reference.runId);
    // GitHub answers afk's dispatch after the runner may already have the job: until afk has recorded
    // the workflow run, the job is told to try again (it retries a 503), not refused.
    if (state?.runId === reference.runId && state.status === "running" && state.remote === undefined)
      return refuse(503, `afk is still recording which workflow run runs ${reference.runId}; try again in a moment`);
    if (state === undefined || remote === undefined)
      return refuse(409, `afk's run ${reference.runId} of ${reference.repository}#${reference.issue} is not waiting for a job (${describe(state)})`);
    // Then its workflow's ref (the runner repository's default branch) and the very workflow run afk recorded.
    const verified = await this.#deps.verifier.verifyJob(oidcToken, {
      audience: this.#deps.actions.publicUrl,
      runnerRepo: this.#deps.actions.runnerRepo,
      workflowPath: RUNNER_WORKFLOW_PATH,
      workflowRef: `refs/heads/${await this.#runnerDefaultBranch()}`,
      runId: remote.workflowRunId,
    });
    if (!verified.ok) {
      this.#deps.runtime.log.warn({ runId: reference.runId, reason: verified.reason }, "afk refused a job's OIDC token");
      return refuse(401, `afk refused the job's OIDC token: ${verified.reason}`);
    }
    if (!this.#deps.replay.firstUse(verified.claims.jti, verified.claims.exp)) return refuse(401, "afk refused the job's OIDC token: it was already used");
    const config = await context.usableConfig();
    if (config === undefined) return refuse(409, "the repository's .github/afk.yml is not usable; the run ends when its lease does");
    const job = runJobOf(repo, state, config, this.#deps.runtime.settings.model, AbortSignal.timeout(120_000));
    const task = await this.#deps.executor.remoteTask(job);
    if ("refused" in task) {
      const ended = await this.#finish(context, state.issue, remote.workflowRunId, task.refused);
      if (ended !== undefined) this.#recordEnd(reference.repository, ended, task.refused);
      return refuse(409, task.refused.message);
    }
    const deadline = new Date(Date.parse(state.startedAt ?? this.#deps.runtime.now().toISOString()) + config.budget.timeout_minutes * 60_000);
    const claims: JobCredentialClaims = {
      runId: state.runId,
      workflowRunId: remote.workflowRunId,
      repository: reference.repository,
      installationId: repo.installationId,
      issue: state.issue,
      budget: { model: job.model, maxUsd: config.budget.max_usd, maxTurns: config.budget.max_turns },
      expiresAt: new Date(deadline.getTime() + CREDENTIAL_SLACK_MS),
    };
    const { publicUrl } = this.#deps.actions;
    const spec: JobSpec = {
      v: 1,
      runId: state.runId,
      kind: job.kind === "fix-ci" || job.kind === "rework" ? job.kind : "implement",
      repository: { fullName: reference.repository, cloneUrl: task.cloneUrl },
      baseSha: remote.baseSha,
      model: job.model,
      config,
      task: task.task,
      sharedPackageCache: job.kind === "implement",
      readToken: task.readToken,
      jobCredential: mintJobCredential(claims, this.#deps.credentialKey),
      endpoint: publicUrl,
      modelBaseUrl: `${publicUrl}${JOB_PATHS.model}`,
      heartbeatSeconds: Math.max(10, Math.floor(this.#deps.runtime.settings.lockLeaseSeconds / 3)),
      deadline: deadline.toISOString(),
    };
    this.#deps.runtime.log.info({ runId: state.runId, workflowRunId: remote.workflowRunId }, "afk served a job its spec");
    return { status: 200, body: spec };
  }

  /** Undefined when the token is the issuer's and says what `expected` asks; otherwise the answer refusing it. */
  async #verifyToken(oidcToken: string, expected: Omit<ExpectedJob, "issuer">): Promise<JobAnswer | undefined> {
    try {
      const verified = await this.#deps.verifier.verifyJob(oidcToken, expected);
      if (verified.ok) return undefined;
      this.#deps.runtime.log.warn({ reason: verified.reason }, "afk refused a job's OIDC token");
      return refuse(401, `afk refused the job's OIDC token: ${verified.reason}`);
    } catch (error) {
      this.#deps.runtime.log.error({ err: error }, "afk could not check a job's OIDC token: the issuer's keys are unreadable");
      return refuse(503, `afk could not read the OIDC issuer's keys to check the job's token: ${errorMessage(error)}`);
    }
  }

  /** The job's credential, read; or the answer refusing it. */
  credential(credential: string): { claims: JobCredentialClaims } | { refused: JobAnswer } {
    const read = readJobCredential(credential, this.#deps.credentialKey, this.#deps.runtime.now());
    if (!read.ok) {
      this.#deps.runtime.log.warn({ reason: read.reason }, "afk refused a job's credential");
      return { refused: refuse(401, "afk refused the job's credential") };
    }
    return { claims: read.claims };
  }

  /** A heartbeat: the lease is renewed while the run is the job's; otherwise the job is told to stop. */
  async heartbeat(claims: JobCredentialClaims, body: unknown): Promise<JobAnswer> {
    const beat = jobHeartbeatSchema.safeParse(body);
    if (!beat.success) return refuse(400, 'a heartbeat is {v: 1, phase: "workspace" | "agent" | "gate"}');
    const { runtime } = this.#deps;
    const repo = repoOf(claims);
    const context = await runtime.contextFor(repo);
    const now = runtime.now();
    const answer = (value: HeartbeatAnswer): JobAnswer => ({ status: 200, body: value });
    if (now.getTime() > claims.expiresAt.getTime() - CREDENTIAL_SLACK_MS) {
      // Past the run's time budget: the run ends here, handed to a person, and the job is told to stop.
      const outcome: RunOutcome = {
        status: "escalated",
        message: "The job on GitHub Actions ran past the run's time budget (`budget.timeout_minutes`); nothing was pushed.",
      };
      const ended = await this.#finish(context, claims.issue, claims.workflowRunId, outcome);
      if (ended !== undefined) this.#recordEnd(claims.repository, ended, outcome);
      return answer({ kind: "stop", reason: "the run's time budget (budget.timeout_minutes) is spent" });
    }
    const renewed = await renewLeaseOf(context.octokit, repo, claims.runId, now, runtime.settings.lockLeaseSeconds);
    if (renewed.kind === "lost") return answer({ kind: "stop", reason: "the run has ended" });
    if (renewed.kind === "stop-requested") return answer({ kind: "stop", reason: "afk was asked to stop the run" });
    await this.#show(context, claims, beat.data.phase).catch((error: unknown) =>
      runtime.log.warn({ err: error, runId: claims.runId }, "afk could not show a job's phase on the issue"),
    );
    return answer({ kind: "continue" });
  }

  /** The job's result: checked, delivered (pushed, the pull request opened) and settled, all before the answer. */
  async result(claims: JobCredentialClaims, body: unknown): Promise<JobAnswer> {
    const parsed = jobResultSchema.safeParse(body);
    if (!parsed.success)
      return refuse(
        400,
        `the result is malformed: ${parsed.error.issues
          .map((issue) => `${issue.path.join(".") || "(body)"}: ${issue.message}`)
          .slice(0, 5)
          .join("; ")}`,
      );
    const result = parsed.data;
    if (result.runId !== claims.runId) return refuse(403, "the result names another run than the job's credential");
    if (this.#delivering.has(claims.runId)) return refuse(409, "afk is already delivering this run's result");
    this.#delivering.add(claims.runId);
    try {
      const { runtime } = this.#deps;
      const repo = repoOf(claims);
      const context = await runtime.contextFor(repo);
      const state = await stateOf(context, claims.issue);
      const remote = waitingFor(state, claims.runId);
      if (state === undefined || remote === undefined || remote.workflowRunId !== claims.workflowRunId)
        return refuse(409, `afk's run ${claims.runId} takes no result now (${describe(state)})`);
      const config = await context.usableConfig();
      if (config === undefined) return refuse(409, "the repository's .github/afk.yml is not usable; the run ends when its lease does");
      const commentId = (await context.runs.read(state.issue))?.id;
      const progress = new ProgressWriter(
        {
          write: (before, after) => context.runs.write(before, after, commentId),
          failed: (error) => runtime.log.warn({ err: error, runId: state.runId }, "afk could not update the progress comment"),
        },
        state,
      );
      const job = runJobOf(repo, state, config, runtime.settings.model, AbortSignal.timeout(config.budget.timeout_minutes * 60_000));
      let outcome: RunOutcome;
      try {
        outcome = await this.#deps.executor.deliverRemote(job, remote, result, spendOf(state, this.#deps.spend.spendOf(state.runId)), progress.reporter());
      } catch (error) {
        outcome = { status: "failed", retryable: true, message: `afk could not deliver the job's change: ${errorMessage(error)}` };
      }
      await progress.close();
      const settled = await this.#finish(context, state.issue, remote.workflowRunId, outcome);
      if (settled === undefined) return refuse(409, `afk's run ${claims.runId} ended while its result was being delivered`);
      this.#recordEnd(claims.repository, settled, outcome);
      return { status: 200, body: { message: outcome.message } };
    } finally {
      this.#delivering.delete(claims.runId);
    }
  }

  /** The run's end in the log and the metrics, as a local run's (its start was logged when it was dispatched). */
  #recordEnd(repository: string, state: RunState, outcome: RunOutcome): void {
    if (outcome.status === "dispatched") return;
    const now = this.#deps.runtime.now().getTime();
    const seconds = state.startedAt === undefined ? 0 : Math.max(0, (now - Date.parse(state.startedAt)) / 1000);
    const identity = { repository, issue: state.issue, runId: state.runId, job: state.job };
    this.#deps.runtime.log.info(
      runEndRecord({ ...identity, outcome: outcome.status, cost: outcome.spend, turns: outcome.spend?.turns, durationSeconds: seconds }),
      "afk run ended",
    );
    this.#deps.metrics?.runEnded({ job: state.job, outcome: outcome.status, seconds, cost: outcome.spend });
  }

  /** Settles the run with `outcome` if it is still the job's (the same workflow run): the state it settled from, or undefined when it was not. */
  async #finish(context: DeliveryContext, issue: number, workflowRunId: number, outcome: RunOutcome): Promise<RunState | undefined> {
    let ours: RunState | undefined;
    await this.#deps.runtime.move(context, issue, async (comment) => {
      const current = comment?.kind === "state" ? comment.state : undefined;
      ours = current?.status === "running" && current.remote?.workflowRunId === workflowRunId ? current : undefined;
      return ours === undefined ? undefined : { kind: "job-finished", outcome };
    });
    return ours;
  }

  /** Shows the job's phase and afk's count of its spend on the issue, when either changed. */
  async #show(context: DeliveryContext, claims: JobCredentialClaims, phase: RunState["phase"]): Promise<void> {
    const comment = await context.runs.read(claims.issue, { fresh: true });
    if (comment?.kind !== "state") return;
    const state = comment.state;
    if (waitingFor(state, claims.runId) === undefined) return;
    const spent = this.#deps.spend.spendOf(claims.runId);
    const spend = spent.turns === 0 ? state.spend : { usd: spent.usd, turns: spent.turns };
    if (state.phase === phase && state.spend?.usd === spend?.usd && state.spend?.turns === spend?.turns) return;
    await context.runs.write(state, { ...state, phase, ...(spend === undefined ? {} : { spend }) }, comment.id);
  }

  async #repoRef(name: string): Promise<RepoRef | undefined> {
    const { owner, repo } = ownerAndRepo(name);
    const app = await this.#deps.appOctokit();
    try {
      const { data } = await app.rest.apps.getRepoInstallation({ owner, repo });
      return { owner, repo, installationId: data.id };
    } catch (error) {
      if (errorStatus(error) === 404) return undefined;
      throw error;
    }
  }

  /** The runner repository's default branch: the only ref a job's workflow may come from. */
  async #runnerDefaultBranch(): Promise<string> {
    const now = Date.now();
    if (this.#runnerBranch !== undefined && now - this.#runnerBranch.at < RUNNER_BRANCH_TTL_MS) return this.#runnerBranch.name;
    const { runnerRepo } = this.#deps.actions;
    const octokit = await installationClientFor(this.#deps, runnerRepo);
    const { data } = await octokit.rest.repos.get(ownerAndRepo(runnerRepo));
    this.#runnerBranch = { name: data.default_branch, at: now };
    return data.default_branch;
  }
}

/**
 * What the run spent, by afk's count: this process's proxy count, or what a heartbeat last wrote on the
 * issue when that is more (the job's model calls went to another replica, or to this one before a restart).
 */
function spendOf(state: RunState, counted: Spend): Spend {
  const shown = state.spend;
  return shown === undefined || counted.turns >= shown.turns ? counted : { usd: shown.usd, turns: shown.turns };
}

/** The issue's run state as its progress comment holds it now; undefined when it holds none, or there is no such issue. */
async function stateOf(context: DeliveryContext, issue: number): Promise<RunState | undefined> {
  try {
    return await context.runs.state(issue, { fresh: true });
  } catch (error) {
    if (errorStatus(error) === 404) return undefined;
    throw error;
  }
}

function refuse(status: number, error: string): JobAnswer {
  return { status, body: { error } };
}

function repoOf(claims: JobCredentialClaims): RepoRef {
  return { ...ownerAndRepo(claims.repository), installationId: claims.installationId };
}

/** The run's remote job when the run is `runId`, running, and dispatched to the runner repository. */
function waitingFor(state: RunState | undefined, runId: string): RemoteJob | undefined {
  if (state === undefined || state.runId !== runId || state.status !== "running") return undefined;
  return state.remote;
}

function describe(state: RunState | undefined): string {
  if (state === undefined) return "the issue has no afk run";
  if (state.status !== "running") return `the run is ${state.status}`;
  return state.remote === undefined ? "the run is not dispatched to a job" : `the run is running as workflow run ${state.remote.workflowRunId}`;
}
