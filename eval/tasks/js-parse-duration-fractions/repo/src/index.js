/** Milliseconds in one of each unit. */
export const UNITS = {
  ms: 1,
  s: 1000,
  m: 60 * 1000,
  h: 60 * 60 * 1000,
  d: 24 * 60 * 60 * 1000,
  w: 7 * 24 * 60 * 60 * 1000,
};

const PART = /(\d+)\s*(ms|s|m|h|d|w)/y;

/**
 * Parses a duration such as "2h30m" or "90s" into milliseconds.
 * @param {string} text
 * @returns {number}
 */
export function parseDuration(text) {
  if (typeof text !== "string") throw new TypeError("duration must be a string");
  let input = text.trim();
  let sign = 1;
  if (input.startsWith("-")) {
    sign = -1;
    input = input.slice(1).trimStart();
  }
  if (input === "") throw new TypeError(`invalid duration: "${text}"`);
  let total = 0;
  PART.lastIndex = 0;
  while (PART.lastIndex < input.length) {
    const match = PART.exec(input);
    if (!match) throw new TypeError(`invalid duration: "${text}"`);
    total += Number(match[1]) * UNITS[match[2]];
    while (input[PART.lastIndex] === " ") PART.lastIndex++;
  }
  return sign * total;
}

/**
 * Formats milliseconds as the shortest combination of whole units, largest first ("1h30m").
 * @param {number} ms
 * @returns {string}
 */
export function formatDuration(ms) {
  if (!Number.isFinite(ms)) throw new TypeError("duration must be a finite number");
  if (ms === 0) return "0ms";
  let rest = Math.abs(ms);
  let out = ms < 0 ? "-" : "";
  for (const unit of ["w", "d", "h", "m", "s", "ms"]) {
    const count = Math.floor(rest / UNITS[unit]);
    if (count > 0) {
      out += `${count}${unit}`;
      rest -= count * UNITS[unit];
    }
  }
  return out;
}
