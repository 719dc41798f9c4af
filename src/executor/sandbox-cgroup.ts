import { mkdir, readdir, readFile, rmdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { SandboxLimits } from "./sandbox-limits.js";

/**
 * Where afk makes a cgroup for each sandboxed command (`afk-sandbox-<pid>-<n>`, removed when the
 * command ends): a cgroup of the unified hierarchy (v2) whose children get the memory and pids
 * controllers, or this process's cgroups in the memory and pids hierarchies (v1).
 */
export type CgroupHome = { version: 2; parent: string } | { version: 1; memory: string; pids: string };

/** This process's cgroup directories, as /proc/self/cgroup and /proc/self/mountinfo name them. */
export interface OwnCgroups {
  /** Unified hierarchy: the mount point and this process's cgroup directory in it. */
  unified?: { mount: string; dir: string };
  /** Version 1 hierarchies of the memory and pids controllers: this process's cgroup directory in each. */
  memory?: string;
  pids?: string;
}

/** Reads this process's cgroups from the text of /proc/self/cgroup and /proc/self/mountinfo. Pure. */
export function ownCgroups(procSelfCgroup: string, mountinfo: string): OwnCgroups {
  const mounts = mountinfo
    .split("\n")
    .map((line) => {
      const [left, right] = line.split(" - ");
      const fields = left?.split(" ") ?? [];
      const [fstype, , superOptions] = right?.split(" ") ?? [];
      const unescape = (path: string): string => path.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(Number.parseInt(octal, 8)));
      return { root: unescape(fields[3] ?? ""), mountPoint: unescape(fields[4] ?? ""), fstype: fstype ?? "", options: (superOptions ?? "").split(",") };
    })
    .filter((mount) => mount.mountPoint !== "" && (mount.fstype === "cgroup" || mount.fstype === "cgroup2"));
  // A mount shows the part of the hierarchy under its root; the cgroup path must lie inside it.
  const under = (mountPoint: string, rest: string): string => join(mountPoint, rest).replace(/(.)\/$/, "$1");
  const locate = (path: string, candidates: typeof mounts): string | undefined => {
    for (const mount of [...candidates].sort((a, b) => a.root.length - b.root.length)) {
      if (mount.root === "/") return under(mount.mountPoint, path);
      if (path === mount.root || path.startsWith(`${mount.root}/`)) return under(mount.mountPoint, path.slice(mount.root.length));
    }
    return undefined;
  };
  const own: OwnCgroups = {};
  for (const line of procSelfCgroup.split("\n")) {
    const match = /^(\d+):([^:]*):(\/.*)$/.exec(line.trim());
    if (match === null) continue;
    const [, id, controllers = "", path = "/"] = match;
    if (id === "0" && controllers === "") {
      const unified = mounts.filter((mount) => mount.fstype === "cgroup2");
      const dir = locate(path, unified);
      const mount = unified.find((candidate) => dir !== undefined && (dir === candidate.mountPoint || dir.startsWith(`${candidate.mountPoint}/`)));
      if (dir !== undefined && mount !== undefined) own.unified = { mount: mount.mountPoint, dir };
      continue;
    }
    for (const controller of ["memory", "pids"] as const) {
      if (!controllers.split(",").includes(controller)) continue;
      const dir = locate(
        path,
        mounts.filter((mount) => mount.fstype === "cgroup" && mount.options.includes(controller)),
      );
      if (dir !== undefined) own[controller] = dir;
    }
  }
  return own;
}

/** `key value` lines (memory.events, pids.events, memory.oom_control): the value of `key`, 0 when absent. Pure. */
export function counter(text: string, key: string): number {
  for (const line of text.split("\n")) {
    const [name, value] = line.trim().split(/\s+/);
    if (name === key) return Number(value) || 0;
  }
  return 0;
}

const LEAF_PREFIX = "afk-sandbox-";

/** The name of a command's cgroup: the pid says whose it is, so a dead process's can be swept. */
export function commandCgroupName(id: string | number): string {
  return `${LEAF_PREFIX}${process.pid}-${id}`;
}

/**
 * Finds where afk may make command cgroups: version 2 where this process's cgroup, or one above
 * it, already gives its children the memory and pids controllers and afk may create a cgroup
 * there (a delegated cgroup, or root); else this process's version 1 memory and pids cgroups,
 * where afk may create one. Never enables a controller anywhere. Cgroups left by afk processes
 * that died are emptied (their processes killed) and removed. `proc` stands in for this process's
 * /proc/self/cgroup and /proc/self/mountinfo.
 */
export async function findCgroupHome(
  probeLimits: SandboxLimits,
  proc?: { cgroup: string; mountinfo: string },
): Promise<{ home: CgroupHome } | { reason: string }> {
  let own: OwnCgroups;
  try {
    own = ownCgroups(proc?.cgroup ?? (await readFile("/proc/self/cgroup", "utf8")), proc?.mountinfo ?? (await readFile("/proc/self/mountinfo", "utf8")));
  } catch (error) {
    return { reason: `cannot read this process's cgroups (${String(error)})` };
  }
  const reasons: string[] = [];
  if (own.unified !== undefined) {
    for (let dir = own.unified.dir; dir === own.unified.mount || dir.startsWith(`${own.unified.mount}/`); dir = dirname(dir)) {
      const enabled = (await readFile(join(dir, "cgroup.subtree_control"), "utf8").catch(() => "")).split(/\s+/);
      if (enabled.includes("memory") && enabled.includes("pids")) {
        const home: CgroupHome = { version: 2, parent: dir };
        try {
          await sweepStale(dir);
          await checkHome(home, probeLimits);
          return { home };
        } catch (error) {
          reasons.push(`${dir}: ${String(error)}`);
        }
      }
      if (dir === own.unified.mount) break;
    }
    if (reasons.length === 0) reasons.push(`no cgroup from ${own.unified.dir} up gives its children the memory and pids controllers`);
  }
  if (own.memory !== undefined && own.pids !== undefined) {
    const home: CgroupHome = { version: 1, memory: own.memory, pids: own.pids };
    try {
      await sweepStale(own.memory);
      await sweepStale(own.pids);
      await checkHome(home, probeLimits);
      return { home };
    } catch (error) {
      reasons.push(`cgroup v1: ${String(error)}`);
    }
  }
  if (own.unified === undefined && (own.memory === undefined || own.pids === undefined))
    reasons.push("no cgroup v2 hierarchy, and no cgroup v1 memory and pids hierarchies, are mounted");
  return { reason: reasons.join("; ") };
}

