import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { lstat, mkdir, readdir, realpath, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";

/** A GitHub installation token, handed to git for one command through its environment. */
export interface GitAuth {
  token: string;
}

/** Environment that keeps git from prompting, from reading a person's config and from storing credentials. */
const QUIET_GIT_ENV: Record<string, string> = {
  GIT_TERMINAL_PROMPT: "0",
  GIT_CONFIG_NOSYSTEM: "1",
  GIT_CONFIG_GLOBAL: "/dev/null",
  GIT_ASKPASS: "",
  SSH_ASKPASS: "",
  LC_ALL: "C",
};

/** Git settings passed through GIT_CONFIG_* so nothing is written to a config file. */
function configEnv(settings: ReadonlyArray<readonly [string, string]>): Record<string, string> {
  const env: Record<string, string> = { GIT_CONFIG_COUNT: String(settings.length) };
  settings.forEach(([key, value], index) => {
    env[`GIT_CONFIG_KEY_${index}`] = key;
    env[`GIT_CONFIG_VALUE_${index}`] = value;
  });
  return env;
}

/** The settings every git command afk runs gets; `auth` adds the token as an HTTP header, in memory only. */
function gitSettings(auth: GitAuth | undefined): Array<[string, string]> {
  const settings: Array<[string, string]> = [
    ["safe.directory", "*"],
    ["credential.helper", ""],
    ["gc.auto", "0"],
    // No reflogs: git appends to them without a lock file.
    ["core.logAllRefUpdates", "false"],
    ["maintenance.auto", "false"],
    ["core.hooksPath", "/dev/null"],
    ["protocol.file.allow", "always"],
    // Check files out on every core: a worktree of a large repository is mostly file creation.
    ["checkout.workers", "0"],
  ];
  if (auth !== undefined) settings.push(["http.extraHeader", `Authorization: Basic ${Buffer.from(`x-access-token:${auth.token}`).toString("base64")}`]);
  return settings;
}

/** Runs git with exactly the given environment (plus PATH); errors say what failed, with the token redacted. */
async function git(args: string[], options: { cwd?: string; env?: Record<string, string>; auth?: GitAuth; signal?: AbortSignal } = {}): Promise<string> {
  const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: "/nonexistent", ...QUIET_GIT_ENV, ...options.env, ...configEnv(gitSettings(options.auth)) };
  return new Promise((resolve, reject) => {
    execFile("git", args, { cwd: options.cwd, env, maxBuffer: 64 * 1024 * 1024, ...(options.signal === undefined ? {} : { signal: options.signal }) }, (error, stdout, stderr) => {
      if (error === null) return resolve(stdout);
      const detail = redact(`${stderr}`.trim() || error.message, options.auth);
      reject(new GitError(`git ${args[0] ?? ""} failed: ${detail}`, detail));
    });
  });
}

function redact(text: string, auth: GitAuth | undefined): string {
  if (auth === undefined) return text;
  const basic = Buffer.from(`x-access-token:${auth.token}`).toString("base64");
  return text.split(auth.token).join("[redacted]").split(basic).join("[redacted]");
}

export class GitError extends Error {
  constructor(
    message: string,
    readonly detail: string,
  ) {
    super(message);
    this.name = "GitError";
  }
}

const PRISTINE_STATUS = ["status", "--porcelain=v2", "--branch", "--ignored", "--untracked-files=all"];

/** Whether `git status` (PRISTINE_STATUS) shows a checkout at `sha` with no file changed, untracked or ignored. */
function isPristineStatus(status: string, sha: string): boolean {
  const lines = status.split("\n").filter((line) => line.length > 0);
  return lines.includes(`# branch.oid ${sha}`) && lines.every((line) => line.startsWith("# "));
}

