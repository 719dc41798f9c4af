import type { RepoRef } from "../github/types.js";
import type { LifecycleEvent, Transition } from "../lifecycle/lifecycle.js";
import type { ProgressComment, RunState } from "../lifecycle/run-state.js";
import type { LockHolder } from "../lock/lock-record.js";
import type { Background } from "./background.js";
import type { DeliveryContext } from "./delivery-context.js";
import type { IssueTurns } from "./issue-turns.js";
import type { AfkServices } from "./services.js";

/** How a run moved: the transition decided, and what stopping a running job came to. */
export interface Moved {
  transition: Transition;
  /** Whether the new state is the one the progress comment holds (another process's comment may have won a race to create it). */
  written: boolean;
  abort?: "stopping" | "stopped";
}

/** Decides the event for a run from what its progress comment holds (undefined: none yet), or undefined when the event is not about it. */
export type EventFor = (comment: ProgressComment | undefined) => Promise<LifecycleEvent | undefined>;

/** The lock a run's job holds while it runs, renewed by its supervisor. */
export interface Lease {
  holder: LockHolder;
  sha: string;
  lost: boolean;
}

/**
 * What the parts of dispatch (intake, dispatcher, run supervisor, effects, recovery, plan split) ask
 * of one another. The coordinator wires them; none imports another's module, so each can be read
 * and tested alone.
 */
export interface Runtime {
  readonly services: AfkServices;
  /** Work after the webhook is answered, afk's own follow-up work, and its timers. */
  readonly tasks: Background;
  readonly turns: IssueTurns;
  /** Whether the process is shutting down: nothing new starts. */
  readonly closing: boolean;
  /** A fresh context for afk's own work on a repository. */
  contextFor(repo: RepoRef): Promise<DeliveryContext>;
  /** Moves an issue's run by one lifecycle event: read, decide, write, carry out the effects. */
  move(context: DeliveryContext, issue: number, eventFor: EventFor, options?: { lease?: Lease }): Promise<Moved | undefined>;
  /** Starts the next queued issue of the repository if its lock is free. */
  dispatch(context: DeliveryContext): Promise<void>;
  /** Dispatches as afk's own work, after the current step; with `context`, in it (what it read is not read again). */
  dispatchLater(repo: RepoRef, context?: DeliveryContext): void;
  /** Dispatches when a lock's lease ends (a holder that died is taken back then). */
  dispatchAt(repo: RepoRef, at: number): void;
  /** CI changed on `sha`: the issue's run reads it if it watches that commit. */
  ciChanged(context: DeliveryContext, issue: number, sha: string): Promise<Transition | undefined>;
  /** Looks at CI on `head` again at `at`. */
  recheckAt(repo: RepoRef, issue: number, head: string, at: number): void;
  /** A sub-issue of `parent`'s plan finished: the parent learns which are still open. */
  subIssueFinished(context: DeliveryContext, parent: number, issue: number): Promise<Transition | undefined>;
  /** Runs the job of a run just recorded as started, under `lease`. */
  runJob(context: DeliveryContext, state: RunState, commentId: number, lease: Lease): void;
  /** Stops a running job wherever it runs. */
  abortRun(context: DeliveryContext, state: RunState, commentId: number, reason: string): Promise<"stopping" | "stopped">;
}
