import { test } from "node:test";
import assert from "node:assert/strict";
import { wrap, padEnd, stringWidth } from "../src/index.js";

test("wraps at spaces", () => {
  assert.deepEqual(wrap("the quick brown fox jumps", 10), ["the quick", "brown fox", "jumps"]);
  assert.deepEqual(wrap("a  b", 10), ["a b"]);
});

test("cuts long words", () => {
  assert.deepEqual(wrap("abcdefghij xy", 4), ["abcd", "efgh", "ij", "xy"]);
});

test("keeps paragraphs", () => {
  assert.deepEqual(wrap("one two\n\nthree", 20), ["one two", "", "three"]);
});

test("measures and pads wide text", () => {
  assert.equal(stringWidth("名前"), 4);
  assert.equal(stringWidth("é"), 1);
  assert.equal(padEnd("名前", 6) + "|", "名前  |");
});
