import type { Logger } from "probot";
import type { RepoConfigResult } from "../config/load-repo-config.js";
import { readRepoConfig } from "../config/read-repo-config.js";
import type { RepoConfig } from "../config/repo-config.js";
import { fullName, type Actor, type GitHub, type RepoRef } from "../github/types.js";
import type { ProgressComment, RunState } from "../lifecycle/run-state.js";
import type { LockView } from "../lock/lock-record.js";
import { lastSeenLock, lockMovesOf, readLock } from "../lock/repo-lock.js";
import { notifyStateWritten } from "../observability/state-observer.js";
import { findProgressComment, writeProgressComment } from "../progress/progress-comment.js";
import { checkTrust, type TrustDecision } from "../trust/trust-gate.js";
import type { IssueTurns } from "./issue-turns.js";
import type { AfkServices } from "./services.js";

/**
 * One delivery's view of one repository: the installation client, and what afk reads to act on it
 * (its bot login, `.github/afk.yml`, who is trusted, the issues' progress comments), each read once
 * and kept for the delivery. Afk's own follow-up work (a dispatch, a finished run) gets a context of
 * its own. The lock is never kept: it moves under other replicas.
 */
export class DeliveryContext {
  readonly runs: RunStore;
  #botLogin: Promise<string> | undefined;
  #config: Promise<RepoConfigResult> | undefined;
  readonly #trust = new Map<string, Promise<TrustDecision>>();
  /** How many moves of the lock this process had tried when this context last read it. */
  #lockReadAt: number | undefined;

  constructor(
    readonly services: AfkServices,
    readonly turns: IssueTurns,
    readonly repo: RepoRef,
    readonly octokit: GitHub,
  ) {
    this.runs = new RunStore(this);
  }

  get log(): Logger {
    return this.services.log;
  }

  now(): Date {
    return this.services.now?.() ?? new Date();
  }

  botLogin(): Promise<string> {
    this.#botLogin ??= this.services.botLogin();
    return this.#botLogin;
  }

