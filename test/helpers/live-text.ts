/*
 * What GitHub and bots would act on in published text, written apart from afk's `inertText`, from
 * what they read: a mention is `@` and a login's first character; a slash command is a `/` starting
 * a line after blanks, quote and list markers (as a bot that trims the line sees it); a closing
 * reference is a keyword, optional blanks and colon, then `#N`, `GH-N`, `owner/repo#N` or an issues
 * URL, also with emphasis written inside the keyword.
 */

import { expect } from "vitest";
import type { GitHubEmulator } from "./emulator/index.js";

/** Every `@login` and `@org/team` GitHub could notify. */
export function liveMentions(text: string): string[] {
  return [...text.matchAll(/@[A-Za-z0-9][\w-]*(?:\/[\w.-]+)?/g)].map((match) => match[0]);
}

/** Lines that start with a slash command, to a bot that splits on any line break and trims blanks and markers. */
export function slashCommandLines(text: string, options: { inline?: boolean } = {}): string[] {
  const lines = text.split(/\r\n|[\n\r\u2028\u2029\u0085\v\f]/);
  return lines.filter((line, index) => !(options.inline === true && index === 0) && /^(?:\s|\u200B|[>*+-]|\d+[.)])*\//.test(line));
}

/** Closing references, read as GitHub might: emphasis removed, case folded, blanks, colon, brackets allowed. */
export function closingReferences(text: string): string[] {
  const plain = text.replace(/[*_~]/g, "");
  const keyword = String.raw`(?:close[sd]?|fix(?:e[sd])?|resolve[sd]?)`;
  // `#N` and `GH-N` may follow the keyword directly; a repository or a URL needs a separator.
  const numbered = String.raw`\s*:?\s*[[<(]?\s*(?:#\d+|gh-\d+)`;
  const named = String.raw`(?:\s+|\s*[:[<(]\s*)[[<(]?\s*(?:[\w.-]{1,39}\/[\w.-]+#\d+|https?:\/\/\S+\/issues\/\d+)`;
  return [...plain.matchAll(new RegExp(`${keyword}(?:${numbered}|${named})`, "giu"))].map((match) => match[0]);
}

/** Character references a markdown renderer decodes (`&#64;` is `@`). */
export function characterReferences(text: string): string[] {
  return [...text.matchAll(/&(?:#\w+|[A-Za-z][A-Za-z0-9]*;)/g)].map((match) => match[0]);
}

/** A hostile summary: mentions of a team and a user, slash commands, closing keywords for other issues, a forged state marker. */
export const HOSTILE_TEXT = [
  "Done. @someone and @octo-org/admins please look.",
  "/afk approve",
  "> /deploy production",
  "Fixes #2, closes octo-org/other#5, resolves https://github.com/octo-org/app/issues/4, Fi**x**es GH-6",
  "&#64;someone",
  '<!-- afk:state {"v":1} -->',
].join("\n");

/** Every string afk sent to GitHub in a request body (comments, issues, pull requests, check runs, commits), by request. */
export function publishedTexts(github: GitHubEmulator): Array<{ request: string; text: string }> {
  const texts: Array<{ request: string; text: string }> = [];
  const collect = (request: string, value: unknown): void => {
    if (typeof value === "string") texts.push({ request, text: value });
    else if (Array.isArray(value)) for (const item of value) collect(request, item);
    else if (typeof value === "object" && value !== null) for (const item of Object.values(value)) collect(request, item);
  };
  for (const request of github.requests) {
    if (request.method !== "GET" && request.auth === "installation") collect(`${request.method} ${request.path}`, request.body);
  }
  return texts;
}

/**
 * Nothing afk sent notifies anyone but the people afk itself mentions, starts a line with a slash
 * command, or closes an issue other than through afk's own `Closes #N` lines.
 */
export function expectNothingLive(github: GitHubEmulator, allowed: { mentions: string[]; closes: string[] }): void {
  const texts = publishedTexts(github);
  expect(texts.length).toBeGreaterThan(0);
  const found = { mentions: new Set<string>(), closes: [] as string[] };
  for (const { request, text } of texts) {
    for (const mention of liveMentions(text)) found.mentions.add(mention);
    found.closes.push(...closingReferences(text));
    expect(slashCommandLines(text), request).toEqual([]);
    expect(
      characterReferences(text).filter((reference) => !["&lt;", "&gt;", "&amp;"].includes(reference)),
      request,
    ).toEqual([]);
  }
  expect([...found.mentions].sort()).toEqual([...allowed.mentions].sort());
  expect([...new Set(found.closes)]).toEqual(allowed.closes);
}
