// afk's branch names: made by the executor, read by dispatch (which issue a pull request is about) and the GitHub layer.

/** The branch afk pushes for an issue: `afk/<issue>-<slug of the title>` (`afk/<slug>` for a local task). Pure. */
export function branchName(issue: number | undefined, title: string): string {
  const slug = title
    .normalize("NFKD")
    .replace(/\p{M}/gu, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 40)
    .replace(/-+$/g, "");
  if (issue === undefined) return `afk/${slug.length > 0 ? slug : "task"}`;
  return slug.length > 0 ? `afk/${issue}-${slug}` : `afk/${issue}`;
}

/** The issue number an afk branch names (`afk/<issue>-<slug>`), or undefined for any other branch. Pure. */
export function issueOfBranch(ref: string): number | undefined {
  const issue = /^afk\/(\d+)(?:-|$)/.exec(ref)?.[1];
  return issue === undefined ? undefined : Number(issue);
}

/** The trailer that ties a commit to the afk run that made it. */
export const RUN_TRAILER = "Afk-Run";

/**
 * The issue an afk commit is about, read from its message: the `#N: ` subject and the run trailer
 * afk writes. Only routes an event to an issue; the run's state decides whether the commit is
 * really the one afk pushed (a person can write the same message). Pure.
 */
export function issueOfAfkCommit(message: string): number | undefined {
  if (!new RegExp(`^${RUN_TRAILER}: \\S+$`, "m").test(message)) return undefined;
  const issue = /^#(\d+): /.exec(message)?.[1];
  return issue === undefined ? undefined : Number(issue);
}
