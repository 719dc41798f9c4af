import { errorStatus, ownerAndRepo, type GitHub } from "./types.js";

type AppClients = { appOctokit(): Promise<GitHub>; octokitFor(installationId: number): Promise<GitHub> };

/** An installation client for `fullName`, through whichever installation of the App holds it. */
export async function installationClientFor(clients: AppClients, fullName: string): Promise<GitHub> {
  const app = await clients.appOctokit();
  const { data: installation } = await app.rest.apps.getRepoInstallation(ownerAndRepo(fullName));
  return clients.octokitFor(installation.id);
}

/** Why afk could not dispatch its job workflow, phrased for the operator who can fix it. */
export class WorkflowDispatchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "WorkflowDispatchError";
  }
}

/**
 * Dispatches `workflowFile` of the runner repository on its default branch with `inputs`, and
 * answers the id of the workflow run GitHub started (`return_run_details`). The App must be installed
 * on the runner repository with `actions: write`; a 403, 404 or 422 says what to fix.
 */
export async function dispatchWorkflowRun(clients: AppClients, runnerRepo: string, workflowFile: string, inputs: Record<string, string>): Promise<number> {
  const repo = ownerAndRepo(runnerRepo);
  let octokit: GitHub;
  try {
    octokit = await installationClientFor(clients, runnerRepo);
  } catch (error) {
    if (errorStatus(error) === 404)
      throw new WorkflowDispatchError(`afk's GitHub App is not installed on the runner repository ${runnerRepo} (AFK_RUNNER_REPO).`);
    throw error;
  }
  const { data: repository } = await octokit.rest.repos.get(repo);
  try {
    const { data } = await octokit.request("POST /repos/{owner}/{repo}/actions/workflows/{workflow_id}/dispatches", {
      ...repo,
      workflow_id: workflowFile,
      ref: repository.default_branch,
      inputs,
      return_run_details: true,
    });
    const id = typeof data === "object" && data !== null && "workflow_run_id" in data ? data.workflow_run_id : undefined;
    if (typeof id !== "number")
      throw new WorkflowDispatchError(`GitHub dispatched ${workflowFile} in ${runnerRepo} but did not say which workflow run it started.`);
    return id;
  } catch (error) {
    const status = errorStatus(error);
    if (status === 403)
      throw new WorkflowDispatchError(
        `afk's GitHub App may not dispatch workflows in ${runnerRepo}: grant it the Actions permission (read and write) and accept it on the installation.`,
      );
    if (status === 404 || status === 422)
      throw new WorkflowDispatchError(
        `${runnerRepo} has no workflow ${workflowFile} on its default branch ${repository.default_branch} that afk can dispatch (GitHub answered ${status}): write it with \`afk init-runner --write\` and commit it there.`,
      );
    throw error;
  }
}

/**
 * Cancels a workflow run of afk's runner repository, through the installation that holds that
 * repository (it may be another than the issue's). A run that already finished (409) or is gone (404)
 * is left as it is; the answer says which.
 */
export async function cancelWorkflowRun(clients: AppClients, runnerRepo: string, workflowRunId: number): Promise<"cancelled" | "finished" | "gone"> {
  const repo = ownerAndRepo(runnerRepo);
  const octokit = await installationClientFor(clients, runnerRepo);
  try {
    await octokit.rest.actions.cancelWorkflowRun({ ...repo, run_id: workflowRunId });
    return "cancelled";
  } catch (error) {
    const status = errorStatus(error);
    if (status === 409) return "finished";
    if (status === 404) return "gone";
    throw error;
  }
}
