/**
 * Joins URL parts with "/"; "?query" and "#hash" parts attach without one.
 * @param {...string} parts
 * @returns {string}
 */
export function urlJoin(...parts) {
  let url = "";
  for (const part of parts) {
    if (typeof part !== "string") throw new TypeError("url parts must be strings");
    if (part === "") continue;
    if (url === "") url = part;
    else if (part.startsWith("?") || part.startsWith("#")) url += part;
    else url += "/" + part;
  }
  return url;
}
