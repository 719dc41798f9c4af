import { test } from "node:test";
import assert from "node:assert/strict";
import { get, set, parse, compile } from "../src/index.js";

const doc = { users: [{ name: "ada" }, { name: "bob" }], meta: { count: 2 } };

test("gets values", () => {
  assert.equal(get(doc, "/users/1/name"), "bob");
  assert.equal(get(doc, "/meta/count"), 2);
  assert.equal(get(doc, ""), doc);
  assert.equal(get(doc, "/nope/deeper"), undefined);
});

test("sets values", () => {
  const copy = structuredClone(doc);
  set(copy, "/meta/count", 3);
  set(copy, "/users/-", { name: "cy" });
  assert.equal(copy.meta.count, 3);
  assert.equal(copy.users[2].name, "cy");
});

test("parses and compiles plain pointers", () => {
  assert.deepEqual(parse("/users/0/name"), ["users", "0", "name"]);
  assert.equal(compile(["users", "0", "name"]), "/users/0/name");
  assert.deepEqual(parse("/"), [""]);
  assert.throws(() => parse("users"), SyntaxError);
});
