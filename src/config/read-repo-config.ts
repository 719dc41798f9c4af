import merge from "deepmerge";
import type { GitHub, RepoRef } from "../github/types.js";
import { CONFIG_PATH, loadRepoConfig, type RepoConfigResult } from "./load-repo-config.js";

/**
 * Reads `.github/afk.yml` through Probot's config plugin, exactly as
 * `context.config("afk.yml")` does (default branch only, `_extends`, the
 * owner's `.github` repository as fallback), but usable outside a webhook,
 * when a finished run dispatches the next queued issue.
 */
export function readRepoConfig(octokit: GitHub, repo: Pick<RepoRef, "owner" | "repo">): Promise<RepoConfigResult> {
  return loadRepoConfig(async () => {
    const { config, files } = await octokit.config.get({
      owner: repo.owner,
      repo: repo.repo,
      path: CONFIG_PATH,
      defaults: (configs) => merge.all<Record<string, unknown>>([{}, ...configs]),
    });
    return files.some((file) => file.config !== null) ? config : null;
  });
}
