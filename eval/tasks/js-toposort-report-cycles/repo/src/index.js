/**
 * Nodes in dependency order: each node after every node it depends on (Kahn's algorithm).
 * @param {Record<string, string[]>} graph node -> the nodes it depends on
 * @returns {string[]}
 */
export function toposort(graph) {
  /** @type {Map<string, Set<string>>} node -> dependencies not yet placed */
  const pending = new Map();
  /** @type {Map<string, string[]>} node -> nodes that depend on it */
  const dependents = new Map();
  const add = (/** @type {string} */ node) => {
    if (!pending.has(node)) pending.set(node, new Set());
    if (!dependents.has(node)) dependents.set(node, []);
  };
  for (const [node, deps] of Object.entries(graph)) {
    add(node);
    for (const dep of deps) {
      add(dep);
      /** @type {Set<string>} */ (pending.get(node)).add(dep);
      /** @type {string[]} */ (dependents.get(dep)).push(node);
    }
  }
  const order = [];
  const ready = [...pending.keys()].filter((node) => /** @type {Set<string>} */ (pending.get(node)).size === 0);
  while (ready.length > 0) {
    const node = /** @type {string} */ (ready.shift());
    order.push(node);
    for (const dependent of /** @type {string[]} */ (dependents.get(node))) {
      const waiting = /** @type {Set<string>} */ (pending.get(dependent));
      waiting.delete(node);
      if (waiting.size === 0) ready.push(dependent);
    }
  }
  return order;
}
