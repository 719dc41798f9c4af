/**
 * A least-recently-used cache holding at most `max` entries.
 * @template K, V
 */
export class LRUCache {
  /**
   * @param {{ max: number, onEvict?: (key: K, value: V) => void }} options
   */
  constructor({ max, onEvict }) {
    if (!Number.isInteger(max) || max < 1) throw new RangeError("max must be a positive integer");
    this.max = max;
    this.onEvict = onEvict;
    /** @type {Map<K, V>} insertion order is recency order, oldest first */
    this.entries = new Map();
  }

  /** @returns {number} */
  get size() {
    return this.entries.size;
  }

  /**
   * The value for `key`, or undefined.
   * @param {K} key
   * @returns {V | undefined}
   */
  get(key) {
    return this.entries.get(key);
  }

  /**
   * Whether `key` is cached (does not count as a use).
   * @param {K} key
   */
  has(key) {
    return this.entries.has(key);
  }

  /**
   * Stores `value` under `key`, evicting the least recently used entry when the cache is full.
   * @param {K} key
   * @param {V} value
   * @returns {this}
   */
  set(key, value) {
    if (this.entries.size >= this.max) this.#evictOldest();
    this.entries.set(key, value);
    return this;
  }

  /**
   * @param {K} key
   * @returns {boolean} whether an entry was removed
   */
  delete(key) {
    return this.entries.delete(key);
  }

  clear() {
    this.entries.clear();
  }

  /** Keys from least to most recently used. */
  keys() {
    return [...this.entries.keys()];
  }

  #evictOldest() {
    const oldest = this.entries.keys().next();
    if (oldest.done) return;
    const value = /** @type {V} */ (this.entries.get(oldest.value));
    this.entries.delete(oldest.value);
    this.onEvict?.(oldest.value, value);
  }
}
