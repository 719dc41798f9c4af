import { spawn } from "node:child_process";
import { existsSync, lstatSync, realpathSync, statSync } from "node:fs";
import { delimiter, dirname, join } from "node:path";
import { keepHeadAndTail } from "./keep-head-and-tail.js";
import type { CommandOptions, CommandResult, ProgramResult, Sandbox } from "./sandbox-contract.js";

/** What the sandbox shows a command besides the read-only system. */
export interface SandboxLayout {
  /** Commands start here; writable unless `readOnlyWorktree`. */
  worktree: string;
  /** Mount the worktree read-only (plans and questions: the agent looks, never changes). */
  readOnlyWorktree?: boolean;
  /** Writable, persistent per repository (npm and other caches); HOME points at it. */
  home: string;
  /** Extra read-only mounts (the git mirror the worktree links to). */
  readOnly?: string[];
  /** Extra writable mounts (the worktree's git dir, the run's object directory). */
  writable?: string[];
  /** Paths that must be unreadable inside even when a system mount covers them (the App's private key file). */
  hidden?: string[];
  /** Extra environment (git settings). Never secrets: names that look like one are refused. */
  env?: Record<string, string>;
}

export interface SandboxSettings {
  allowUnsandboxed: boolean;
  /** The bubblewrap binary; found on PATH when not given. */
  bwrapPath?: string;
}

/** Bubblewrap is missing or cannot create its namespaces here, and the operator did not allow running without it. */
export class SandboxUnavailableError extends Error {
  constructor(reason: string, fix: string) {
    super(`afk will not run the agent without its sandbox: ${reason}. ${fix} (Only if you accept running agent commands unisolated, set AFK_ALLOW_UNSANDBOXED=1.)`);
    this.name = "SandboxUnavailableError";
  }
}

/** System directories mounted read-only, when they exist. */
const SYSTEM_DIRS = ["/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc", "/opt"];
const SYSTEM_PATH = ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"];
const DEFAULT_MAX_OUTPUT_BYTES = 100_000;
/**
 * Environment names refused in `layout.env`: any `_`-separated word of the name that is one of these.
 * `GIT_CONFIG_KEY_0` passes (git's config key, not a secret) because KEY is allowed only after CONFIG.
 */
const SECRET_WORDS = new Set(["TOKEN", "SECRET", "PASSWORD", "PASSWD", "PRIVATE", "CREDENTIAL", "CREDENTIALS", "APIKEY", "AUTH"]);

/** Whether an environment variable name looks like it carries a secret (see SECRET_WORDS; `*_KEY` too, except git's GIT_CONFIG_KEY_n). */
export function looksSecret(name: string): boolean {
  const upper = name.toUpperCase();
  if (/^GIT_CONFIG_(KEY|VALUE)_\d+$/.test(upper) || upper === "GIT_CONFIG_COUNT") return false;
  const words = upper.split(/[^A-Z0-9]+/);
  return words.some((word) => SECRET_WORDS.has(word) || word === "KEY");
}

/** What the host offers the sandbox: which system directories exist and where Node lives. */
export interface HostSystem {
  /** Existing system directories and, for symlinked ones (`/bin -> usr/bin`), their link target. */
  dirs: Array<{ path: string; symlinkTo?: string }>;
  /** The directory of the running Node binary, mounted when outside the system directories. */
  nodeDir: string;
}

export function hostSystem(): HostSystem {
  const dirs: HostSystem["dirs"] = [];
  for (const path of SYSTEM_DIRS) {
    if (!existsSync(path)) continue;
    const stats = lstatSync(path);
    if (stats.isSymbolicLink()) {
      const target = realpathSync(path);
      dirs.push({ path, symlinkTo: target });
    } else if (stats.isDirectory()) dirs.push({ path });
  }
  return { dirs, nodeDir: dirname(realpathSync(process.execPath)) };
}

/** The environment every sandboxed command gets, and nothing else. */
export function sandboxEnv(layout: SandboxLayout, system: HostSystem): Record<string, string> {
  for (const name of Object.keys(layout.env ?? {})) {
    if (looksSecret(name)) throw new Error(`refusing to pass ${name} into the sandbox: its name looks like a secret`);
  }
  const path = [...SYSTEM_PATH, ...(SYSTEM_PATH.includes(system.nodeDir) ? [] : [system.nodeDir])].join(delimiter);
  return { PATH: path, HOME: layout.home, LANG: "C.UTF-8", TERM: "dumb", CI: "true", TMPDIR: "/tmp", ...layout.env };
}

