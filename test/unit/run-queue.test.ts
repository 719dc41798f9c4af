import { describe, expect, it } from "vitest";
import { RunQueue } from "../../src/dispatch/run-queue.js";

describe("RunQueue", () => {
  it("never runs more than its limit at once and runs everything in order", async () => {
    const errors: unknown[] = [];
    const queue = new RunQueue(2, (error) => errors.push(error));
    let running = 0;
    let peak = 0;
    const order: number[] = [];
    for (let i = 0; i < 7; i++) {
      queue.push(async () => {
        running++;
        peak = Math.max(peak, running);
        order.push(i);
        await new Promise((resolve) => setTimeout(resolve, 5));
        running--;
        if (i === 3) throw new Error("task 3 failed");
      });
    }
    await queue.idle();
    expect(peak).toBe(2);
    expect(order).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(errors).toHaveLength(1);
    expect(queue.running + queue.waiting).toBe(0);
  });

  it("gives free slots to the lanes in turn: one lane's burst does not hold another lane's task back", async () => {
    const queue = new RunQueue(1, () => {});
    const order: string[] = [];
    const task = (name: string) => async () => {
      order.push(name);
      await new Promise((resolve) => setTimeout(resolve, 1));
    };
    for (let i = 1; i <= 5; i++) queue.push(task(`a${i}`), "installation-a");
    queue.push(task("b1"), "installation-b");
    queue.push(task("b2"), "installation-b");
    queue.push(task("c1"), "installation-c");
    await queue.idle();
    // a1 was already running; then the lanes take turns, each in its own arrival order.
    expect(order).toEqual(["a1", "a2", "b1", "c1", "a3", "b2", "a4", "a5"]);
  });

  it("rejects a limit below one", () => {
    expect(() => new RunQueue(0, () => {})).toThrow(RangeError);
  });
});
