import { test } from "node:test";
import assert from "node:assert/strict";
import { urlJoin } from "../src/index.js";

test("one slash between parts that bring their own", () => {
  assert.equal(urlJoin("https://api.example.com/", "/v1/", "users"), "https://api.example.com/v1/users");
  assert.equal(urlJoin("a//", "//b"), "a/b");
});

test("keeps the leading slash of the first part", () => {
  assert.equal(urlJoin("/api/", "/v1"), "/api/v1");
});

test("keeps the trailing slash of the last part", () => {
  assert.equal(urlJoin("https://x.com", "docs/"), "https://x.com/docs/");
  assert.equal(urlJoin("https://x.com/", "/docs/", "?q=1"), "https://x.com/docs/?q=1");
});

test("keeps the scheme when it is a part of its own", () => {
  assert.equal(urlJoin("https://", "x.com", "a"), "https://x.com/a");
  assert.equal(urlJoin("file:///", "etc", "hosts"), "file:///etc/hosts");
});

test("keeps slashes inside a part", () => {
  assert.equal(urlJoin("https://x.com", "a/b/c"), "https://x.com/a/b/c");
  assert.equal(urlJoin("https://x.com/search", "?next=/home"), "https://x.com/search?next=/home");
});
