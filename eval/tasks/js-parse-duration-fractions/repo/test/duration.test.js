import { test } from "node:test";
import assert from "node:assert/strict";
import { parseDuration, formatDuration } from "../src/index.js";

test("parses whole minutes", () => {
  assert.equal(parseDuration("5m"), 300000);
});

test("parses combined units", () => {
  assert.equal(parseDuration("2h30m"), 9000000);
  assert.equal(parseDuration("1d 2h"), 93600000);
});

test("parses negative durations", () => {
  assert.equal(parseDuration("-90s"), -90000);
});

test("rejects garbage", () => {
  assert.throws(() => parseDuration("soon"), TypeError);
  assert.throws(() => parseDuration(""), TypeError);
  assert.throws(() => parseDuration("5x"), TypeError);
});

test("formats durations", () => {
  assert.equal(formatDuration(5400000), "1h30m");
  assert.equal(formatDuration(0), "0ms");
  assert.equal(formatDuration(-1500), "-1s500ms");
});
