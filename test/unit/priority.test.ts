import { describe, expect, it } from "vitest";
import { orderCandidates, priorityOf } from "../../src/dispatch/priority.js";
import { parseBlockedBy } from "../../src/text/blocked-by.js";

describe("queue order", () => {
  it.each([
    [["P0"], 0],
    [["p3", "bug"], 3],
    [["priority:1"], 1],
    [["priority: 7"], 7],
    [["P2", "priority:1"], 1],
    [["bug", "P9", "Px"], Number.POSITIVE_INFINITY],
    [[], Number.POSITIVE_INFINITY],
  ])("reads the priority of %j as %d", (labels, expected) => {
    expect(priorityOf(labels)).toBe(expected);
  });

  it("runs higher priority first, then older issues, unlabeled last", () => {
    const ordered = orderCandidates([
      { number: 5, labels: [] },
      { number: 9, labels: ["P1"] },
      { number: 2, labels: [] },
      { number: 7, labels: ["priority:0"] },
      { number: 3, labels: ["P1"] },
    ]);
    expect(ordered.map((issue) => issue.number)).toEqual([7, 3, 9, 2, 5]);
  });

  it.each([
    ["Blocked by #12", [12]],
    ["- Blocked by: #3, #4 and #3", [3, 4]],
    ["> blocked by #9", [9]],
    ["**Blocked by** #2", [2]],
    ["This is not blocked by anything", []],
    ["Blocked by other/repo#5 and #6", [6]],
    ["Mentions #7 but\nblocked by #8", [8]],
  ])("reads %j as blocked by %j", (body, expected) => {
    expect(parseBlockedBy(body)).toEqual(expected);
  });
});
