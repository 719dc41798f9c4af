import { test } from "node:test";
import assert from "node:assert/strict";
import { formatNumber, round } from "../src/index.js";

test("rounds decimal halves the way they are written", () => {
  assert.equal(formatNumber(1.005), "1.01");
  assert.equal(formatNumber(8.345), "8.35");
  assert.equal(formatNumber(1.255), "1.26");
  assert.equal(formatNumber(10.235), "10.24");
  assert.equal(formatNumber(1234.565), "1,234.57");
});

test("round agrees with formatNumber", () => {
  assert.equal(round(1.005, 2), 1.01);
  assert.equal(round(8.345, 2), 8.35);
  assert.equal(round(-1.005, 2), -1.01);
});

test("rounds negative halves away from zero", () => {
  assert.equal(formatNumber(-2.5, { decimals: 0 }), "-3");
  assert.equal(formatNumber(-1.005), "-1.01");
  assert.equal(formatNumber(-0.125), "-0.13");
});

test("never prints negative zero", () => {
  assert.equal(formatNumber(-0.001), "0.00");
  assert.equal(formatNumber(-0.4, { decimals: 0 }), "0");
});

test("keeps values that need no rounding", () => {
  assert.equal(formatNumber(0.1 + 0.2), "0.30");
  assert.equal(formatNumber(1e-7, { decimals: 3 }), "0.000");
  assert.equal(formatNumber(123456789.12, { decimals: 2 }), "123,456,789.12");
});
