/**
 * Wraps text into lines of at most `width` columns, breaking at spaces; a word wider than `width` is
 * cut into pieces. Runs of spaces collapse; newlines in the text start a new line.
 * @param {string} text
 * @param {number} width
 * @returns {string[]}
 */
export function wrap(text, width) {
  if (!Number.isInteger(width) || width < 1) throw new RangeError("width must be a positive integer");
  const lines = [];
  for (const paragraph of text.split("\n")) {
    let line = "";
    for (const word of paragraph.split(" ").filter((w) => w !== "")) {
      for (const piece of cut(word, width)) {
        if (line === "") line = piece;
        else if (line.length + 1 + piece.length <= width) line += " " + piece;
        else {
          lines.push(line);
          line = piece;
        }
      }
    }
    lines.push(line);
  }
  return lines;
}

/**
 * A word cut into pieces no longer than `width`.
 * @param {string} word
 * @param {number} width
 * @returns {string[]}
 */
function cut(word, width) {
  const pieces = [];
  for (let i = 0; i < word.length; i += width) pieces.push(word.slice(i, i + width));
  return pieces;
}
