import { fullName, type RepoRef } from "../github/types.js";
import type { RunState } from "../lifecycle/run-state.js";

/**
 * Per issue, in this process: events are handled one at a time (a state written and its effects
 * carried out are one step, so an event never lands between them), and every state written is
 * counted, so a progress comment kept by one delivery is known stale once another wrote it.
 */
export class IssueTurns {
  readonly #turns = new Map<string, Promise<void>>();
  readonly #writes = new Map<string, number>();
  /** The queued states any delivery of this process last saw, for the dispatcher's listing (it confirms each under the lock). */
  readonly #queued = new Map<string, { state: RunState; writes: number }>();

  /** Runs `work` when every earlier turn for the same issue in this process has finished. */
  run<T>(repo: RepoRef, issue: number, work: () => Promise<T>): Promise<T> {
    const key = keyOf(repo, issue);
    const previous = this.#turns.get(key) ?? Promise.resolve();
    const turn = previous.then(work);
    const settled = turn.then(
      () => undefined,
      () => undefined,
    );
    this.#turns.set(key, settled);
    void settled.then(() => {
      if (this.#turns.get(key) === settled) this.#turns.delete(key);
    });
    return turn;
  }

  /** How many states this process wrote to the issue's progress comment. */
  writes(repo: RepoRef, issue: number): number {
    return this.#writes.get(keyOf(repo, issue)) ?? 0;
  }

  wrote(repo: RepoRef, issue: number): void {
    const key = keyOf(repo, issue);
    this.#writes.set(key, (this.#writes.get(key) ?? 0) + 1);
  }

  /** Notes what the issue's progress comment was seen to hold, after `writes` writes of this process. */
  saw(repo: RepoRef, issue: number, state: RunState | undefined): void {
    const key = keyOf(repo, issue);
    if (state?.status === "queued") this.#queued.set(key, { state, writes: this.writes(repo, issue) });
    else this.#queued.delete(key);
  }

  /** The queued state this process last saw on the issue, unless it wrote the issue since. */
  queued(repo: RepoRef, issue: number): RunState | undefined {
    const seen = this.#queued.get(keyOf(repo, issue));
    return seen !== undefined && seen.writes === this.writes(repo, issue) ? seen.state : undefined;
  }
}

function keyOf(repo: RepoRef, issue: number): string {
  return `${fullName(repo)}#${issue}`;
}
