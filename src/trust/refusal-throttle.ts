/**
 * How long afk stays silent to one untrusted person on one issue or pull request after telling them
 * it will not act for them: one refusal an hour, however many `/afk` comments they write, so
 * nobody can make afk spam a thread or spend the installation's rate limit.
 */
export const REFUSAL_QUIET_MS = 60 * 60 * 1000;

/** A comment on a thread as the throttle sees it. */
export interface ThreadComment {
  id: number;
  author: string | undefined;
  body: string;
  createdAt: string;
}

/**
 * The hidden line afk ends a refusal with, naming whom it refused. Logins are compared without
 * case (GitHub's are case-insensitive) and kept to the characters a login can have, so the marker
 * always closes where afk closes it.
 */
export function refusalMarker(login: string): string {
  return `<!-- afk:refused ${login.toLowerCase().replace(/[^a-z0-9\-_[\]]/g, "")} -->`;
}

/**
 * afk's own refusals of `login` on a thread written within `REFUSAL_QUIET_MS` before `now`, oldest
 * first. Only comments by afk's bot count: a marker anyone else writes is ignored. Pure.
 */
export function recentRefusals(comments: readonly ThreadComment[], input: { botLogin: string; login: string; now: Date }): ThreadComment[] {
  const marker = refusalMarker(input.login);
  const since = input.now.getTime() - REFUSAL_QUIET_MS;
  return comments
    .filter(
      (comment) => comment.author?.toLowerCase() === input.botLogin.toLowerCase() && comment.body.includes(marker) && Date.parse(comment.createdAt) > since,
    )
    .sort((a, b) => a.id - b.id);
}
