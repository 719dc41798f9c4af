/**
 * Sets `value` at a dotted path ("server.tls.enabled"), creating plain objects on the way.
 * @param {Record<string, any>} target
 * @param {string} path
 * @param {unknown} value
 * @returns {Record<string, any>} the target
 */
export function setPath(target, path, value) {
  const keys = path.split(".");
  let current = target;
  for (const key of keys.slice(0, -1)) {
    if (current[key] === null || (typeof current[key] !== "object" && typeof current[key] !== "function")) current[key] = {};
    current = current[key];
  }
  current[keys[keys.length - 1]] = value;
  return target;
}

/**
 * The value at a dotted path, or undefined.
 * @param {Record<string, any>} target
 * @param {string} path
 * @returns {unknown}
 */
export function getPath(target, path) {
  let current = target;
  for (const key of path.split(".")) {
    if (current === null || current === undefined) return undefined;
    current = current[key];
  }
  return current;
}
