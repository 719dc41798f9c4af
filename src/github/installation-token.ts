import type { GitHub } from "./types.js";

export interface ScopedToken {
  token: string;
  expiresAt: string;
}

/**
 * Mints an installation token limited to one repository and the given
 * permissions. Called on the app-authenticated Octokit (`app.auth()`), not
 * through `auth({ type: "installation", repositoryNames })`, because Probot's
 * auth strategy ignores `GHE_HOST` for that call; the request made here goes to
 * the same base URL as every other call, so GitHub Enterprise Server works.
 */
export async function createScopedToken(
  appOctokit: GitHub,
  installationId: number,
  repository: string,
  permissions: Record<string, "read" | "write">,
): Promise<ScopedToken> {
  const { data } = await appOctokit.request("POST /app/installations/{installation_id}/access_tokens", {
    installation_id: installationId,
    repositories: [repository],
    permissions,
  });
  return { token: data.token, expiresAt: data.expires_at };
}
