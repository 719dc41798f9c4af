import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, lstatSync, mkdtempSync, realpathSync, rmSync, statSync } from "node:fs";
import { stat, statfs } from "node:fs/promises";
import { tmpdir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { Duplex, type Readable } from "node:stream";
import { findProgram, probeRun, SYSTEM_PATH } from "./host-programs.js";
import { keepHeadAndTail } from "../text/keep-head-and-tail.js";
import { CommandCgroup, commandCgroupName, findCgroupHome, type CgroupHome } from "./sandbox-cgroup.js";
import type { CommandOptions, CommandResult, LimitHit, ProgramResult, Sandbox } from "./sandbox-contract.js";
import { DEFAULT_SANDBOX_LIMITS, limitMessage, limitSeenInOutcome, withRlimits, type LimitMechanism, type SandboxLimits } from "./sandbox-limits.js";
import {
  connectSlirp,
  inPrivateNetwork,
  probePrivateNetwork,
  resolvConfTarget,
  SANDBOX_RESOLV_CONF,
  UNREACHABLE_FROM_SANDBOX,
  type PrivateNetworkSupport,
  type PrivateNetworkTools,
  type SlirpConnection,
} from "./sandbox-network.js";

/** What the sandbox shows a command besides the read-only system. */
export interface SandboxLayout {
  /** Commands start here; writable unless `readOnlyWorktree`. */
  worktree: string;
  /** Mount the worktree read-only (plans and questions: the agent looks, never changes). */
  readOnlyWorktree?: boolean;
  /** Writable; HOME points at it. afk gives each job a fresh one (and the gate an empty one per run). */
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
  /**
   * `AFK_ALLOW_HOST_NETWORK`: where commands cannot get a network of their own (slirp4netns
   * missing or unusable), network-on commands share the host's network instead of being refused.
   */
  allowHostNetwork?: boolean;
  /** The bubblewrap binary; found on PATH when not given. */
  bwrapPath?: string;
  /** The slirp4netns binary; found on PATH when not given. */
  slirp4netnsPath?: string;
  /** Bounds that differ from the operator defaults (`DEFAULT_SANDBOX_LIMITS`). */
  limits?: Partial<SandboxLimits>;
}

/** Bubblewrap is missing or cannot create its namespaces here, and the operator did not allow running without it. */
export class SandboxUnavailableError extends Error {
  constructor(reason: string, fix: string) {
    super(
      `afk will not run the agent without its sandbox: ${reason}. ${fix} (Only if you accept running agent commands unisolated, set AFK_ALLOW_UNSANDBOXED=1.)`,
    );
    this.name = "SandboxUnavailableError";
  }
}

/** System directories mounted read-only, when they exist. */
const SYSTEM_DIRS = ["/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc", "/opt"];
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

/** How one command is set up: decided from its options and from what the host offers. */
export interface CommandPlan {
  /**
   * `none`: an empty network namespace. `private`: a namespace of its own that afk connects to
   * slirp4netns before the command starts (outbound only). `host`: the host's own network, only
   * where the operator allowed it (AFK_ALLOW_HOST_NETWORK) because slirp4netns is unusable.
   */
  network: "none" | "private" | "host";
  limits: SandboxLimits;
  mechanism: LimitMechanism;
  /** bubblewrap can bound a tmpfs (`--size`, bubblewrap 0.8 and newer). */
  tmpfsSize: boolean;
  /** With a private network: where the host's /etc/resolv.conf leads; the sandbox finds slirp4netns's resolver there (read from RESOLV_FD). */
  resolvConf?: string;
}

/**
 * With a private network, bwrap writes its child's pid to INFO_FD, then holds the command until afk
 * writes to BLOCK_FD; it reads the sandbox's resolv.conf from RESOLV_FD.
 */
const INFO_FD = 3;
const BLOCK_FD = 4;
const RESOLV_FD = 5;

/** The bubblewrap arguments for one command (`bash -c command`, or a program's argv). Pure. */
export function bubblewrapArgs(layout: SandboxLayout, plan: CommandPlan, system: HostSystem, command: string | readonly string[]): string[] {
  const args = ["--die-with-parent", "--new-session", "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try", "--hostname", "afk-sandbox"];
  if (plan.network === "none") args.push("--unshare-net");
  if (plan.network === "private") args.push("--info-fd", String(INFO_FD), "--block-fd", String(BLOCK_FD));
  const sized = (bytes: number): string[] => (plan.tmpfsSize ? ["--size", String(bytes)] : []);
  for (const dir of system.dirs) {
    if (dir.symlinkTo !== undefined) args.push("--symlink", dir.symlinkTo, dir.path);
    else args.push("--ro-bind", dir.path, dir.path);
  }
  const underSystem = system.dirs.some((dir) => dir.symlinkTo === undefined && (system.nodeDir === dir.path || system.nodeDir.startsWith(`${dir.path}/`)));
  if (!underSystem) args.push("--ro-bind", system.nodeDir, system.nodeDir);
  // /dev is read-only but for a bounded /dev/shm. /proc/sys and the sysrq trigger are read-only for
  // every user: bwrap covers them only when it does not run as root, and root writes them otherwise.
  args.push("--dev", "/dev", "--remount-ro", "/dev", ...sized(plan.limits.tmpBytes), "--tmpfs", "/dev/shm");
  args.push("--proc", "/proc", "--ro-bind", "/proc/sys", "/proc/sys", "--ro-bind-try", "/proc/sysrq-trigger", "/proc/sysrq-trigger");
  args.push(...sized(plan.limits.tmpBytes), "--tmpfs", "/tmp");
  for (const path of layout.readOnly ?? []) args.push("--ro-bind", path, path);
  if (layout.readOnlyWorktree === true) args.push("--ro-bind", layout.worktree, layout.worktree);
  for (const path of [...(layout.readOnlyWorktree === true ? [] : [layout.worktree]), layout.home, ...(layout.writable ?? [])]) args.push("--bind", path, path);
  for (const path of layout.hidden ?? []) {
    if (!existsSync(path)) continue;
    if (statSync(path).isDirectory()) args.push("--tmpfs", path, "--remount-ro", path);
    else args.push("--ro-bind", "/dev/null", path);
  }
  if (plan.network === "private" && plan.resolvConf !== undefined) args.push("--ro-bind-data", String(RESOLV_FD), plan.resolvConf);
  // The root bwrap builds everything on is a tmpfs; read-only, it holds nothing a command writes.
  args.push("--remount-ro", "/");
  args.push("--clearenv");
  for (const [name, value] of Object.entries(sandboxEnv(layout, system))) args.push("--setenv", name, value);
  const argv = typeof command === "string" ? ["/bin/bash", "-c", command] : command;
  args.push("--chdir", layout.worktree, "--", ...withRlimits(plan.limits, plan.mechanism, argv));
  return args;
}

/** Writes the shell's own pid to each cgroup.procs file named, then becomes the rest of its arguments. */
const CGROUP_SCRIPT = 'n=$1; shift; while [ "$n" -gt 0 ]; do echo $$ > "$1" || exit 125; shift; n=$((n - 1)); done; exec "$@"';

/**
 * The host-side argv of one command: enter its cgroup (so everything it ever starts is counted
 * from the first instruction), then, with a private network, a network namespace of its own
 * with the prohibit routes, then `inner` (bwrap). Pure.
 */
export function hostArgv(inner: readonly string[], cgroupProcs: readonly string[], network?: PrivateNetworkTools): string[] {
  const networked = network === undefined ? [...inner] : inPrivateNetwork(network, inner);
  if (cgroupProcs.length === 0) return networked;
  return ["/bin/sh", "-c", CGROUP_SCRIPT, "afk-cgroup", String(cgroupProcs.length), ...cgroupProcs, ...networked];
}

const INSTALL_FIX = "Install bubblewrap (Debian/Ubuntu: sudo apt-get install -y bubblewrap; Fedora: sudo dnf install bubblewrap).";

/** What `probeBubblewrap` found. */
export type BubblewrapProbe = { ok: true; path: string; version: string; tmpfsSize: boolean } | { ok: false; reason: string; fix: string };

/** For `afk doctor` and start-up: whether bubblewrap is installed and can create its namespaces here. */
export async function probeBubblewrap(bwrapPath?: string): Promise<BubblewrapProbe> {
  const path = bwrapPath ?? findProgram("bwrap");
  if (path === undefined || !existsSync(path)) return { ok: false, reason: "bubblewrap (bwrap) is not installed", fix: INSTALL_FIX };
  const version = await probeRun(path, ["--version"]);
  if (version.exitCode !== 0) return { ok: false, reason: `${path} --version failed: ${version.output.trim()}`, fix: INSTALL_FIX };
  const tmpfsSize = (await probeRun(path, ["--help"])).output.includes("--size");
  const plan: CommandPlan = { network: "none", limits: DEFAULT_SANDBOX_LIMITS, mechanism: "rlimits", tmpfsSize };
  const probe = await probeRun(path, bubblewrapArgs({ worktree: "/tmp", home: "/tmp" }, plan, hostSystem(), "true"));
  if (probe.exitCode !== 0) {
    return {
      ok: false,
      reason: `bubblewrap cannot create its namespaces here (${probe.output.trim() || `exit ${probe.exitCode}`})`,
      fix: "Allow unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1, or on Ubuntu 24.04+ kernel.apparmor_restrict_unprivileged_userns=0), or run afk as root.",
    };
  }
  return { ok: true, path, version: version.output.trim(), tmpfsSize };
}

/** How this host bounds sandboxed commands (see `LimitMechanism`). */
export interface LimitSupport {
  mechanism: LimitMechanism;
  /** Where command cgroups are made (cgroup mechanisms only). */
  home?: CgroupHome;
  /** Why cgroups are not used, when they are not. */
  reason?: string;
  /** Whether a command's process count is bounded: by a cgroup, or by RLIMIT_NPROC, which the kernel ignores for root. */
  processesBounded: boolean;
}

let limitSupport: Promise<LimitSupport> | undefined;

/** Finds once per process how commands are bounded here: cgroups where afk may write them, rlimits otherwise. */
export function probeSandboxLimits(): Promise<LimitSupport> {
  limitSupport ??= findCgroupHome(DEFAULT_SANDBOX_LIMITS).then((found): LimitSupport => {
    if ("home" in found) return { mechanism: found.home.version === 2 ? "cgroup2" : "cgroup1", home: found.home, processesBounded: true };
    return { mechanism: "rlimits", reason: found.reason, processesBounded: process.geteuid?.() !== 0 };
  });
  return limitSupport;
}

const bubblewrapProbes = new Map<string, Promise<BubblewrapProbe>>();

function once<T>(cache: Map<string, Promise<T>>, key: string, make: () => Promise<T>): Promise<T> {
  const known = cache.get(key);
  if (known !== undefined) return known;
  const made = make();
  cache.set(key, made);
  return made;
}
const networkProbes = new Map<string, Promise<PrivateNetworkSupport>>();

/** Creates the sandbox for one run's worktree, or explains why it cannot. What the host offers is probed once per process. */
export async function createSandbox(layout: SandboxLayout, settings: SandboxSettings): Promise<Sandbox> {
  sandboxEnv(layout, hostSystem());
  const limits = { ...DEFAULT_SANDBOX_LIMITS, ...settings.limits };
  const probe = await once(bubblewrapProbes, settings.bwrapPath ?? "", () => probeBubblewrap(settings.bwrapPath));
  const bounds = await probeSandboxLimits();
  if (probe.ok) {
    const network = await once(networkProbes, settings.slirp4netnsPath ?? "", () => probePrivateNetwork(settings.slirp4netnsPath));
    return new BubblewrapSandbox(layout, {
      bwrap: probe.path,
      tmpfsSize: probe.tmpfsSize,
      network,
      allowHostNetwork: settings.allowHostNetwork === true,
      bounds,
      limits,
    });
  }
  if (settings.allowUnsandboxed) return new UnsandboxedRunner(layout, bounds, limits);
  throw new SandboxUnavailableError(probe.reason, probe.fix);
}

/**
 * One command ready to start: its host argv (given the files of its cgroup, made just before), its
 * environment, and what afk watches while it runs.
 */
interface Launch {
  argv(cgroupProcs: readonly string[]): string[];
  env: Record<string, string>;
  cwd?: string;
  /** Connect this to slirp4netns between bwrap's start and the command's. */
  privateNetwork?: PrivateNetworkTools;
  limits: SandboxLimits;
  bounds: LimitSupport;
  /** Paths whose filesystems the command may grow by at most `limits.diskGrowthBytes`. */
  writable: readonly string[];
}

/** What a network-on command gets where the host cannot give it a network of its own and the operator did not allow the host's. */
function networkRefusal(reason: string, fix: string): string {
  return (
    `[afk refused to run this command: it needs the network, and ${reason}. afk gives network-on commands a network of their own ` +
    `through slirp4netns (outbound only: never this machine's own services or cloud metadata) and runs none on the host's network. ${fix} ` +
    "An operator who accepts commands reaching this machine's own services can set AFK_ALLOW_HOST_NETWORK=1 instead.]"
  );
}

function refused(message: string): CommandResult {
  return { exitCode: null, signal: null, output: message, timedOut: false, truncated: false, durationMs: 0 };
}

interface BubblewrapHost {
  bwrap: string;
  tmpfsSize: boolean;
  network: PrivateNetworkSupport;
  allowHostNetwork: boolean;
  bounds: LimitSupport;
  limits: SandboxLimits;
}

class BubblewrapSandbox implements Sandbox {
  readonly kind = "bubblewrap";
  readonly #system = hostSystem();

  constructor(
    readonly layout: SandboxLayout,
    private readonly host: BubblewrapHost,
  ) {}

  get worktree(): string {
    return this.layout.worktree;
  }

  async run(command: string, options: CommandOptions): Promise<CommandResult> {
    const launch = this.#launch(command, options);
    return typeof launch === "string" ? refused(launch) : collect(launch, options);
  }

  async runProgram(argv: readonly string[], options: CommandOptions): Promise<ProgramResult> {
    const launch = this.#launch(argv, options);
    if (typeof launch === "string") return { exitCode: null, signal: null, stdout: "", stderr: launch, timedOut: false };
    return collectProgram(launch, options);
  }

  /** The launch of one command, or why it is refused. */
  #launch(command: string | readonly string[], options: CommandOptions): Launch | string {
    const { network, allowHostNetwork, bounds, limits, tmpfsSize, bwrap } = this.host;
    let mode: CommandPlan["network"] = "none";
    if (options.network) {
      if (network.ok) mode = "private";
      else if (allowHostNetwork) mode = "host";
      else return networkRefusal(network.reason, network.fix);
    }
    const resolvConf = mode === "private" ? resolvConfTarget() : undefined;
    const plan: CommandPlan = { network: mode, limits, mechanism: bounds.mechanism, tmpfsSize, ...(resolvConf === undefined ? {} : { resolvConf }) };
    const inner = [bwrap, ...bubblewrapArgs(this.layout, plan, this.#system, command)];
    const tools = mode === "private" && network.ok ? network.tools : undefined;
    return {
      argv: (procs) => hostArgv(inner, procs, tools),
      env: {},
      ...(tools === undefined ? {} : { privateNetwork: tools }),
      limits,
      bounds,
      writable: [...(this.layout.readOnlyWorktree === true ? [] : [this.layout.worktree]), this.layout.home, ...(this.layout.writable ?? [])],
    };
  }
}

/** Only with AFK_ALLOW_UNSANDBOXED: the same cleared environment, limits and output handling, without isolation. */
class UnsandboxedRunner implements Sandbox {
  readonly kind = "unsandboxed";

  constructor(
    readonly layout: SandboxLayout,
    private readonly bounds: LimitSupport,
    private readonly limits: SandboxLimits,
  ) {}

  get worktree(): string {
    return this.layout.worktree;
  }

  run(command: string, options: CommandOptions): Promise<CommandResult> {
    return collect(this.#launch(["/bin/bash", "-c", command]), options);
  }

  runProgram(argv: readonly string[], options: CommandOptions): Promise<ProgramResult> {
    if (argv[0] === undefined) throw new Error("runProgram needs a program");
    return collectProgram(this.#launch(argv), options);
  }

  #launch(argv: readonly string[]): Launch {
    const inner = withRlimits(this.limits, this.bounds.mechanism, argv);
    return {
      argv: (procs) => hostArgv(inner, procs),
      env: sandboxEnv(this.layout, hostSystem()),
      cwd: this.layout.worktree,
      limits: this.limits,
      bounds: this.bounds,
      writable: [this.layout.worktree, this.layout.home, ...(this.layout.writable ?? [])],
    };
  }
}

/** How a supervised command ended. */
interface Outcome {
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  limit?: LimitHit;
  /** Lines afk adds after the command's own output (why it did not start, which limit it hit). */
  notes: string[];
}

let commandCount = 0;
/** How often afk looks at a running command's cgroup counters and disk use. */
const WATCH_INTERVAL_MS = 100;

/**
 * Runs one command to its end: makes its cgroup, starts it in its own process group, connects its
 * network before letting it start, watches its limits, kills the whole group on timeout, abort or
 * a limit, and removes what it made. Never throws.
 */
async function supervise(
  launch: Launch,
  options: Pick<CommandOptions, "timeoutMs" | "signal">,
  onStdout: (chunk: Buffer) => boolean,
  onStderr: (chunk: Buffer) => void,
): Promise<Outcome> {
  const notes: string[] = [];
  let cgroup: CommandCgroup | undefined;
  if (launch.bounds.home !== undefined) {
    try {
      cgroup = await CommandCgroup.create(launch.bounds.home, commandCgroupName((commandCount += 1)), launch.limits);
    } catch (error) {
      return { exitCode: null, signal: null, timedOut: false, notes: [`[afk: the command did not run: its cgroup could not be made (${errorText(error)})]`] };
    }
  }
  const disks = await diskUse(launch.writable);
  const [file, ...args] = launch.argv(cgroup?.procsFiles ?? []);
  if (file === undefined) {
    await cgroup?.remove();
    return { exitCode: null, signal: null, timedOut: false, notes: ["[afk: there was no program to run]"] };
  }
  const handshake = launch.privateNetwork !== undefined;
  const child = spawn(file, args, {
    env: launch.env,
    detached: true,
    stdio: handshake ? ["ignore", "pipe", "pipe", "pipe", "pipe", "pipe"] : ["ignore", "pipe", "pipe"],
    ...(launch.cwd === undefined ? {} : { cwd: launch.cwd }),
  });
  let limit: LimitHit | undefined;
  let timedOut = false;
  let ended = false;
  // Never after the close: Node has reaped the process long before, and once its group is empty its id may be reused.
  const killAll = (): void => {
    if (ended) return;
    killGroup(child);
    void cgroup?.kill();
  };
  const stopFor = (hit: LimitHit): void => {
    limit ??= hit;
    killAll();
  };
  child.stdout?.on("data", (chunk: Buffer) => {
    if (!onStdout(chunk)) killAll();
  });
  child.stderr?.on("data", onStderr);
  const closed = new Promise<{ code: number | null; signal: string | null }>((resolve) => {
    child.once("error", (error) => {
      ended = true;
      notes.push(`[afk: could not start ${file}: ${error.message}]`);
      resolve({ code: null, signal: null });
    });
    child.once("close", (code, signal) => {
      ended = true;
      resolve({ code, signal });
    });
  });
  const timer = setTimeout(() => {
    timedOut = true;
    killAll();
  }, options.timeoutMs);
  const onAbort = (): void => killAll();
  options.signal?.addEventListener("abort", onAbort, { once: true });
  if (options.signal?.aborted === true) killAll();

  let watching = false;
  const watch = async (): Promise<void> => {
    if (watching || ended) return;
    watching = true;
    try {
      const counters = await cgroup?.counters();
      if (counters !== undefined && counters.pidsRefused > 0) stopFor("processes");
      else if (counters !== undefined && counters.oomKills > 0) stopFor("memory");
      else if ((await diskGrowth(disks)) > launch.limits.diskGrowthBytes) stopFor("disk");
    } finally {
      watching = false;
    }
  };
  const watcher = setInterval(() => void watch(), WATCH_INTERVAL_MS);

  let slirp: SlirpConnection | undefined;
  const extraPipe = (fd: number): Duplex | undefined => {
    const stream: unknown = (child.stdio as ReadonlyArray<unknown>)[fd];
    return stream instanceof Duplex ? stream : undefined;
  };
  const [info, block, resolv] = [extraPipe(INFO_FD), extraPipe(BLOCK_FD), extraPipe(RESOLV_FD)];
  if (launch.privateNetwork !== undefined && info !== undefined && block !== undefined && resolv !== undefined) {
    // bwrap closes its ends whenever it likes (a failure, or the command's start): never an error here.
    for (const stream of [info, block, resolv]) stream.on("error", () => undefined);
    resolv.end(SANDBOX_RESOLV_CONF);
    const started = await bubblewrapStarted(info);
    if (started && !timedOut && options.signal?.aborted !== true) {
      try {
        slirp = await connectSlirp(launch.privateNetwork, child);
        block.write("1");
      } catch (error) {
        // Killed before our end of the block descriptor closes: an end of file would let the command start.
        killAll();
        notes.push(`[afk: the command did not run: its network could not be set up (${errorText(error)})]`);
      }
    } else if (started) killAll();
  }

  const { code, signal } = await closed;
  clearTimeout(timer);
  clearInterval(watcher);
  options.signal?.removeEventListener("abort", onAbort);
  slirp?.close();
  for (const stream of [info, block, resolv]) stream?.destroy();
  const counters = await cgroup?.counters();
  if (counters !== undefined && counters.pidsRefused > 0) limit ??= "processes";
  if (counters !== undefined && counters.oomKills > 0) limit ??= "memory";
  await cgroup?.remove();
  return { exitCode: code, signal, timedOut, ...(limit === undefined ? {} : { limit }), notes };
}

/** Resolves when bwrap has reported its child (true), or closed the descriptor without doing so (false: it failed, and says why on stderr). */
function bubblewrapStarted(info: Readable): Promise<boolean> {
  return new Promise((resolve) => {
    let text = "";
    info.on("data", (chunk: Buffer) => {
      text += chunk.toString("utf8");
    });
    info.once("close", () => resolve(text.includes("child-pid")));
    info.once("end", () => resolve(text.includes("child-pid")));
  });
}

function killGroup(child: ChildProcess): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, "SIGKILL");
  } catch {
    // Already gone.
  }
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Free space, once per filesystem among `paths`, when a command starts. */
async function diskUse(paths: readonly string[]): Promise<Array<{ path: string; free: number }>> {
  const seen = new Set<number>();
  const disks: Array<{ path: string; free: number }> = [];
  for (const path of paths) {
    try {
      const { dev } = await stat(path);
      if (seen.has(dev)) continue;
      seen.add(dev);
      const fs = await statfs(path);
      disks.push({ path, free: fs.bfree * fs.bsize });
    } catch {
      // Not there (yet): nothing to measure.
    }
  }
  return disks;
}

/** Bytes the filesystems lost since `diskUse` measured them (other writers on them count too). */
async function diskGrowth(disks: ReadonlyArray<{ path: string; free: number }>): Promise<number> {
  let grown = 0;
  for (const disk of disks) {
    const fs = await statfs(disk.path).catch(() => undefined);
    if (fs !== undefined) grown += Math.max(0, disk.free - fs.bfree * fs.bsize);
  }
  return grown;
}

/** The line that ends the output of a command that hit a limit, and the limit. */
function limitNotes(outcome: Outcome, output: string, launch: Launch): { limit?: LimitHit; notes: string[] } {
  const limit = outcome.limit ?? limitSeenInOutcome(outcome.exitCode, output, launch.bounds.mechanism);
  if (limit === undefined) return { notes: outcome.notes };
  return { limit, notes: [...outcome.notes, limitMessage(limit, launch.limits, launch.bounds.mechanism)] };
}

/** Standard output kept from one program (afk's git listing a large change stays well inside it). */
const MAX_PROGRAM_STDOUT = 64 * 1024 * 1024;

/** A program's run with stdout kept apart (bounded: past MAX_PROGRAM_STDOUT it is killed) and stderr's tail kept. */
async function collectProgram(launch: Launch, options: CommandOptions): Promise<ProgramResult> {
  const stdout: Buffer[] = [];
  let stdoutBytes = 0;
  let stderr = "";
  const outcome = await supervise(
    launch,
    options,
    (chunk) => {
      stdoutBytes += chunk.length;
      if (stdoutBytes > MAX_PROGRAM_STDOUT) return false;
      stdout.push(chunk);
      return true;
    },
    (chunk) => {
      stderr = (stderr + chunk.toString("utf8")).slice(-20_000);
    },
  );
  const overflow = stdoutBytes > MAX_PROGRAM_STDOUT;
  const { limit, notes } = limitNotes(outcome, stderr, launch);
  const extra = [...(overflow ? [`[afk: the program wrote more than ${MAX_PROGRAM_STDOUT} bytes and was stopped]`] : []), ...notes];
  return {
    exitCode: overflow ? null : outcome.exitCode,
    signal: outcome.signal,
    stdout: Buffer.concat(stdout).toString("utf8"),
    stderr: stderr + extra.map((line) => `\n${line}`).join(""),
    timedOut: outcome.timedOut,
    ...(limit === undefined ? {} : { limit }),
  };
}

/**
 * A command's run with stdout and stderr interleaved, keeping the head and a rolling tail of the
 * output (memory stays bounded) and ending with afk's lines about it.
 */
async function collect(launch: Launch, options: CommandOptions): Promise<CommandResult> {
  const started = Date.now();
  const maxOutputBytes = options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES;
  const headLimit = Math.floor(maxOutputBytes / 2);
  const tailLimit = maxOutputBytes - headLimit;
  let head = Buffer.alloc(0);
  let tail = Buffer.alloc(0);
  let dropped = 0;
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
  const outcome = await supervise(
    launch,
    options,
    (chunk) => {
      take(chunk);
      return true;
    },
    take,
  );
  const text = head.toString("utf8") + (dropped > 0 ? `\n\n[… ${dropped} bytes of output omitted …]\n\n` : "") + tail.toString("utf8");
  const { limit, notes } = limitNotes(outcome, text, launch);
  const ending = notes.map((line) => `\n${line}`).join("");
  return {
    exitCode: outcome.exitCode,
    signal: outcome.signal,
    output: keepHeadAndTail(text, maxOutputBytes + 200).text + ending,
    timedOut: outcome.timedOut,
    truncated: dropped > 0,
    durationMs: Date.now() - started,
    ...(limit === undefined ? {} : { limit }),
  };
}

/** For `afk doctor`: what a network-on command sees here, checked by running one. */
export async function checkSandboxNetwork(
  settings: Pick<SandboxSettings, "bwrapPath" | "slirp4netnsPath"> = {},
): Promise<{ ok: true; detail: string } | { ok: false; reason: string; fix: string }> {
  const network = await probePrivateNetwork(settings.slirp4netnsPath);
  if (!network.ok) return network;
  const dir = mkdtempSync(join(tmpdir(), "afk-doctor-net-"));
  try {
    const sandbox = await createSandbox({ worktree: dir, home: dir }, { allowUnsandboxed: false, ...settings });
    const result = await sandbox.run("ip route; cat /etc/resolv.conf", { timeoutMs: 30_000, network: true });
    const missing = ["default via 10.0.2.2", ...UNREACHABLE_FROM_SANDBOX.map((range) => `prohibit ${range.replace(/\/32$/, "")}`)].filter(
      (line) => !result.output.includes(line),
    );
    if (result.exitCode !== 0 || missing.length > 0) {
      return {
        ok: false,
        reason: `a network-on command did not get its own network (${result.output.trim().split("\n").slice(-3).join(" / ")})`,
        fix: "Run `afk doctor` as the user afk runs as; check that slirp4netns, ip and unshare work there.",
      };
    }
    return {
      ok: true,
      detail: `${network.version}: network-on commands get a network of their own, outbound only; the host's loopback and ${UNREACHABLE_FROM_SANDBOX.join(", ")} are unreachable`,
    };
  } catch (error) {
    return { ok: false, reason: errorText(error), fix: "Fix bubblewrap first (see above)." };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
