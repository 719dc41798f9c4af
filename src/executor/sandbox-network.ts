import { spawn, type ChildProcess } from "node:child_process";
import { accessSync, closeSync, constants, existsSync, fstatSync, openSync, realpathSync, statSync } from "node:fs";
import type { Readable, Writable } from "node:stream";
import { findProgram, probeRun } from "./host-programs.js";

/**
 * Addresses a sandboxed command never reaches, even with network on: link-local (cloud metadata at
 * 169.254.169.254 on AWS, GCP, Azure and others) and the metadata and platform addresses some clouds
 * keep elsewhere (Alibaba 100.100.100.200, Azure's wire server 168.63.129.16). A `prohibit` route
 * refuses them at once (EACCES) instead of letting a connection wait for a timeout.
 */
export const UNREACHABLE_FROM_SANDBOX = ["169.254.0.0/16", "100.100.100.200/32", "168.63.129.16/32"] as const;

/** slirp4netns's resolver inside the sandbox's network (it forwards to the host's). */
export const SLIRP_RESOLVER = "10.0.2.3";

/** The programs that give a command a network of its own. */
export interface PrivateNetworkTools {
  slirp4netns: string;
  /** util-linux: creates the namespace (as a user namespace's member when afk is not root). */
  unshare: string;
  /** iproute2: brings up loopback and adds the prohibit routes. */
  ip: string;
  /** util-linux: drops the capabilities `unshare --keep-caps` gave, before bwrap starts (afk not root). */
  setpriv: string;
  /** slirp4netns was built with seccomp support. */
  seccomp: boolean;
  /** afk runs as root: no user namespace around the network, and slirp4netns sandboxes itself. */
  root: boolean;
}

export type PrivateNetworkSupport = { ok: true; tools: PrivateNetworkTools; version: string } | { ok: false; reason: string; fix: string };

/** Whether commands can get a network of their own here, and with which programs; or what to install. */
export async function probePrivateNetwork(slirpPath?: string): Promise<PrivateNetworkSupport> {
  const slirp4netns = slirpPath ?? findProgram("slirp4netns");
  if (slirp4netns === undefined || !existsSync(slirp4netns)) {
    return {
      ok: false,
      reason: "slirp4netns is not installed",
      fix: "Install it (Debian/Ubuntu: sudo apt-get install -y slirp4netns; Fedora: sudo dnf install slirp4netns).",
    };
  }
  const version = await probeRun(slirp4netns, ["--version"]);
  if (version.exitCode !== 0)
    return {
      ok: false,
      reason: `${slirp4netns} --version failed: ${version.output.trim()}`,
      fix: "Reinstall slirp4netns (Debian/Ubuntu: sudo apt-get install --reinstall -y slirp4netns).",
    };
  const ip = findProgram("ip");
  if (ip === undefined) return { ok: false, reason: "ip (iproute2) is not installed", fix: "Install it (Debian/Ubuntu: sudo apt-get install -y iproute2)." };
  const unshare = findProgram("unshare");
  const setpriv = findProgram("setpriv");
  if (unshare === undefined || setpriv === undefined)
    return {
      ok: false,
      reason: "unshare or setpriv (util-linux) is not installed",
      fix: "Install util-linux 2.38 or newer (Debian/Ubuntu: sudo apt-get install -y util-linux).",
    };
  const root = process.geteuid?.() === 0;
  if (!root) {
    const help = await probeRun(unshare, ["--help"]);
    if (!help.output.includes("--map-current-user") || !help.output.includes("--keep-caps")) {
      return {
        ok: false,
        reason: `${unshare} is older than util-linux 2.38 (no --map-current-user)`,
        fix: "Install util-linux 2.38 or newer, or run afk as root.",
      };
    }
    try {
      accessSync("/dev/net/tun", constants.R_OK | constants.W_OK);
    } catch {
      return {
        ok: false,
        reason: "/dev/net/tun is missing or not readable and writable by afk's user, so slirp4netns cannot make the sandbox's network device",
        fix: "Make it usable as most distributions ship it: sudo chmod 0666 /dev/net/tun (or load the tun module: sudo modprobe tun).",
      };
    }
  }
  const versionText = version.output.trim();
  return {
    ok: true,
    version: versionText.split("\n")[0] ?? "slirp4netns",
    tools: { slirp4netns, unshare, ip, setpriv, seccomp: versionText.includes("libseccomp"), root },
  };
}

/**
 * Runs in the new network namespace before bwrap: loopback up, the prohibit routes in place, then
 * bwrap (through setpriv, which drops the capabilities `unshare --keep-caps` lent to `ip`).
 * Arguments: the ip program, then bwrap's argv.
 */
