import { test } from "node:test";
import assert from "node:assert/strict";
import { merge, setPath, getPath } from "../src/index.js";

test("merges nested objects", () => {
  const out = merge({}, { server: { port: 80, host: "a" } }, { server: { port: 8080 } });
  assert.deepEqual(out, { server: { port: 8080, host: "a" } });
});

test("replaces arrays instead of concatenating", () => {
  const list = [1, 2];
  const out = merge({ list: [9] }, { list });
  assert.deepEqual(out.list, [1, 2]);
  assert.notEqual(out.list, list);
});

test("merges parsed JSON", () => {
  const out = merge({ a: { b: 1 } }, JSON.parse('{"a":{"c":2},"d":[3]}'));
  assert.deepEqual(out, { a: { b: 1, c: 2 }, d: [3] });
});

test("sets and gets dotted paths", () => {
  const config = {};
  setPath(config, "server.tls.enabled", true);
  setPath(config, "server.port", 443);
  assert.deepEqual(config, { server: { tls: { enabled: true }, port: 443 } });
  assert.equal(getPath(config, "server.port"), 443);
  assert.equal(getPath(config, "server.missing.deep"), undefined);
});
