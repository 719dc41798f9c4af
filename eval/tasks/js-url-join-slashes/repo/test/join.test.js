import { test } from "node:test";
import assert from "node:assert/strict";
import { urlJoin } from "../src/index.js";

test("joins parts with slashes", () => {
  assert.equal(urlJoin("https://api.example.com", "v1", "users"), "https://api.example.com/v1/users");
  assert.equal(urlJoin("a", "b", "c"), "a/b/c");
});

test("attaches query and hash", () => {
  assert.equal(urlJoin("https://x.com", "search", "?q=1", "#top"), "https://x.com/search?q=1#top");
});

test("skips empty parts", () => {
  assert.equal(urlJoin("", "a", "", "b"), "a/b");
  assert.equal(urlJoin(), "");
});

test("rejects non-strings", () => {
  assert.throws(() => urlJoin("a", 1), TypeError);
});
