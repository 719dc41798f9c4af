import { realpath } from "node:fs/promises";
import { join } from "node:path";
import { sanitizeUntrustedText } from "../trust/sanitize-untrusted-text.js";
import { keepHeadAndTail } from "../text/keep-head-and-tail.js";
import { AgentFileRefusal, readAgentFile } from "./read-agent-file.js";

/** Files in which repositories give coding agents their own instructions, read in this order. */
export const INSTRUCTION_FILES = ["AGENTS.md", "CLAUDE.md", ".github/copilot-instructions.md"] as const;

const MAX_CHARS_PER_FILE = 12_000;
/** Largest instruction file afk reads; a larger one is skipped and said so. */
export const MAX_INSTRUCTION_FILE_BYTES = 1024 * 1024;

/**
 * The repository's own instructions for agents, for the prompt. Read by afk outside the sandbox
 * through read-agent-file.ts, so a file must be a regular file inside the worktree reached without
 * any symbolic link (which could point at afk's own secrets, such as `/proc/self/environ`), and at
 * most MAX_INSTRUCTION_FILE_BYTES; anything else is skipped and said so.
 */
export async function readRepoInstructions(worktree: string): Promise<string> {
  const root = await realpath(worktree);
  const parts: string[] = [];
  for (const name of INSTRUCTION_FILES) {
    let text: string;
    try {
      ({ text } = await readAgentFile(
        join(root, name),
        root,
        MAX_INSTRUCTION_FILE_BYTES,
        (size, cap) => `(${name} is ${size}, larger than the ${cap} afk reads of an instruction file, so afk did not read it.)`,
      ));
    } catch (error) {
      if (!(error instanceof AgentFileRefusal)) throw error;
      if (error.reason === "missing") continue;
      parts.push(error.reason === "too-large" ? error.message : `(${name} is not a regular file in the repository, so afk did not read it.)`);
      continue;
    }
    parts.push(`From ${name}:\n\n${keepHeadAndTail(sanitizeUntrustedText(text), MAX_CHARS_PER_FILE).text}`);
  }
  return parts.length > 0 ? parts.join("\n\n---\n\n") : "The repository has no agent instructions (AGENTS.md, CLAUDE.md or .github/copilot-instructions.md).";
}
