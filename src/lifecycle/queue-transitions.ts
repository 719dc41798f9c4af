import type { LockHolder } from "../lock/lock-record.js";
import { isActive, type RunState } from "./run-state.js";
import { blockedState, interruptedState, queuedState, refusedState, startedState } from "./transitions.js";
import { ignore, type Effect, type RequestEvent, type Transition } from "./transition.js";

/**
 * A request to run. Refused: the issue's progress comment says why, or, while a run is active
 * there (its state is never overwritten), a reply does. Accepted: a new queued run is recorded, the
 * issue joins the queue (the trigger label: a command adds it) and the repository's queue is
 * dispatched. A delivery already recorded queues nothing twice but dispatches again (the first try
 * may have failed after recording it).
 */
export function requested(previous: RunState | undefined, event: RequestEvent, now: Date): Transition {
  const { trigger, verdict } = event;
  if (previous?.deliveries.includes(trigger.deliveryId) === true)
    return { ...ignore(previous, "this delivery was already recorded"), effects: [{ kind: "dispatch" }] };
  if (verdict.kind === "refused") {
    if (previous !== undefined && isActive(previous))
      return { state: previous, effects: [{ kind: "comment", on: "issue", body: `@${trigger.actor} ${verdict.notice.message}` }] };
    return { state: refusedState({ runId: event.runId, issue: event.issueNumber, trigger, now, notice: verdict.notice, previous }), effects: [] };
  }
  if (previous !== undefined && isActive(previous))
    return ignore(previous, `afk is already ${previous.status === "queued" ? "queued" : "working"} on this issue`);
  const state = queuedState({
    runId: event.runId,
    issue: event.issueNumber,
    trigger,
    now,
    queuedBehind: verdict.queuedBehind,
    previous,
    job: event.job,
    ...(event.followUp === undefined ? {} : { followUp: event.followUp }),
    ...(event.parent === undefined ? {} : { parent: event.parent }),
  });
  const effects: Effect[] = [];
  if (verdict.react) effects.push({ kind: "react-on-issue" });
  if (verdict.corrupt !== undefined) {
    effects.push({
      kind: "comment",
      on: "issue",
      body: `afk could not read the state in its progress comment (${verdict.corrupt}), so it does not trust it and starts over from the queue.`,
    });
  }
  // The queue is the set of issues carrying the trigger label: a command puts the issue in it (a label request already did).
  effects.push(trigger.source === "command" ? { kind: "enqueue" } : { kind: "dispatch" });
  return { state, effects };
}

/** New work waits for the open issues it is "Blocked by"; the progress comment names them (written only when they change). */
export function blocked(state: RunState, runId: string, blockers: number[]): Transition {
  if (state.status !== "queued" || state.runId !== runId) return ignore(state, "the run is no longer the queued one the dispatcher listed");
  if ((state.blockedBy ?? []).join(",") === blockers.join(",")) return ignore(state, "already shown as blocked by these issues");
  return { state: blockedState(state, blockers), effects: [] };
}

/**
 * The dispatcher holds the repository lock for this queued run: it is recorded as started, then
 * its job runs. From here the run must run; the in-progress label is only a signal.
 */
export function started(state: RunState, runId: string, replica: string, now: Date): Transition {
  if (state.status !== "queued" || state.runId !== runId) return ignore(state, "the run is no longer the queued one the lock was taken for");
  return { state: startedState(state, replica, now), effects: [{ kind: "add-label", label: "in_progress" }, { kind: "run-job" }] };
}

/** The lock of this run was taken back after its lease expired: its process died, and the issue says so. */
export function interrupted(state: RunState, holder: LockHolder, now: Date): Transition {
  if (state.runId !== holder.runId || !isActive(state)) return ignore(state, "the reclaimed lock was not this run's");
  const effects: Effect[] = [{ kind: "remove-labels", labels: ["in_progress"] }];
  // A job in afk's runner repository may still be going (only its heartbeats stopped): it is cancelled.
  if (state.remote !== undefined) effects.push({ kind: "cancel-workflow-run", remote: state.remote });
  return { state: interruptedState(state, holder, now), effects };
}
