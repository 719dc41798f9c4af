import { test } from "node:test";
import assert from "node:assert/strict";
import { toposort } from "../src/index.js";

test("orders dependencies first", () => {
  assert.deepEqual(toposort({ app: ["lib", "config"], lib: ["config"], config: [] }), ["config", "lib", "app"]);
});

test("includes dependencies that are not keys", () => {
  assert.deepEqual(toposort({ a: ["b"] }), ["b", "a"]);
});

test("keeps key order among ready nodes", () => {
  assert.deepEqual(toposort({ x: [], y: [], z: ["x"] }), ["x", "y", "z"]);
  assert.deepEqual(toposort({}), []);
});