/** The bubblewrap arguments for one command (`bash -c command`, or a program's argv). Pure. */
export function bubblewrapArgs(layout: SandboxLayout, options: Pick<CommandOptions, "network">, system: HostSystem, command: string | readonly string[]): string[] {
  const args = ["--die-with-parent", "--new-session", "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try", "--hostname", "afk-sandbox"];
  if (!options.network) args.push("--unshare-net");
  for (const dir of system.dirs) {
    if (dir.symlinkTo !== undefined) args.push("--symlink", dir.symlinkTo, dir.path);
    else args.push("--ro-bind", dir.path, dir.path);
  }
  const underSystem = system.dirs.some((dir) => dir.symlinkTo === undefined && (system.nodeDir === dir.path || system.nodeDir.startsWith(`${dir.path}/`)));
  if (!underSystem) args.push("--ro-bind", system.nodeDir, system.nodeDir);
  args.push("--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp");
  for (const path of layout.readOnly ?? []) args.push("--ro-bind", path, path);
  if (layout.readOnlyWorktree === true) args.push("--ro-bind", layout.worktree, layout.worktree);
  for (const path of [...(layout.readOnlyWorktree === true ? [] : [layout.worktree]), layout.home, ...(layout.writable ?? [])]) args.push("--bind", path, path);
  for (const path of layout.hidden ?? []) {
    if (!existsSync(path)) continue;
    if (statSync(path).isDirectory()) args.push("--tmpfs", path);
    else args.push("--ro-bind", "/dev/null", path);
  }
  args.push("--clearenv");
  for (const [name, value] of Object.entries(sandboxEnv(layout, system))) args.push("--setenv", name, value);
  args.push("--chdir", layout.worktree, "--", ...(typeof command === "string" ? ["/bin/bash", "-c", command] : command));
  return args;
}

