import { describe, expect, it } from "vitest";
import { hostArgv } from "../../src/executor/sandbox.js";
import { counter, ownCgroups } from "../../src/executor/sandbox-cgroup.js";
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
    expect(own).toEqual({ memory: "/sys/fs/cgroup/memory/process_api/84a6", pids: "/sys/fs/cgroup/pids", unified: { mount: "/sys/fs/cgroup/unified", dir: "/sys/fs/cgroup/unified" } });
  });

  it("finds a systemd service's cgroup on a unified host", () => {
    const own = ownCgroups("0::/system.slice/afk.service\n", mountinfo(["/ /sys/fs/cgroup rw,nosuid shared:4 - cgroup2 cgroup2 rw,nsdelegate"]));
    expect(own).toEqual({ unified: { mount: "/sys/fs/cgroup", dir: "/sys/fs/cgroup/system.slice/afk.service" } });
  });

  it("maps a path through a mount that shows only part of the hierarchy, and ignores one it cannot reach", () => {
    expect(ownCgroups("0::/docker/abc\n", mountinfo(["/docker/abc /sys/fs/cgroup ro,nosuid - cgroup2 cgroup2 rw"])).unified).toEqual({ mount: "/sys/fs/cgroup", dir: "/sys/fs/cgroup" });
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
  const tools: PrivateNetworkTools = { slirp4netns: "/usr/bin/slirp4netns", unshare: "/usr/bin/unshare", ip: "/usr/sbin/ip", setpriv: "/usr/bin/setpriv", seccomp: true, root: false };

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
    expect(argv.slice(15)).toEqual(["afk-network", "/usr/sbin/ip", "/usr/bin/setpriv", "--inh-caps=-all", "--ambient-caps=-all", "--", "/usr/bin/bwrap", "--", "true"]);
    expect(inPrivateNetwork({ ...tools, root: true }, ["bwrap"])).toEqual(["/usr/bin/unshare", "--net", "--", "/bin/sh", "-c", expect.any(String), "afk-network", "/usr/sbin/ip", "bwrap"]);
    expect(hostArgv(["/usr/bin/bwrap", "--", "true"], [])).toEqual(["/usr/bin/bwrap", "--", "true"]);
  });
});
