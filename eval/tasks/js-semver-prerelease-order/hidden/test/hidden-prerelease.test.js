import { test } from "node:test";
import assert from "node:assert/strict";
import { compare, sort, maxSatisfying } from "../src/index.js";

test("a release is greater than its prereleases", () => {
  assert.equal(compare("1.0.0", "1.0.0-rc.1"), 1);
  assert.equal(compare("1.0.0-alpha", "1.0.0"), -1);
  assert.equal(maxSatisfying(["1.0.0-rc.2", "1.0.0"], "0.1.0"), "1.0.0");
});

test("numeric prerelease identifiers compare as numbers", () => {
  assert.equal(compare("1.0.0-alpha.10", "1.0.0-alpha.2"), 1);
  assert.equal(compare("1.0.0-rc.2", "1.0.0-rc.11"), -1);
});

test("alphanumeric prerelease identifiers compare in ASCII order", () => {
  assert.equal(compare("1.0.0-alpha", "1.0.0-beta"), -1);
  assert.equal(compare("1.0.0-alpha.beta", "1.0.0-alpha.gamma"), -1);
  assert.equal(compare("1.0.0-beta.x", "1.0.0-beta.a"), 1);
  assert.equal(compare("1.0.0-RC.1", "1.0.0-beta.2"), -1);
  assert.equal(compare("1.0.0-beta.2", "1.0.0-RC.1"), 1);
});

test("numeric identifiers sort before alphanumeric ones", () => {
  assert.equal(compare("1.0.0-alpha.1", "1.0.0-alpha.beta"), -1);
  assert.equal(compare("1.0.0-alpha.beta", "1.0.0-alpha.1"), 1);
});

test("a longer prerelease with an equal prefix is greater", () => {
  assert.equal(compare("1.0.0-alpha", "1.0.0-alpha.1"), -1);
  assert.equal(compare("1.0.0-alpha.1.1", "1.0.0-alpha.1"), 1);
});

test("sorts the semver.org example in precedence order", () => {
  const ordered = ["1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0"];
  const shuffled = [ordered[5], ordered[7], ordered[0], ordered[3], ordered[6], ordered[1], ordered[4], ordered[2]];
  assert.deepEqual(sort(shuffled), ordered);
});
