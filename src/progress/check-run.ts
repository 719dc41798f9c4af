import type { GitHub, RepoRef } from "../github/types.js";
import type { CheckRunView } from "./render-check-run.js";

/**
 * Creates the `afk` check run on a commit, or updates it when it exists. The view comes from
 * `renderCheckRun`, which already keeps it within GitHub's limits. Returns the check run's id.
 */
export async function publishCheckRun(
  octokit: GitHub,
  repo: RepoRef,
  input: { headSha: string; view: CheckRunView; detailsUrl?: string; existingId?: number },
): Promise<number> {
  const { view } = input;
  const common = {
    owner: repo.owner,
    repo: repo.repo,
    name: view.name,
    status: view.status,
    ...(view.conclusion === undefined ? {} : { conclusion: view.conclusion, completed_at: new Date().toISOString() }),
    output: view.output,
    actions: view.actions,
    ...(input.detailsUrl === undefined ? {} : { details_url: input.detailsUrl }),
  };
  if (input.existingId !== undefined) {
    const { data } = await octokit.rest.checks.update({ ...common, check_run_id: input.existingId });
    return data.id;
  }
  const { data } = await octokit.rest.checks.create({ ...common, head_sha: input.headSha, external_id: "afk" });
  return data.id;
}
