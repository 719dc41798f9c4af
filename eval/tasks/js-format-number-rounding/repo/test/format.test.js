import { test } from "node:test";
import assert from "node:assert/strict";
import { formatNumber, round } from "../src/index.js";

test("groups thousands", () => {
  assert.equal(formatNumber(1234567.891), "1,234,567.89");
  assert.equal(formatNumber(999), "999.00");
  assert.equal(formatNumber(-1234.5, { decimals: 1 }), "-1,234.5");
});

test("uses custom separators", () => {
  assert.equal(formatNumber(1234.5, { separator: ".", point: "," }), "1.234,50");
  assert.equal(formatNumber(1234.5, { decimals: 0, separator: " " }), "1 235");
});

test("rounds halves up", () => {
  assert.equal(formatNumber(0.125), "0.13");
  assert.equal(formatNumber(2.5, { decimals: 0 }), "3");
  assert.equal(round(1.25, 1), 1.3);
});

test("rejects what it cannot format", () => {
  assert.throws(() => formatNumber(Infinity), RangeError);
  assert.throws(() => formatNumber(1, { decimals: -1 }), RangeError);
});