/** Finds bwrap on PATH. */
function findBwrap(): string | undefined {
  for (const dir of (process.env.PATH ?? SYSTEM_PATH.join(delimiter)).split(delimiter)) {
    const candidate = join(dir, "bwrap");
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

const INSTALL_FIX = "Install bubblewrap (Debian/Ubuntu: sudo apt-get install -y bubblewrap; Fedora: sudo dnf install bubblewrap).";

/** For `afk doctor` and start-up: whether bubblewrap is installed and can create its namespaces here. */
export async function probeBubblewrap(bwrapPath?: string): Promise<{ ok: true; path: string; version: string } | { ok: false; reason: string; fix: string }> {
  const path = bwrapPath ?? findBwrap();
  if (path === undefined || !existsSync(path)) return { ok: false, reason: "bubblewrap (bwrap) is not installed", fix: INSTALL_FIX };
  const version = await collect(path, ["--version"], {}, 10_000);
  if (version.exitCode !== 0) return { ok: false, reason: `${path} --version failed: ${version.output.trim()}`, fix: INSTALL_FIX };
  const system = hostSystem();
  const probe = await collect(path, bubblewrapArgs({ worktree: "/tmp", home: "/tmp" }, { network: false }, system, "true"), {}, 10_000);
  if (probe.exitCode !== 0) {
    return {
      ok: false,
      reason: `bubblewrap cannot create its namespaces here (${probe.output.trim() || `exit ${probe.exitCode}`})`,
      fix: "Allow unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1, or on Ubuntu 24.04+ kernel.apparmor_restrict_unprivileged_userns=0), or run afk as root.",
    };
  }
  return { ok: true, path, version: version.output.trim() };
}

/** Creates the sandbox for one run's worktree, or explains why it cannot. */
export async function createSandbox(layout: SandboxLayout, settings: SandboxSettings): Promise<Sandbox> {
  sandboxEnv(layout, hostSystem());
  const probe = await probeBubblewrap(settings.bwrapPath);
  if (probe.ok) return new BubblewrapSandbox(layout, probe.path);
  if (settings.allowUnsandboxed) return new UnsandboxedRunner(layout);
  throw new SandboxUnavailableError(probe.reason, probe.fix);
}

class BubblewrapSandbox implements Sandbox {
  readonly kind = "bubblewrap";
  readonly #system = hostSystem();

  constructor(
    readonly layout: SandboxLayout,
    readonly bwrap: string,
  ) {}

  get worktree(): string {
    return this.layout.worktree;
  }

  run(command: string, options: CommandOptions): Promise<CommandResult> {
    return collect(this.bwrap, bubblewrapArgs(this.layout, options, this.#system, command), {}, options.timeoutMs, options.maxOutputBytes, options.signal);
  }

  runProgram(argv: readonly string[], options: CommandOptions): Promise<ProgramResult> {
    return collectProgram(this.bwrap, bubblewrapArgs(this.layout, options, this.#system, argv), {}, options);
  }
}

/** Only with AFK_ALLOW_UNSANDBOXED: the same cleared environment, limits and output handling, without isolation. */
class UnsandboxedRunner implements Sandbox {
  readonly kind = "unsandboxed";

  constructor(readonly layout: SandboxLayout) {}

  get worktree(): string {
    return this.layout.worktree;
  }

  run(command: string, options: CommandOptions): Promise<CommandResult> {
    return collect("/bin/bash", ["-c", command], sandboxEnv(this.layout, hostSystem()), options.timeoutMs, options.maxOutputBytes, options.signal, this.layout.worktree);
  }

  runProgram(argv: readonly string[], options: CommandOptions): Promise<ProgramResult> {
    const [file, ...args] = argv;
    if (file === undefined) throw new Error("runProgram needs a program");
    return collectProgram(file, args, sandboxEnv(this.layout, hostSystem()), options, this.layout.worktree);
  }
}

/** Standard output kept from one program (afk's git listing a large change stays well inside it). */
const MAX_PROGRAM_STDOUT = 64 * 1024 * 1024;

/**
 * Runs a program in its own process group with exactly `env`, stdout kept apart (bounded: past
 * MAX_PROGRAM_STDOUT the program is killed), stderr's tail kept; the group is killed on timeout or abort.
 */
function collectProgram(file: string, args: string[], env: Record<string, string>, options: CommandOptions, cwd?: string): Promise<ProgramResult> {
  return new Promise((resolve) => {
    const stdout: Buffer[] = [];
    let stdoutBytes = 0;
    let stderr = "";
    let timedOut = false;
    const child = spawn(file, args, { env, detached: true, stdio: ["ignore", "pipe", "pipe"], ...(cwd === undefined ? {} : { cwd }) });
    const killGroup = (): void => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {
        // Already gone.
      }
    };
    child.stdout.on("data", (chunk: Buffer) => {
      stdoutBytes += chunk.length;
      if (stdoutBytes > MAX_PROGRAM_STDOUT) return killGroup();
      stdout.push(chunk);
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr = (stderr + chunk.toString("utf8")).slice(-20_000);
    });
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup();
    }, options.timeoutMs);
    const onAbort = (): void => killGroup();
    options.signal?.addEventListener("abort", onAbort, { once: true });
    if (options.signal?.aborted === true) killGroup();
    const finish = (exitCode: number | null, exitSignal: string | null, extra = ""): void => {
      clearTimeout(timer);
      options.signal?.removeEventListener("abort", onAbort);
      const overflow = stdoutBytes > MAX_PROGRAM_STDOUT ? `\n[afk: ${file} wrote more than ${MAX_PROGRAM_STDOUT} bytes and was stopped]` : "";
      resolve({ exitCode: overflow === "" ? exitCode : null, signal: exitSignal, stdout: Buffer.concat(stdout).toString("utf8"), stderr: stderr + overflow + extra, timedOut });
    };
    child.once("error", (error) => finish(null, null, `\n[afk: could not start ${file}: ${error.message}]`));
    child.once("close", (code, exitSignal) => finish(code, exitSignal));
  });
}

/**
 * Runs a process in its own process group with exactly `env`, interleaving stdout and stderr, keeping
 * the head and a rolling tail of the output (memory stays bounded), and killing the whole group on
 * timeout or abort.
 */
function collect(
  file: string,
  args: string[],
  env: Record<string, string>,
  timeoutMs: number,
  maxOutputBytes = DEFAULT_MAX_OUTPUT_BYTES,
  signal?: AbortSignal,
  cwd?: string,
): Promise<CommandResult> {
  const started = Date.now();
  return new Promise((resolve) => {
    const headLimit = Math.floor(maxOutputBytes / 2);
    const tailLimit = maxOutputBytes - headLimit;
    let head = Buffer.alloc(0);
    let tail = Buffer.alloc(0);
    let dropped = 0;
    let timedOut = false;
    const child = spawn(file, args, { env, detached: true, stdio: ["ignore", "pipe", "pipe"], ...(cwd === undefined ? {} : { cwd }) });
    const take = (chunk: Buffer): void => {
      if (head.length < headLimit) {
        const room = headLimit - head.length;
        head = Buffer.concat([head, chunk.subarray(0, room)]);
        chunk = chunk.subarray(room);
      }
      if (chunk.length === 0) return;
      tail = Buffer.concat([tail, chunk]);
      if (tail.length > tailLimit) {
        dropped += tail.length - tailLimit;
        tail = tail.subarray(tail.length - tailLimit);
      }
    };
    child.stdout.on("data", take);
    child.stderr.on("data", take);
    const killGroup = (): void => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {
        // Already gone.
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup();
    }, timeoutMs);
    const onAbort = (): void => killGroup();
    signal?.addEventListener("abort", onAbort, { once: true });
    if (signal?.aborted === true) killGroup();
    const finish = (exitCode: number | null, exitSignal: string | null, extra = ""): void => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      const text = head.toString("utf8") + (dropped > 0 ? `\n\n[… ${dropped} bytes of output omitted …]\n\n` : "") + tail.toString("utf8") + extra;
      resolve({ exitCode, signal: exitSignal, output: keepHeadAndTail(text, maxOutputBytes + 200).text, timedOut, truncated: dropped > 0, durationMs: Date.now() - started });
    };
    child.once("error", (error) => finish(null, null, `\n[afk: could not start ${file}: ${error.message}]`));
    child.once("close", (code, exitSignal) => finish(code, exitSignal));
  });
}
