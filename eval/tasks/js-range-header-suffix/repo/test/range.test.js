import { test } from "node:test";
import assert from "node:assert/strict";
import { parseRange, contentRange } from "../src/index.js";

test("parses a closed range", () => {
  assert.deepEqual(parseRange(1000, "bytes=0-499"), [{ start: 0, end: 499 }]);
});

test("parses an open-ended range", () => {
  assert.deepEqual(parseRange(1000, "bytes=500-"), [{ start: 500, end: 999 }]);
});

test("clamps the end to the last byte", () => {
  assert.deepEqual(parseRange(1000, "bytes=900-5000"), [{ start: 900, end: 999 }]);
});

test("parses several ranges", () => {
  assert.deepEqual(parseRange(1000, "bytes=0-9, 20-29"), [
    { start: 0, end: 9 },
    { start: 20, end: 29 },
  ]);
});

test("reports unsatisfiable and malformed headers", () => {
  assert.equal(parseRange(1000, "bytes=2000-3000"), -1);
  assert.equal(parseRange(1000, "pages=1"), -2);
  assert.equal(parseRange(1000, "bytes=abc"), -2);
  assert.equal(parseRange(1000, "bytes=9-5"), -2);
});

test("formats Content-Range", () => {
  assert.equal(contentRange(1000, { start: 0, end: 499 }), "bytes 0-499/1000");
});
