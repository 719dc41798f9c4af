import { test } from "node:test";
import assert from "node:assert/strict";
import { parse, stringify } from "../src/index.js";

test("parses quoted fields", () => {
  assert.deepEqual(parse('name,age\n"Smith, J",42\n'), [
    ["name", "age"],
    ["Smith, J", "42"],
  ]);
  assert.deepEqual(parse('"say ""hi""",x\r\n'), [['say "hi"', "x"]]);
  assert.deepEqual(parse('"two\nlines",y'), [["two\nlines", "y"]]);
});

test("parses with another delimiter", () => {
  assert.deepEqual(parse("a;b\n1;2", { delimiter: ";" }), [
    ["a", "b"],
    ["1", "2"],
  ]);
});

test("stringifies plain rows", () => {
  assert.equal(
    stringify([
      ["a", 1],
      ["b", 2],
    ]),
    "a,1\r\nb,2\r\n",
  );
  assert.equal(stringify([[null, undefined, 0, false]]), ",,0,false\r\n");
  assert.equal(stringify([["x", "y"]], { delimiter: "\t" }), "x\ty\r\n");
});