/** Says in words what a failed fetch means. */
function fetchProblem(url: string, error: unknown): Error {
  const detail = error instanceof GitError ? error.detail : String(error);
  const why = /401|403|Authentication failed|could not read Username/i.test(detail)
    ? "authentication failed (the installation token was refused)"
    : /not found|404|does not appear to be a git repository/i.test(detail)
      ? "the repository was not found"
      : detail.split("\n").slice(-2).join(" ");
  return new Error(`could not fetch ${displayUrl(url)}: ${why}`);
}

/** A URL without any credentials in it, for messages. */
function displayUrl(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.username = "";
    parsed.password = "";
    return parsed.toString();
  } catch {
    return url;
  }
}

/**
 * Repository mirrors and per-run worktrees under one cache directory:
 * `mirrors/<host>/<owner>/<repo>.git`, `homes/<host>/<owner>/<repo>`, `runs/<runId>/`.
 */
export class WorkspaceCache {
  readonly #cacheDir: string;
  readonly #busy = new Map<string, Promise<unknown>>();

  constructor(options: { cacheDir: string }) {
    this.#cacheDir = options.cacheDir;
  }

  /** The bare mirror of a repository, derived from its clone URL (or a local path) so no URL can escape the cache. */
  mirrorPath(cloneUrl: string): string {
    return join(this.#cacheDir, "mirrors", ...repoKey(cloneUrl)) + ".git";
  }

  /** Where a finished run parks its cleaned checkout for the next run of the same repository. */
  sparePath(cloneUrl: string): string {
    return join(this.#cacheDir, "spare", ...repoKey(cloneUrl));
  }

  /** The persistent HOME sandboxed commands get for this repository. */
  homePath(cloneUrl: string): string {
    return join(this.#cacheDir, "homes", ...repoKey(cloneUrl));
  }

  /**
   * Creates or fetches the mirror, pins `ref` (a branch, a tag or a commit) and adds a worktree
   * detached at that commit for this run.
   */
  async open(input: { cloneUrl: string; auth?: GitAuth; ref: string; runId: string; signal?: AbortSignal }): Promise<Worktree> {
    if (!/^[A-Za-z0-9._-]+$/.test(input.runId)) throw new Error(`run id ${JSON.stringify(input.runId)} is not safe as a directory name`);
    const mirror = this.mirrorPath(input.cloneUrl);
    return this.#serialised(mirror, async () => {
      const auth = input.auth === undefined ? {} : { auth: input.auth };
      const signal = input.signal === undefined ? {} : { signal: input.signal };
      await mkdir(mirror, { recursive: true });
      await mkdir(this.homePath(input.cloneUrl), { recursive: true });
      const initialised = await lstat(join(mirror, "HEAD")).then(
        () => true,
        () => false,
      );
      if (!initialised) {
        await git(["init", "--bare", "--quiet", mirror]);
        await git(["remote", "add", "origin", input.cloneUrl], { cwd: mirror });
        await git(["config", "--replace-all", "remote.origin.fetch", "+refs/heads/*:refs/heads/*"], { cwd: mirror });
        await git(["config", "--add", "remote.origin.fetch", "+refs/tags/*:refs/tags/*"], { cwd: mirror });
        // Nothing may ever push from the mirror or a worktree of it: afk pushes with an explicit URL.
        await git(["config", "remote.origin.pushurl", "no-push://push-disabled-by-afk"], { cwd: mirror });
      } else {
        await git(["remote", "set-url", "origin", input.cloneUrl], { cwd: mirror });
      }
      try {
        await git(["fetch", "--prune", "--quiet", "--no-tags", "origin", "+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*"], { cwd: mirror, ...auth, ...signal });
      } catch (error) {
        throw fetchProblem(input.cloneUrl, error);
      }
      let baseSha: string;
      try {
        baseSha = (await git(["rev-parse", "--verify", "--quiet", `${input.ref}^{commit}`], { cwd: mirror })).trim();
      } catch {
        throw new Error(`${input.ref} is not a branch, tag or commit of ${displayUrl(input.cloneUrl)}`);
      }
      const runDir = join(this.#cacheDir, "runs", input.runId);
      await rm(runDir, { recursive: true, force: true });
      await mkdir(join(runDir, "objects", "info"), { recursive: true });
      await mkdir(join(runDir, "objects", "pack"), { recursive: true });
      const path = join(runDir, "worktree");
      const spare = this.sparePath(input.cloneUrl);
      await git(["worktree", "prune"], { cwd: mirror });
      let gitDir = await takeSpare({ mirror, spare, path, baseSha });
      if (gitDir === undefined) {
        await git(["worktree", "add", "--detach", "--quiet", path, baseSha], { cwd: mirror });
        gitDir = (await git(["rev-parse", "--absolute-git-dir"], { cwd: path })).trim();
      }
      const realPath = await realpath(path);
      return new Worktree({ path: realPath, baseSha, mirror: await realpath(mirror), gitDir, objectsDir: await realpath(join(runDir, "objects")), runDir, spare });
    });
  }

  async #serialised<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = this.#busy.get(key) ?? Promise.resolve();
    const next = previous.then(work, work);
    this.#busy.set(key, next.catch(() => undefined));
    return next;
  }
}

/** `[host, owner, repo]` of a clone URL or local path, each reduced to safe characters. */
function repoKey(cloneUrl: string): string[] {
  let parts: string[];
  try {
    const url = new URL(cloneUrl);
    parts = [url.host, ...url.pathname.split("/").filter((part) => part.length > 0)];
  } catch {
    parts = ["local", ...cloneUrl.split("/").filter((part) => part.length > 0)];
  }
  const cleaned = parts.map((part) => part.replace(/\.git$/, "").replace(/[^A-Za-z0-9._-]/g, "_").replace(/^\.+/, "_"));
  const readable = cleaned.slice(-3);
  // A short digest of the whole location keeps two different URLs apart even when their tails look alike.
  const digest = createHash("sha256").update(cloneUrl).digest("hex").slice(0, 8);
  const last = readable.pop() ?? "repo";
  return [...readable, `${last}-${digest}`];
}

/**
 * Rewrites the worktree metadata an agent could have changed (`.git`, `commondir`, `gitdir`,
 * `config.worktree`) to what afk created, and removes every symbolic link (and anything else that
 * is not a file or a directory) from the git directories the sandbox could write: git writes some
 * files there without a lock file (`COMMIT_EDITMSG`, reflogs), and through a planted link afk's own
 * git would write outside the run.
 */
async function restoreWorktreeMetadata(path: string, gitDir: string, objectsDir?: string): Promise<void> {
  for (const dir of objectsDir === undefined ? [gitDir] : [gitDir, objectsDir]) await removeLinks(dir);
  await rm(join(gitDir, "COMMIT_EDITMSG"), { force: true });
  await rm(join(path, ".git"), { recursive: true, force: true });
  await writeFile(join(path, ".git"), `gitdir: ${gitDir}\n`);
  await rm(join(gitDir, "commondir"), { recursive: true, force: true });
  await writeFile(join(gitDir, "commondir"), "../..\n");
  await rm(join(gitDir, "gitdir"), { recursive: true, force: true });
  await writeFile(join(gitDir, "gitdir"), `${join(path, ".git")}\n`);
  await rm(join(gitDir, "config.worktree"), { recursive: true, force: true });
}

/** Deletes every entry below `dir` that is neither a regular file nor a directory (links, fifos, sockets). */
async function removeLinks(dir: string): Promise<void> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) await removeLinks(path);
    else if (!entry.isFile()) await rm(path, { recursive: true, force: true });
  }
}

