import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { createServer as createNetServer, type AddressInfo, type Server as NetServer } from "node:net";
import { networkInterfaces, tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  bubblewrapArgs,
  createSandbox,
  hostSystem,
  looksSecret,
  probeSandboxLimits,
  SandboxUnavailableError,
  type CommandPlan,
  type SandboxLayout,
} from "../../src/executor/sandbox.js";
import { DEFAULT_SANDBOX_LIMITS } from "../../src/executor/sandbox-limits.js";
import type { Sandbox } from "../../src/executor/sandbox-contract.js";

const SECRETS = {
  ANTHROPIC_API_KEY: "sk-ant-api03-sandbox-test-secret-value",
  GITHUB_TOKEN: "ghs_sandboxtestsecrettoken000000000000",
  PRIVATE_KEY: "-----BEGIN RSA PRIVATE KEY-----sandbox-test",
  WEBHOOK_SECRET: "webhook-secret-sandbox-test",
};

let root: string;
let layout: SandboxLayout;
let sandbox: Sandbox;
let server: Server;
let port: number;
/** An address of this machine that is not loopback, where one exists, and a server listening there. */
let hostAddress: string | undefined;
let hostServer: Server | undefined;
let hostPort: number;
let hostHits = 0;
let abstractServer: NetServer;
const abstractName = `afk-sandbox-test-${process.pid}`;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), "afk-sbx-"));
  layout = { worktree: join(root, "worktree"), home: join(root, "home"), readOnly: [join(root, "shared")], hidden: [join(root, "shared", "app.pem")] };
  for (const dir of [layout.worktree, layout.home, join(root, "shared"), join(root, "sibling")]) mkdirSync(dir, { recursive: true });
  writeFileSync(join(root, "shared", "readme.txt"), "shared, read-only\n");
  writeFileSync(join(root, "shared", "app.pem"), "-----BEGIN PRIVATE KEY----- hidden\n");
  writeFileSync(join(root, "sibling", "other-repo.txt"), "another repository's data\n");
  Object.assign(process.env, SECRETS);
  sandbox = await createSandbox(layout, { allowUnsandboxed: false });
  server = createServer((_req, res) => {
    hostHits += 1;
    res.end("reached");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as AddressInfo).port;
  hostAddress = Object.values(networkInterfaces())
    .flat()
    .find((address) => address !== undefined && address.family === "IPv4" && !address.internal)?.address;
  if (hostAddress !== undefined) {
    const listening = createServer((_req, res) => res.end("reached"));
    await new Promise<void>((resolve) => listening.listen(0, hostAddress, resolve));
    hostPort = (listening.address() as AddressInfo).port;
    hostServer = listening;
  }
  abstractServer = createNetServer((socket) => socket.end("reached"));
  await new Promise<void>((resolve) => abstractServer.listen(`\0${abstractName}`, resolve));
});

afterAll(async () => {
  for (const name of Object.keys(SECRETS)) delete process.env[name];
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await new Promise<void>((resolve) => (hostServer === undefined ? resolve() : hostServer.close(() => resolve())));
  await new Promise<void>((resolve) => abstractServer.close(() => resolve()));
  rmSync(root, { recursive: true, force: true });
});

const run = (command: string, network = false) => sandbox.run(command, { timeoutMs: 20_000, network });
/** A command that fetches `url` and prints `got:<body>` or `failed:<code>`. */
const fetchProbe = (url: string): string =>
  `node -e "fetch('${url}').then(r => r.text()).then(t => console.log('got:' + t), e => { console.log('failed:' + (e.cause?.code ?? e.message)); })"`;

