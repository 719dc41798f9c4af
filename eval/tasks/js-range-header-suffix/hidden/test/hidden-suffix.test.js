import { test } from "node:test";
import assert from "node:assert/strict";
import { parseRange, contentRange } from "../src/index.js";

test("a suffix range is the last bytes", () => {
  assert.deepEqual(parseRange(1000, "bytes=-500"), [{ start: 500, end: 999 }]);
  assert.deepEqual(parseRange(1000, "bytes=-1"), [{ start: 999, end: 999 }]);
});

test("a suffix longer than the resource is the whole resource", () => {
  assert.deepEqual(parseRange(300, "bytes=-500"), [{ start: 0, end: 299 }]);
});

test("a zero-length suffix cannot be satisfied", () => {
  assert.equal(parseRange(1000, "bytes=-0"), -1);
  assert.deepEqual(parseRange(1000, "bytes=-0, 0-0"), [{ start: 0, end: 0 }]);
});

test("suffix ranges mix with others", () => {
  assert.deepEqual(parseRange(1000, "bytes=0-0,-1"), [
    { start: 0, end: 0 },
    { start: 999, end: 999 },
  ]);
});

test("an empty resource satisfies no range", () => {
  assert.equal(parseRange(0, "bytes=-500"), -1);
  assert.equal(parseRange(0, "bytes=0-"), -1);
});

test("Content-Range of a suffix range", () => {
  const [range] = parseRange(1000, "bytes=-100");
  assert.equal(contentRange(1000, range), "bytes 900-999/1000");
});

test("other ranges unchanged", () => {
  assert.deepEqual(parseRange(1000, "bytes=500-"), [{ start: 500, end: 999 }]);
  assert.equal(parseRange(1000, "bytes=9-5"), -2);
});
