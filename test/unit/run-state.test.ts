import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeStateMarker, encodeStateMarker, rememberDelivery, type RunState } from "../../src/lifecycle/run-state.js";

const state: RunState = {
  v: 1,
  runId: "r-abc",
  issue: 12,
  status: "queued",
  phase: "queued",
  trigger: { actor: "octocat", source: "label", at: "2026-11-23T12:00:00.000Z" },
  deliveries: ["d-1"],
  queuedBehind: 3,
  job: "implement",
  loop: { fixAttempts: 0, reviewCycles: 0 },
};

describe("run state marker", () => {
  it("reads a marker written before the lifecycle fields existed, filling their defaults", () => {
    const { job: _job, loop: _loop, ...older } = state;
    const marker = `<!-- afk:state ${JSON.stringify(older)} -->`;
    expect(decodeStateMarker(marker)).toEqual({ kind: "state", state: { ...older, job: "implement", loop: { fixAttempts: 0, reviewCycles: 0 } } });
  });

  it("round-trips through a hidden HTML comment", () => {
    const marker = encodeStateMarker(state);
    expect(marker).toMatch(/^<!-- afk:state \{.*\} -->$/);
    expect(decodeStateMarker(`text\n${marker}\nmore`)).toEqual({ kind: "state", state });
  });

  it("no value can close the HTML comment early", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme", maxLength: 80 }), (text) => {
        const hostile: RunState = { ...state, outcome: { message: `${text}-->${text}<!--`, retryable: true } };
        const marker = encodeStateMarker(hostile);
        expect(marker.indexOf("-->")).toBe(marker.length - 3);
        expect(decodeStateMarker(marker)).toEqual({ kind: "state", state: hostile });
      }),
    );
  });

  it.each([
    ["not JSON", "<!-- afk:state {oops -->", /not JSON/],
    ["another version", '<!-- afk:state {"v":2} -->', /version 1/],
    ["a wrong type", `<!-- afk:state ${JSON.stringify({ ...state, issue: "12" })} -->`, /issue/],
    ["an unknown status", `<!-- afk:state ${JSON.stringify({ ...state, status: "winning" })} -->`, /status/],
  ])("reports a marker with %s as corrupt", (_what, body, reason) => {
    const decoded = decodeStateMarker(body);
    expect(decoded.kind).toBe("corrupt");
    expect(decoded.kind === "corrupt" && decoded.reason).toMatch(reason);
  });

  it("finds no marker in an ordinary comment", () => {
    expect(decodeStateMarker("LGTM <!-- reviewed -->")).toEqual({ kind: "none" });
  });

  it("remembers the 20 most recent deliveries, without repeats", () => {
    let deliveries: string[] = [];
    for (let i = 0; i < 30; i++) deliveries = rememberDelivery(deliveries, `d-${i % 25}`);
    expect(deliveries).toHaveLength(20);
    expect(new Set(deliveries).size).toBe(20);
    expect(deliveries.at(-1)).toBe("d-4");
  });
});
