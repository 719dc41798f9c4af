import { test } from "node:test";
import assert from "node:assert/strict";
import { parse, stringify } from "../src/index.js";

test("quotes fields that contain the delimiter", () => {
  assert.equal(stringify([["Smith, J", 42]]), '"Smith, J",42\r\n');
  assert.equal(stringify([["a;b", "c,d"]], { delimiter: ";" }), '"a;b";c,d\r\n');
});

test("doubles quotes inside fields", () => {
  assert.equal(stringify([['say "hi"', "x"]]), '"say ""hi""",x\r\n');
});

test("quotes fields that contain line breaks", () => {
  assert.equal(stringify([["two\nlines", "y"]]), '"two\nlines",y\r\n');
  assert.equal(stringify([["cr\rhere"]]), '"cr\rhere"\r\n');
});

test("round-trips awkward values through parse", () => {
  const rows = [
    ["plain", 'a "quoted" word', "comma, inside", "line\r\nbreak", '"', ""],
    ["", "", "", "", "", "end"],
  ];
  assert.deepEqual(parse(stringify(rows)), rows);
});

test("leaves ordinary fields unquoted", () => {
  assert.equal(stringify([["hello world", "3.5", null]]), "hello world,3.5,\r\n");
});
