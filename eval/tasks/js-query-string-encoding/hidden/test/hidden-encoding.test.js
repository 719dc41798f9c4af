import { test } from "node:test";
import assert from "node:assert/strict";
import { parse, stringify } from "../src/index.js";

test("encodes reserved characters in values", () => {
  const params = { q: "rock & roll", math: "1+1=2", frag: "#top", path: "a/b?c", pct: "100%" };
  const query = stringify(params);
  assert.doesNotMatch(query, /[ #?]/);
  assert.equal(query.split("&").length, 5);
  assert.deepEqual(parse(query), params);
});

test("encodes keys too", () => {
  const params = { "a b": "1", "x&y": "2", "k=v": "3" };
  assert.deepEqual(parse(stringify(params)), params);
});

test("round-trips unicode", () => {
  const params = { name: "Zoë Ñandú", emoji: "🎉" };
  assert.deepEqual(parse(stringify(params)), params);
});

test("stringifies arrays as repeated keys", () => {
  assert.equal(stringify({ tag: ["a", "b"], page: 1 }), "tag=a&tag=b&page=1");
  assert.deepEqual(parse(stringify({ tag: ["x y", "z&w"] })), { tag: ["x y", "z&w"] });
});

test("still skips undefined values", () => {
  assert.equal(stringify({ a: undefined, b: "1" }), "b=1");
});
