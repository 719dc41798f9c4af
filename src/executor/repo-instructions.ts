import { lstat, readFile, realpath } from "node:fs/promises";
import { join, relative, isAbsolute } from "node:path";
import { sanitizeUntrustedText } from "../trust/sanitize-untrusted-text.js";
import { keepHeadAndTail } from "./keep-head-and-tail.js";

/** Files in which repositories give coding agents their own instructions, read in this order. */
export const INSTRUCTION_FILES = ["AGENTS.md", "CLAUDE.md", ".github/copilot-instructions.md"] as const;

const MAX_CHARS_PER_FILE = 12_000;

/**
 * The repository's own instructions for agents, for the prompt. Read by afk outside the sandbox, so
 * a file must be a regular file inside the worktree: a symlink (which could point at afk's own
 * secrets, such as `/proc/self/environ`) is skipped and said so.
 */
export async function readRepoInstructions(worktree: string): Promise<string> {
  const root = await realpath(worktree);
  const parts: string[] = [];
  for (const name of INSTRUCTION_FILES) {
    const path = join(root, name);
    let stats;
    try {
      stats = await lstat(path);
    } catch {
      continue;
    }
    const real = await realpath(path).catch(() => path);
    const inside = relative(root, real);
    if (!stats.isFile() || stats.isSymbolicLink() || inside.startsWith("..") || isAbsolute(inside)) {
      parts.push(`(${name} is not a regular file in the repository, so afk did not read it.)`);
      continue;
    }
    const text = await readFile(path, "utf8");
    parts.push(`From ${name}:\n\n${keepHeadAndTail(sanitizeUntrustedText(text), MAX_CHARS_PER_FILE).text}`);
  }
  return parts.length > 0 ? parts.join("\n\n---\n\n") : "The repository has no agent instructions (AGENTS.md, CLAUDE.md or .github/copilot-instructions.md).";
}
