/**
 * Writes rows as CSV text, one CRLF-terminated line a row.
 * @param {unknown[][]} rows
 * @param {{ delimiter?: string }} [options]
 * @returns {string}
 */
export function stringify(rows, options = {}) {
  const delimiter = options.delimiter ?? ",";
  return rows.map((row) => row.map((value) => formatField(value)).join(delimiter) + "\r\n").join("");
}

/**
 * One field's text.
 * @param {unknown} value
 * @returns {string}
 */
function formatField(value) {
  if (value === null || value === undefined) return "";
  return String(value);
}
