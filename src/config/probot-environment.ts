import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { parseEnv } from "node:util";

/** The environment the App would start with, and where it came from. */
export interface ProbotEnvironment {
  env: NodeJS.ProcessEnv;
  /** `.env` in the working directory, when there is one: the names it sets (never the values). */
  dotEnv: { path: string; names: string[]; overriding: string[] } | undefined;
}

/**
 * The environment `npm start` hands the App, read the way Probot 14 reads it (`applyEnv` in its
 * `run` and its `probot` binaries): `.env` in the working directory, parsed with `node:util`'s
 * `parseEnv`, assigned over the process's environment, so a value in `.env` wins over one already
 * exported. No `.env` is no change. A `.env` that exists but cannot be read throws, as it does for
 * Probot. The process's own environment is not modified.
 */
export async function probotEnvironment(env: NodeJS.ProcessEnv, cwd: string): Promise<ProbotEnvironment> {
  const path = join(cwd, ".env");
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if (error instanceof Error && "code" in error && error.code === "ENOENT") return { env: { ...env }, dotEnv: undefined };
    throw error;
  }
  const fromFile = parseEnv(text);
  const names = Object.keys(fromFile);
  const overriding = names.filter((name) => env[name] !== undefined && env[name] !== fromFile[name]);
  return { env: { ...env, ...fromFile }, dotEnv: { path, names, overriding } };
}
