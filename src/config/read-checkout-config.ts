import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { parse as parseYaml } from "yaml";
import { errorMessage } from "../github/types.js";
import { CONFIG_PATH, parseRepoConfig } from "./load-repo-config.js";
import type { RepoConfig } from "./repo-config.js";

/** What a command line may set over a checkout's `.github/afk.yml`. */
export interface CheckoutConfigOverrides {
  /** The test command; needed when the checkout has no `.github/afk.yml`. */
  test?: string | undefined;
  maxUsd?: number | undefined;
  maxTurns?: number | undefined;
}

export type CheckoutConfig = { kind: "ok"; config: RepoConfig } | { kind: "error"; message: string };

/**
 * `.github/afk.yml` of a local checkout (`afk run`, `afk eval`), with the command line's overrides,
 * validated as the App validates it. Every problem comes back as a message that names the file.
 */
export async function readCheckoutConfig(repo: string, overrides: CheckoutConfigOverrides): Promise<CheckoutConfig> {
  let raw: unknown = {};
  try {
    raw = parseYaml(await readFile(join(repo, CONFIG_PATH), "utf8")) ?? {};
  } catch (error) {
    if (!(error instanceof Error && "code" in error && error.code === "ENOENT"))
      return { kind: "error", message: `${CONFIG_PATH} in ${repo} is not valid YAML: ${errorMessage(error)}` };
    if (overrides.test === undefined)
      return { kind: "error", message: `${repo} has no ${CONFIG_PATH}: pass the test command with --test "npm test" (or add the file).` };
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) return { kind: "error", message: `${CONFIG_PATH} must be a mapping of settings` };
  const merged: Record<string, unknown> = { ...raw };
  if (overrides.test !== undefined) merged.test = overrides.test;
  if (overrides.maxUsd !== undefined || overrides.maxTurns !== undefined) {
    const budget = typeof merged.budget === "object" && merged.budget !== null ? merged.budget : {};
    merged.budget = {
      ...budget,
      ...(overrides.maxUsd === undefined ? {} : { max_usd: overrides.maxUsd }),
      ...(overrides.maxTurns === undefined ? {} : { max_turns: overrides.maxTurns }),
    };
  }
  const parsed = parseRepoConfig(merged);
  if (parsed.kind === "ok") return parsed;
  if (parsed.kind === "invalid")
    return {
      kind: "error",
      message: `${CONFIG_PATH} has problems:\n${parsed.problems.map((p) => `  - ${p.field}: ${p.problem} (allowed: ${p.allowed})`).join("\n")}`,
    };
  return { kind: "error", message: `${CONFIG_PATH} could not be read` };
}