/**
 * Takes over the parked checkout of an earlier run, if there is one: moves it to `path`, checks out
 * `baseSha` (only changed files are written), removes every untracked and ignored file, and accepts
 * it only if git then reports nothing at all. Returns its git dir; otherwise the spare is deleted
 * and undefined returned.
 */
async function takeSpare(input: { mirror: string; spare: string; path: string; baseSha: string }): Promise<string | undefined> {
  try {
    await lstat(input.spare);
  } catch {
    return undefined;
  }
  try {
    await git(["worktree", "move", input.spare, input.path], { cwd: input.mirror });
    const gitDir = (await git(["rev-parse", "--absolute-git-dir"], { cwd: input.path })).trim();
    // The same metadata rewrite as every afk git command, then git addressed explicitly.
    await restoreWorktreeMetadata(input.path, gitDir);
    const env = { GIT_DIR: gitDir, GIT_WORK_TREE: input.path };
    await git(["checkout", "--quiet", "--detach", "--force", input.baseSha], { cwd: input.path, env });
    // The parked tree was cleaned when its run ended; clean again only if git sees anything at all.
    const pristine = async (): Promise<boolean> => isPristineStatus(await git(PRISTINE_STATUS, { cwd: input.path, env }), input.baseSha);
    if (await pristine()) return gitDir;
    await git(["clean", "-ffdxq"], { cwd: input.path, env });
    if (await pristine()) return gitDir;
  } catch {
    // Fall through: a fresh worktree instead.
  }
  await git(["worktree", "remove", "--force", input.path], { cwd: input.mirror }).catch(() => undefined);
  await git(["worktree", "remove", "--force", input.spare], { cwd: input.mirror }).catch(() => undefined);
  await rm(input.path, { recursive: true, force: true });
  await rm(input.spare, { recursive: true, force: true });
  await git(["worktree", "prune"], { cwd: input.mirror }).catch(() => undefined);
  return undefined;
}

