import { errorStatus, fullName, type GitHub, type RepoRef } from "../github/types.js";
import { decodeLockMessage, encodeLockMessage, extendLease, isExpired, LOCK_REF, type LockHolder, type LockRecord, type LockView } from "./lock-record.js";

/**
 * A repository's lock, kept on GitHub as the ref `refs/afk/lock`. Every change
 * is a compare-and-swap: creating the ref fails when it exists, and moving it
 * is a fast-forward to a commit whose parent is the value afk last read, which
 * GitHub refuses when another process moved the ref in between.
 */
export type AcquireResult =
  { acquired: true; sha: string; reclaimed: LockHolder | undefined } | { acquired: false; holder: LockHolder | undefined; moved?: boolean };

export type RenewResult = { kind: "renewed"; sha: string } | { kind: "stop-requested"; sha: string } | { kind: "lost" };

const REF_PATH = LOCK_REF.replace(/^refs\//, "");
const MAX_CAS_ATTEMPTS = 3;
const treeCache = new Map<string, string>();

export async function readLock(octokit: GitHub, repo: RepoRef, now: Date): Promise<LockView> {
  const moves = lockMovesOf(octokit, repo);
  let sha: string;
  try {
    const { data } = await octokit.rest.git.getRef({ owner: repo.owner, repo: repo.repo, ref: REF_PATH });
    sha = data.object.sha;
  } catch (error) {
    if (errorStatus(error) !== 404) throw error;
    see(octokit, repo, { status: "absent" }, moves);
    return { status: "absent" };
  }
  const view = viewOf(sha, await lockRecordAt(octokit, repo, sha), now);
  see(octokit, repo, view, moves);
  return view;
}

function viewOf(sha: string, record: LockRecord | undefined, now: Date): LockView {
  if (record === undefined) return { status: "corrupt", sha };
  if (record.state === "free") return { status: "free", sha };
  return { status: "held", sha, holder: record, expired: isExpired(record, now) };
}

/** Per repository, the lock as this process last read it or moved it, and how many moves it had tried then. */
const lastSeen = new Map<string, { view: LockView; moves: number }>();

function see(octokit: GitHub, repo: RepoRef, view: LockView, moves: number): void {
  lastSeen.set(treeKey(octokit, repo), { view, moves });
}

/**
 * The lock as this process last read it or moved it, if it has tried no move since (its expiry
 * judged at `now`); undefined otherwise. Another replica may have moved it since: good only as the
 * expected state of a compare-and-swap, which then fails, never as the truth.
 */
export function lastSeenLock(octokit: GitHub, repo: RepoRef, now: Date): LockView | undefined {
  const seen = lastSeen.get(treeKey(octokit, repo));
  if (seen === undefined || seen.moves !== lockMovesOf(octokit, repo)) return undefined;
  return seen.view.status === "held" ? { ...seen.view, expired: isExpired(seen.view.holder, now) } : seen.view;
}

/**
 * Takes the lock for `holder` when it is absent, free, corrupt or its lease
 * expired (then the expired holder is returned as `reclaimed`). Returns
 * `acquired: false` when a live holder has it or another process won the race.
 * With `seenSha` (the lock's commit when the caller decided, `null` for no lock
 * ref), it is taken only if the lock has not moved since: `moved: true` says the
 * caller's decision is stale (a run came and went meanwhile).
 */
export async function acquireLock(octokit: GitHub, repo: RepoRef, holder: LockHolder, now: Date, seenSha?: string | null): Promise<AcquireResult> {
  const view = await readLock(octokit, repo, now);
  if (seenSha !== undefined && !(view.status === "held" && !view.expired) && (view.status === "absent" ? null : view.sha) !== seenSha)
    return { acquired: false, holder: undefined, moved: true };
  return takeLock(octokit, repo, holder, now, view);
}

/**
 * Takes the lock as `seen` shows it, without reading it again: the ref's compare-and-swap (create
 * only if absent, fast-forward only from `seen`'s commit) fails if it moved since, and then nothing is
 * taken. For a caller that has just read the lock to decide.
 */
export async function takeLock(octokit: GitHub, repo: RepoRef, holder: LockHolder, now: Date, seen: LockView): Promise<AcquireResult> {
  const view = seen;
  if (view.status === "held" && !view.expired) return { acquired: false, holder: view.holder };
  const parent = view.status === "absent" ? undefined : view.sha;
  const sha = await writeRecord(octokit, repo, holder, parent);
  const moved = parent === undefined ? await createRef(octokit, repo, sha) : await fastForward(octokit, repo, sha);
  if (!moved) {
    const current = await readLock(octokit, repo, now);
    return { acquired: false, holder: current.status === "held" ? current.holder : undefined };
  }
  see(octokit, repo, { status: "held", sha, holder, expired: false }, lockMovesOf(octokit, repo));
  return { acquired: true, sha, reclaimed: view.status === "held" ? view.holder : undefined };
}

/** Extends the lease. A stop request or a lost lock (reclaimed by another process) is reported, never overwritten. */
export async function renewLock(octokit: GitHub, repo: RepoRef, sha: string, holder: LockHolder, now: Date): Promise<RenewResult> {
  const next = await writeRecord(octokit, repo, holder, sha);
  if (await fastForward(octokit, repo, next)) {
    see(octokit, repo, { status: "held", sha: next, holder, expired: false }, lockMovesOf(octokit, repo));
    return { kind: "renewed", sha: next };
  }
  const view = await readLock(octokit, repo, now);
  if (view.status === "held" && view.holder.runId === holder.runId && view.holder.stopRequested) {
    return { kind: "stop-requested", sha: view.sha };
  }
  return { kind: "lost" };
}

/**
 * Extends the lease of `runId` from the lock as it stands now, for a job that no process of afk's holds
 * (it runs in the runner repository and heartbeats to whichever replica answers, ADR 0008). Two
 * heartbeats at once both read, one moves the ref, the other reads again. A stop request or a lock
 * held by another run (or none) is reported, never overwritten.
 */
export async function renewLeaseOf(octokit: GitHub, repo: RepoRef, runId: string, now: Date, leaseSeconds: number): Promise<RenewResult> {
  for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt += 1) {
    const view = await readLock(octokit, repo, now);
    if (view.status !== "held" || view.holder.runId !== runId) return { kind: "lost" };
    if (view.holder.stopRequested) return { kind: "stop-requested", sha: view.sha };
    const renewed = await renewLock(octokit, repo, view.sha, extendLease(view.holder, now, leaseSeconds), now);
    if (renewed.kind !== "lost") return renewed;
  }
  return { kind: "lost" };
}

