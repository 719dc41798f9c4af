import type { GitHub, RepoRef } from "./types.js";

/** The permissions afk's GitHub App needs, as app.yml requests them. */
export const REQUIRED_APP_PERMISSIONS: Readonly<Record<string, "read" | "write">> = {
  issues: "write",
  pull_requests: "write",
  contents: "write",
  checks: "write",
  metadata: "read",
  /** Commit statuses are CI too (other apps and services report with them). */
  statuses: "read",
  /**
   * The failed job's log when GitHub Actions turns afk's pull request red. app.yml asks for `write`, which
   * only the runner repository's installation uses (AFK_EXECUTOR=actions dispatches and cancels jobs there).
   */
  actions: "read",
};

/** The webhook events afk acts on. */
export const REQUIRED_APP_EVENTS = ["issues", "issue_comment", "check_run", "check_suite", "pull_request", "pull_request_review", "status"] as const;

/** The required permissions a grant lacks, as `name: level`, in the order they are listed above. */
export function missingPermissions(granted: Readonly<Record<string, string | undefined>>): string[] {
  return Object.entries(REQUIRED_APP_PERMISSIONS)
    .filter(([name, level]) => !(granted[name] === "write" || granted[name] === level))
    .map(([name, level]) => `${name}: ${level}`);
}

/**
 * The required permissions the App's installation on a repository lacks (GitHub asks an owner to
 * accept new permissions per installation, so an App can have them while an installation does not).
 * Called on the App-authenticated Octokit.
 */
export async function installationMissingPermissions(appOctokit: GitHub, repo: RepoRef): Promise<string[]> {
  const { data } = await appOctokit.rest.apps.getRepoInstallation({ owner: repo.owner, repo: repo.repo });
  return missingPermissions({ ...data.permissions });
}