const NETWORK_SCRIPT = [
  "ip=$1; shift",
  '"$ip" link set lo up || exit 125',
  ...UNREACHABLE_FROM_SANDBOX.map((range) => `"$ip" route add prohibit ${range} || exit 125`),
  'exec "$@"',
].join("\n");

/**
 * The argv that starts `inner` (bwrap's) in a network namespace of its own, with loopback and the
 * prohibit routes set up and no capability left. Pure.
 */
export function inPrivateNetwork(tools: PrivateNetworkTools, inner: readonly string[]): string[] {
  const dropCaps = tools.root ? [] : [tools.setpriv, "--inh-caps=-all", "--ambient-caps=-all", "--"];
  const user = tools.root ? [] : ["--map-current-user", "--keep-caps"];
  return [tools.unshare, ...user, "--net", "--", "/bin/sh", "-c", NETWORK_SCRIPT, "afk-network", tools.ip, ...dropCaps, ...inner];
}

/** What the sandbox's resolv.conf says with a private network. */
export const SANDBOX_RESOLV_CONF = `# afk sandbox: slirp4netns forwards this resolver to the host's\nnameserver ${SLIRP_RESOLVER}\n`;

let resolvConfPath: string | undefined | null = null;

/**
 * Where the sandbox's resolv.conf goes: the path the host's /etc/resolv.conf leads to (it may be a
 * link into /run, which the sandbox does not otherwise have). Undefined when the host has none.
 */
export function resolvConfTarget(): string | undefined {
  if (resolvConfPath === null) resolvConfPath = existsSync("/etc/resolv.conf") ? realpathSync("/etc/resolv.conf") : undefined;
  return resolvConfPath;
}

/** A running slirp4netns; `close` ends it. */
export interface SlirpConnection {
  close(): void;
}

/**
 * Connects the network namespace of `launcher` (the process that ran `inPrivateNetwork`, now bwrap,
 * which has not yet let the command start) to slirp4netns: outbound only, host loopback refused.
 * The namespaces are opened here, while `launcher` is known to be alive, and handed to slirp4netns
 * as descriptors, so a recycled pid can never send it into another namespace. Rejects with the reason.
 */
export async function connectSlirp(tools: PrivateNetworkTools, launcher: ChildProcess, timeoutMs = 10_000): Promise<SlirpConnection> {
  const pid = launcher.pid;
  if (pid === undefined || launcher.exitCode !== null || launcher.signalCode !== null) throw new Error("the sandbox ended before its network was set up");
  // Synchronous from the check above: Node has not reaped the launcher, so its pid is still its own.
  const netns = openSync(`/proc/${pid}/ns/net`, "r");
  const userns = openSync(`/proc/${pid}/ns/user`, "r");
  let slirp: ChildProcess;
  try {
    if (fstatSync(netns).ino === statSync("/proc/self/ns/net").ino) throw new Error("the sandbox is still in the host's network namespace");
    const args = [
      ...(tools.root ? ["--enable-sandbox"] : ["--userns-path=/proc/self/fd/6"]),
      ...(tools.seccomp ? ["--enable-seccomp"] : []),
      "--configure",
      "--mtu=65520",
      "--disable-host-loopback",
      "--ready-fd=3",
      "--exit-fd=4",
      "--netns-type=path",
      "/proc/self/fd/5",
      "tap0",
    ];
    slirp = spawn(tools.slirp4netns, args, { env: {}, stdio: ["ignore", "ignore", "pipe", "pipe", "pipe", netns, userns] });
  } finally {
    closeSync(netns);
    closeSync(userns);
  }
  const [, , stderrStream, readyStream, exitStream] = slirp.stdio as [null, null, Readable, Readable, Writable];
  for (const stream of [stderrStream, readyStream, exitStream]) stream.on("error", () => undefined);
  let stderr = "";
  stderrStream.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString("utf8")).slice(-2_000);
  });
  const close = (): void => {
    exitStream.destroy();
    readyStream.destroy();
    slirp.kill("SIGKILL");
  };
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`slirp4netns was not ready after ${timeoutMs} ms`)), timeoutMs);
      readyStream.once("data", () => {
        clearTimeout(timer);
        resolve();
      });
      slirp.once("error", (error) => {
        clearTimeout(timer);
        reject(error);
      });
      slirp.once("exit", (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`slirp4netns exited (${code ?? signal ?? "unknown"})`));
      });
    });
  } catch (error) {
    close();
    throw new Error(`${error instanceof Error ? error.message : String(error)}${stderr.trim() === "" ? "" : `: ${stderr.trim()}`}`);
  }
  return { close };
}
