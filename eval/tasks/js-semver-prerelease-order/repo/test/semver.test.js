import { test } from "node:test";
import assert from "node:assert/strict";
import { parse, compare, sort, maxSatisfying } from "../src/index.js";

test("parses a full version", () => {
  assert.deepEqual(parse("v1.2.3-beta.1+build.5"), { major: 1, minor: 2, patch: 3, prerelease: ["beta", "1"], build: ["build", "5"] });
});

test("rejects invalid versions", () => {
  assert.throws(() => parse("1.2"), TypeError);
  assert.throws(() => parse("01.2.3"), TypeError);
});

test("compares numeric parts as numbers", () => {
  assert.equal(compare("1.2.3", "1.10.0"), -1);
  assert.equal(compare("2.0.0", "1.99.99"), 1);
  assert.equal(compare("1.0.0", "1.0.0+build.7"), 0);
});

test("orders prerelease tags alphabetically", () => {
  assert.equal(compare("1.0.0-alpha", "1.0.0-beta"), -1);
  assert.equal(compare("1.0.0-rc.1", "1.0.0-beta.2"), 1);
});

test("sorts and picks the highest", () => {
  assert.deepEqual(sort(["1.10.0", "1.2.0", "1.9.9"]), ["1.2.0", "1.9.9", "1.10.0"]);
  assert.equal(maxSatisfying(["1.0.0", "1.4.0", "0.9.0"], "1.0.0"), "1.4.0");
  assert.equal(maxSatisfying(["0.1.0"], "1.0.0"), null);
});
