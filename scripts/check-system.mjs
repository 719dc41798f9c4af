// Runs before `npm test`: names any system package the test suite needs that this machine lacks,
// and checks that bubblewrap can actually create its namespaces here (the executor's tests run it for real).
import { execFileSync } from "node:child_process";
import { accessSync, constants } from "node:fs";

const required = [
  { command: "git", args: ["--version"], apt: "git" },
  { command: "bwrap", args: ["--version"], apt: "bubblewrap" },
  // Network-on commands get a network of their own: slirp4netns, iproute2's ip (often in /usr/sbin, off a user's PATH), util-linux's unshare and setpriv.
  { command: "slirp4netns", args: ["--version"], apt: "slirp4netns" },
  { command: "ip", args: ["-V"], apt: "iproute2" },
  { command: "unshare", args: ["--version"], apt: "util-linux" },
  { command: "setpriv", args: ["--version"], apt: "util-linux" },
  // The setup page a person clicks is tested in a real browser.
  { command: "chromium", args: ["--version"], apt: "chromium" },
];
// The eval suite's Python tasks run python3 inside the sandbox, which sees only the system's directories.
const sandboxPath = ["/usr/local/bin", "/usr/bin", "/bin"];
const pythonMissing = !sandboxPath.some((dir) => {
  try {
    accessSync(`${dir}/python3`, constants.X_OK);
    return true;
  } catch {
    return false;
  }
});
const missing = required.filter(({ command, args }) => {
  for (const candidate of [command, `/usr/sbin/${command}`, `/sbin/${command}`]) {
    try {
      execFileSync(candidate, args, { stdio: "ignore" });
      return false;
    } catch {
      // Try the next place.
    }
  }
  return true;
});
if (pythonMissing) missing.push({ command: "python3 (in /usr/bin or /usr/local/bin, where the sandbox looks)", apt: "python3" });
if (missing.length > 0) {
  const names = [...new Set(missing.map((item) => item.apt))].join(" ");
  console.error(`The tests need: ${missing.map((item) => item.command).join(", ")}. Install with: sudo apt-get install -y ${names}`);
  process.exit(1);
}
try {
  execFileSync(
    "bwrap",
    [
      "--ro-bind",
      "/usr",
      "/usr",
      "--symlink",
      "usr/bin",
      "/bin",
      "--symlink",
      "usr/lib",
      "/lib",
      "--symlink",
      "usr/lib64",
      "/lib64",
      "--proc",
      "/proc",
      "--dev",
      "/dev",
      "--unshare-pid",
      "--unshare-net",
      "--",
      "/bin/true",
    ],
    { stdio: "pipe" },
  );
} catch (error) {
  const detail = error instanceof Error && "stderr" in error ? String(error.stderr).trim() : String(error);
  console.error(
    `bubblewrap is installed but cannot create its namespaces here (${detail}).\n` +
      "Allow unprivileged user namespaces (sudo sysctl -w kernel.unprivileged_userns_clone=1; on Ubuntu 24.04+ also sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0), or run the tests as root.",
  );
  process.exit(1);
}
if (process.getuid?.() !== 0) {
  try {
    accessSync("/dev/net/tun", constants.R_OK | constants.W_OK);
  } catch {
    console.error(
      "slirp4netns needs /dev/net/tun readable and writable by this user to give sandboxed commands a network: sudo chmod 0666 /dev/net/tun (or sudo modprobe tun), or run the tests as root.",
    );
    process.exit(1);
  }
}
