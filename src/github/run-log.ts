import type { Logger } from "probot";
import { runLogRefName } from "../run-contract/run-log.js";
import type { RunLogFiles } from "../progress/render-run-log.js";
import { errorStatus, fullName, type GitHub, type RepoRef } from "./types.js";

/** How often one process deletes a repository's expired run logs. */
const SWEEP_EVERY_MS = 60 * 60_000;
/**
 * Expired-looking run logs one sweep looks at (a read and, when expired, a delete each) at most: the
 * run's end waits for the sweep, and GitHub spaces an installation's writes a second apart. The next
 * sweep goes on with the rest (a repository with more than this many runs an hour keeps some longer).
 */
const SWEEP_MAX_EXAMINED = 25;
const DAY_MS = 24 * 60 * 60_000;
/** afk's run ids (dispatch/run-id.ts): `r-`, the start's `Date.now()` in base 36, 8 hex digits of a UUID. */
const RUN_ID = /^r-([0-9a-z]{1,12})-[0-9a-f]{8}$/;

export interface RunLogStoreOptions {
  /** `AFK_RUN_LOG_DAYS`: how long a run log is kept; 0 keeps none (nothing is written). */
  retentionDays: number;
  log: Logger;
  now?: () => Date;
}

/**
 * Keeps run logs in their repositories, as commits of their own under `refs/afk/runs/<run id>`,
 * written with afk's installation client (the agent never holds it) through the Git Data API, and
 * deletes those past the retention. A run's first job makes a commit with no parent; a later job of
 * the same run (a CI fix, a rework) makes one whose parent is the log before it, so every link afk
 * published stays valid and the ref holds the whole run. Nothing here touches the repository's branches.
 */
export class RunLogStore {
  readonly #options: RunLogStoreOptions;
  /** When this process last swept each repository (lower-case `owner/name`). */
  readonly #swept = new Map<string, number>();

  constructor(options: RunLogStoreOptions) {
    this.#options = options;
  }

  /** Whether run logs are kept at all. */
  get enabled(): boolean {
    return this.#options.retentionDays > 0;
  }

  /**
   * Writes a job's log and then (at most hourly per repository) deletes expired ones. Never throws:
   * a run ends as it would without its log. Returns the log's commit, or undefined when none was written.
   */
  async keep(octokit: GitHub, repo: RepoRef, runId: string, files: RunLogFiles, message: string): Promise<string | undefined> {
    if (!this.enabled) return undefined;
    const log = this.#options.log;
    let commit: string | undefined;
    try {
      commit = await writeRunLog(octokit, repo, runId, files, message);
      log.info({ repo: fullName(repo), runId, commit }, "afk kept the run log");
    } catch (error) {
      log.warn({ err: error, repo: fullName(repo), runId }, "afk could not write the run log; the run ends as it would without it");
    }
    try {
      await this.sweep(octokit, repo);
    } catch (error) {
      log.warn({ err: error, repo: fullName(repo) }, "afk could not delete expired run logs; it tries again within the hour");
    }
    return commit;
  }

  /**
   * Deletes run logs of `repo` older than the retention, unless this process did so within the hour.
   * A log's age is its run's (from the run id); one that old whose last commit is younger (a run still
   * going weeks later) is kept. Refs under `afk/runs/` not named like afk's run ids are left alone.
   * Returns the run ids deleted.
   */
  async sweep(octokit: GitHub, repo: RepoRef): Promise<string[]> {
    const now = (this.#options.now ?? (() => new Date()))().getTime();
    const key = fullName(repo).toLowerCase();
    const last = this.#swept.get(key);
    if (last !== undefined && now - last < SWEEP_EVERY_MS) return [];
    this.#swept.set(key, now);
    const cutoff = now - this.#options.retentionDays * DAY_MS;
    const { data: refs } = await octokit.rest.git.listMatchingRefs({ owner: repo.owner, repo: repo.repo, ref: runLogRefName("") });
    const deleted: string[] = [];
    let examined = 0;
    for (const ref of refs) {
      const runId = ref.ref.slice(`refs/${runLogRefName("")}`.length);
      const started = runStartOf(runId);
      if (started === undefined || started >= cutoff) continue;
      if (examined >= SWEEP_MAX_EXAMINED) break;
      examined += 1;
      const { data: commit } = await octokit.rest.git.getCommit({ owner: repo.owner, repo: repo.repo, commit_sha: ref.object.sha });
      if (Date.parse(commit.committer.date) >= cutoff) continue;
      try {
        await octokit.rest.git.deleteRef({ owner: repo.owner, repo: repo.repo, ref: runLogRefName(runId) });
      } catch (error) {
        // Deleted meanwhile (another replica's sweep): what was wanted.
        if (errorStatus(error) !== 422 && errorStatus(error) !== 404) throw error;
      }
      deleted.push(runId);
    }
    if (deleted.length > 0) this.#options.log.info({ repo: fullName(repo), deleted }, "afk deleted expired run logs");
    return deleted;
  }
}

/** When an afk run id's run started (ms), or undefined for a name that is not one. */
export function runStartOf(runId: string): number | undefined {
  const match = RUN_ID.exec(runId);
  const started = match?.[1] === undefined ? Number.NaN : Number.parseInt(match[1], 36);
  return Number.isSafeInteger(started) ? started : undefined;
}

/**
 * Commits `run.md` and `run.jsonl` under `refs/afk/runs/<runId>`: blobs, a tree of just those two
 * files, a commit (on the run's earlier log, if there is one), then the ref created or moved forward.
 * Returns the commit.
 */
export async function writeRunLog(octokit: GitHub, repo: RepoRef, runId: string, files: RunLogFiles, message: string): Promise<string> {
  const where = { owner: repo.owner, repo: repo.repo };
  const blob = async (content: string): Promise<string> => (await octokit.rest.git.createBlob({ ...where, content, encoding: "utf-8" })).data.sha;
  const markdown = await blob(files.markdown);
  const jsonl = await blob(files.jsonl);
  const { data: tree } = await octokit.rest.git.createTree({
    ...where,
    tree: [
      { path: "run.md", mode: "100644", type: "blob", sha: markdown },
      { path: "run.jsonl", mode: "100644", type: "blob", sha: jsonl },
    ],
  });
  const ref = runLogRefName(runId);
  const earlier = await refSha(octokit, repo, ref);
  const { data: commit } = await octokit.rest.git.createCommit({ ...where, message, tree: tree.sha, parents: earlier === undefined ? [] : [earlier] });
  if (earlier === undefined) await octokit.rest.git.createRef({ ...where, ref: `refs/${ref}`, sha: commit.sha });
  else await octokit.rest.git.updateRef({ ...where, ref, sha: commit.sha, force: false });
  return commit.sha;
}

async function refSha(octokit: GitHub, repo: RepoRef, ref: string): Promise<string | undefined> {
  try {
    const { data } = await octokit.rest.git.getRef({ owner: repo.owner, repo: repo.repo, ref });
    return data.object.sha;
  } catch (error) {
    if (errorStatus(error) === 404) return undefined;
    throw error;
  }
}
