import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { hostArgv } from "../../src/executor/sandbox.js";
import { CommandCgroup, counter, findCgroupHome, ownCgroups } from "../../src/executor/sandbox-cgroup.js";
import { DEFAULT_SANDBOX_LIMITS, formatBytes, limitMessage, limitSeenInOutcome, withRlimits } from "../../src/executor/sandbox-limits.js";
import { inPrivateNetwork, type PrivateNetworkTools } from "../../src/executor/sandbox-network.js";

const mountinfo = (lines: string[]): string => lines.map((line, index) => `${30 + index} 26 0:${40 + index} ${line}`).join("\n");

describe("ownCgroups", () => {
  it("finds the v1 memory and pids cgroups and the unified mount of a hybrid host", () => {
    const own = ownCgroups(
      ["9:name=systemd:/", "8:pids:/", "4:memory:/process_api/84a6", "1:cpu:/", "0::/"].join("\n"),
      mountinfo([
        "/ /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory",
        "/ /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids",
        "/ /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu",
        "/ /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw",
      ]),
    );
    expect(own).toEqual({
      memory: "/sys/fs/cgroup/memory/process_api/84a6",
      pids: "/sys/fs/cgroup/pids",
      unified: { mount: "/sys/fs/cgroup/unified", dir: "/sys/fs/cgroup/unified" },
    });
  });

  it("finds a systemd service's cgroup on a unified host", () => {
    const own = ownCgroups("0::/system.slice/afk.service\n", mountinfo(["/ /sys/fs/cgroup rw,nosuid shared:4 - cgroup2 cgroup2 rw,nsdelegate"]));
    expect(own).toEqual({ unified: { mount: "/sys/fs/cgroup", dir: "/sys/fs/cgroup/system.slice/afk.service" } });
  });

  it("maps a path through a mount that shows only part of the hierarchy, and ignores one it cannot reach", () => {
    expect(ownCgroups("0::/docker/abc\n", mountinfo(["/docker/abc /sys/fs/cgroup ro,nosuid - cgroup2 cgroup2 rw"])).unified).toEqual({
      mount: "/sys/fs/cgroup",
      dir: "/sys/fs/cgroup",
    });
    expect(ownCgroups("0::/elsewhere\n", mountinfo(["/docker/abc /sys/fs/cgroup ro,nosuid - cgroup2 cgroup2 rw"])).unified).toBeUndefined();
    expect(ownCgroups("4:memory:/a\n", mountinfo(["/ /mnt/with\\040space rw - cgroup cgroup rw,memory"])).memory).toBe("/mnt/with space/a");
  });

  it("reads counters from the kernel's key value files", () => {
    expect(counter("oom_kill_disable 0\nunder_oom 0\noom_kill 3\n", "oom_kill")).toBe(3);
    expect(counter("low 0\nhigh 0\nmax 12\noom 1\noom_kill 1\n", "max")).toBe(12);
    expect(counter("", "max")).toBe(0);
  });
});

describe("limit messages", () => {
  it("says which limit a command hit and how large it was", () => {
    const limits = { ...DEFAULT_SANDBOX_LIMITS, memoryBytes: 4 * 1024 ** 3, processes: 512, fileBytes: 1536 * 1024 ** 2 };
    expect(limitMessage("memory", limits, "cgroup2")).toBe("[killed: the command used more than 4 GiB of memory (sandbox limit)]");
    expect(limitMessage("memory", limits, "rlimits")).toBe("[the command ran out of memory: each process may use at most 4 GiB (sandbox limit)]");
    expect(limitMessage("processes", limits, "cgroup1")).toBe("[killed: the command ran more than 512 processes and threads at once (sandbox limit)]");
    expect(limitMessage("file-size", limits, "cgroup1")).toBe("[stopped: the command tried to write a file larger than 1.5 GiB (sandbox limit)]");
    expect(limitMessage("disk", limits, "rlimits")).toBe("[killed: the command wrote more than 16 GiB to disk (sandbox limit)]");
    expect(formatBytes(8 * 1024 ** 2)).toBe("8 MiB");
    expect(formatBytes(512)).toBe("512 bytes");
  });

  it.each([
    { exitCode: 153, output: "", mechanism: "cgroup2", hit: "file-size" },
    { exitCode: 1, output: "dd: error writing 'x': File too large", mechanism: "cgroup1", hit: "file-size" },
    { exitCode: 2, output: "/bin/bash: xrealloc: cannot allocate 200941568 bytes", mechanism: "rlimits", hit: "memory" },
    { exitCode: 2, output: "/bin/bash: xrealloc: cannot allocate 200941568 bytes", mechanism: "cgroup2", hit: undefined },
    { exitCode: 0, output: "environment: fork: retry: Resource temporarily unavailable", mechanism: "rlimits", hit: "processes" },
    { exitCode: 0, output: "all tests passed", mechanism: "rlimits", hit: undefined },
  ] as const)("reads $hit from exit $exitCode under $mechanism", ({ exitCode, output, mechanism, hit }) => {
    expect(limitSeenInOutcome(exitCode, output, mechanism)).toBe(hit);
  });
});

