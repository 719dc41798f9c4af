import type { LimitHit } from "./sandbox-contract.js";

/** What one sandboxed command may use. Every bound holds per command: the next command starts afresh. */
export interface SandboxLimits {
  /** Memory of all the command's processes together, /tmp included (cgroups); of each process (rlimits). */
  memoryBytes: number;
  /** Processes and threads alive at once (cgroup `pids.max`; RLIMIT_NPROC, which the kernel ignores for root). */
  processes: number;
  /** Size of the command's private /tmp (and /dev/shm). */
  tmpBytes: number;
  /** The largest file a command may write anywhere (RLIMIT_FSIZE). */
  fileBytes: number;
  /** How much a command may add to the disk holding its worktree, home and other writable mounts. */
  diskGrowthBytes: number;
}

const GiB = 1024 ** 3;

/** The operator's defaults: room for a large build, far from what one machine can give. */
export const DEFAULT_SANDBOX_LIMITS: SandboxLimits = {
  memoryBytes: 4 * GiB,
  processes: 1024,
  tmpBytes: 2 * GiB,
  fileBytes: 4 * GiB,
  diskGrowthBytes: 16 * GiB,
};

/**
 * How the limits are enforced here. `cgroup2`/`cgroup1`: memory and processes of the whole command
 * (a cgroup per command); `rlimits`: per process only, and processes not at all when afk runs as root.
 * File size (RLIMIT_FSIZE), /tmp (tmpfs size) and disk growth (afk watching the filesystem) hold in every case.
 */
export type LimitMechanism = "cgroup2" | "cgroup1" | "rlimits";

/** "4 GiB", "512 MiB", "100 KiB": the unit that keeps the number whole when one does. */
export function formatBytes(bytes: number): string {
  for (const [unit, size] of [
    ["GiB", GiB],
    ["MiB", 1024 ** 2],
    ["KiB", 1024],
  ] as const) {
    if (bytes >= size) {
      const value = bytes / size;
      return `${Number.isInteger(value) ? value : value.toFixed(1)} ${unit}`;
    }
  }
  return `${bytes} bytes`;
}

/** The line afk adds to a command's output when it ran into a limit: the agent reads it, and so does the issue for setup and the gate. */
export function limitMessage(hit: LimitHit, limits: SandboxLimits, mechanism: LimitMechanism): string {
  switch (hit) {
    case "memory":
      return mechanism === "rlimits"
        ? `[the command ran out of memory: each process may use at most ${formatBytes(limits.memoryBytes)} (sandbox limit)]`
        : `[killed: the command used more than ${formatBytes(limits.memoryBytes)} of memory (sandbox limit)]`;
    case "processes":
      return mechanism === "rlimits"
        ? `[the command could not start more processes: at most ${limits.processes} at once (sandbox limit)]`
        : `[killed: the command ran more than ${limits.processes} processes and threads at once (sandbox limit)]`;
    case "file-size":
      return `[stopped: the command tried to write a file larger than ${formatBytes(limits.fileBytes)} (sandbox limit)]`;
    case "disk":
      return `[killed: the command wrote more than ${formatBytes(limits.diskGrowthBytes)} to disk (sandbox limit)]`;
  }
}

/**
 * Limits the kernel enforces without telling afk show only in how the command ended: a process
 * killed by SIGXFSZ (exit 153 through bash or bwrap) or a write refused with EFBIG; under rlimits,
 * an allocation or a fork refused. Reads the command's own words, so it only ever adds a line to them.
 */
export function limitSeenInOutcome(exitCode: number | null, output: string, mechanism: LimitMechanism): LimitHit | undefined {
  if (exitCode === 153 || /File size limit exceeded|File too large/.test(output)) return "file-size";
  if (mechanism !== "rlimits") return undefined;
  if (exitCode !== 0 && /Cannot allocate memory|out of memory|MemoryError|std::bad_alloc|x(?:re)?alloc: cannot allocate/i.test(output)) return "memory";
  if (/fork: (?:retry: )?Resource temporarily unavailable|Cannot fork/.test(output)) return "processes";
  return undefined;
}

/**
 * Bash run inside the sandbox before the command: sets the rlimits (soft and hard, so the command
 * cannot raise them; a limit already lower stays), closes every inherited descriptor but stdio
 * (nothing afk's parent left open reaches the command), then becomes the command.
 * Arguments: file size in KiB, processes, data size in KiB or "unlimited", then the command's argv.
 */
const LIMITS_SCRIPT = [
  'ulimit -f "$1" 2>/dev/null; ulimit -u "$2" 2>/dev/null; ulimit -d "$3" 2>/dev/null',
  "shift 3",
  'for fd in /proc/self/fd/*; do fd=${fd##*/}; case $fd in 0|1|2) ;; *) eval "exec $fd>&-" 2>/dev/null ;; esac; done',
  'exec "$@"',
].join("\n");

/** The argv that runs `command` under the rlimits. Pure. Under cgroups memory is the cgroup's, so no per-process data limit is set. */
export function withRlimits(limits: SandboxLimits, mechanism: LimitMechanism, command: readonly string[]): string[] {
  const kib = (bytes: number): string => String(Math.max(1, Math.floor(bytes / 1024)));
  return [
    "/bin/bash",
    "-c",
    LIMITS_SCRIPT,
    "afk-limits",
    kib(limits.fileBytes),
    String(limits.processes),
    mechanism === "rlimits" ? kib(limits.memoryBytes) : "unlimited",
    ...command,
  ];
}
