import { test } from "node:test";
import assert from "node:assert/strict";
import { parse, stringify } from "../src/index.js";

test("parses repeated keys into arrays", () => {
  assert.deepEqual(parse("?tag=a&tag=b&tag=c&x=1"), { tag: ["a", "b", "c"], x: "1" });
});

test("decodes escapes and plus signs", () => {
  assert.deepEqual(parse("q=hello+world&e=caf%C3%A9&flag"), { q: "hello world", e: "café", flag: "" });
});

test("stringifies simple params", () => {
  assert.equal(stringify({ page: 2, sort: "name", skip: undefined }), "page=2&sort=name");
  assert.equal(stringify({}), "");
});
