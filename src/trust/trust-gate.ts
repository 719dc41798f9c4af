import { errorMessage, errorStatus, type Actor, type GitHub, type RepoRef } from "../github/types.js";

export type TrustDecision = { trusted: true; basis: string } | { trusted: false; reason: string };

export interface TrustLists {
  users: readonly string[];
  bots: readonly string[];
}

/** Repository roles whose holders may start and steer afk. */
export const TRUSTED_ROLES: ReadonlySet<string> = new Set(["admin", "maintain", "write"]);

export function isBot(actor: Actor): boolean {
  return actor.type === "Bot" || actor.login.toLowerCase().endsWith("[bot]");
}

/**
 * The one trust gate. An actor is trusted when it is a bot named in
 * `trusted.bots`, a person named in `trusted.users`, or a person whose role on
 * the repository is admin, maintain or write. Everything else, including any
 * failure to ask GitHub, is refused: the gate fails closed. (afk's clients ask again
 * after a transient failure first, so GitHub having a bad minute does not turn a
 * maintainer away: see the retry policy in `src/github/octokit.ts`.)
 */
export async function checkTrust(octokit: GitHub, repo: RepoRef, actor: Actor, lists: TrustLists): Promise<TrustDecision> {
  const login = actor.login.toLowerCase();
  if (isBot(actor)) {
    return lists.bots.some((bot) => bot.toLowerCase() === login)
      ? { trusted: true, basis: "listed in trusted.bots" }
      : { trusted: false, reason: `@${actor.login} is a bot, and bots may not start afk unless listed in \`trusted.bots\`` };
  }
  if (lists.users.some((user) => user.toLowerCase() === login)) return { trusted: true, basis: "listed in trusted.users" };

  let role: string;
  try {
    const { data } = await octokit.rest.repos.getCollaboratorPermissionLevel({ owner: repo.owner, repo: repo.repo, username: actor.login });
    role = data.role_name || data.permission;
  } catch (error) {
    const status = errorStatus(error);
    if (status === 404) return { trusted: false, reason: `@${actor.login} is not a collaborator on this repository` };
    return { trusted: false, reason: `afk could not verify @${actor.login}'s permission (${errorMessage(error)}), so it refuses to act` };
  }
  return TRUSTED_ROLES.has(role)
    ? { trusted: true, basis: `${role} role` }
    : { trusted: false, reason: `@${actor.login} has the ${role} role; starting afk needs write, maintain or admin` };
}

/**
 * `checkTrust` for many authors of one repository (comment and review authors), asking GitHub once
 * per login. Returns whether each is trusted.
 */
export function trustChecker(octokit: GitHub, repo: RepoRef, lists: TrustLists): (login: string, type: string) => Promise<boolean> {
  const verdicts = new Map<string, Promise<boolean>>();
  return (login, type) => {
    const key = login.toLowerCase();
    let verdict = verdicts.get(key);
    if (verdict === undefined) {
      verdict = checkTrust(octokit, repo, { login, type }, lists).then((decision) => decision.trusted);
      verdicts.set(key, verdict);
    }
    return verdict;
  };
}
