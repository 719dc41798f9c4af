import { test } from "node:test";
import assert from "node:assert/strict";
import { get, set, parse, compile } from "../src/index.js";

/** The example document of RFC 6901 section 5. */
const rfc = { foo: ["bar", "baz"], "": 0, "a/b": 1, "c%d": 2, "e^f": 3, "g|h": 4, "i\\j": 5, 'k"l': 6, " ": 7, "m~n": 8 };

test("unescapes ~1 and ~0 when reading", () => {
  assert.equal(get(rfc, "/a~1b"), 1);
  assert.equal(get(rfc, "/m~0n"), 8);
  assert.equal(get(rfc, "/"), 0);
  assert.equal(get(rfc, "/foo/0"), "bar");
});

test("parses escaped tokens", () => {
  assert.deepEqual(parse("/a~1b/m~0n"), ["a/b", "m~n"]);
});

test("~01 is a tilde followed by 1, not a slash", () => {
  assert.deepEqual(parse("/~01"), ["~1"]);
  assert.equal(get({ "~1": "tilde-one", "/": "slash" }, "/~01"), "tilde-one");
  assert.deepEqual(parse("/~00"), ["~0"]);
});

test("escapes tokens when compiling", () => {
  assert.equal(compile(["a/b", "m~n"]), "/a~1b/m~0n");
  assert.equal(compile(["~1"]), "/~01");
  for (const key of Object.keys(rfc)) assert.deepEqual(parse(compile([key])), [key]);
});

test("sets through escaped tokens", () => {
  const doc = { "a/b": {} };
  set(doc, "/a~1b/x~0y", 1);
  assert.deepEqual(doc, { "a/b": { "x~y": 1 } });
});
