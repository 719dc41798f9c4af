import type { ActionsSettings, ExecutorSettings } from "../config/operator-settings.js";
import { RUN_INPUT, RUNNER_WORKFLOW_FILE } from "../actions/runner-workflow.js";
import { errorMessage, errorStatus, fullName, type GitHub } from "../github/types.js";
import { dispatchWorkflowRun, WorkflowDispatchError } from "../github/workflow-runs.js";
import type { Executor, RunJob, RunOutcome, RunReporter } from "../run-contract/executor.js";
import { formatRunReference } from "../run-contract/job-protocol.js";
import { isFollowUp, preflight } from "./run-preflight.js";

export interface ActionsExecutorDeps {
  executor: ExecutorSettings;
  actions: ActionsSettings;
  /** afk's own executor: plans and answers (read-only, short) and repositories that run locally go there. */
  local: Executor;
  anthropicApiKey: string | undefined;
  octokitFor(installationId: number): Promise<GitHub>;
  appOctokit(): Promise<GitHub>;
}

/** Where a job runs: a plan or an answer always on afk's host; otherwise the repository's choice where the operator honours it, else the operator's. Pure. */
export function whereJobRuns(job: Pick<RunJob, "kind" | "config">, settings: ExecutorSettings): "local" | "actions" {
  if (job.kind === "plan" || job.kind === "ask") return "local";
  if (settings.perRepository && job.config.executor !== undefined) return job.config.executor;
  return settings.default;
}

/**
 * Runs agents as jobs of afk's runner repository on GitHub Actions (ADR 0008). It pins the commit the
 * job works from (the default branch's head, or afk's branch for a follow-up), dispatches the runner
 * workflow with one input naming the run, and answers `dispatched` with the workflow run's id: the run
 * stays running, its lock held by the job's heartbeats, until afk's job endpoint receives its result.
 * Nothing secret goes into the dispatch: the job proves who it is with its OIDC token.
 */
export class ActionsExecutor implements Executor {
  readonly name = "agent on GitHub Actions";
  readonly #deps: ActionsExecutorDeps;

  constructor(deps: ActionsExecutorDeps) {
    this.#deps = deps;
  }

  async execute(job: RunJob, reporter: RunReporter): Promise<RunOutcome> {
    if (whereJobRuns(job, this.#deps.executor) === "local") return this.#deps.local.execute(job, reporter);
    const ready = preflight(job, this.#deps.anthropicApiKey);
    if ("refused" in ready) return ready.refused;
    const octokit = await this.#deps.octokitFor(job.repo.installationId);
    const { data: repository } = await octokit.rest.repos.get({ owner: job.repo.owner, repo: job.repo.repo });
    const branch = isFollowUp(job) ? (job.context.branch ?? repository.default_branch) : repository.default_branch;
    let baseSha: string;
    try {
      const { data } = await octokit.rest.git.getRef({ owner: job.repo.owner, repo: job.repo.repo, ref: `heads/${branch}` });
      baseSha = data.object.sha;
    } catch (error) {
      if (errorStatus(error) !== 404) throw error;
      return {
        status: "failed",
        retryable: false,
        message: `The branch \`${branch}\` of ${fullName(job.repo)} is gone, so the job has nothing to start from.`,
      };
    }
    const { runnerRepo } = this.#deps.actions;
    const run = formatRunReference({ repository: fullName(job.repo), issue: job.issue, runId: job.runId });
    let workflowRunId: number;
    try {
      workflowRunId = await dispatchWorkflowRun(this.#deps, runnerRepo, RUNNER_WORKFLOW_FILE, { [RUN_INPUT]: run });
    } catch (error) {
      if (error instanceof WorkflowDispatchError)
        return { status: "failed", retryable: true, message: `afk could not start the job on GitHub Actions: ${error.message}` };
      return { status: "failed", retryable: true, message: `afk could not dispatch the job in ${runnerRepo}: ${errorMessage(error)}` };
    }
    const web = new URL(repository.html_url).origin;
    return {
      status: "dispatched",
      message: `The job runs on GitHub Actions: [workflow run ${workflowRunId}](${web}/${runnerRepo}/actions/runs/${workflowRunId}) of ${runnerRepo}, from ${baseSha.slice(0, 12)} of \`${branch}\`.`,
      remote: { runnerRepo, workflowRunId, baseSha },
    };
  }
}
