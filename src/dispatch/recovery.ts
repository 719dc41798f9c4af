import { isRepositoryAllowed } from "../config/operator-settings.js";
import { fullName, type RepoRef } from "../github/types.js";
import { issueOfBranch } from "../run-contract/branch.js";
import type { Runtime } from "./runtime.js";

/**
 * Picks up what a previous process left, since afk keeps nothing on disk: in every allowed
 * repository of every installation it dispatches queued work (taking back a lock whose holder
 * died, or looking again when its lease ends) and looks at CI on afk's open pull requests, which
 * re-arms the no-CI grace period. Runs once at start-up, in the background; a repository that
 * fails is logged and the rest still recover.
 */
export async function recover(rt: Runtime): Promise<{ repositories: number; pullRequests: number }> {
  const { services } = rt;
  const app = await services.appOctokit();
  const installations = await app.paginate(app.rest.apps.listInstallations, { per_page: 100 });
  const botLogin = await services.botLogin();
  let repositories = 0;
  let pullRequests = 0;
  for (const installation of installations) {
    if (rt.closing) break;
    const octokit = await services.octokitFor(installation.id);
    const repos = await octokit.paginate(octokit.rest.apps.listReposAccessibleToInstallation, { per_page: 100 });
    for (const repository of repos) {
      const repo: RepoRef = { owner: repository.owner.login, repo: repository.name, installationId: installation.id };
      if (rt.closing || !isRepositoryAllowed(services.settings, fullName(repo))) continue;
      repositories += 1;
      try {
        const context = await rt.contextFor(repo);
        const lock = await context.lock();
        if (lock.status === "held" && !lock.expired) rt.dispatchAt(repo, Date.parse(lock.holder.expiresAt));
        else await rt.dispatch(context);
        const pulls = await octokit.paginate(octokit.rest.pulls.list, { owner: repo.owner, repo: repo.repo, state: "open", per_page: 100 });
        for (const pull of pulls) {
          const issue = issueOfBranch(pull.head.ref);
          if (issue === undefined || pull.user?.login !== botLogin || pull.head.repo?.full_name !== pull.base.repo.full_name) continue;
          pullRequests += 1;
          await rt.ciChanged(context, issue, pull.head.sha);
        }
      } catch (error) {
        services.log.warn({ err: error, repo: fullName(repo) }, "afk could not recover a repository's work after start-up");
      }
    }
  }
  services.log.info({ repositories, pullRequests }, "afk looked at the work earlier processes left");
  return { repositories, pullRequests };
}