/**
 * Frees the lock if `runId` still holds it. Returns whether this call freed it. With `heldAt` (the
 * commit the holder last wrote) it is freed from there without a read; if the lock moved since, it is
 * read and freed only if still held.
 */
export async function releaseLock(octokit: GitHub, repo: RepoRef, runId: string, now: Date, heldAt?: string): Promise<boolean> {
  const free: LockRecord = { v: 1, state: "free", at: now.toISOString(), lastRunId: runId };
  const freeFrom = async (parent: string): Promise<boolean> => {
    const sha = await writeRecord(octokit, repo, free, parent);
    if (!(await fastForward(octokit, repo, sha))) return false;
    see(octokit, repo, { status: "free", sha }, lockMovesOf(octokit, repo));
    return true;
  };
  if (heldAt !== undefined && (await freeFrom(heldAt))) return true;
  for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
    const view = await readLock(octokit, repo, now);
    if (view.status !== "held" || view.holder.runId !== runId) return false;
    if (await freeFrom(view.sha)) return true;
  }
  return false;
}

/**
 * Asks the process running `runId` to stop, through the lock itself, so a stop
 * reaches the run whichever replica holds it: its next renewal sees the flag.
 */
export async function requestStop(octokit: GitHub, repo: RepoRef, runId: string, now: Date): Promise<boolean> {
  for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
    const view = await readLock(octokit, repo, now);
    if (view.status !== "held" || view.holder.runId !== runId) return false;
    if (view.holder.stopRequested) return true;
    const flagged: LockHolder = { ...view.holder, stopRequested: true };
    if (await fastForward(octokit, repo, await writeRecord(octokit, repo, flagged, view.sha))) return true;
  }
  return false;
}

