import { fullName } from "../github/types.js";
import { openBlockers } from "../github/issue-queue.js";
import { newHolder, type LockHolder, type LockView } from "../lock/lock-record.js";
import { acquireLock, releaseLock, takeLock } from "../lock/repo-lock.js";
import type { DeliveryContext } from "./delivery-context.js";
import { isFollowUp, readQueue } from "./queue-reader.js";
import { newRunId } from "./run-id.js";
import type { Runtime } from "./runtime.js";

/**
 * Starts the next queued issue in the repository if its lock is free: follow-ups (fix-forward,
 * rework) first, then by priority, skipping blocked issues. A lock whose lease expired is taken back
 * first and its issue told the run was interrupted. Safe to call from any event on any replica: the
 * lock's compare-and-swap lets exactly one win.
 */
export async function dispatchNext(rt: Runtime, context: DeliveryContext, activeRuns: ReadonlySet<string>): Promise<void> {
  if (rt.closing) return;
  const { octokit, repo, services } = context;
  // The view the request just read will do: the lock is taken by compare-and-swap against it.
  let lock = await context.lock({ reuse: true });
  if (lock.status === "held" && !lock.expired) {
    // Held by a run this process does not have: if that process died, nothing else would look
    // again before the next event, so look when its lease ends (a live holder will have renewed).
    if (!activeRuns.has(lock.holder.runId)) rt.dispatchAt(repo, Date.parse(lock.holder.expiresAt));
    return;
  }
  const config = await context.usableConfig();
  if (config === undefined) return;
  // With the kill switch on, queued issues wait; an expired lock is still taken back so its issue learns the run died.
  const ordered = services.settings.killSwitch
    ? []
    : await readQueue(octokit, repo, { trigger: config.labels.trigger, inProgress: config.labels.in_progress }, (issue) => context.runs.queuedState(issue));
  for (const { issue: candidate, state: listed } of ordered) {
    // A follow-up continues an issue afk already worked on; only new work waits for blocking issues.
    const blockers = isFollowUp(listed) ? [] : await openBlockers(octokit, repo, candidate);
    if (blockers.length > 0) {
      if (listed.blockedBy?.join(",") !== blockers.join(",")) {
        await rt.move(context, candidate.number, async () => ({ kind: "blocked", runId: listed.runId, blockers }));
      }
      continue;
    }
    const holder = newHolder({
      issue: candidate.number,
      runId: listed.runId,
      replica: services.settings.replicaId,
      now: context.now(),
      leaseSeconds: services.settings.lockLeaseSeconds,
    });
    // Only if the lock is where it was when the queue above was read: otherwise a run came and went
    // meanwhile, the queue may have changed (a better issue, this one already run), so read it again.
    const taken = await takeLock(octokit, repo, holder, context.now(), lock);
    if (!taken.acquired) {
      // The lock moved since it was read: a run came and went, or another replica took it. Look again (the lock read anew).
      rt.dispatchLater(repo, context);
      return;
    }
    try {
      if (taken.reclaimed !== undefined) await markInterrupted(rt, context, taken.reclaimed);
      // Read again under the lock: another replica may have run or stopped this issue since the listing.
      await context.runs.read(candidate.number, { fresh: true });
      const lease = { holder, sha: taken.sha, lost: false };
      const moved = await rt.move(context, candidate.number, async () => ({ kind: "started", runId: holder.runId, replica: services.settings.replicaId }), {
        lease,
      });
      if (moved !== undefined && moved.transition.ignored === undefined && moved.written) return;
    } catch (error) {
      // Nothing started: give the lock back so this dispatch can be tried again (or the next one goes ahead).
      await releaseLock(octokit, repo, holder.runId, context.now()).catch((release: unknown) =>
        context.log.warn({ err: release, repo: fullName(repo) }, "afk could not give back a lock it took; its lease frees it"),
      );
      throw error;
    }
    await releaseLock(octokit, repo, holder.runId, context.now(), taken.sha);
    lock = await context.lock({ reuse: true });
    if (lock.status === "held") return;
  }
  if (lock.status === "held" && lock.expired) await reclaimIdle(rt, context, lock);
}

/** A run whose lock was taken back after its lease expired: its issue says it was interrupted. */
async function markInterrupted(rt: Runtime, context: DeliveryContext, holder: LockHolder): Promise<void> {
  context.log.warn(
    { repo: fullName(context.repo), issue: holder.issue, runId: holder.runId, replica: holder.replica },
    "afk reclaimed an expired repository lock",
  );
  await context.runs.read(holder.issue, { fresh: true });
  await rt.move(context, holder.issue, async () => ({ kind: "interrupted", holder }));
}

/** An expired lock with nothing queued behind it: take it back so the issue learns its run was interrupted. */
async function reclaimIdle(rt: Runtime, context: DeliveryContext, lock: Extract<LockView, { status: "held" }>): Promise<void> {
  const { octokit, repo, services } = context;
  const sweeper = newHolder({
    issue: lock.holder.issue,
    runId: `reclaim-${newRunId()}`,
    replica: services.settings.replicaId,
    now: context.now(),
    leaseSeconds: 30,
  });
  const taken = await acquireLock(octokit, repo, sweeper, context.now());
  if (!taken.acquired) return;
  try {
    if (taken.reclaimed !== undefined) await markInterrupted(rt, context, taken.reclaimed);
  } finally {
    await releaseLock(octokit, repo, sweeper.runId, context.now());
  }
}
