/**
 * Decodes one component of a query string (`+` is a space).
 * @param {string} text
 */
function decode(text) {
  try {
    return decodeURIComponent(text.replaceAll("+", " "));
  } catch {
    return text;
  }
}

/**
 * Parses a query string (with or without the leading "?").
 * @param {string} query
 * @returns {Record<string, string | string[]>}
 */
export function parse(query) {
  /** @type {Record<string, string | string[]>} */
  const out = {};
  const text = query.startsWith("?") ? query.slice(1) : query;
  for (const pair of text.split("&")) {
    if (pair === "") continue;
    const eq = pair.indexOf("=");
    const key = decode(eq === -1 ? pair : pair.slice(0, eq));
    const value = eq === -1 ? "" : decode(pair.slice(eq + 1));
    const existing = out[key];
    if (existing === undefined) out[key] = value;
    else if (Array.isArray(existing)) existing.push(value);
    else out[key] = [existing, value];
  }
  return out;
}

/**
 * Builds a query string (without "?") from an object of scalars.
 * @param {Record<string, unknown>} params
 * @returns {string}
 */
export function stringify(params) {
  return Object.entries(params)
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) => `${key}=${value}`)
    .join("&");
}
