import { execFileSync } from "node:child_process";
import type { GitHubEmulator, IssueInput } from "../emulator/index.js";
import { issueCommentCreatedPayload, issuesLabeledPayload, type IssueCommentCreatedPayload, type IssuesLabeledPayload } from "../webhook-payloads.js";

/** A sender's account type when not told: logins ending in `[bot]` are GitHub Apps' bots. */
function accountType(login: string): "User" | "Bot" {
  return login.endsWith("[bot]") ? "Bot" : "User";
}

/**
 * One repository of a world's emulated GitHub: what people do on it (open issues, label, comment),
 * each with the webhook payload GitHub sends for it, built from the emulator's state after the change.
 */
export class WorldRepo {
  readonly fullName: string;
  readonly #remote: string | undefined;

  constructor(
    readonly github: GitHubEmulator,
    readonly owner: string,
    readonly name: string,
    readonly installationId: number,
    remote: string | undefined,
  ) {
    this.fullName = `${owner}/${name}`;
    this.#remote = remote;
  }

  /** The bare git repository behind it; throws when it has none. */
  get remote(): string {
    if (this.#remote === undefined) throw new Error(`${this.fullName} has no git repository behind it`);
    return this.#remote;
  }

  /** Adds an issue (by `ada-admin`, "Add a greeting", unless told) and returns its number. */
  issue(input: Partial<IssueInput> = {}): number {
    return this.github.addIssue(this.fullName, {
      title: input.title ?? "Add a greeting",
      body: input.body ?? "Please add a greeting.",
      labels: input.labels ?? [],
      user: input.user ?? "ada-admin",
      ...(input.state === undefined ? {} : { state: input.state }),
    }).number;
  }

  /** `sender` adds `label` (the label is on the issue before the event is sent, as on GitHub); returns the `issues.labeled` payload. */
  labelPayload(issue: number, sender: string, options: { label?: string; senderType?: "User" | "Bot" } = {}): IssuesLabeledPayload {
    const label = options.label ?? "ready-for-agent";
    this.github.seedLabels(this.fullName, issue, [label]);
    return issuesLabeledPayload({
      ...this.#target(),
      issue: this.#issueTarget(issue),
      label,
      sender: { login: sender, type: options.senderType ?? accountType(sender) },
    });
  }

  /** `sender` comments `body` on the issue; returns the `issue_comment.created` payload. */
  commentPayload(issue: number, sender: string, body: string, options: { senderType?: "User" | "Bot" } = {}): IssueCommentCreatedPayload {
    const created = this.github.addComment(this.fullName, issue, { body, user: sender });
    return issueCommentCreatedPayload({
      ...this.#target(),
      issue: this.#issueTarget(issue),
      comment: { body, id: created.id },
      sender: { login: sender, type: options.senderType ?? accountType(sender) },
    });
  }

  /** Bodies of the comments afk's bot wrote on an issue or pull request. */
  afkComments(issue: number): string[] {
    return this.github
      .comments(this.fullName, issue)
      .filter((comment) => comment.user.login === this.github.botLogin)
      .map((comment) => comment.body ?? "");
  }

  /** `git` on the bare repository behind it; its output without the trailing newline. */
  git(...args: string[]): string {
    return execFileSync("git", ["--git-dir", this.remote, ...args], { encoding: "utf8" }).trim();
  }

  #target(): { owner: string; repo: string; installationId: number } {
    return { owner: this.owner, repo: this.name, installationId: this.installationId };
  }

  /** The issue as the emulator holds it now, for a payload. */
  #issueTarget(issue: number): { number: number; title: string; body: string; labels: string[]; state: "open" | "closed"; user: string } {
    const existing = this.github.issue(this.fullName, issue);
    return {
      number: issue,
      title: existing.title,
      body: existing.body ?? "",
      labels: this.github.labels(this.fullName, issue),
      state: existing.state === "closed" ? "closed" : "open",
      user: existing.user.login,
    };
  }
}
