/**
 * @typedef {{ decimals?: number, separator?: string, point?: string }} FormatOptions
 */

/**
 * Rounds to `decimals` places, half away from zero.
 * @param {number} value
 * @param {number} decimals
 * @returns {number}
 */
export function round(value, decimals) {
  const factor = 10 ** decimals;
  return (Math.sign(value) * Math.round(Math.abs(value) * factor)) / factor;
}

/**
 * Groups the digits of a whole number in threes.
 * @param {string} digits
 * @param {string} separator
 */
function group(digits, separator) {
  return digits.replace(/\B(?=(\d{3})+(?!\d))/g, separator);
}

/**
 * Formats a number with a fixed number of decimals and grouped thousands.
 * @param {number} value
 * @param {FormatOptions} [options]
 * @returns {string}
 */
export function formatNumber(value, options = {}) {
  const { decimals = 2, separator = ",", point = "." } = options;
  if (!Number.isFinite(value)) throw new RangeError(`cannot format ${value}`);
  if (!Number.isInteger(decimals) || decimals < 0 || decimals > 10) throw new RangeError("decimals must be 0..10");
  const rounded = round(value, decimals);
  const [whole, fraction = ""] = Math.abs(rounded).toFixed(decimals).split(".");
  const sign = rounded < 0 ? "-" : "";
  return sign + group(whole, separator) + (decimals > 0 ? point + fraction : "");
}
