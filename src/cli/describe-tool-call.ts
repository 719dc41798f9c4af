import { isAbsolute, relative } from "node:path";
import { z } from "zod";
import type { ToolCall } from "../executor/agent/agent-session.js";
import { terminalLine } from "./terminal-text.js";

const bashCall = z.object({ command: z.string().min(1) });
const editCall = z.object({ command: z.enum(["create", "str_replace", "insert"]), path: z.string().min(1) });
const EDIT_VERBS = { create: "create", str_replace: "edit", insert: "edit" } as const;

/**
 * The line `afk run` prints for one tool call of the agent: `$ <command>` for a command it runs,
 * `edit <path>` (or `create <path>`) for a file it changes; nothing for a call that only looks
 * (`view`) or that the tools will refuse as malformed. Paths inside the worktree are shown relative
 * to it. The model wrote every part of it, so it is one terminal-safe line. Pure.
 */
export function describeToolCall(call: ToolCall, worktree: string): string | undefined {
  if (call.name === "bash") {
    const bash = bashCall.safeParse(call.input);
    return bash.success ? `$ ${terminalLine(bash.data.command)}` : undefined;
  }
  if (call.name === "str_replace_based_edit_tool") {
    const edit = editCall.safeParse(call.input);
    if (!edit.success) return undefined;
    const path = edit.data.path;
    const inside = isAbsolute(path) ? relative(worktree, path) : path;
    const shown = inside.length === 0 || inside.startsWith("..") || isAbsolute(inside) ? path : inside;
    return `${EDIT_VERBS[edit.data.command]} ${terminalLine(shown)}`;
  }
  return undefined;
}
