import type Anthropic from "@anthropic-ai/sdk";
import { lstat, realpath } from "node:fs/promises";
import { dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import { z } from "zod";
import { cutMiddle, explainDroppedOutput, listingWindow, viewWindow } from "./bounded-output.js";
import { AgentFileRefusal, openAgentEntry, readAgentFile, writeAgentFile } from "../read-agent-file.js";
import type { Sandbox } from "../sandbox-contract.js";
import { redactSecrets } from "./redact-secrets.js";

/** Characters of a file `view` shows at most (the editor tool's `max_characters`), its note included; less when a tool result may hold less. */
export const VIEW_MAX_CHARS = 30_000;
/** Room in a tool result for afk's own lines after a command's output (exit code, limits, the note on a cut). */
const RESULT_NOTE_ROOM = 1_500;
/** Largest file `view` (without a range), `str_replace` and `insert` read whole into afk's memory. */
export const EDITOR_MAX_FILE_BYTES = 4 * 1024 * 1024;
/** How far into a file `view` with a `view_range` reads at most, streaming. */
export const VIEW_RANGE_MAX_SCAN_BYTES = 64 * 1024 * 1024;

/** Anthropic's own client tools, the newest versions the installed SDK lists; afk executes them. */
export const AGENT_TOOLS: Anthropic.Messages.ToolUnion[] = [
  { type: "bash_20250124", name: "bash" },
  { type: "text_editor_20250728", name: "str_replace_based_edit_tool", max_characters: VIEW_MAX_CHARS },
];

const bashInput = z.union([z.object({ command: z.string().min(1) }), z.object({ restart: z.literal(true) })]);
const editorInput = z.discriminatedUnion("command", [
  z.object({ command: z.literal("view"), path: z.string().min(1), view_range: z.tuple([z.number().int(), z.number().int()]).optional() }),
  z.object({ command: z.literal("create"), path: z.string().min(1), file_text: z.string() }),
  z.object({ command: z.literal("str_replace"), path: z.string().min(1), old_str: z.string().min(1), new_str: z.string().default("") }),
  z.object({
    command: z.literal("insert"),
    path: z.string().min(1),
    insert_line: z.number().int().min(0),
    insert_text: z.string().optional(),
    new_str: z.string().optional(),
  }),
]);

export interface ToolResult {
  content: string;
  isError: boolean;
}

/**
 * The agent's hands. `bash` runs in the sandbox; the editor runs in afk's process, so every path is
 * confined to the worktree by its real location (symlinks and `..` cannot leave it) and `.git` is
 * off limits, and every file is read and written through read-agent-file.ts: never through a link
 * swapped in after the check, never a FIFO, never more than a bounded number of bytes. Every result
 * is stripped of known secrets and fits in `maxResultChars`: a view is a window of lines, a command's
 * output keeps its head and tail, each cut once and saying how much was left out and how to see it.
 */
export class WorkspaceTools {
  readonly #sandbox: Sandbox;
  readonly #commandTimeoutMs: number;
  readonly #network: boolean;
  readonly #maxResultChars: number;
  readonly #secrets: readonly string[];
  readonly #readOnly: boolean;
  /** Characters of a view (window and note). */
  readonly #viewChars: number;
  /** Bytes of a command's output the sandbox keeps (head and tail), leaving room for afk's lines after it. */
  readonly #outputBytes: number;

  constructor(options: {
    sandbox: Sandbox;
    commandTimeoutMs: number;
    network: boolean;
    maxResultChars: number;
    secrets: readonly string[];
    readOnly?: boolean;
  }) {
    this.#readOnly = options.readOnly ?? false;
    this.#sandbox = options.sandbox;
    this.#commandTimeoutMs = options.commandTimeoutMs;
    this.#network = options.network;
    this.#maxResultChars = options.maxResultChars;
    this.#secrets = options.secrets;
    const room = Math.min(RESULT_NOTE_ROOM, Math.floor(options.maxResultChars / 2));
    this.#viewChars = Math.min(VIEW_MAX_CHARS, options.maxResultChars - room);
    this.#outputBytes = options.maxResultChars - room;
  }

  /** Executes one tool call. Bad input from the model is an error result it can act on, never a throw. */
  async execute(name: string, input: unknown, signal?: AbortSignal): Promise<ToolResult> {
    let result: ToolResult;
    try {
      if (name === "bash") result = await this.#bash(input, signal);
      else if (name === "str_replace_based_edit_tool") result = await this.#edit(input);
      else result = { content: `There is no tool named ${JSON.stringify(name)}. Use bash or str_replace_based_edit_tool.`, isError: true };
    } catch (error) {
      result = {
        content:
          error instanceof ToolRefusal || error instanceof AgentFileRefusal
            ? error.message
            : `The tool failed: ${error instanceof Error ? error.message : String(error)}`,
        isError: true,
      };
    }
    const hint =
      name === "bash"
        ? "To see them, run the command again with its output in a file (`command > ~/out.txt 2>&1`) and read parts of it (`grep -n`, `sed -n '200,300p'`)."
        : "Read a file in parts with view_range [start, end], or with bash (grep -n, sed -n '200,300p').";
    return { content: cutMiddle(redactSecrets(result.content, this.#secrets), this.#maxResultChars, hint), isError: result.isError };
  }

  async #bash(input: unknown, signal: AbortSignal | undefined): Promise<ToolResult> {
    const parsed = bashInput.safeParse(input);
    if (!parsed.success) return { content: 'bash needs {"command": "..."} (or {"restart": true}).', isError: true };
    if ("restart" in parsed.data)
      return { content: "The shell was restarted. (Every command already runs in a fresh shell at the repository root.)", isError: false };
    const result = await this.#sandbox.run(parsed.data.command, {
      timeoutMs: this.#commandTimeoutMs,
      network: this.#network,
      maxOutputBytes: this.#outputBytes,
      ...(signal === undefined ? {} : { signal }),
    });
    const notes: string[] = [];
    if (result.timedOut) notes.push(`[killed: the command ran longer than ${Math.round(this.#commandTimeoutMs / 1000)} s]`);
    else if (result.exitCode !== 0) notes.push(`[exit code ${result.exitCode ?? result.signal ?? "unknown"}]`);
    const output = result.output.length > 0 ? explainDroppedOutput(result.output, result.truncated) : "(no output)";
    return { content: [output, ...notes].join("\n"), isError: result.timedOut || result.exitCode !== 0 };
  }

  async #edit(input: unknown): Promise<ToolResult> {
    const parsed = editorInput.safeParse(input);
    if (!parsed.success) {
      return {
        content: `Invalid input for str_replace_based_edit_tool: ${parsed.error.issues.map((issue) => `${issue.path.join(".") || "input"}: ${issue.message}`).join("; ")}`,
        isError: true,
      };
    }
    const request = parsed.data;
    if (this.#readOnly && request.command !== "view") {
      return {
        content: `This job is read-only: ${request.command} is refused. Look at files with view or bash, and give your answer in your final message.`,
        isError: true,
      };
    }
    const root = await realpath(this.#sandbox.worktree);
    const path = await this.#confine(root, request.path, request.command === "create");
    switch (request.command) {
      case "view":
        return this.#view(root, path, request.view_range);
      case "create": {
        await writeAgentFile(path, request.file_text, root, { createDirectories: true });
        return { content: `Created ${path}.`, isError: false };
      }
      case "str_replace": {
        const { text, mode } = await readAgentFile(
          path,
          root,
          EDITOR_MAX_FILE_BYTES,
          (size, cap) => `${path} is ${size}; str_replace edits files of at most ${cap}. Use bash instead (sed -i, or a script).`,
        );
        const count = text.split(request.old_str).length - 1;
        if (count !== 1) {
          return {
            content:
              count === 0
                ? `old_str was not found in ${path}; it must match exactly, whitespace included.`
                : `old_str occurs ${count} times in ${path}; include more context so it matches exactly once.`,
            isError: true,
          };
        }
        await writeAgentFile(
          path,
          text.replace(request.old_str, () => request.new_str),
          root,
          { mode },
        );
        return { content: `Edited ${path}.`, isError: false };
      }
      case "insert": {
        const { text, mode } = await readAgentFile(
          path,
          root,
          EDITOR_MAX_FILE_BYTES,
          (size, cap) => `${path} is ${size}; insert edits files of at most ${cap}. Use bash instead (sed -i, or a script).`,
        );
        const lines = text.split("\n");
        if (request.insert_line > lines.length)
          return { content: `insert_line ${request.insert_line} is past the end of ${path} (${lines.length} lines).`, isError: true };
        const inserted = request.insert_text ?? request.new_str ?? "";
        lines.splice(request.insert_line, 0, ...inserted.split("\n"));
        await writeAgentFile(path, lines.join("\n"), root, { mode });
        return { content: `Inserted ${inserted.split("\n").length} line(s) after line ${request.insert_line} of ${path}.`, isError: false };
      }
    }
  }

  /**
   * A directory's listing, or a file's lines (all of them, or `range`), numbered, as a window of
   * whole lines when they do not fit in a view; every read bounded (see read-agent-file.ts). A file
   * of at most EDITOR_MAX_FILE_BYTES is read whole, so its line count is known; a larger one only
   * with a range, streamed as far as the range.
   */
  async #view(root: string, path: string, range: [number, number] | undefined): Promise<ToolResult> {
    const entry = await openAgentEntry(path, root);
    try {
      if (entry.kind === "directory") return { content: listingWindow(path, await entry.list(2), this.#viewChars), isError: false };
      const [from, to] = range ?? [1, -1];
      if (from < 1 || (to !== -1 && to < from))
        return { content: `view_range [${from}, ${to}] is not a range of lines: lines count from 1, and the end is -1 or at least the start.`, isError: true };
      if (range === undefined || entry.size <= EDITOR_MAX_FILE_BYTES) {
        const text = await entry.readText(
          EDITOR_MAX_FILE_BYTES,
          (size, cap) =>
            `${path} is ${size}; view reads whole files of at most ${cap}. Use view_range to read some of its lines, or bash (head, sed -n, grep) instead.`,
        );
        const lines = text.split("\n");
        if (from > lines.length) return { content: `view_range [${from}, ${to}] is outside ${path} (${lines.length} lines).`, isError: true };
        const last = to === -1 ? lines.length : Math.min(to, lines.length);
        const content = viewWindow({
          path,
          lines: lines.slice(from - 1, last),
          first: from,
          last,
          total: lines.length,
          cutShort: false,
          maxChars: this.#viewChars,
        });
        return { content, isError: false };
      }
      const read = await entry.readLines(from, to, { maxScanBytes: VIEW_RANGE_MAX_SCAN_BYTES, maxChars: this.#viewChars });
      if (read.total !== undefined && from > read.total)
        return { content: `view_range [${from}, ${to}] is outside ${path} (${read.total} lines).`, isError: true };
      const last = read.total !== undefined && (to === -1 || to > read.total) ? read.total : to;
      const content = viewWindow({
        path,
        lines: read.lines,
        first: from,
        last,
        total: read.total,
        cutShort: read.stoppedAt !== undefined,
        maxChars: this.#viewChars,
      });
      return { content, isError: false };
    } finally {
      await entry.close();
    }
  }

  /**
   * The absolute path a model's path names, if its real location is inside the worktree and not in
   * `.git`. For a path that does not exist yet, the nearest existing ancestor must be inside.
   */
  async #confine(root: string, requested: string, mayNotExist: boolean): Promise<string> {
    const candidate = isAbsolute(requested) ? resolve(requested) : resolve(root, requested);
    const lexical = relative(root, candidate);
    if (lexical.startsWith("..") || isAbsolute(lexical))
      throw new ToolRefusal(`${requested} is outside the repository (${root}); afk only edits files inside it.`);
    let existing = candidate;
    for (;;) {
      const found = await lstat(existing).then(
        () => true,
        () => false,
      );
      if (found) break;
      if (!mayNotExist && existing === candidate) throw new ToolRefusal(`${candidate} does not exist.`);
      existing = dirname(existing);
    }
    const real = await realpath(existing);
    const inside = relative(root, real);
    if (inside.startsWith("..") || isAbsolute(inside))
      throw new ToolRefusal(`${requested} leads outside the repository through a symbolic link; afk only edits files inside it.`);
    const full = join(real, relative(existing, candidate));
    const parts = relative(root, full).split(sep);
    if (parts[0] === ".git") throw new ToolRefusal(`${requested} is inside .git; afk manages git itself.`);
    return full;
  }
}

class ToolRefusal extends Error {}
