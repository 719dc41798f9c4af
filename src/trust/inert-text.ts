import { withoutHiddenCharacters } from "./sanitize-untrusted-text.js";

/**
 * The zero-width space afk puts where GitHub would otherwise read a mention, a closing reference, a
 * character reference or a hidden comment. Invisible, so a reader sees the same words; GitHub's
 * parsers (and bots that read the raw text) no longer see the pattern. Dependabot and Renovate break
 * mentions the same way, because a code span does not survive plain-text contexts (email replies,
 * commit messages).
 */
export const INERT_BREAK = "\u200B";

/**
 * A `/` that starts a line, after blanks, quote markers and list markers: a slash command to afk
 * (`/afk approve`) or to any other bot reading the raw text. Each alternative of the prefix starts
 * with a different kind of character, so a failed line is given up in time linear in its length.
 * The first expression also counts the start of the text as a line start; the second does not.
 */
const LINE_PREFIX = String.raw`((?:[^\S\n]|[>*+-]|\d+[.)])*)\/`;
const LINE_START_SLASH = new RegExp(String.raw`(^|\n)${LINE_PREFIX}`, "g");
const LATER_LINE_START_SLASH = new RegExp(String.raw`(\n)${LINE_PREFIX}`, "g");

/** `&#64;`, `&#x40;`, `&commat;`: character references GitHub decodes into `@`, `#`, `/` or letters. */
const CHARACTER_REFERENCE = /&(?=#|[A-Za-z][A-Za-z0-9]*;)/g;

/** The opening of an HTML comment: hides what follows from readers, and afk keeps its state in one. */
const COMMENT_OPENING = /<!--/g;

/** `@user` and `@org/team`: a GitHub login starts with a letter or digit. */
const MENTION = /@(?=[A-Za-z0-9])/g;

/** Emphasis markers a writer can put inside a word without changing how it reads (`Fi**x**es`). */
const MARKUP = "[*_~]*";
const spelled = (word: string): string => [...word].join(MARKUP);

/**
 * GitHub's closing keywords (close/closes/closed, fix/fixes/fixed, resolve/resolves/resolved) in any
 * case (`u` folds case as Unicode does: `ſ` counts as `s`), even with emphasis inside the word,
 * followed by anything that may be a reference: `#N`, `GH-N` (emphasis inside it too: `gh-~2`), `owner/repo#N` (an owner has at most
 * 39 characters), a URL, a link or an autolink. Between them may stand anything but a letter, a
 * digit, a reference's first character or afk's break: blanks, `:`, emphasis, line ends, quotes.
 * Reading more than GitHub would is harmless (the break is invisible), so no word boundary is
 * required before the keyword either (`prefixes #2` is broken too). Linear: the gap holds no
 * letter, so no two keywords share one, and every other part is bounded.
 */
const CLOSING_KEYWORD = new RegExp(
  `(?:${spelled("close")}(?:${MARKUP}[sd])?|${spelled("fix")}(?:${MARKUP}e${MARKUP}[sd])?|${spelled("resolve")}(?:${MARKUP}[sd])?)` +
    `(?=[^\\p{L}\\p{N}#\\[<${INERT_BREAK}]*(?:[#\\[<]|${spelled("gh-")}${MARKUP}\\d|https?:|www\\.|[a-z0-9][\\w.-]{0,38}\\/))`,
  "giu",
);

export interface InertTextOptions {
  /**
   * The text goes after other text on the same line (a code span, a sentence afk begins), so its
   * first character does not start a line and a leading `/` is left as it is.
   */
  inline?: boolean;
}

/**
 * Makes text afk did not write safe to publish under afk's name: nothing in it notifies anyone,
 * commands a bot, or closes an issue. Mentions of users and teams do not notify, no line starts with
 * a slash command (a markdown escape, `\/`, renders as `/`), closing keywords close nothing,
 * character references are not decoded and no HTML comment can hide text or forge afk's state
 * marker. Hidden and control characters are removed first, so none can be used to slip past.
 *
 * A reader sees the same words: only invisible breaks and backslash escapes are added. Markdown is
 * not parsed; text in code is treated like the rest, because bots and email read the raw text.
 *
 * afk's own references (`Closes #N` for the run's issue) and mentions are added after this, so
 * they stay live. Apply it last, after any truncation: cutting inert text can expose a line-start
 * slash. Pure, idempotent, and linear in the length of the text.
 */
export function inertText(text: string, options: InertTextOptions = {}): string {
  return withoutHiddenCharacters(text)
    .replace(/[\u2028\u2029]/g, "\n")
    .replace(options.inline === true ? LATER_LINE_START_SLASH : LINE_START_SLASH, "$1$2\\/")
    .replace(CHARACTER_REFERENCE, `&${INERT_BREAK}`)
    .replace(COMMENT_OPENING, `<${INERT_BREAK}!--`)
    .replace(MENTION, `@${INERT_BREAK}`)
    .replace(CLOSING_KEYWORD, `$&${INERT_BREAK}`);
}
