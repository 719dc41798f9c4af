import { test } from "node:test";
import assert from "node:assert/strict";
import { slugify } from "../src/index.js";

test("slugifies ascii titles", () => {
  assert.equal(slugify("Hello, World!"), "hello-world");
  assert.equal(slugify("  --Already--slugged--  "), "already-slugged");
  assert.equal(slugify("Top 10 Tips"), "top-10-tips");
});

test("spells out symbols", () => {
  assert.equal(slugify("Fish & Chips @ Home"), "fish-and-chips-at-home");
  assert.equal(slugify("C++ in 100%"), "c-plus-plus-in-100-percent");
});

test("uses a custom separator", () => {
  assert.equal(slugify("Hello World", { separator: "_" }), "hello_world");
});
