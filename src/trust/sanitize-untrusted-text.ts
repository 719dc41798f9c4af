/**
 * Characters that change how text reads without being seen: zero-width characters, bidirectional
 * overrides and isolates (the "Trojan Source" trick), Unicode tag characters (invisible ASCII
 * look-alikes used to smuggle instructions), the byte-order mark and other format characters.
 */
const HIDDEN_CHARACTERS =
  /[\u00AD\u034F\u061C\u115F\u1160\u17B4\u17B5\u180B-\u180F\u200B-\u200F\u202A-\u202E\u2060-\u206F\u3164\uFE00-\uFE0F\uFEFF\uFFA0\uFFF0-\uFFFB]|\uDB40[\uDC00-\uDDEF]/g;
/** Control characters other than tab and newline (carriage returns are normalised first). */
const CONTROL_CHARACTERS = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/g;
/** HTML comments, closed or left open to the end: invisible on GitHub, visible to a model. */
const HTML_COMMENTS = /<!--[\s\S]*?(?:-->|$)/g;

/**
 * Makes text written by people safe to show a model: what a reader of the issue on GitHub does not
 * see is removed, so the model reads what the people who trusted the issue read. Pure.
 */
export function sanitizeUntrustedText(text: string): string {
  // Hidden characters go before comments: removing them must not join `<\u200B!--` into a comment that stays.
  return withoutHiddenCharacters(text.normalize("NFC"))
    .replace(HTML_COMMENTS, "")
    .replace(/\n{3,}/g, "\n\n")
    .trim();
}

/**
 * The text without invisible format characters and control characters (tab and newline stay), with
 * every line ending as `\n`. Changes nothing a reader sees. Pure and idempotent.
 */
export function withoutHiddenCharacters(text: string): string {
  return text.replace(/\r\n?/g, "\n").replace(HIDDEN_CHARACTERS, "").replace(CONTROL_CHARACTERS, "");
}
