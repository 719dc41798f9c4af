/**
 * Whether a value is a plain object (made by `{}`, `Object.create(null)` or JSON.parse).
 * @param {unknown} value
 * @returns {value is Record<string, unknown>}
 */
export function isPlainObject(value) {
  if (value === null || typeof value !== "object") return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * Deep-merges plain objects from `sources` into `target`, left to right. Plain objects merge
 * recursively; arrays are copied; anything else replaces the old value.
 * @param {Record<string, unknown>} target
 * @param {...unknown} sources
 * @returns {Record<string, unknown>}
 */
export function merge(target, ...sources) {
  for (const source of sources) {
    if (!isPlainObject(source)) continue;
    for (const key of Object.keys(source)) {
      const value = source[key];
      if (isPlainObject(value)) {
        if (!isPlainObject(target[key])) target[key] = {};
        merge(/** @type {Record<string, unknown>} */ (target[key]), value);
      } else if (Array.isArray(value)) {
        target[key] = value.slice();
      } else {
        target[key] = value;
      }
    }
  }
  return target;
}
