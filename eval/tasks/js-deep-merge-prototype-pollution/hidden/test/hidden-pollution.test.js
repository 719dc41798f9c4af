import { test, afterEach } from "node:test";
import assert from "node:assert/strict";
import { merge, setPath } from "../src/index.js";

afterEach(() => {
  delete Object.prototype.polluted;
  delete Object.prototype.isAdmin;
});

/** Runs an operation that may either refuse (throw) or ignore a dangerous key. */
function attempt(operation) {
  try {
    operation();
  } catch {
    // refusing is fine too
  }
}

test("merge does not pollute Object.prototype through __proto__", () => {
  attempt(() => merge({}, JSON.parse('{"__proto__":{"polluted":"yes"}}')));
  attempt(() => merge({}, JSON.parse('{"a":{"__proto__":{"isAdmin":true}}}')));
  assert.equal({}.polluted, undefined);
  assert.equal({}.isAdmin, undefined);
});

test("setPath does not pollute Object.prototype through __proto__", () => {
  attempt(() => setPath({}, "__proto__.polluted", "yes"));
  attempt(() => setPath({ a: {} }, "a.__proto__.isAdmin", true));
  assert.equal({}.polluted, undefined);
  assert.equal({}.isAdmin, undefined);
});

test("setPath does not pollute Object.prototype through constructor.prototype", () => {
  attempt(() => setPath({}, "constructor.prototype.polluted", "yes"));
  attempt(() => setPath({ user: {} }, "user.constructor.prototype.isAdmin", true));
  assert.equal({}.polluted, undefined);
  assert.equal({}.isAdmin, undefined);
});

test("safe keys next to a dangerous one still merge", () => {
  const out = {};
  attempt(() => merge(out, JSON.parse('{"__proto__":{"polluted":1},"server":{"port":1}}')));
  assert.equal({}.polluted, undefined);
  assert.equal(Object.getPrototypeOf(out), Object.prototype);
  assert.deepEqual(out.server, { port: 1 });
});
