import { fullName, type RepoRef } from "../github/types.js";

/**
 * Per issue, in this process: events are handled one at a time (a state written and its effects
 * carried out are one step, so an event never lands between them), and every state written is
 * counted, so a progress comment kept by one delivery is known stale once another wrote it.
 */
export class IssueTurns {
  readonly #turns = new Map<string, Promise<void>>();
  readonly #writes = new Map<string, number>();

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
}

function keyOf(repo: RepoRef, issue: number): string {
  return `${fullName(repo)}#${issue}`;
}
