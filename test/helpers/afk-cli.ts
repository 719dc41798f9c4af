// `afk` as a person types it, for the CLI tests: the command in a child process (tsx loading
// src/cli/afk.ts), with exactly the environment given, and its stdout, stderr and exit code.
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { REPO_ROOT } from "./app-process.js";

/** afk's command line, in the source tree. */
export const AFK = join(REPO_ROOT, "src", "cli", "afk.ts");
/** tsx's loader by absolute path, so the command runs from any working directory (a temp dir with a .env). */
export const TSX = join(REPO_ROOT, "node_modules", "tsx", "dist", "loader.mjs");

/** This afk's version, as package.json says. */
export const AFK_VERSION = String((JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8")) as { version: unknown }).version);

/** Several commands at once, each a Node process loading tsx: room for a busy machine. */
export const MANY_PROCESSES_MS = 60_000;

export interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `afk ARGS` in `cwd` with `env` as its whole environment (PATH added when missing). */
export function runAfk(args: readonly string[], options: { cwd: string; env: Record<string, string> }): Promise<Ran> {
  const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", ...options.env };
  const child = spawn(process.execPath, ["--import", TSX, AFK, ...args], { cwd: options.cwd, env, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => void (stdout += chunk));
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => void (stderr += chunk));
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, stdout, stderr }));
  });
}
