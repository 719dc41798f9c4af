import { test } from "node:test";
import assert from "node:assert/strict";
import { LRUCache } from "../src/index.js";

test("stores and reads values", () => {
  const cache = new LRUCache({ max: 3 });
  cache.set("a", 1).set("b", 2);
  assert.equal(cache.get("a"), 1);
  assert.equal(cache.get("zzz"), undefined);
  assert.equal(cache.size, 2);
  assert.equal(cache.has("b"), true);
});

test("evicts the oldest entry when full", () => {
  const evicted = [];
  const cache = new LRUCache({ max: 2, onEvict: (key, value) => evicted.push([key, value]) });
  cache.set("a", 1).set("b", 2).set("c", 3);
  assert.deepEqual(cache.keys(), ["b", "c"]);
  assert.deepEqual(evicted, [["a", 1]]);
});

test("deletes and clears", () => {
  const cache = new LRUCache({ max: 2 });
  cache.set("a", 1);
  assert.equal(cache.delete("a"), true);
  assert.equal(cache.delete("a"), false);
  cache.set("b", 2);
  cache.clear();
  assert.equal(cache.size, 0);
});

test("rejects a bad max", () => {
  assert.throws(() => new LRUCache({ max: 0 }), RangeError);
});
