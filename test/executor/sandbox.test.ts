import { mkdirSync, mkdtempSync, rmSync, writeFileSync, existsSync, readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bubblewrapArgs, createSandbox, hostSystem, looksSecret, SandboxUnavailableError, type SandboxLayout } from "../../src/executor/sandbox.js";
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

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), "afk-sbx-"));
  layout = { worktree: join(root, "worktree"), home: join(root, "home"), readOnly: [join(root, "shared")], hidden: [join(root, "shared", "app.pem")] };
  for (const dir of [layout.worktree, layout.home, join(root, "shared"), join(root, "sibling")]) mkdirSync(dir, { recursive: true });
  writeFileSync(join(root, "shared", "readme.txt"), "shared, read-only\n");
  writeFileSync(join(root, "shared", "app.pem"), "-----BEGIN PRIVATE KEY----- hidden\n");
  writeFileSync(join(root, "sibling", "other-repo.txt"), "another repository's data\n");
  Object.assign(process.env, SECRETS);
  sandbox = await createSandbox(layout, { allowUnsandboxed: false });
  server = createServer((_req, res) => res.end("reached"));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  for (const name of Object.keys(SECRETS)) delete process.env[name];
  await new Promise<void>((resolve) => server.close(() => resolve()));
  rmSync(root, { recursive: true, force: true });
});

const run = (command: string, network = false) => sandbox.run(command, { timeoutMs: 20_000, network });

describe("bubblewrap sandbox", () => {
  it("is bubblewrap, and commands start in the worktree with a cleared environment", async () => {
    expect(sandbox.kind).toBe("bubblewrap");
    const result = await run("pwd; env | sort");
    expect(result.exitCode).toBe(0);
    expect(result.output.split("\n")[0]).toBe(layout.worktree);
    const names = result.output.split("\n").slice(1).filter((line) => line.includes("=")).map((line) => line.split("=")[0]);
    expect(names.sort()).toEqual(["CI", "HOME", "LANG", "PATH", "PWD", "SHLVL", "TERM", "TMPDIR", "_"].sort());
  });

  it("shows no secret of the App: not in env, not in any /proc/*/environ, not in any process's command line", async () => {
    const result = await run("env; for f in /proc/[0-9]*/environ /proc/[0-9]*/cmdline; do tr '\\0' '\\n' < $f; done 2>/dev/null; ls /proc | grep -E '^[0-9]+$' | wc -l");
    for (const secret of Object.values(SECRETS)) expect(result.output).not.toContain(secret);
    expect(result.output).not.toContain(String(process.pid));
  });

  it("has its own pid namespace: the host's processes are invisible", async () => {
    const result = await run("ls /proc | grep -E '^[0-9]+$' | sort -n | tr '\\n' ' '");
    const pids = result.output.trim().split(/\s+/).map(Number);
    expect(pids.length).toBeLessThan(10);
    expect(pids).not.toContain(process.pid);
  });

  it("has no network unless asked: a loopback server is unreachable, then reachable with network on", async () => {
    const probe = `node -e "fetch('http://127.0.0.1:${port}/').then(r => r.text()).then(t => console.log('got:' + t), e => { console.log('failed:' + (e.cause?.code ?? e.message)); })"`;
    expect((await run(probe)).output).toMatch(/failed:/);
    expect((await run(probe, true)).output).toContain("got:reached");
  });

  it("writes only to the worktree and home; the system is read-only; the rest of the host is not even there", async () => {
    const result = await run(
      [
        "echo kept > kept.txt",
        "echo cache > \"$HOME/cache.txt\"",
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
    const result = await sandbox.run("echo FIRST; yes line | head -c 5000000; echo; echo LAST; exit 3", { timeoutMs: 20_000, network: false, maxOutputBytes: 10_000 });
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
    const args = bubblewrapArgs(layout, { network: false }, hostSystem(), "true");
    expect(args.join(" ")).not.toMatch(/--(ro-)?bind \/ \//);
    expect(args).toContain("--unshare-net");
    expect(args).toContain("--unshare-pid");
    expect(args).toContain("--clearenv");
    expect(bubblewrapArgs(layout, { network: true }, hostSystem(), "true")).not.toContain("--unshare-net");
  });
});