  /** `.github/afk.yml` as the default branch has it (Probot's config plugin: `_extends`, the owner's `.github` repository). */
  config(): Promise<RepoConfigResult> {
    this.#config ??= readRepoConfig(this.octokit, this.repo).catch((error: unknown) => {
      this.#config = undefined;
      throw error;
    });
    return this.#config;
  }

  /** The config when it is usable; otherwise undefined, logged (afk cannot dispatch without one). */
  async usableConfig(): Promise<RepoConfig | undefined> {
    const result = await this.config();
    if (result.kind === "ok") return result.config;
    this.log.warn({ repo: fullName(this.repo), config: result.kind }, "afk cannot dispatch: repository config is not usable");
    return undefined;
  }

  /** Whether `actor` may steer afk here: write access or better, or the config's trust lists; bots only by name. */
  trust(actor: Actor): Promise<TrustDecision> {
    const key = actor.login.toLowerCase();
    let decision = this.#trust.get(key);
    if (decision === undefined) {
      decision = this.config().then((config) => checkTrust(this.octokit, this.repo, actor, trustLists(config)));
      this.#trust.set(key, decision);
      decision.catch(() => this.#trust.delete(key));
    }
    return decision;
  }

  /**
   * The repository lock as it is now. With `reuse`, the lock as this process last read or left it
   * (`lastSeenLock`: only while this process has tried no move since), if any: for a caller that only
   * uses it as the expected state of a compare-and-swap (which fails if it moved). A hold by another
   * replica is reused only if this context read it since: one older may have ended, and nothing here
   * would take the lock's change.
   */
  async lock(options: { reuse?: boolean } = {}): Promise<LockView> {
    if (options.reuse === true) {
      const seen = lastSeenLock(this.octokit, this.repo, this.now());
      const heldElsewhere = seen?.status === "held" && seen.holder.replica !== this.services.settings.replicaId;
      if (seen !== undefined && (!heldElsewhere || this.#lockReadAt === lockMovesOf(this.octokit, this.repo))) return seen;
    }
    const moves = lockMovesOf(this.octokit, this.repo);
    const view = await readLock(this.octokit, this.repo, this.now());
    this.#lockReadAt = moves;
    return view;
  }
}

/**
 * The runs of one repository as its issues' progress comments record them. A comment read or written
 * in this context is kept; `fresh` reads it again (under the lock, another replica may have moved it).
 */
export class RunStore {
  readonly #context: DeliveryContext;
  /** What was read or written of each issue, and how many writes this process had made to it then. */
  readonly #known = new Map<number, { comment: ProgressComment | undefined; writes: number; shown?: RunState }>();

  constructor(context: DeliveryContext) {
    this.#context = context;
  }

  async read(issue: number, options: { fresh?: boolean } = {}): Promise<ProgressComment | undefined> {
    const { octokit, repo, turns } = this.#context;
    const known = this.#kept(issue);
    if (options.fresh !== true && known !== undefined) return known.comment;
    const comment = await findProgressComment(octokit, repo, issue, await this.#context.botLogin());
    this.#known.set(issue, { comment, writes: turns.writes(repo, issue) });
    turns.saw(repo, issue, comment?.kind === "state" ? comment.state : undefined);
    return comment;
  }

  /** What this context read or wrote of the issue, kept only while no other work of this process wrote the issue since. */
  #kept(issue: number): { comment: ProgressComment | undefined } | undefined {
    const { repo, turns } = this.#context;
    const known = this.#known.get(issue);
    return known !== undefined && known.writes === turns.writes(repo, issue) ? known : undefined;
  }

  /**
   * Takes `comment` as what the issue's progress comment holds (a running job's supervisor knows it
   * best). `shown` is what GitHub still shows when the job's last report was not written: the
   * observer is told that as the state before the next write.
   */
  assume(comment: ProgressComment & { kind: "state" }, shown?: RunState): void {
    const { repo, turns } = this.#context;
    this.#known.set(comment.state.issue, { comment, writes: turns.writes(repo, comment.state.issue), ...(shown === undefined ? {} : { shown }) });
  }

  /**
   * The state of an issue in the queue's listing: a queued state this context, or any delivery of
   * this process, last saw (and this process has not written since) is taken as it is: the dispatcher
   * reads it again under the lock before starting it. Anything else is read, since another replica
   * may have queued the issue since.
   */
  async queuedState(issue: number): Promise<RunState | undefined> {
    const known = this.#kept(issue)?.comment;
    if (known?.kind === "state" && known.state.status === "queued") return known.state;
    return this.#context.turns.queued(this.#context.repo, issue) ?? this.state(issue, { fresh: true });
  }

  /** Takes it that the issue has no progress comment yet (afk just opened it). */
  assumeNone(issue: number): void {
    const { repo, turns } = this.#context;
    this.#known.set(issue, { comment: undefined, writes: turns.writes(repo, issue) });
  }

  /** The run's state now, if its comment holds one. */
  async state(issue: number, options: { fresh?: boolean } = {}): Promise<RunState | undefined> {
    const comment = await this.read(issue, options);
    return comment?.kind === "state" ? comment.state : undefined;
  }

  /**
   * Writes `after` to the issue's progress comment and, once GitHub took it, tells the observer what
   * the comment held before. A concurrent creation may have kept another process's comment instead:
   * then the state returned is that one, and this one was not written.
   */
  async write(before: RunState | undefined, after: RunState, commentId?: number): Promise<{ id: number; state: RunState }> {
    const { octokit, repo, services, turns } = this.#context;
    const shown = this.#known.get(after.issue)?.shown ?? before;
    let written: { id: number; state: RunState };
    try {
      written = await writeProgressComment(octokit, repo, after, await this.#context.botLogin(), commentId);
    } finally {
      turns.wrote(repo, after.issue);
    }
    this.#known.set(after.issue, { comment: { id: written.id, kind: "state", state: written.state }, writes: turns.writes(repo, after.issue) });
    turns.saw(repo, after.issue, written.state);
    if (written.state === after) notifyStateWritten(services.observer, services.log, repo, shown, after);
    return written;
  }
}

/** The config's trust lists, or none when the config is not usable (then only repository roles count). */
export function trustLists(config: RepoConfigResult): RepoConfig["trusted"] {
  return config.kind === "ok" ? config.config.trusted : { users: [], bots: [] };
}
