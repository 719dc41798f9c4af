import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { delimiter, join } from "node:path";

/** The system's program directories: the sandbox's PATH, and where afk also looks for the programs that build a sandbox. */
export const SYSTEM_PATH = ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"];

/** A program of the host's, on afk's PATH or in a system directory (`ip` often lives in /usr/sbin, off a user's PATH). */
export function findProgram(name: string): string | undefined {
  for (const dir of [...(process.env.PATH ?? "").split(delimiter), ...SYSTEM_PATH]) {
    if (dir === "") continue;
    const candidate = join(dir, name);
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

/** Runs a host program afk probes (`--version`, `--help`, a trial sandbox) with an empty environment, for at most 10 s. */
export function probeRun(file: string, args: readonly string[]): Promise<{ exitCode: number | null; output: string }> {
  return new Promise((resolve) => {
    execFile(file, [...args], { env: {}, timeout: 10_000 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === "number" ? error.code : null;
      resolve({ exitCode: code, output: `${stdout}${stderr}` });
    });
  });
}
