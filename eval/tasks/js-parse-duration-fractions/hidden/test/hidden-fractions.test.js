import { test } from "node:test";
import assert from "node:assert/strict";
import { parseDuration } from "../src/index.js";

test("parses fractional hours", () => {
  assert.equal(parseDuration("1.5h"), 5400000);
});

test("parses fractions without a leading digit", () => {
  assert.equal(parseDuration(".5s"), 500);
  assert.equal(parseDuration("0.25m"), 15000);
});

test("parses fractions combined with other units", () => {
  assert.equal(parseDuration("1.5h 30m"), 7200000);
  assert.equal(parseDuration("-2.5s"), -2500);
});

test("still rejects malformed numbers", () => {
  assert.throws(() => parseDuration("1.2.3h"), TypeError);
  assert.throws(() => parseDuration(".h"), TypeError);
  assert.throws(() => parseDuration("1.h"), TypeError);
});
