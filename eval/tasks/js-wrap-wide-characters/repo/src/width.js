/** Code point ranges shown two columns wide (East Asian Wide and Fullwidth, and emoji). */
const WIDE = [
  [0x1100, 0x115f],
  [0x2e80, 0x303e],
  [0x3041, 0x33ff],
  [0x3400, 0x4dbf],
  [0x4e00, 0x9fff],
  [0xa000, 0xa4cf],
  [0xac00, 0xd7a3],
  [0xf900, 0xfaff],
  [0xfe30, 0xfe4f],
  [0xff00, 0xff60],
  [0xffe0, 0xffe6],
  [0x1f300, 0x1f64f],
  [0x1f900, 0x1f9ff],
  [0x20000, 0x3fffd],
];

/**
 * Columns one code point takes: 0 for combining marks and controls, 2 for wide characters, else 1.
 * @param {number} codePoint
 * @returns {0 | 1 | 2}
 */
export function charWidth(codePoint) {
  if (codePoint < 0x20 || (codePoint >= 0x7f && codePoint < 0xa0)) return 0;
  if ((codePoint >= 0x300 && codePoint <= 0x36f) || codePoint === 0x200d || (codePoint >= 0xfe00 && codePoint <= 0xfe0f)) return 0;
  for (const [low, high] of WIDE) if (codePoint >= low && codePoint <= high) return 2;
  return 1;
}

/**
 * Columns a string takes in a terminal.
 * @param {string} text
 * @returns {number}
 */
export function stringWidth(text) {
  let width = 0;
  for (const ch of text) width += charWidth(/** @type {number} */ (ch.codePointAt(0)));
  return width;
}
