import { execFileSync } from "node:child_process";
import type { GitHubEmulator, IssueInput, WebhookDelivery } from "../emulator/index.js";

/**
 * One repository of a world's emulated GitHub: what people do on it (open issues, label, comment),
 * each with the webhook payload GitHub sends for it, built by the emulator (`emulator.webhook`, as
 * `deliver` builds it) from its state after the change. The sender is the emulator's user of that
 * login (a `[bot]` login it has not seen becomes a Bot).
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
  labelPayload(issue: number, sender: string, options: { label?: string } = {}): WebhookDelivery["payload"] {
    const label = options.label ?? "ready-for-agent";
    this.github.seedLabels(this.fullName, issue, [label]);
    return this.github.webhook("issues", "labeled", { repo: this.fullName, issue, label, sender }).payload;
  }

  /** `sender` comments `body` on the issue; returns the `issue_comment.created` payload. */
  commentPayload(issue: number, sender: string, body: string): WebhookDelivery["payload"] {
    // A `[bot]` login seen here first is a Bot, as in every payload (addComment alone would make it a User).
    this.github.addUser(sender, sender.endsWith("[bot]") ? "Bot" : "User");
    const created = this.github.addComment(this.fullName, issue, { body, user: sender });
    return this.github.webhook("issue_comment", "created", { repo: this.fullName, comment: created.id, sender }).payload;
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
}
