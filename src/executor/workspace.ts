import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { constants } from "node:fs";
import { lstat, mkdir, open, readdir, readFile, realpath, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { namedPaths } from "./change-policy.js";
import { formatSize } from "./read-agent-file.js";
import { createSandbox, type SandboxSettings } from "./sandbox.js";
import type { Sandbox } from "./sandbox-contract.js";

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
    // Nothing in the tree (or in a repository nested in it) may make git start a program or look
    // into another repository: no file-system monitor, no submodule recursion, no pager.
    ["core.fsmonitor", "false"],
    ["core.untrackedCache", "false"],
    ["core.pager", "cat"],
    ["submodule.recurse", "false"],
    ["diff.ignoreSubmodules", "all"],
    ["status.submoduleSummary", "false"],
    ["fetch.recurseSubmodules", "false"],
    ["push.recurseSubmodules", "no"],
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
    execFile(
      "git",
      args,
      { cwd: options.cwd, env, maxBuffer: 64 * 1024 * 1024, ...(options.signal === undefined ? {} : { signal: options.signal }) },
      (error, stdout, stderr) => {
        if (error === null) return resolve(stdout);
        const detail = redact(`${stderr}`.trim() || error.message, options.auth);
        reject(new GitError(`git ${args[0] ?? ""} failed: ${detail}`, detail));
      },
    );
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
  readonly #sandbox: GitSandboxSettings;
  readonly #busy = new Map<string, Promise<unknown>>();

  constructor(options: { cacheDir: string; sandbox: GitSandboxSettings }) {
    this.#cacheDir = options.cacheDir;
    this.#sandbox = options.sandbox;
  }

  /** The bare mirror of a repository, derived from its clone URL (or a local path) so no URL can escape the cache. */
  mirrorPath(cloneUrl: string): string {
    return join(this.#cacheDir, "mirrors", ...repoKey(cloneUrl)) + ".git";
  }

  /** Where a finished run parks its cleaned checkout for the next run of the same repository. */
  sparePath(cloneUrl: string): string {
    return join(this.#cacheDir, "spare", ...repoKey(cloneUrl));
  }

  /**
   * The repository's package caches (npm, pip, yarn, XDG): only a `setup` on a commit of the
   * repository's own history writes them; agent commands and the gate see them read-only.
   */
  packageCachePath(cloneUrl: string): string {
    return join(this.#cacheDir, "package-caches", ...repoKey(cloneUrl));
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
      await mkdir(this.packageCachePath(input.cloneUrl), { recursive: true });
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
        await git(["fetch", "--prune", "--quiet", "--no-tags", "origin", "+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*"], {
          cwd: mirror,
          ...auth,
          ...signal,
        });
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
      await mkdir(join(runDir, "home"));
      await mkdir(join(runDir, "git-home"));
      await mkdir(join(runDir, "bundles"));
      const spare = this.sparePath(input.cloneUrl);
      await git(["worktree", "prune"], { cwd: mirror });
      const realMirror = await realpath(mirror);
      const worktreeAt = async (gitDir: string): Promise<Worktree> =>
        new Worktree({
          path: await realpath(path),
          baseSha,
          mirror: realMirror,
          gitDir,
          objectsDir: await realpath(join(runDir, "objects")),
          runDir: await realpath(runDir),
          spare,
          sandbox: this.#sandbox,
        });
      const spareGitDir = await moveSpare({ mirror: realMirror, spare, path });
      if (spareGitDir !== undefined) {
        const reused = await worktreeAt(spareGitDir);
        if (await reused.resetToBase().catch(() => false)) return reused;
        await discardSpare({ mirror: realMirror, spare, path });
      }
      // A fresh checkout of the repository's own commit: afk's git reads only what the mirror holds.
      await git(["worktree", "add", "--detach", "--quiet", path, baseSha], { cwd: mirror });
      const gitDir = await adminDirOf(realMirror, await realpath(path));
      if (gitDir === undefined) throw new Error(`git did not register the worktree ${path}`);
      return worktreeAt(gitDir);
    });
  }

  async #serialised<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = this.#busy.get(key) ?? Promise.resolve();
    const next = previous.then(work, work);
    this.#busy.set(
      key,
      next.catch(() => undefined),
    );
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
  const cleaned = parts.map((part) =>
    part
      .replace(/\.git$/, "")
      .replace(/[^A-Za-z0-9._-]/g, "_")
      .replace(/^\.+/, "_"),
  );
  const readable = cleaned.slice(-3);
  // A short digest of the whole location keeps two different URLs apart even when their tails look alike.
  const digest = createHash("sha256").update(cloneUrl).digest("hex").slice(0, 8);
  const last = readable.pop() ?? "repo";
  return [...readable, `${last}-${digest}`];
}

