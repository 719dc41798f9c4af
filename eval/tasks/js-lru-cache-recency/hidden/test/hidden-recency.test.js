import { test } from "node:test";
import assert from "node:assert/strict";
import { LRUCache } from "../src/index.js";

test("get counts as a use", () => {
  const cache = new LRUCache({ max: 2 });
  cache.set("a", 1).set("b", 2);
  cache.get("a");
  cache.set("c", 3);
  assert.deepEqual(cache.keys(), ["a", "c"]);
  assert.equal(cache.get("a"), 1);
  assert.equal(cache.has("b"), false);
});

test("updating a key counts as a use", () => {
  const cache = new LRUCache({ max: 3 });
  cache.set("a", 1).set("b", 2).set("c", 3);
  cache.set("b", 20);
  assert.deepEqual(cache.keys(), ["a", "c", "b"]);
  cache.set("d", 4);
  assert.deepEqual(cache.keys(), ["c", "b", "d"]);
  assert.equal(cache.get("b"), 20);
});

test("updating a key in a full cache evicts nothing", () => {
  const evicted = [];
  const cache = new LRUCache({ max: 2, onEvict: (key) => evicted.push(key) });
  cache.set("a", 1).set("b", 2);
  cache.set("b", 20);
  assert.deepEqual(evicted, []);
  assert.equal(cache.size, 2);
  assert.equal(cache.get("a"), 1);
});

test("has does not count as a use", () => {
  const cache = new LRUCache({ max: 2 });
  cache.set("a", 1).set("b", 2);
  cache.has("a");
  cache.set("c", 3);
  assert.deepEqual(cache.keys(), ["b", "c"]);
});

test("a missing key does not change the order", () => {
  const cache = new LRUCache({ max: 2 });
  cache.set("a", 1).set("b", 2);
  assert.equal(cache.get("x"), undefined);
  assert.deepEqual(cache.keys(), ["a", "b"]);
  assert.equal(cache.size, 2);
});
