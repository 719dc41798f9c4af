import type { WorkflowRunRecord } from "./actions.js";
import { commitSummary } from "./git-store.js";
import { headCommitJson, repoJson, userJson } from "./shapes.js";
import type { EmulatorStore, RepoState } from "./store.js";
import { nodeId, type JsonObject } from "./util.js";

/**
 * The JSON of a GitHub Actions workflow run (`workflow-run` in GitHub's OpenAPI description), built
 * from the Actions state's records like the rest of shapes.ts, whose user and repository shapes it embeds.
 */

export function workflowRunJson(store: EmulatorStore, repo: RepoState, run: WorkflowRunRecord): JsonObject {
  const api = `${store.hosts.api}/repos/${repo.fullName}`;
  const runUrl = `${api}/actions/runs/${run.id}`;
  const commit = commitSummary(repo, run.headSha);
  const repository = repoJson(store, repo, "repository");
  return {
    id: run.id,
    name: run.workflowName,
    node_id: nodeId("WFR", run.id),
    check_suite_id: run.checkSuiteId,
    check_suite_node_id: nodeId("CS", run.checkSuiteId),
    head_branch: run.headBranch,
    head_sha: run.headSha,
    path: run.path,
    run_number: run.runNumber,
    run_attempt: run.runAttempt,
    referenced_workflows: [],
    event: run.event,
    display_title: run.workflowName,
    status: run.status,
    conclusion: run.conclusion,
    workflow_id: run.workflowId,
    url: runUrl,
    html_url: `${store.hosts.web}/${repo.fullName}/actions/runs/${run.id}`,
    pull_requests: [],
    created_at: run.createdAt,
    updated_at: run.updatedAt,
    actor: userJson(store, run.actor),
    triggering_actor: userJson(store, run.actor),
    run_started_at: run.runStartedAt,
    jobs_url: `${runUrl}/jobs`,
    logs_url: `${runUrl}/logs`,
    check_suite_url: `${api}/check-suites/${run.checkSuiteId}`,
    artifacts_url: `${runUrl}/artifacts`,
    cancel_url: `${runUrl}/cancel`,
    rerun_url: `${runUrl}/rerun`,
    previous_attempt_url: null,
    workflow_url: `${api}/actions/workflows/${run.workflowId}`,
    head_commit: commit === undefined ? null : headCommitJson(run.headSha, commit),
    repository,
    head_repository: repository,
    head_repository_id: repo.id,
  };
}