/**
 * Rewrites the worktree metadata an agent could have changed (`.git`, `commondir`, `gitdir`) to
 * what afk created, deletes everything else the agent could have left in the git dir (state files,
 * refs, `config.worktree`, notes to a later run: git needs only HEAD and the index, which it
 * rewrites itself), deletes an alternates file in the run's objects (it would let afk's git read
 * other repositories' objects on this host), and removes every symbolic link (and anything else
 * that is not a file or a directory) from both: git writes some files there without a lock file,
 * and through a planted link afk's own git would write outside the run.
 */
async function restoreWorktreeMetadata(path: string, gitDir: string, objectsDir: string): Promise<void> {
  for (const dir of [gitDir, objectsDir]) await removeLinks(dir);
  await rm(join(path, ".git"), { recursive: true, force: true });
  await writeFile(join(path, ".git"), `gitdir: ${gitDir}\n`);
  await rm(join(gitDir, "commondir"), { recursive: true, force: true });
  await writeFile(join(gitDir, "commondir"), "../..\n");
  await rm(join(gitDir, "gitdir"), { recursive: true, force: true });
  await writeFile(join(gitDir, "gitdir"), `${join(path, ".git")}\n`);
  for (const entry of await readdir(gitDir)) {
    if (!GIT_DIR_KEPT.has(entry)) await rm(join(gitDir, entry), { recursive: true, force: true });
  }
  await rm(join(objectsDir, "info", "alternates"), { force: true });
  await rm(join(objectsDir, "info", "http-alternates"), { force: true });
}

/** A file afk's sandboxed git wrote, read without following a link, refused above `maxBytes` before a byte is read. */
async function readCapped(path: string, maxBytes: number): Promise<Buffer> {
  const handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) throw new Error(`${path} is not a regular file`);
    if (stats.size > maxBytes) throw new ChangeBundleRefused(`the change is ${formatSize(stats.size)} as a bundle, over the ${formatSize(maxBytes)} afk takes`);
    return await handle.readFile();
  } finally {
    await handle.close();
  }
}

/** What afk's sandboxed git printed as a commit id, checked to be one (SHA-1 or SHA-256) before the host's git is given it. */
function commitId(printed: string): string {
  if (!/^[0-9a-f]{40}([0-9a-f]{24})?$/.test(printed)) throw new Error(`git named the commit ${JSON.stringify(printed.slice(0, 80))}, which is not a commit id`);
  return printed;
}

/** What afk keeps of a worktree's git dir between its own git commands. */
const GIT_DIR_KEPT = new Set(["HEAD", "index", "commondir", "gitdir"]);

/** Settings for the sandbox afk's own git runs in over a run's tree (the same bubblewrap as the agent's). */
export interface GitSandboxSettings extends SandboxSettings {
  /** Files that must be unreadable in the sandbox (the App's private key). */
  hiddenPaths?: readonly string[];
}

/** How long one of afk's git commands over the tree may take. */
const GIT_TIMEOUT_MS = 10 * 60_000;

/** The most bytes a change may have as a git bundle, between a job run elsewhere and afk. */
export const MAX_CHANGE_BUNDLE_BYTES = 50 * 1024 * 1024;

/** afk refused a change bundle (a remote job's work): it is not one commit on the base, or git could not read it. */
export class ChangeBundleRefused extends Error {
  constructor(readonly reason: string) {
    super(`afk refused the change the job sent back: ${reason}. Nothing was pushed.`);
    this.name = "ChangeBundleRefused";
  }
}

