import { isCommandName, type CommandName } from "./command-table.js";

export type ParsedCommand =
  | { kind: "command"; name: CommandName; args: string; line: number }
  | { kind: "unknown"; word: string; line: number };

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
  const lines = stripHtmlComments(body.slice(0, MAX_BODY_CHARS)).split(/\r?\n/);
  let fence: string | undefined;
  lines.forEach((text, index) => {
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
    commands.push(isCommandName(word) ? { kind: "command", name: word, args, line: index + 1 } : { kind: "unknown", word, line: index + 1 });
  });
  return commands;
}

function stripHtmlComments(text: string): string {
  // An unterminated comment hides the rest of the body, as it does when GitHub renders it.
  return text.replace(/<!--[\s\S]*?(?:-->|$)/g, "");
}