/** One run's checkout: detached at the pinned commit, with its own object directory. */
export class Worktree {
  readonly path: string;
  readonly baseSha: string;
  readonly mirror: string;
  readonly gitDir: string;
  readonly objectsDir: string;
  readonly #runDir: string;
  readonly #spare: string;
  #removed = false;

  constructor(input: { path: string; baseSha: string; mirror: string; gitDir: string; objectsDir: string; runDir: string; spare: string }) {
    this.path = input.path;
    this.baseSha = input.baseSha;
    this.mirror = input.mirror;
    this.gitDir = input.gitDir;
    this.objectsDir = input.objectsDir;
    this.#runDir = input.runDir;
    this.#spare = input.spare;
  }

  /**
   * Environment for every git command in this worktree, afk's or the agent's: new objects go to the
   * run's own directory, the mirror's objects are read as an alternate, so the mirror can be
   * mounted read-only in the sandbox. It carries no credential.
   */
  get gitEnv(): Record<string, string> {
    return {
      ...QUIET_GIT_ENV,
      GIT_OBJECT_DIRECTORY: this.objectsDir,
      GIT_ALTERNATE_OBJECT_DIRECTORIES: join(this.mirror, "objects"),
      ...configEnv(gitSettings(undefined)),
    };
  }

  /**
   * afk's own git commands, run outside the sandbox after the agent had the worktree. They never
   * discover the repository through the worktree's `.git` file, and the metadata the agent could
   * write (`.git`, `commondir`, `gitdir`, `config.worktree`) is rewritten first, so no config the
   * agent planted (an fsmonitor, a filter, a pager) can run a command with afk's privileges.
   */
  async #git(args: string[], options: { auth?: GitAuth; signal?: AbortSignal; env?: Record<string, string> } = {}): Promise<string> {
    await this.#restoreMetadata();
    return git(args, {
      cwd: this.path,
      env: { ...this.gitEnv, GIT_DIR: this.gitDir, GIT_WORK_TREE: this.path, ...options.env },
      ...(options.auth === undefined ? {} : { auth: options.auth }),
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
  }

  #restoreMetadata(): Promise<void> {
    return restoreWorktreeMetadata(this.path, this.gitDir, this.objectsDir);
  }

  /** Repository-relative paths changed since the base commit, untracked files included, ignored files not. */
  async changedFiles(): Promise<string[]> {
    const tracked = await this.#git(["diff", "--name-only", "-z", "--no-renames", this.baseSha]);
    const untracked = await this.#git(["ls-files", "--others", "--exclude-standard", "-z"]);
    return [...new Set([...tracked.split("\0"), ...untracked.split("\0")].filter((path) => path.length > 0))].sort();
  }