/** The change holds repositories nested in the worktree, which git would record as submodules. */
export class NestedRepositoryError extends Error {
  constructor(readonly paths: string[]) {
    super(
      `The change contains ${paths.length === 1 ? "a git repository nested" : "git repositories nested"} in the worktree (${namedPaths(paths)}), which git would record as submodules. afk never pushes or looks into a nested repository, so nothing was pushed. A person must add a submodule if one is wanted.`,
    );
    this.name = "NestedRepositoryError";
  }
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
 * Moves the parked checkout of an earlier run, if there is one, to `path` and returns its git dir
 * (found among the mirror's worktrees by the location afk recorded, never by asking git inside the
 * tree). The caller resets it to its commit inside the sandbox and verifies it is pristine.
 */
async function moveSpare(input: { mirror: string; spare: string; path: string }): Promise<string | undefined> {
  try {
    await lstat(input.spare);
  } catch {
    return undefined;
  }
  try {
    // `worktree move` reads the worktree's index and metadata as data; it runs nothing in the tree.
    await git(["worktree", "move", input.spare, input.path], { cwd: input.mirror });
    const gitDir = await adminDirOf(input.mirror, await realpath(input.path));
    if (gitDir !== undefined) return gitDir;
  } catch {
    // Fall through: a fresh worktree instead.
  }
  await discardSpare(input);
  return undefined;
}

/** Deletes a parked checkout that cannot be used, wherever it stands now, and forgets it in the mirror. */
async function discardSpare(input: { mirror: string; spare: string; path: string }): Promise<void> {
  await rm(input.path, { recursive: true, force: true });
  await rm(input.spare, { recursive: true, force: true });
  await git(["worktree", "prune"], { cwd: input.mirror }).catch(() => undefined);
}

/** The mirror's administrative directory for the worktree at `path`: the one whose `gitdir` file names it. */
async function adminDirOf(mirror: string, path: string): Promise<string | undefined> {
  const root = join(mirror, "worktrees");
  const names = await readdir(root).catch(() => []);
  for (const name of names) {
    const recorded = await readFile(join(root, name, "gitdir"), "utf8").catch(() => "");
    if (recorded.trim() === join(path, ".git")) return join(root, name);
  }
  return undefined;
}

/** One run's checkout: detached at the pinned commit, with its own object directory and a fresh HOME. */
export class Worktree {
  readonly path: string;
  readonly baseSha: string;
  readonly mirror: string;
  readonly gitDir: string;
  readonly objectsDir: string;
  /** This job's HOME for sandboxed commands: empty at the start, deleted with the run. */
  readonly home: string;
  readonly #runDir: string;
  readonly #spare: string;
  readonly #sandboxSettings: GitSandboxSettings;
  #gitSandbox: Promise<Sandbox> | undefined;
  #removed = false;

  constructor(input: {
    path: string;
    baseSha: string;
    mirror: string;
    gitDir: string;
    objectsDir: string;
    runDir: string;
    spare: string;
    sandbox: GitSandboxSettings;
  }) {
    this.path = input.path;
    this.baseSha = input.baseSha;
    this.mirror = input.mirror;
    this.gitDir = input.gitDir;
    this.objectsDir = input.objectsDir;
    this.home = join(input.runDir, "home");
    this.#runDir = input.runDir;
    this.#spare = input.spare;
    this.#sandboxSettings = input.sandbox;
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

  /** A directory of the run for scratch use (a HOME for the gate), removed with the run. */
  scratchDir(name: string): string {
    if (!/^[a-z-]+$/.test(name)) throw new Error(`${JSON.stringify(name)} is not a scratch directory name`);
    return join(this.#runDir, name);
  }

  /**
   * afk's own git commands over the tree the agent wrote. They run inside the sandbox (no network,
   * no secret, cleared environment, afk's settings only: no fsmonitor, no hooks, no submodule
   * recursion, no config from the tree), address the repository explicitly rather than through the
   * worktree's `.git` file, and the metadata the agent could write is rewritten first. Whatever git
   * might still be tricked into starting runs where the agent's own commands run, never on the host.
   */
  async #git(args: string[]): Promise<string> {
    return this.#program(["git", ...args]);
  }

  /** One program of the system's (git, find, rm, sh running git) over the tree, in the sandbox; its standard output, or a GitError. */
  async #program(argv: [string, ...string[]]): Promise<string> {
    await this.#restoreMetadata();
    const sandbox = await this.#sandbox();
    const result = await sandbox.runProgram(argv, { timeoutMs: GIT_TIMEOUT_MS, network: false });
    if (result.exitCode === 0) return result.stdout;
    const detail = result.timedOut
      ? `timed out after ${GIT_TIMEOUT_MS / 60_000} minutes`
      : result.stderr.trim() || `exit ${result.exitCode ?? result.signal ?? "unknown"}`;
    throw new GitError(`${argv[0]} ${argv[1] ?? ""} failed: ${detail}`, detail);
  }