describe("launch argv", () => {
  const tools: PrivateNetworkTools = {
    slirp4netns: "/usr/bin/slirp4netns",
    unshare: "/usr/bin/unshare",
    ip: "/usr/sbin/ip",
    setpriv: "/usr/bin/setpriv",
    seccomp: true,
    root: false,
  };

  it("sets file size, processes and (under rlimits only) data size inside the sandbox before the command", () => {
    const limits = { ...DEFAULT_SANDBOX_LIMITS, fileBytes: 16 * 1024 ** 2, processes: 64, memoryBytes: 192 * 1024 ** 2 };
    const underCgroups = withRlimits(limits, "cgroup1", ["/bin/bash", "-c", "make"]);
    expect(underCgroups.slice(0, 2)).toEqual(["/bin/bash", "-c"]);
    expect(underCgroups.slice(3)).toEqual(["afk-limits", "16384", "64", "unlimited", "/bin/bash", "-c", "make"]);
    expect(withRlimits(limits, "rlimits", ["git", "status"]).slice(3)).toEqual(["afk-limits", "16384", "64", "196608", "git", "status"]);
  });

  it("enters the cgroup first, then a network namespace with its prohibit routes, then drops capabilities, then bwrap", () => {
    const argv = hostArgv(["/usr/bin/bwrap", "--", "true"], ["/cg/memory/x/cgroup.procs", "/cg/pids/x/cgroup.procs"], tools);
    expect(argv.slice(0, 2)).toEqual(["/bin/sh", "-c"]);
    expect(argv.slice(3, 7)).toEqual(["afk-cgroup", "2", "/cg/memory/x/cgroup.procs", "/cg/pids/x/cgroup.procs"]);
    expect(argv.slice(7, 12)).toEqual(["/usr/bin/unshare", "--map-current-user", "--keep-caps", "--net", "--"]);
    const script = argv[14] ?? "";
    expect(script).toContain('"$ip" route add prohibit 169.254.0.0/16 || exit 125');
    expect(argv.slice(15)).toEqual([
      "afk-network",
      "/usr/sbin/ip",
      "/usr/bin/setpriv",
      "--inh-caps=-all",
      "--ambient-caps=-all",
      "--",
      "/usr/bin/bwrap",
      "--",
      "true",
    ]);
    expect(inPrivateNetwork({ ...tools, root: true }, ["bwrap"])).toEqual([
      "/usr/bin/unshare",
      "--net",
      "--",
      "/bin/sh",
      "-c",
      expect.any(String),
      "afk-network",
      "/usr/sbin/ip",
      "bwrap",
    ]);
    expect(hostArgv(["/usr/bin/bwrap", "--", "true"], [])).toEqual(["/usr/bin/bwrap", "--", "true"]);
  });
});

