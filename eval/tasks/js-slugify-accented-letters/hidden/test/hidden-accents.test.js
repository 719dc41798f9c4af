import { test } from "node:test";
import assert from "node:assert/strict";
import { slugify } from "../src/index.js";

test("drops accents from letters", () => {
  assert.equal(slugify("Crème Brûlée"), "creme-brulee");
  assert.equal(slugify("naïve café"), "naive-cafe");
  assert.equal(slugify("Ångström"), "angstrom");
  assert.equal(slugify("ÉCOLE Noël"), "ecole-noel");
});

test("transliterates letters that have no accent to drop", () => {
  assert.equal(slugify("Straße"), "strasse");
  assert.equal(slugify("Łódź"), "lodz");
  assert.equal(slugify("Søren Kierkegaard"), "soren-kierkegaard");
  assert.equal(slugify("Encyclopædia"), "encyclopaedia");
});

test("decomposed input gives the same slug", () => {
  assert.equal(slugify("Cre\u0300me"), "creme");
});

test("symbols and separators still work with accents", () => {
  assert.equal(slugify("Café & Crème", { separator: "_" }), "cafe_and_creme");
});