  /**
   * The files git ignores (dependencies a setup installed, build output), each with what changes
   * whenever it is written or replaced: inode, size, change time (which no program can set back),
   * type and mode. Listed inside the sandbox; links are not followed.
   */
  async ignoredFiles(): Promise<Map<string, string>> {
    const ignored = new Set((await this.#git(["ls-files", "-z", "--others", "--ignored", "--exclude-standard"])).split("\0").filter((path) => path.length > 0));
    const files = new Map<string, string>();
    if (ignored.size === 0) return files;
    const listing = await this.#program([
      "find",
      ".",
      "-path",
      "./.git",
      "-prune",
      "-o",
      "(",
      "-type",
      "f",
      "-o",
      "-type",
      "l",
      ")",
      "-printf",
      "%i/%s/%C@/%y%m %P\\0",
    ]);
    for (const entry of listing.split("\0")) {
      const space = entry.indexOf(" ");
      const path = entry.slice(space + 1);
      if (space > 0 && ignored.has(path)) files.set(path, entry.slice(0, space));
    }
    return files;
  }

  /** Files of the tree (not under `.git`) larger than `bytes`, found in the sandbox without reading them. */
  async filesLargerThan(bytes: number): Promise<string[]> {
    const listing = await this.#program(["find", ".", "-path", "./.git", "-prune", "-o", "-type", "f", "-size", `+${bytes}c`, "-printf", "%P\\0"]);
    return listing
      .split("\0")
      .filter((path) => path.length > 0)
      .sort();
  }

  /**
   * Puts the ignored files back as `before` recorded them, as far as afk can: files the agent added
   * where git does not look are deleted (inside the sandbox); the paths of recorded files it changed
   * or removed are returned, since afk keeps no copy to restore them from.
   */
  async restoreIgnoredFiles(before: ReadonlyMap<string, string>): Promise<string[]> {
    const after = await this.ignoredFiles();
    const added = [...after.keys()].filter((path) => !before.has(path));
    for (let index = 0; index < added.length; index += 500) await this.#program(["rm", "-f", "--", ...added.slice(index, index + 500)]);
    return [...before]
      .filter(([path, identity]) => after.get(path) !== identity)
      .map(([path]) => path)
      .sort();
  }

  /** The sandbox for afk's git: the worktree, its git dir and the run's objects writable, the mirror read-only, an empty HOME. */
  #sandbox(): Promise<Sandbox> {
    this.#gitSandbox ??= createSandbox(
      {
        worktree: this.path,
        home: join(this.#runDir, "git-home"),
        readOnly: [this.mirror],
        writable: [this.gitDir, this.objectsDir, join(this.#runDir, "bundles")],
        hidden: [...(this.#sandboxSettings.hiddenPaths ?? [])],
        env: { ...this.gitEnv, GIT_DIR: this.gitDir, GIT_WORK_TREE: this.path },
      },
      this.#sandboxSettings,
    );
    return this.#gitSandbox;
  }

  #restoreMetadata(): Promise<void> {
    return restoreWorktreeMetadata(this.path, this.gitDir, this.objectsDir);
  }

  /**
   * Brings a parked checkout to the pinned commit (only changed files are written), removes every
   * untracked and ignored file, and says whether git then reports nothing at all.
   */
  async resetToBase(): Promise<boolean> {
    // One sandbox for both: the checkout writes only what differs, the status says whether anything else is there.
    const status = await this.#program([
      "/bin/sh",
      "-c",
      `git checkout --quiet --detach --force "$1" && exec git ${PRISTINE_STATUS.join(" ")}`,
      "afk-reset",
      this.baseSha,
    ]);
    if (isPristineStatus(status, this.baseSha)) return true;
    await this.#git(["clean", "-ffdxq"]);
    return this.isPristine();
  }

