import type { ProbotOctokit } from "probot";

/** An installation-authenticated Octokit, as Probot hands to handlers. */
export type GitHub = InstanceType<typeof ProbotOctokit>;

/** A repository as afk addresses it: enough to get a token and make calls. */
export interface RepoRef {
  owner: string;
  repo: string;
  installationId: number;
}

/** The person or bot an event is attributed to (the webhook `sender`). */
export interface Actor {
  login: string;
  type: string;
}

export function fullName(repo: Pick<RepoRef, "owner" | "repo">): string {
  return `${repo.owner}/${repo.repo}`;
}

/** `owner/name` as GitHub's API takes it: `{ owner, repo }`. */
export function ownerAndRepo(name: string): { owner: string; repo: string } {
  const [owner = "", repo = ""] = name.split("/");
  return { owner, repo };
}

/** The HTTP status of an Octokit request error, if it is one. */
export function errorStatus(error: unknown): number | undefined {
  if (typeof error === "object" && error !== null && "status" in error && typeof error.status === "number") return error.status;
  return undefined;
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The first line of a text that has anything on it, trimmed: an error message short enough for one line. */
export function firstLine(text: string): string {
  return (
    text
      .split("\n")
      .find((line) => line.trim().length > 0)
      ?.trim() ?? ""
  );
}
