import { stringWidth } from "./width.js";

/**
 * Pads `text` with spaces on the right to `width` columns.
 * @param {string} text
 * @param {number} width
 */
export function padEnd(text, width) {
  return text + " ".repeat(Math.max(0, width - stringWidth(text)));
}
