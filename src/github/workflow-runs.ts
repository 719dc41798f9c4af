import { errorStatus, type GitHub } from "./types.js";

/** `owner/name` as GitHub's API takes it. */
function ownerAndRepo(fullName: string): { owner: string; repo: string } {
  const [owner = "", repo = ""] = fullName.split("/");
  return { owner, repo };
}

/**
 * Cancels a workflow run of afk's runner repository, through the installation that holds that
 * repository (it may be another than the issue's). A run that already finished (409) or is gone (404)
 * is left as it is; the answer says which.
 */
export async function cancelWorkflowRun(
  clients: { appOctokit(): Promise<GitHub>; octokitFor(installationId: number): Promise<GitHub> },
  runnerRepo: string,
  workflowRunId: number,
): Promise<"cancelled" | "finished" | "gone"> {
  const repo = ownerAndRepo(runnerRepo);
  const app = await clients.appOctokit();
  const { data: installation } = await app.rest.apps.getRepoInstallation(repo);
  const octokit = await clients.octokitFor(installation.id);
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
