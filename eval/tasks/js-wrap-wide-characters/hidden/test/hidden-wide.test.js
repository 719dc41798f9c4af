import { test } from "node:test";
import assert from "node:assert/strict";
import { wrap, stringWidth } from "../src/index.js";

/** Every line fits and no character is lost or reordered. */
function assertWrapped(text, width, lines) {
  for (const line of lines) assert.ok(stringWidth(line) <= width, `"${line}" is ${stringWidth(line)} columns, more than ${width}`);
  assert.equal(lines.join("").replaceAll(" ", ""), text.replaceAll(" ", "").replaceAll("\n", ""));
}

test("wraps wide characters by columns", () => {
  const text = "日本語のテキスト";
  const lines = wrap(text, 6);
  assertWrapped(text, 6, lines);
  assert.deepEqual(lines, ["日本語", "のテキ", "スト"]);
});

test("wraps mixed text by columns", () => {
  const text = "hello 世界 again";
  const lines = wrap(text, 8);
  assertWrapped(text, 8, lines);
  assert.deepEqual(lines, ["hello", "世界", "again"]);
  assert.deepEqual(wrap("ab 世界", 7), ["ab 世界"]);
});

test("never splits a character made of two code units", () => {
  const text = "🎉🎉🎉🎉🎉";
  const lines = wrap(text, 3);
  assertWrapped(text, 3, lines);
  assert.deepEqual(lines, ["🎉", "🎉", "🎉", "🎉", "🎉"]);
  for (const line of lines) assert.ok(!/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/.test(line), "a lone high surrogate");
});

test("combining marks take no column", () => {
  const text = "e\u0301e\u0301e\u0301 abc";
  assert.deepEqual(wrap(text, 3), ["e\u0301e\u0301e\u0301", "abc"]);
});

test("a wide character in a width of one still makes progress", () => {
  const lines = wrap("世界", 1);
  assert.deepEqual(lines, ["世", "界"]);
});

test("ascii wrapping is unchanged", () => {
  assert.deepEqual(wrap("the quick brown fox jumps", 10), ["the quick", "brown fox", "jumps"]);
  assert.deepEqual(wrap("abcdefghij xy", 4), ["abcd", "efgh", "ij", "xy"]);
});
