/**
 * @typedef {{ start: number, end: number }} ByteRange inclusive byte positions
 */

/**
 * The byte ranges a Range header asks for, for a resource of `size` bytes.
 * @param {number} size
 * @param {string} header
 * @returns {ByteRange[] | -1 | -2} -1 when no range can be satisfied, -2 when the header is malformed
 */
export function parseRange(size, header) {
  const eq = header.indexOf("=");
  if (eq === -1 || header.slice(0, eq).trim().toLowerCase() !== "bytes") return -2;
  /** @type {ByteRange[]} */
  const ranges = [];
  for (const spec of header.slice(eq + 1).split(",")) {
    const match = /^\s*(\d*)-(\d*)\s*$/.exec(spec);
    if (!match || (match[1] === "" && match[2] === "")) return -2;
    const start = match[1] === "" ? 0 : Number(match[1]);
    const end = match[2] === "" ? size - 1 : Number(match[2]);
    if (match[1] !== "" && match[2] !== "" && end < start) return -2;
    if (start >= size) continue;
    ranges.push({ start, end: Math.min(end, size - 1) });
  }
  return ranges.length === 0 ? -1 : ranges;
}