  /** Makes the whole worktree one commit on top of the base, whatever the agent did to HEAD. Undefined when nothing changed. */
  async commitAll(message: string, author: { name: string; email: string }): Promise<string | undefined> {
    await this.#git(["reset", "--soft", this.baseSha]);
    await this.#git(["add", "--all"]);
    const staged = await this.#git(["diff", "--cached", "--name-only", "-z"]);
    if (staged.length === 0) return undefined;
    const identity = { GIT_AUTHOR_NAME: author.name, GIT_AUTHOR_EMAIL: author.email, GIT_COMMITTER_NAME: author.name, GIT_COMMITTER_EMAIL: author.email };
    await this.#git(["commit", "--quiet", "--no-verify", "--message", message], { env: identity });
    return (await this.#git(["rev-parse", "HEAD"])).trim();
  }

  /** Pushes HEAD to a branch. Never forced: if the branch exists with other history, GitHub's answer comes back as `rejected`. */
  async push(input: { remoteUrl: string; auth?: GitAuth; branch: string; signal?: AbortSignal }): Promise<{ kind: "pushed"; sha: string } | { kind: "rejected"; message: string }> {
    if (!/^[A-Za-z0-9._/-]+$/.test(input.branch) || input.branch.includes("..")) throw new Error(`${JSON.stringify(input.branch)} is not a safe branch name`);
    const sha = (await this.#git(["rev-parse", "HEAD"])).trim();
    try {
      await this.#git(["push", "--porcelain", "--no-verify", input.remoteUrl, `HEAD:refs/heads/${input.branch}`], {
        ...(input.auth === undefined ? {} : { auth: input.auth }),
        ...(input.signal === undefined ? {} : { signal: input.signal }),
      });
      return { kind: "pushed", sha };
    } catch (error) {
      const detail = error instanceof GitError ? error.detail : String(error);
      if (/rejected|non-fast-forward|fetch first|stale info/i.test(detail)) return { kind: "rejected", message: detail.split("\n").filter((line) => line.trim().length > 0).slice(-3).join(" ") };
      throw new Error(`could not push to ${displayUrl(input.remoteUrl)}: ${detail.split("\n").slice(-2).join(" ")}`);
    }
  }

  /** True when nothing is changed or untracked. */
  async isClean(): Promise<boolean> {
    return (await this.#git(["status", "--porcelain", "--untracked-files=all"])).trim().length === 0;
  }

  /** True when the checkout is exactly the pinned commit: HEAD unmoved, nothing changed, untracked or even ignored. */
  async isPristine(): Promise<boolean> {
    return isPristineStatus(await this.#git(PRISTINE_STATUS), this.baseSha);
  }

  /**
   * Ends the run's use of the worktree and removes the run's directory. The checkout is reset to the
   * base commit, cleaned of every untracked and ignored file, and parked for the next run of this
   * repository (which checks out only what changed, and verifies the tree is pristine before use);
   * if it cannot be parked, it is deleted. Safe to call twice.
   */
  async remove(): Promise<void> {
    if (this.#removed) return;
    this.#removed = true;
    let parked = false;
    try {
      await this.#git(["reset", "--quiet", "--hard", this.baseSha]);
      await this.#git(["clean", "-ffdxq"]);
      await mkdir(dirname(this.#spare), { recursive: true });
      await git(["worktree", "move", this.path, this.#spare], { cwd: this.mirror });
      parked = true;
    } catch {
      parked = false;
    }
    if (!parked) await git(["worktree", "remove", "--force", this.path], { cwd: this.mirror }).catch(() => undefined);
    await rm(this.#runDir, { recursive: true, force: true });
    await git(["worktree", "prune"], { cwd: this.mirror }).catch(() => undefined);
  }
}