  /** Repository-relative paths changed since the base commit, untracked files included, ignored files not. */
  async changedFiles(): Promise<string[]> {
    // Both NUL-separated lists of paths in one sandbox: tracked changes, then untracked files.
    const listing = await this.#program([
      "/bin/sh",
      "-c",
      'git diff --name-only -z --no-renames --no-ext-diff --no-textconv --ignore-submodules=dirty "$1" && exec git ls-files --others --exclude-standard -z',
      "afk-changed",
      this.baseSha,
    ]);
    return [...new Set(listing.split("\0").filter((path) => path.length > 0))].sort();
  }

  /**
   * Makes the whole worktree one commit on top of the base, whatever the agent did to HEAD. Undefined
   * when nothing changed. Throws NestedRepositoryError when the change would add or move a gitlink
   * (a repository nested in the worktree): those are never committed, pushed or looked into.
   */
  async commitAll(message: string, author: { name: string; email: string }): Promise<string | undefined> {
    const nested = await this.#nestedRepositories();
    if (nested.length > 0) throw new NestedRepositoryError(nested);
    // Stage, then commit only when something is staged, and name the commit: one sandbox, nothing printed when nothing changed.
    const sha = (
      await this.#program([
        "/bin/sh",
        "-c",
        'git add --all && if git diff --cached --quiet --no-ext-diff; then exit 0; fi && git -c user.name="$2" -c user.email="$3" commit --quiet --no-verify --no-gpg-sign --message "$1" && exec git rev-parse --verify "HEAD^{commit}"',
        "afk-commit",
        message,
        author.name,
        author.email,
      ])
    ).trim();
    return sha.length === 0 ? undefined : commitId(sha);
  }

  /**
   * Repositories nested in the worktree that the change would carry: untracked ones (git lists a
   * directory holding a repository as `path/` instead of looking inside) and gitlinks in the index
   * (mode 160000) that the base commit does not have at that path with that commit. Resets the
   * index to the base first (whatever the agent did to HEAD), keeping the files.
   */
  async #nestedRepositories(): Promise<string[]> {
    const untracked = (
      await this.#program(["/bin/sh", "-c", 'git reset --quiet --soft "$1" && exec git ls-files --others --exclude-standard -z', "afk-untracked", this.baseSha])
    )
      .split("\0")
      .filter((path) => path.endsWith("/"));
    // The base's tree (`mode type sha<TAB>path`) and the index (`mode sha stage<TAB>path`), told apart by their second field.
    const entries = (await this.#program(["/bin/sh", "-c", 'git ls-tree -r -z "$1" && exec git ls-files --stage -z', "afk-gitlinks", this.baseSha])).split(
      "\0",
    );
    const base = new Set<string>();
    const staged = new Set<string>();
    for (const entry of entries) {
      if (!entry.startsWith("160000 ")) continue;
      const tab = entry.indexOf("\t");
      const [, second = "", third = ""] = entry.slice(0, tab).split(" ");
      const path = entry.slice(tab + 1);
      if (second === "commit") base.add(`${third} ${path}`);
      else staged.add(`${second} ${path}`);
    }
    const added = [...staged].filter((entry) => !base.has(entry)).map((entry) => entry.slice(entry.indexOf(" ") + 1));
    return [...new Set([...untracked.map((path) => path.slice(0, -1)), ...added])].sort();
  }

  /**
   * What `outOfScopeFiles` judges, in one run of git in the sandbox: the repository-relative paths of
   * the files the change adds (untracked ones, and new ones in the index, where a remote job's change
   * is checked out), and the names of the files at the root of the base commit.
   */
  async addedFilesAndBaseRoot(): Promise<{ added: string[]; baseRoot: string[] }> {
    const listing = await this.#program([
      "/bin/sh",
      "-c",
      // The lists are NUL-separated; an entry "/" (never a path git lists, never a tree entry) separates them.
      'git diff --name-only -z --no-renames --diff-filter=A --no-ext-diff --no-textconv --ignore-submodules=all "$1" && git ls-files --others --exclude-standard -z && printf \'/\\0\' && exec git ls-tree -z "$1"',
      "afk-added",
      this.baseSha,
    ]);
    const entries = listing.split("\0");
    const split = entries.indexOf("/");
    if (split < 0) throw new GitError("git listed no base tree", listing.slice(0, 200));
    const added = [...new Set(entries.slice(0, split).filter((path) => path.length > 0))].sort();
    // Each tree entry: "<mode> <type> <object>\t<name>"; only files (blobs) count.
    const baseRoot = entries
      .slice(split + 1)
      .filter((entry) => /^\d+ blob [0-9a-f]+\t/.test(entry))
      .map((entry) => entry.slice(entry.indexOf("\t") + 1));
    return { added, baseRoot };
  }

  /**
   * The change in this worktree as a git bundle, for a job that runs away from afk: the worktree made
   * one commit on the base (`commitAll`, with its checks), bundled with the base as its one
   * prerequisite. Undefined when nothing changed. Git writes the bundle in the sandbox; the host reads
   * it back without following a link, capped at `MAX_CHANGE_BUNDLE_BYTES`.
   */
  async changeBundle(message: string, author: { name: string; email: string }): Promise<Buffer | undefined> {
    const sha = await this.commitAll(message, author);
    if (sha === undefined) return undefined;
    const file = join(this.#runDir, "bundles", "change.bundle");
    await rm(file, { force: true });
    await this.#program(["/bin/sh", "-c", 'exec git bundle create --quiet "$1" HEAD "^$2"', "afk-bundle", file, this.baseSha]);
    return readCapped(file, MAX_CHANGE_BUNDLE_BYTES);
  }

  /**
   * Puts a change made elsewhere (a remote job's bundle) into this pristine worktree, as if the agent
   * had made it here: the bundle must hold one head, one commit, whose one parent is the base. Its
   * tree is checked out over the worktree with HEAD left at the base, so the change then goes through
   * the same checks and commit as a local one (`changedFiles`, `commitAll`). Every byte of it is the
   * attacker's: its size is checked before git sees it, and git reads it only in the sandbox.
   */
  async applyChangeBundle(bundle: Uint8Array): Promise<void> {
    if (bundle.byteLength > MAX_CHANGE_BUNDLE_BYTES)
      throw new ChangeBundleRefused(`it is ${formatSize(bundle.byteLength)}, over the ${formatSize(MAX_CHANGE_BUNDLE_BYTES)} afk takes`);
    if (!(await this.isPristine())) throw new Error("a change bundle goes only into a worktree that is exactly its base commit");
    const file = join(this.#runDir, "bundles", "incoming.bundle");
    await rm(file, { force: true });
    await writeFile(file, bundle, { flag: "wx", mode: 0o600 });
    const refused = (what: string) => (error: unknown) => {
      throw new ChangeBundleRefused(`${what}${error instanceof GitError ? ` (${error.detail.split("\n")[0] ?? ""})` : ""}`);
    };
    const heads = (await this.#git(["bundle", "list-heads", file]).catch(refused("git cannot read it as a bundle")))
      .split("\n")
      .filter((line) => line.trim().length > 0);
    if (heads.length !== 1) throw new ChangeBundleRefused(`it has ${heads.length} heads, not one`);
    const named = heads[0]?.split(" ")[0] ?? "";
    if (!/^[0-9a-f]{40}([0-9a-f]{24})?$/.test(named)) throw new ChangeBundleRefused("its head is not named by a commit id");
    const sha = commitId(named);
    // Its prerequisites must be here (the base is), then its objects go to the run's own directory.
    await this.#program(["/bin/sh", "-c", 'git bundle verify --quiet "$1" && exec git bundle unbundle "$1" >/dev/null', "afk-unbundle", file]).catch(
      refused("its history does not start from this run's base commit, or git cannot unpack it"),
    );
    const type = (await this.#git(["cat-file", "-t", sha]).catch(refused("its head is missing"))).trim();
    if (type !== "commit") throw new ChangeBundleRefused(`its head is a ${type}, not a commit`);
    const commits = (await this.#git(["rev-list", "--parents", sha, `^${this.baseSha}`])).split("\n").filter((line) => line.trim().length > 0);
    if (commits.length !== 1) throw new ChangeBundleRefused(`it holds ${commits.length} commits on the base, not one`);
    if (commits[0] !== `${sha} ${this.baseSha}`)
      throw new ChangeBundleRefused(`its commit is not on this run's base commit ${this.baseSha.slice(0, 12)} alone`);
    await this.#git(["read-tree", "--reset", "-u", sha]).catch(refused("git would not check its tree out"));
  }

  async #head(): Promise<string> {
    return commitId((await this.#git(["rev-parse", "--verify", "HEAD^{commit}"])).trim());
  }

  /**
   * Pushes HEAD to a branch. Never forced: if the branch exists with other history, GitHub's answer
   * comes back as `rejected`. The push runs on the host (it needs the network and the token), so it
   * never touches the worktree or its git dir: git reads the mirror afk keeps and the run's objects,
   * and sends the commit afk's sandboxed git named.
   */
  async push(input: {
    remoteUrl: string;
    auth?: GitAuth;
    branch: string;
    signal?: AbortSignal;
  }): Promise<{ kind: "pushed"; sha: string } | { kind: "rejected"; message: string }> {
    if (!/^[A-Za-z0-9._/-]+$/.test(input.branch) || input.branch.includes("..")) throw new Error(`${JSON.stringify(input.branch)} is not a safe branch name`);
    const sha = await this.#head();
    try {
      await git(["push", "--porcelain", "--no-verify", "--no-recurse-submodules", input.remoteUrl, `${sha}:refs/heads/${input.branch}`], {
        cwd: this.mirror,
        env: { GIT_DIR: this.mirror, GIT_OBJECT_DIRECTORY: this.objectsDir, GIT_ALTERNATE_OBJECT_DIRECTORIES: join(this.mirror, "objects") },
        ...(input.auth === undefined ? {} : { auth: input.auth }),
        ...(input.signal === undefined ? {} : { signal: input.signal }),
      });
      return { kind: "pushed", sha };
    } catch (error) {
      const detail = error instanceof GitError ? error.detail : String(error);
      if (/rejected|non-fast-forward|fetch first|stale info/i.test(detail))
        return {
          kind: "rejected",
          message: detail
            .split("\n")
            .filter((line) => line.trim().length > 0)
            .slice(-3)
            .join(" "),
        };
      throw new Error(`could not push to ${displayUrl(input.remoteUrl)}: ${detail.split("\n").slice(-2).join(" ")}`);
    }
  }

  /** True when nothing is changed or untracked. */
  async isClean(): Promise<boolean> {
    return (await this.#git(["status", "--porcelain", "--untracked-files=all", "--ignore-submodules=all"])).trim().length === 0;
  }

  /** True when the checkout is exactly the pinned commit: HEAD unmoved, nothing changed, untracked or even ignored. */
  async isPristine(): Promise<boolean> {
    return isPristineStatus(await this.#git(PRISTINE_STATUS), this.baseSha);
  }

  /**
   * Ends the run's use of the worktree and removes the run's directory (its HOME and objects with
   * it). The checkout is reset to the base commit and cleaned of every untracked and ignored file
   * inside the sandbox, its git dir reduced to HEAD and the index, and it is parked for the next run
   * of this repository (which checks it out again and verifies it is pristine before use); if it
   * cannot be parked, it is deleted. Safe to call twice.
   */
  async remove(): Promise<void> {
    if (this.#removed) return;
    this.#removed = true;
    let parked = false;
    try {
      await this.#program(["/bin/sh", "-c", 'git reset --quiet --hard "$1" && exec git clean -ffdxq', "afk-park", this.baseSha]);
      await this.#restoreMetadata();
      await mkdir(dirname(this.#spare), { recursive: true });
      await git(["worktree", "move", this.path, this.#spare], { cwd: this.mirror });
      parked = true;
    } catch {
      parked = false;
    }
    if (!parked) await rm(this.path, { recursive: true, force: true }).catch(() => undefined);
    await rm(this.#runDir, { recursive: true, force: true });
    await git(["worktree", "prune"], { cwd: this.mirror }).catch(() => undefined);
  }
}