/** Creates, limits and removes one command cgroup, so a home that cannot hold limits is never chosen. */
async function checkHome(home: CgroupHome, limits: SandboxLimits): Promise<void> {
  const probe = await CommandCgroup.create(home, commandCgroupName("probe"), limits);
  await probe.remove();
}

/** Removes the command cgroups of afk processes that are gone, killing what still runs in them. */
async function sweepStale(parent: string): Promise<void> {
  const entries = await readdir(parent, { withFileTypes: true }).catch(() => []);
  for (const entry of entries) {
    const pid = Number(/^afk-sandbox-(\d+)-[\w-]+$/.exec(entry.name)?.[1] ?? Number.NaN);
    if (!entry.isDirectory() || !Number.isInteger(pid) || pid === process.pid || isAlive(pid)) continue;
    await removeCgroup(join(parent, entry.name)).catch(() => undefined);
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Kills every process in a cgroup and removes it, retrying while the dying processes leave it. */
async function removeCgroup(dir: string): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt += 1) {
    await writeFile(join(dir, "cgroup.kill"), "1").catch(() => undefined);
    const pids = (await readFile(join(dir, "cgroup.procs"), "utf8").catch(() => "")).split("\n").filter((line) => line !== "");
    for (const pid of pids) {
      try {
        process.kill(Number(pid), "SIGKILL");
      } catch {
        // Already gone.
      }
    }
    try {
      await rmdir(dir);
      return;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "ENOENT") return;
      if (code !== "EBUSY") throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** What the kernel counted for a command's cgroup. */
export interface CgroupCounters {
  /** Processes the OOM killer ended because the cgroup's memory was full. */
  oomKills: number;
  /** Forks refused because the cgroup held `pids.max` processes. */
  pidsRefused: number;
}

/** One command's cgroup: its limits written before anything runs in it, removed (with anything left in it killed) after. */
export class CommandCgroup {
  private constructor(
    private readonly home: CgroupHome,
    private readonly dirs: readonly string[],
  ) {}

  /** The files a process writes its pid to, to enter this cgroup (one per hierarchy). */
  get procsFiles(): string[] {
    return this.dirs.map((dir) => join(dir, "cgroup.procs"));
  }

  static async create(home: CgroupHome, name: string, limits: SandboxLimits): Promise<CommandCgroup> {
    const made: string[] = [];
    try {
      if (home.version === 2) {
        const dir = join(home.parent, name);
        await mkdir(dir);
        made.push(dir);
        await writeFile(join(dir, "memory.max"), String(limits.memoryBytes));
        await writeFile(join(dir, "memory.swap.max"), "0").catch(() => undefined);
        // One process over the limit ends the whole command, as under v1 (afk kills it there).
        await writeFile(join(dir, "memory.oom.group"), "1").catch(() => undefined);
        await writeFile(join(dir, "pids.max"), String(limits.processes));
      } else {
        const memory = join(home.memory, name);
        const pids = join(home.pids, name);
        await mkdir(memory);
        made.push(memory);
        await mkdir(pids);
        made.push(pids);
        await writeFile(join(memory, "memory.limit_in_bytes"), String(limits.memoryBytes));
        // With swap accounting, memory plus swap gets the same bound: no swapping past the limit.
        await writeFile(join(memory, "memory.memsw.limit_in_bytes"), String(limits.memoryBytes)).catch(() => undefined);
        await writeFile(join(pids, "pids.max"), String(limits.processes));
      }
    } catch (error) {
      for (const dir of made) await removeCgroup(dir).catch(() => undefined);
      throw error;
    }
    return new CommandCgroup(home, made);
  }

  async counters(): Promise<CgroupCounters> {
    const read = (file: string): Promise<string> => readFile(file, "utf8").catch(() => "");
    const [memoryDir, pidsDir] = this.home.version === 2 ? [this.dirs[0], this.dirs[0]] : [this.dirs[0], this.dirs[1]];
    if (memoryDir === undefined || pidsDir === undefined) return { oomKills: 0, pidsRefused: 0 };
    const oom = await read(join(memoryDir, this.home.version === 2 ? "memory.events" : "memory.oom_control"));
    return { oomKills: counter(oom, "oom_kill"), pidsRefused: counter(await read(join(pidsDir, "pids.events")), "max") };
  }

  /** Kills every process in the cgroup at once where the kernel can (v2 `cgroup.kill`); the pid namespace's end does the rest. */
  async kill(): Promise<void> {
    if (this.home.version === 2) await writeFile(join(this.dirs[0] ?? "", "cgroup.kill"), "1").catch(() => undefined);
  }

  async remove(): Promise<void> {
    for (const dir of this.dirs) await removeCgroup(dir).catch(() => undefined);
  }
}
