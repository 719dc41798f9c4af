import { isCommandName, type CommandName } from "./command-table.js";

export type ParsedCommand = { kind: "command"; name: CommandName; args: string; line: number } | { kind: "unknown"; word: string; line: number };

const COMMAND_LINE = /^ {0,3}\/afk(?:[ \t]+(\S+)(?:[ \t]+(.*))?)?[ \t]*$/i;
const FENCE = /^ {0,3}(`{3,}|~{3,})/;
const MAX_BODY_CHARS = 65_536;

/**
 * Finds `/afk <command>` lines in a comment body. Only a command at the start
 * of a line counts; quoted lines (`>`), fenced and indented code blocks and
 * HTML comments are ignored. Pure: no I/O, never throws.
 */
export function parseCommands(body: string): ParsedCommand[] {
  const commands: ParsedCommand[] = [];
  let fence: string | undefined;
  visibleLines(body.slice(0, MAX_BODY_CHARS)).forEach(({ text, line }) => {
    const fenceMatch = FENCE.exec(text);
    if (fence !== undefined) {
      if (fenceMatch?.[1] !== undefined && fenceMatch[1][0] === fence[0] && fenceMatch[1].length >= fence.length) fence = undefined;
      return;
    }
    if (fenceMatch?.[1] !== undefined) {
      fence = fenceMatch[1];
      return;
    }
    const match = COMMAND_LINE.exec(text);
    if (match === null) return;
    const word = (match[1] ?? "help").toLowerCase();
    const args = (match[2] ?? "").trim();
    commands.push(isCommandName(word) ? { kind: "command", name: word, args, line } : { kind: "unknown", word, line });
  });
  return commands;
}

/**
 * The body's lines once HTML comments are removed, each with its line number in the body as
 * written (a comment spanning lines joins the text around it, but later lines keep their numbers).
 */
function visibleLines(body: string): Array<{ text: string; line: number }> {
  const removed: Array<{ at: number; newlines: number }> = [];
  let removedChars = 0;
  // An unterminated comment hides the rest of the body, as it does when GitHub renders it.
  const visible = body.replace(/<!--[\s\S]*?(?:-->|$)/g, (comment: string, offset: number) => {
    removed.push({ at: offset - removedChars, newlines: comment.split("\n").length - 1 });
    removedChars += comment.length;
    return "";
  });
  let start = 0;
  let next = 0;
  let hiddenLines = 0;
  return visible.split(/\r?\n/).map((text, index) => {
    for (let comment = removed[next]; comment !== undefined && comment.at <= start; comment = removed[++next]) hiddenLines += comment.newlines;
    start = visible.indexOf("\n", start) + 1;
    return { text, line: index + 1 + hiddenLines };
  });
}
