import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { YieldingQueue } from "../../src/dispatch/yielding-queue.js";

function recorder() {
  const started: string[] = [];
  const task = (name: string) => async () => {
    started.push(name);
  };
  return { started, task };
}

describe("YieldingQueue", () => {
  it("holds tasks while deliveries keep arriving and releases them once they stop", async () => {
    const queue = new YieldingQueue({ limit: 2, onError: () => {}, quietMs: 250, maxHoldMs: 10_000 });
    const { started, task } = recorder();
    for (let i = 0; i < 5; i++) {
      queue.push(task(`d${i}`), true);
      await sleep(10);
      expect(started).toEqual([]);
    }
    await queue.idle();
    expect(started).toEqual(["d0", "d1", "d2", "d3", "d4"]);
    expect(queue.pending).toBe(0);
  });

  it("releases held tasks after maxHoldMs even if deliveries never stop", async () => {
    const queue = new YieldingQueue({ limit: 2, onError: () => {}, quietMs: 20, maxHoldMs: 60 });
    const { started, task } = recorder();
    queue.push(task("first"), true);
    let arrivals = 0;
    while (started.length === 0 && arrivals < 100) {
      queue.push(async () => {}, true);
      arrivals++;
      await sleep(5);
    }
    expect(started).toEqual(["first"]);
    expect(arrivals).toBeLessThan(100);
    await queue.idle();
  });

  it("does not hold work of afk's own when no delivery arrives", async () => {
    const queue = new YieldingQueue({ limit: 1, onError: () => {}, quietMs: 10, maxHoldMs: 1000 });
    const { started, task } = recorder();
    queue.push(task("own"), false);
    await queue.idle();
    expect(started).toEqual(["own"]);
  });
});
