import { withoutHiddenCharacters } from "../trust/sanitize-untrusted-text.js";

/**
 * Terminal escape sequences: CSI (`ESC [` … final byte, or the one-byte C1 CSI), OSC, DCS, SOS, PM
 * and APC strings (to BEL or the string terminator, or to the end when left open), and the
 * two-byte escapes. Removed whole, so no `[31m` is left behind when the ESC goes.
 */
const ESCAPE_SEQUENCES =
  /(?:\u001B\[|\u009B)[\u0030-\u003F]*[\u0020-\u002F]*[\u0040-\u007E]?|(?:\u001B[\]PX^_]|[\u0090\u0098\u009D\u009E\u009F])[\s\S]*?(?:\u0007|\u001B\\|\u009C|$)|\u001B[\u0020-\u002F]*[\u0030-\u007E]?/g;

/**
 * Text from the agent (a command, a path, test output) made safe to print on a terminal: escape
 * sequences, control characters (tab and newline stay) and invisible format characters
 * (bidirectional overrides among them) are removed. The result holds no byte a terminal acts on
 * except tab and newline. Pure.
 */
export function terminalSafe(text: string): string {
  return withoutHiddenCharacters(text.replace(/\r\n?/g, "\n").replace(ESCAPE_SEQUENCES, ""));
}

/**
 * `terminalSafe` on one line: the first line of the text, tabs as spaces, cut at `max` characters,
 * with how many more lines there were. Pure.
 */
export function terminalLine(text: string, max = 160): string {
  const lines = terminalSafe(text).replace(/\t/g, " ").trim().split("\n");
  const first = lines[0] ?? "";
  const cut = first.length > max ? `${first.slice(0, max - 1)}…` : first;
  return lines.length > 1 ? `${cut} (+${lines.length - 1} more line${lines.length === 2 ? "" : "s"})` : cut;
}
