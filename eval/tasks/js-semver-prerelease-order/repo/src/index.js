const VERSION = /^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?$/;

/**
 * @typedef {{ major: number, minor: number, patch: number, prerelease: string[], build: string[] }} SemVer
 */

/**
 * Parses a version string ("1.2.3-beta.1+build.5"); throws TypeError when it is not a valid version.
 * @param {string} text
 * @returns {SemVer}
 */
export function parse(text) {
  const match = VERSION.exec(String(text).trim());
  if (!match) throw new TypeError(`invalid version: ${text}`);
  return {
    major: Number(match[1]),
    minor: Number(match[2]),
    patch: Number(match[3]),
    prerelease: match[4] ? match[4].split(".") : [],
    build: match[5] ? match[5].split(".") : [],
  };
}

/** @param {number} a @param {number} b */
function cmpNumber(a, b) {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Compares two versions by semver precedence.
 * @param {string} a
 * @param {string} b
 * @returns {-1 | 0 | 1}
 */
export function compare(a, b) {
  const x = parse(a);
  const y = parse(b);
  const core = cmpNumber(x.major, y.major) || cmpNumber(x.minor, y.minor) || cmpNumber(x.patch, y.patch);
  if (core !== 0) return /** @type {-1 | 0 | 1} */ (core);
  const left = x.prerelease.join(".");
  const right = y.prerelease.join(".");
  if (left === right) return 0;
  return left < right ? -1 : 1;
}

/**
 * Sorts versions ascending (a new array).
 * @param {string[]} versions
 */
export function sort(versions) {
  return [...versions].sort(compare);
}

/**
 * The highest version at least `min` (inclusive), or null.
 * @param {string[]} versions
 * @param {string} min
 */
export function maxSatisfying(versions, min) {
  const ok = versions.filter((v) => compare(v, min) >= 0);
  return ok.length === 0 ? null : sort(ok)[ok.length - 1];
}