describe("command cgroups", () => {
  // A directory tree standing in for cgroupfs: afk's writes land in plain files, the kernel's counters are written by the test.
  let fake: string;
  beforeEach(() => {
    fake = mkdtempSync(join(tmpdir(), "afk-cgroupfs-"));
  });
  afterEach(() => rmSync(fake, { recursive: true, force: true }));
  const limits = { ...DEFAULT_SANDBOX_LIMITS, memoryBytes: 256 * 1024 ** 2, processes: 100 };

  it("v2: chooses the nearest cgroup above this one that gives its children memory and pids, and writes the limits there", async () => {
    const service = join(fake, "system.slice", "afk.service");
    mkdirSync(service, { recursive: true });
    writeFileSync(join(fake, "cgroup.subtree_control"), "cpu memory pids\n");
    writeFileSync(join(fake, "system.slice", "cgroup.subtree_control"), "memory pids\n");
    writeFileSync(join(service, "cgroup.subtree_control"), "\n");
    const found = await findCgroupHome(limits, { cgroup: "0::/system.slice/afk.service\n", mountinfo: `30 26 0:40 / ${fake} rw - cgroup2 cgroup2 rw` });
    expect(found).toEqual({ home: { version: 2, parent: join(fake, "system.slice") } });
    const cgroup = await CommandCgroup.create({ version: 2, parent: join(fake, "system.slice") }, "afk-sandbox-1-7", limits);
    const dir = join(fake, "system.slice", "afk-sandbox-1-7");
    expect(cgroup.procsFiles).toEqual([join(dir, "cgroup.procs")]);
    expect(readFileSync(join(dir, "memory.max"), "utf8")).toBe(String(256 * 1024 ** 2));
    expect(readFileSync(join(dir, "memory.swap.max"), "utf8")).toBe("0");
    expect(readFileSync(join(dir, "memory.oom.group"), "utf8")).toBe("1");
    expect(readFileSync(join(dir, "pids.max"), "utf8")).toBe("100");
    writeFileSync(join(dir, "memory.events"), "low 0\nhigh 0\nmax 4\noom 1\noom_kill 1\n");
    writeFileSync(join(dir, "pids.events"), "max 9\n");
    expect(await cgroup.counters()).toEqual({ oomKills: 1, pidsRefused: 9 });
  });

  it("v2: says why when no cgroup above gives its children both controllers", async () => {
    mkdirSync(join(fake, "user.slice"), { recursive: true });
    writeFileSync(join(fake, "cgroup.subtree_control"), "cpu memory\n");
    const found = await findCgroupHome(limits, { cgroup: "0::/user.slice\n", mountinfo: `30 26 0:40 / ${fake} rw - cgroup2 cgroup2 rw` });
    expect(found).toEqual({ reason: `no cgroup from ${join(fake, "user.slice")} up gives its children the memory and pids controllers` });
  });

  it("v1: makes the command's cgroup in the memory and the pids hierarchy, with swap bounded too", async () => {
    mkdirSync(join(fake, "memory", "job"), { recursive: true });
    mkdirSync(join(fake, "pids"), { recursive: true });
    const found = await findCgroupHome(limits, {
      cgroup: "8:pids:/\n4:memory:/job\n",
      mountinfo: [`31 26 0:41 / ${join(fake, "memory")} rw - cgroup cgroup rw,memory`, `32 26 0:42 / ${join(fake, "pids")} rw - cgroup cgroup rw,pids`].join(
        "\n",
      ),
    });
    expect(found).toEqual({ home: { version: 1, memory: join(fake, "memory", "job"), pids: join(fake, "pids") } });
    const cgroup = await CommandCgroup.create({ version: 1, memory: join(fake, "memory", "job"), pids: join(fake, "pids") }, "afk-sandbox-1-8", limits);
    expect(cgroup.procsFiles).toEqual([join(fake, "memory", "job", "afk-sandbox-1-8", "cgroup.procs"), join(fake, "pids", "afk-sandbox-1-8", "cgroup.procs")]);
    expect(readFileSync(join(fake, "memory", "job", "afk-sandbox-1-8", "memory.limit_in_bytes"), "utf8")).toBe(String(256 * 1024 ** 2));
    expect(readFileSync(join(fake, "memory", "job", "afk-sandbox-1-8", "memory.memsw.limit_in_bytes"), "utf8")).toBe(String(256 * 1024 ** 2));
    expect(readFileSync(join(fake, "pids", "afk-sandbox-1-8", "pids.max"), "utf8")).toBe("100");
    writeFileSync(join(fake, "memory", "job", "afk-sandbox-1-8", "memory.oom_control"), "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n");
    expect(await cgroup.counters()).toEqual({ oomKills: 2, pidsRefused: 0 });
  });
});