async function writeRecord(octokit: GitHub, repo: RepoRef, record: LockRecord, parent: string | undefined): Promise<string> {
  const commit = async (tree: string) =>
    octokit.rest.git.createCommit({
      owner: repo.owner,
      repo: repo.repo,
      message: encodeLockMessage(record),
      tree,
      parents: parent === undefined ? [] : [parent],
    });
  let sha: string;
  try {
    sha = (await commit(await lockTree(octokit, repo))).data.sha;
  } catch (error) {
    // A cached tree the server does not know (a recreated repository): make it anew, once.
    if (errorStatus(error) !== 422 || !treeCache.delete(treeKey(octokit, repo))) throw error;
    sha = (await commit(await lockTree(octokit, repo))).data.sha;
  }
  // What a read of this commit would decode, so a cached record is exactly a read one.
  rememberRecord(octokit, repo, sha, decodeLockMessage(encodeLockMessage(record)));
  return sha;
}

/** Lock records by commit, this process's: a commit never changes, so one read (or afk's own write) is enough. */
const recordCache = new Map<string, LockRecord | undefined>();
const RECORD_CACHE_SIZE = 2_000;

function rememberRecord(octokit: GitHub, repo: RepoRef, sha: string, record: LockRecord | undefined): void {
  if (recordCache.size >= RECORD_CACHE_SIZE) recordCache.delete(recordCache.keys().next().value ?? "");
  recordCache.set(`${treeKey(octokit, repo)}@${sha}`, record);
}

async function lockRecordAt(octokit: GitHub, repo: RepoRef, sha: string): Promise<LockRecord | undefined> {
  const key = `${treeKey(octokit, repo)}@${sha}`;
  if (recordCache.has(key)) return recordCache.get(key);
  const { data: commit } = await octokit.rest.git.getCommit({ owner: repo.owner, repo: repo.repo, commit_sha: sha });
  const record = decodeLockMessage(commit.message);
  rememberRecord(octokit, repo, sha, record);
  return record;
}

function treeKey(octokit: GitHub, repo: RepoRef): string {
  return `${octokit.request.endpoint.DEFAULTS.baseUrl}/${fullName(repo)}`;
}

async function lockTree(octokit: GitHub, repo: RepoRef): Promise<string> {
  const key = treeKey(octokit, repo);
  const cached = treeCache.get(key);
  if (cached !== undefined) return cached;
  const { data } = await octokit.rest.git.createTree({
    owner: repo.owner,
    repo: repo.repo,
    tree: [
      {
        path: "README.md",
        mode: "100644",
        type: "blob",
        content: "This ref is afk's repository lock. Its commit message names the holder and the lease expiry.\n",
      },
    ],
  });
  treeCache.set(key, data.sha);
  return data.sha;
}

/** Per repository, how many times this process tried to move its lock ref: a view read before a move may be stale. */
const lockMoves = new Map<string, number>();

/** How many times this process tried to move the repository's lock ref (a view read at an older count may be stale). */
export function lockMovesOf(octokit: GitHub, repo: RepoRef): number {
  return lockMoves.get(treeKey(octokit, repo)) ?? 0;
}

function moving(octokit: GitHub, repo: RepoRef): void {
  const key = treeKey(octokit, repo);
  lockMoves.set(key, (lockMoves.get(key) ?? 0) + 1);
}

async function createRef(octokit: GitHub, repo: RepoRef, sha: string): Promise<boolean> {
  moving(octokit, repo);
  try {
    await octokit.rest.git.createRef({ owner: repo.owner, repo: repo.repo, ref: LOCK_REF, sha });
    return true;
  } catch (error) {
    if (errorStatus(error) === 422) return false;
    throw error;
  }
}

async function fastForward(octokit: GitHub, repo: RepoRef, sha: string): Promise<boolean> {
  moving(octokit, repo);
  try {
    await octokit.rest.git.updateRef({ owner: repo.owner, repo: repo.repo, ref: REF_PATH, sha, force: false });
    return true;
  } catch (error) {
    if (errorStatus(error) === 422) return false;
    throw error;
  }
}