describe("bubblewrap sandbox", () => {
  it("is bubblewrap, and commands start in the worktree with a cleared environment", async () => {
    expect(sandbox.kind).toBe("bubblewrap");
    const result = await run("pwd; env | sort");
    expect(result.exitCode).toBe(0);
    expect(result.output.split("\n")[0]).toBe(layout.worktree);
    const names = result.output
      .split("\n")
      .slice(1)
      .filter((line) => line.includes("="))
      .map((line) => line.split("=")[0]);
    expect(names.sort()).toEqual(["CI", "HOME", "LANG", "PATH", "PWD", "SHLVL", "TERM", "TMPDIR", "_"].sort());
  });

  it("shows no secret of the App: not in env, not in any /proc/*/environ, not in any process's command line", async () => {
    const result = await run(
      "env; for f in /proc/[0-9]*/environ /proc/[0-9]*/cmdline; do tr '\\0' '\\n' < $f; done 2>/dev/null; ls /proc | grep -E '^[0-9]+$' | wc -l",
    );
    for (const secret of Object.values(SECRETS)) expect(result.output).not.toContain(secret);
    expect(result.output).not.toContain(String(process.pid));
  });

  it("has its own pid namespace: the host's processes are invisible", async () => {
    const result = await run("ls /proc | grep -E '^[0-9]+$' | sort -n | tr '\\n' ' '");
    const pids = result.output.trim().split(/\s+/).map(Number);
    expect(pids.length).toBeLessThan(10);
    expect(pids).not.toContain(process.pid);
  });

  it("has no network unless asked: off, not even this machine's own address answers; on, it does, through a network of its own", async () => {
    const onOwnNetwork = await run("ip route", true);
    expect(onOwnNetwork.output).toContain("default via 10.0.2.2 dev tap0");
    expect((await run("ip route")).output).not.toContain("tap0");
    if (hostAddress === undefined) {
      // This machine has no address but loopback: outbound traffic cannot be shown without the internet.
      expect(onOwnNetwork.exitCode).toBe(0);
      return;
    }
    const probe = fetchProbe(`http://${hostAddress}:${hostPort}/`);
    expect((await run(probe)).output).toMatch(/failed:/);
    expect((await run(probe, true)).output).toContain("got:reached");
  });

  it("with network on, the host's loopback, its abstract sockets and cloud metadata stay out of reach, and names go to slirp4netns's resolver", async () => {
    const loopback = await run(fetchProbe(`http://127.0.0.1:${port}/`), true);
    expect(loopback.output).toMatch(/failed:ECONNREFUSED/);
    // 10.0.2.2 is slirp4netns's way to the host's loopback, closed by --disable-host-loopback.
    const gateway = await run(fetchProbe(`http://10.0.2.2:${port}/`), true);
    expect(gateway.output).toMatch(/failed:/);
    expect(gateway.output).not.toContain("got:reached");
    const abstract = await run(
      `node -e "require('net').connect('\\0${abstractName}').on('connect', () => console.log('abstract:connected')).on('error', (e) => console.log('abstract:' + e.code))"`,
      true,
    );
    expect(abstract.output).toContain("abstract:ECONNREFUSED");
    const metadata = await run(
      `node -e "const t = Date.now(); fetch('http://169.254.169.254/latest/meta-data/').then(() => console.log('metadata:answered'), (e) => console.log('metadata:' + (e.cause?.code ?? e.message) + ':' + (Date.now() - t)))"`,
      true,
    );
    const [, code, ms] = /metadata:([A-Z]+):(\d+)/.exec(metadata.output) ?? [];
    expect(code).toBe("EACCES");
    expect(Number(ms)).toBeLessThan(3_000);
    expect((await run("cat /etc/resolv.conf", true)).output).toMatch(/^nameserver 10\.0\.2\.3$/m);
    expect(hostHits).toBe(0);
  });

  it("refuses network-on commands where slirp4netns is missing, unless the operator allowed the host's network", async () => {
    const strict = await createSandbox(layout, { allowUnsandboxed: false, slirp4netnsPath: "/nonexistent/slirp4netns" });
    const refusedRun = await strict.run("echo ran", { timeoutMs: 20_000, network: true });
    expect(refusedRun.exitCode).toBeNull();
    expect(refusedRun.output).not.toContain("ran\n");
    expect(refusedRun.output).toMatch(/afk refused to run this command: it needs the network, and slirp4netns is not installed/);
    expect(refusedRun.output).toContain("sudo apt-get install -y slirp4netns");
    expect(refusedRun.output).toContain("AFK_ALLOW_HOST_NETWORK=1");
    expect((await strict.run("echo ran", { timeoutMs: 20_000, network: false })).output).toBe("ran\n");
    const hostNetwork = await createSandbox(layout, { allowUnsandboxed: false, slirp4netnsPath: "/nonexistent/slirp4netns", allowHostNetwork: true });
    expect((await hostNetwork.run(fetchProbe(`http://127.0.0.1:${port}/`), { timeoutMs: 20_000, network: true })).output).toContain("got:reached");
  });

  it("writes only to the worktree and home; the system is read-only; the rest of the host is not even there", async () => {
    const result = await run(
      [
        "echo kept > kept.txt",
        'echo cache > "$HOME/cache.txt"',
        "touch /usr/afk-test 2>&1 | head -1",
        "touch /etc/afk-test 2>&1 | head -1",
        `ls ${join(root, "sibling")} 2>&1 | head -1`,
        `cat ${join(root, "shared", "readme.txt")}`,
        `echo x > ${join(root, "shared", "new.txt")} 2>&1 | head -1`,
        "ls /root /home /work 2>&1 | head -3",
      ].join("; "),
    );
    expect(readFileSync(join(layout.worktree, "kept.txt"), "utf8")).toBe("kept\n");
    expect(readFileSync(join(layout.home, "cache.txt"), "utf8")).toBe("cache\n");
    expect(result.output).toMatch(/touch: cannot touch '\/usr\/afk-test': Read-only file system/);
    expect(result.output).toMatch(/touch: cannot touch '\/etc\/afk-test': Read-only file system/);
    expect(result.output).toMatch(/sibling': No such file or directory/);
    expect(result.output).toContain("shared, read-only");
    expect(result.output).toMatch(/new\.txt: Read-only file system/);
    expect(existsSync(join(root, "shared", "new.txt"))).toBe(false);
  });

  it("gives every command a private /tmp: the host's is invisible and nothing written there survives", async () => {
    const hostFile = join(tmpdir(), `afk-host-visible-${process.pid}`);
    writeFileSync(hostFile, "host");
    try {
      const first = await run(`ls ${hostFile} 2>&1; echo leftover > /tmp/leftover; ls /tmp`);
      expect(first.output).toMatch(/No such file or directory/);
      expect(first.output).toContain("leftover");
      expect((await run("ls /tmp/leftover 2>&1")).output).toMatch(/No such file or directory/);
    } finally {
      rmSync(hostFile, { force: true });
    }
  });

  it("masks hidden files even inside a mount that shows their directory", async () => {
    const result = await run(`cat ${join(root, "shared", "app.pem")}; cat ${join(root, "shared", "readme.txt")}`);
    expect(result.output).not.toContain("PRIVATE KEY");
    expect(result.output).toContain("shared, read-only");
  });

  it("kills a command and everything it started at the timeout", async () => {
    const result = await sandbox.run("sleep 1000 & sleep 1000", { timeoutMs: 500, network: false });
    expect(result.timedOut).toBe(true);
    expect(result.exitCode).toBeNull();
  });

  it("kills a command when the run is aborted", async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error("stop")), 300);
    const result = await sandbox.run("sleep 1000", { timeoutMs: 60_000, network: false, signal: controller.signal });
    expect(result.exitCode).toBeNull();
    expect(result.timedOut).toBe(false);
  });

  it("keeps the head and tail of huge output, with memory bounded, and passes exit codes through", async () => {
    const result = await sandbox.run("echo FIRST; yes line | head -c 5000000; echo; echo LAST; exit 3", {
      timeoutMs: 20_000,
      network: false,
      maxOutputBytes: 10_000,
    });
    expect(result.exitCode).toBe(3);
    expect(result.truncated).toBe(true);
    expect(result.output.startsWith("FIRST")).toBe(true);
    expect(result.output.trimEnd().endsWith("LAST")).toBe(true);
    expect(result.output.length).toBeLessThan(11_000);
    expect(result.output).toMatch(/bytes of output omitted/);
  });

  it("refuses to start without bubblewrap unless the operator allowed it, and still clears the environment then", async () => {
    const error = await createSandbox(layout, { allowUnsandboxed: false, bwrapPath: "/nonexistent/bwrap" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SandboxUnavailableError);
    expect(String(error)).toMatch(/bubblewrap \(bwrap\) is not installed/);
    expect(String(error)).toContain("sudo apt-get install -y bubblewrap");
    expect(String(error)).toContain("AFK_ALLOW_UNSANDBOXED=1");
    const unsandboxed = await createSandbox(layout, { allowUnsandboxed: true, bwrapPath: "/nonexistent/bwrap" });
    expect(unsandboxed.kind).toBe("unsandboxed");
    const env = await unsandboxed.run("env", { timeoutMs: 5_000, network: false });
    for (const secret of Object.values(SECRETS)) expect(env.output).not.toContain(secret);
  });

  it("refuses environment names that look like secrets, but lets git's GIT_CONFIG_* through", async () => {
    expect(looksSecret("GITHUB_TOKEN")).toBe(true);
    expect(looksSecret("ANTHROPIC_API_KEY")).toBe(true);
    expect(looksSecret("MY_SECRET")).toBe(true);
    expect(looksSecret("GIT_CONFIG_KEY_0")).toBe(false);
    expect(looksSecret("GIT_OBJECT_DIRECTORY")).toBe(false);
    await expect(createSandbox({ ...layout, env: { NPM_TOKEN: "x" } }, { allowUnsandboxed: true })).rejects.toThrow(/NPM_TOKEN/);
  });

  it("builds arguments that never bind / and unshare the network unless asked", () => {
    const plan: CommandPlan = { network: "none", limits: DEFAULT_SANDBOX_LIMITS, mechanism: "rlimits", tmpfsSize: true };
    const args = bubblewrapArgs(layout, plan, hostSystem(), "true");
    expect(args.join(" ")).not.toMatch(/--(ro-)?bind \/ \//);
    expect(args).toContain("--unshare-net");
    expect(args).toContain("--unshare-pid");
    expect(args).toContain("--clearenv");
    expect(bubblewrapArgs(layout, { ...plan, network: "private" }, hostSystem(), "true")).not.toContain("--unshare-net");
  });
});

