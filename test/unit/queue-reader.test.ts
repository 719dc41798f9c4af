import { describe, expect, it } from "vitest";
import { dispatchOrder, type QueuedRun } from "../../src/dispatch/queue-reader.js";
import type { RunState } from "../../src/lifecycle/run-state.js";
import { queuedState } from "../../src/lifecycle/transitions.js";
import { renderStatus } from "../../src/progress/render-replies.js";

const now = new Date("2026-12-06T09:00:00.000Z");

function queued(number: number, job: RunState["job"]): QueuedRun {
  const state = queuedState({
    runId: `r-${number}`,
    issue: number,
    trigger: { actor: "ada", source: "label", deliveryId: `d-${number}`, repoUrl: "https://github.com/o/r", bodyDigest: "0".repeat(32) },
    now,
    queuedBehind: undefined,
    previous: undefined,
    job,
  });
  return { issue: { number, labels: [], body: "" }, state };
}

describe("the one queue afk dispatches from and /afk status shows", () => {
  it("takes follow-ups (fix-ci, rework) before new work, keeping the priority order within each", () => {
    const listed = [queued(1, "implement"), queued(2, "fix-ci"), queued(3, "plan"), queued(4, "rework")];
    expect(dispatchOrder(listed).map((run) => run.issue.number)).toEqual([2, 4, 1, 3]);
  });

  it("/afk status lists the queue in that order, saying which are follow-ups and which wait on blocking issues", () => {
    const status = renderStatus({
      issue: 9,
      progress: undefined,
      lock: { status: "free", sha: "0".repeat(40) },
      queue: [
        { number: 2, followUp: true, blockedBy: [] },
        { number: 1, followUp: false, blockedBy: [7, 8] },
        { number: 3, followUp: false, blockedBy: [] },
      ],
    });
    expect(status).toContain("- Queue, in the order afk starts it: #2 (follow-up), #1 (blocked by #7, #8), #3");
  });
});
