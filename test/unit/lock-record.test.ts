import { describe, expect, it } from "vitest";
import { decodeLockMessage, encodeLockMessage, extendLease, isExpired, newHolder } from "../../src/lock/lock-record.js";

const now = new Date("2026-11-23T12:00:00.000Z");

describe("lock records", () => {
  it("round-trips a holder through a commit message a person can read", () => {
    const holder = newHolder({ issue: 7, runId: "r-1", replica: "replica-a", now, leaseSeconds: 300 });
    const message = encodeLockMessage(holder);
    expect(message.split("\n")[0]).toBe("afk lock: #7 (run r-1) on replica-a until 2026-11-23T12:05:00.000Z");
    expect(decodeLockMessage(message)).toEqual(holder);
  });

  it("round-trips a free record", () => {
    const free = { v: 1 as const, state: "free" as const, at: now.toISOString(), lastRunId: "r-1" };
    expect(decodeLockMessage(encodeLockMessage(free))).toEqual(free);
  });

  it.each(["", "hello", "afk lock\n\n{", 'afk lock\n\n{"v":2,"state":"held"}', 'x\n\n{"v":1,"state":"held","issue":-1}'])("does not trust %j", (message) => {
    expect(decodeLockMessage(message)).toBeUndefined();
  });

  it("expires exactly at the lease end and renews from the time of renewal", () => {
    const holder = newHolder({ issue: 1, runId: "r", replica: "x", now, leaseSeconds: 60 });
    expect(isExpired(holder, new Date(now.getTime() + 59_999))).toBe(false);
    expect(isExpired(holder, new Date(now.getTime() + 60_000))).toBe(true);
    const renewed = extendLease(holder, new Date(now.getTime() + 50_000), 60);
    expect(renewed.expiresAt).toBe("2026-11-23T12:01:50.000Z");
    expect(renewed.acquiredAt).toBe(holder.acquiredAt);
  });
});