describe("sandbox limits", () => {
  const MiB = 1024 ** 2;
  const small = { memoryBytes: 192 * MiB, processes: 64, tmpBytes: 8 * MiB, fileBytes: 16 * MiB };
  let bounded: Sandbox;

  beforeAll(async () => {
    bounded = await createSandbox(layout, { allowUnsandboxed: false, limits: small });
  });

  const runBounded = (command: string) => bounded.run(command, { timeoutMs: 30_000, network: false });

  it("ends a fork bomb with a message, and the next command runs", async () => {
    // Only a cgroup lets afk see the bomb and end it; without one it would run to its timeout, or as root take the machine: fail first.
    expect((await probeSandboxLimits()).mechanism, "no cgroup afk may write here (see afk doctor)").not.toBe("rlimits");
    const bomb = await runBounded("bomb() { bomb | bomb & }; bomb; sleep 60");
    expect(bomb.limit).toBe("processes");
    expect(bomb.output).toContain("[killed: the command ran more than 64 processes and threads at once (sandbox limit)]");
    expect(bomb.durationMs).toBeLessThan(15_000);
    expect((await runBounded("echo still here")).output).toBe("still here\n");
  });

  it("kills a command that allocates more memory than its limit, and says so", async () => {
    const hog = await runBounded(`node -e "const kept = []; for (;;) kept.push(Buffer.alloc(8 * 1024 * 1024, 1))"`);
    expect(hog.exitCode).not.toBe(0);
    expect(hog.limit).toBe("memory");
    expect(hog.output).toMatch(/192 MiB.*\(sandbox limit\)\]$/);
    expect((await runBounded("echo still here")).output).toBe("still here\n");
  });

  it("bounds /tmp and /dev/shm, and keeps the sandbox's root and /dev read-only", async () => {
    const result = await runBounded(
      [
        "head -c 20M /dev/zero > /tmp/big; echo tmp=$? size=$(stat -c %s /tmp/big)",
        "head -c 20M /dev/zero > /dev/shm/big; echo shm=$?",
        "touch /planted 2>&1",
        "touch /dev/planted 2>&1",
      ].join("; "),
    );
    expect(result.output).toMatch(/No space left on device/);
    const [, tmpExit, tmpSize] = /tmp=(\d+) size=(\d+)/.exec(result.output) ?? [];
    expect(tmpExit).not.toBe("0");
    expect(Number(tmpSize)).toBeLessThanOrEqual(8 * MiB);
    expect(result.output).not.toContain("shm=0");
    expect(result.output).toMatch(/cannot touch '\/planted': Read-only file system/);
    expect(result.output).toMatch(/cannot touch '\/dev\/planted': Read-only file system/);
  });

  it("stops a command writing a file larger than the limit in the worktree, and afk's own programs too", async () => {
    const huge = await runBounded("head -c 64M /dev/zero > huge.bin; echo after=$?");
    expect(huge.limit).toBe("file-size");
    expect(huge.output).toContain("[stopped: the command tried to write a file larger than 16 MiB (sandbox limit)]");
    expect(statSync(join(layout.worktree, "huge.bin")).size).toBeLessThanOrEqual(16 * MiB);
    const program = await bounded.runProgram(["dd", "if=/dev/zero", "of=program.bin", "bs=1M", "count=64"], { timeoutMs: 30_000, network: false });
    expect(program.exitCode).not.toBe(0);
    expect(program.limit).toBe("file-size");
    expect(program.stderr).toContain("(sandbox limit)]");
    expect(statSync(join(layout.worktree, "program.bin")).size).toBeLessThanOrEqual(16 * MiB);
    rmSync(join(layout.worktree, "huge.bin"));
    rmSync(join(layout.worktree, "program.bin"));
  });

  it("kills a command that grows the disk by more than its limit, many files below the file limit", async () => {
    const disk = await createSandbox(layout, { allowUnsandboxed: false, limits: { ...small, diskGrowthBytes: 96 * MiB } });
    const result = await disk.run("for i in $(seq 1 40); do head -c 12M /dev/zero > part$i.bin; sync part$i.bin; done; echo finished", {
      timeoutMs: 60_000,
      network: false,
    });
    expect(result.limit).toBe("disk");
    expect(result.output).not.toContain("finished");
    expect(result.output).toContain("[killed: the command wrote more than 96 MiB to disk (sandbox limit)]");
    const parts = readdirSync(layout.worktree).filter((name) => name.startsWith("part"));
    expect(parts.length).toBeLessThan(40);
    for (const part of parts) rmSync(join(layout.worktree, part));
  });

  it("keeps kernel settings read-only even when afk runs as root", async () => {
    const result = await runBounded(
      "echo planted > /proc/sys/kernel/hostname 2>&1; hostname; [ -e /proc/sysrq-trigger ] && : > /proc/sysrq-trigger 2>&1; echo done",
    );
    expect(result.output).toMatch(/\/proc\/sys\/kernel\/hostname: Read-only file system/);
    expect(result.output).toContain("afk-sandbox");
    expect(result.output).not.toContain("planted\n");
  });
});
