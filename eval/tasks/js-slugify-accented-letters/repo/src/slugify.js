import { CHARMAP } from "./charmap.js";

/**
 * A URL slug of `text`: lowercase a-z and 0-9 runs joined by the separator.
 * @param {string} text
 * @param {{ separator?: string }} [options]
 * @returns {string}
 */
export function slugify(text, options = {}) {
  const separator = options.separator ?? "-";
  let mapped = "";
  for (const ch of String(text)) mapped += Object.hasOwn(CHARMAP, ch) ? CHARMAP[/** @type {keyof typeof CHARMAP} */ (ch)] : ch;
  return mapped
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((part) => part !== "")
    .join(separator);
}
