import { test } from "node:test";
import assert from "node:assert/strict";
import * as depsort from "../src/index.js";

const { toposort } = depsort;

/** The cycle (first node repeated at the end) of the CycleError toposort throws for a graph, checked to be a real cycle of it. */
function cycleOf(graph) {
  let error;
  try {
    toposort(graph);
  } catch (caught) {
    error = caught;
  }
  assert.ok(error, "toposort should throw on a cycle");
  assert.equal(typeof depsort.CycleError, "function", "CycleError is exported");
  assert.ok(error instanceof depsort.CycleError);
  assert.ok(error instanceof Error);
  assert.ok(Array.isArray(error.cycle) && error.cycle.length >= 1, "cycle lists the nodes");
  // The first node may be repeated at the end or not: the cycle is closed either way.
  const cycle = error.cycle.length >= 2 && error.cycle[0] === error.cycle[error.cycle.length - 1] ? error.cycle : [...error.cycle, error.cycle[0]];
  for (let i = 0; i + 1 < cycle.length; i++) {
    assert.ok((graph[cycle[i]] ?? []).includes(cycle[i + 1]), `${cycle[i]} depends on ${cycle[i + 1]}`);
  }
  assert.equal(new Set(cycle.slice(1)).size, cycle.length - 1, "each node once");
  for (const node of cycle) assert.ok(error.message.includes(node), `message names ${node}`);
  return cycle;
}

test("throws CycleError naming a two-node cycle", () => {
  const cycle = cycleOf({ a: ["b"], b: ["a"] });
  assert.deepEqual(new Set(cycle), new Set(["a", "b"]));
});

test("finds a cycle behind acyclic nodes", () => {
  const cycle = cycleOf({ app: ["lib"], lib: ["util"], util: ["core"], core: ["lib"], other: [] });
  assert.deepEqual(new Set(cycle), new Set(["lib", "util", "core"]));
});

test("reports a node that depends on itself", () => {
  assert.deepEqual(cycleOf({ a: [], b: ["b"] }), ["b", "b"]);
});

test("acyclic graphs still sort", () => {
  assert.deepEqual(toposort({ app: ["lib", "config"], lib: ["config"], config: [] }), ["config", "lib", "app"]);
  assert.deepEqual(toposort({ d: ["b", "c"], b: ["a"], c: ["a"], a: [] }), ["a", "b", "c", "d"]);
});
