/**
 * The reference tokens of a JSON pointer.
 * @param {string} pointer
 * @returns {string[]}
 */
export function parse(pointer) {
  if (pointer === "") return [];
  if (!pointer.startsWith("/")) throw new SyntaxError(`a JSON pointer starts with "/": ${pointer}`);
  return pointer.slice(1).split("/");
}

/**
 * The JSON pointer of a list of reference tokens.
 * @param {string[]} tokens
 * @returns {string}
 */
export function compile(tokens) {
  return tokens.map((token) => "/" + token).join("");
}

/**
 * The value a pointer points at, or undefined.
 * @param {unknown} doc
 * @param {string} pointer
 * @returns {unknown}
 */
export function get(doc, pointer) {
  let current = doc;
  for (const token of parse(pointer)) {
    if (current === null || typeof current !== "object" || !Object.hasOwn(current, token)) return undefined;
    current = /** @type {Record<string, unknown>} */ (current)[token];
  }
  return current;
}

/**
 * Sets the value a pointer points at; its parent must exist. "-" appends to an array.
 * @param {unknown} doc
 * @param {string} pointer
 * @param {unknown} value
 */
export function set(doc, pointer, value) {
  const tokens = parse(pointer);
  if (tokens.length === 0) throw new RangeError("cannot replace the whole document");
  const last = /** @type {string} */ (tokens.pop());
  const parent = get(doc, compile(tokens));
  if (parent === null || typeof parent !== "object") throw new RangeError(`no parent for ${pointer}`);
  if (Array.isArray(parent) && last === "-") parent.push(value);
  else /** @type {Record<string, unknown>} */ (parent)[last] = value;
  return doc;
}
