import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { PROGRESS_WRITE_GAP_MS, ProgressWriter, type ProgressSink } from "../../src/dispatch/progress-writer.js";
import type { RunState } from "../../src/lifecycle/run-state.js";
import { startedState } from "../../src/lifecycle/transitions.js";

const T0 = Date.parse("2026-12-06T10:00:00.000Z");
const started: RunState = startedState(
  {
    v: 1,
    runId: "r-1",
    issue: 3,
    status: "queued",
    phase: "queued",
    trigger: { actor: "ada", source: "label", at: new Date(T0).toISOString() },
    deliveries: [],
    job: "implement",
    loop: { fixAttempts: 0, reviewCycles: 0 },
  },
  "replica-a",
  new Date(T0),
);

/** The progress comment as a list of what was written to it, in order; `fail` makes the next writes throw, `hold` keeps the next one under way until released. */
class RecordingSink implements ProgressSink {
  readonly written: Array<{ before: string; after: string }> = [];
  readonly failures: string[] = [];
  fail = 0;
  #held: Array<() => void> = [];
  holding = false;

  async write(before: RunState, after: RunState): Promise<void> {
    if (this.holding) await new Promise<void>((resolve) => this.#held.push(resolve));
    if (this.fail > 0) {
      this.fail--;
      throw new Error("GitHub said 502");
    }
    this.written.push({ before: before.phase, after: after.phase });
  }

  failed(_error: unknown, state: RunState): void {
    this.failures.push(state.phase);
  }

  release(): void {
    this.holding = false;
    for (const resolve of this.#held.splice(0)) resolve();
  }
}

describe("a running job's progress writer", () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: T0 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("edits the comment at most once a gap: a phase reported sooner shows when the gap ends, as the latest one", async () => {
    const sink = new RecordingSink();
    const writer = new ProgressWriter(sink, started, 5_000);
    const report = writer.reporter();
    await report.phase("workspace");
    await report.phase("agent");
    expect(sink.written).toEqual([]);
    await vi.advanceTimersByTimeAsync(4_999);
    expect(sink.written).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(sink.written).toEqual([{ before: "started", after: "agent" }]);
    // Past the gap, a phase is written at once, and its report resolves when it is.
    await vi.advanceTimersByTimeAsync(60_000);
    await report.phase("gate");
    expect(sink.written.at(-1)).toEqual({ before: "agent", after: "gate" });
    expect(writer.state.phase).toBe("gate");
  });

  it("drops a write not yet begun when the run ends (its settled state supersedes it) and waits for one under way", async () => {
    const sink = new RecordingSink();
    const writer = new ProgressWriter(sink, started, 5_000);
    await writer.reporter().phase("workspace");
    await writer.close();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(sink.written).toEqual([]);
    expect(writer.state.phase).toBe("workspace");

    const slow = new RecordingSink();
    const busy = new ProgressWriter(slow, started, 0);
    slow.holding = true;
    const phase = busy.reporter().phase("agent");
    let closed = false;
    const closing = busy.close().then(() => {
      closed = true;
    });
    await vi.advanceTimersByTimeAsync(100);
    expect(closed).toBe(false);
    slow.release();
    await Promise.all([phase, closing]);
    expect(slow.written).toEqual([{ before: "started", after: "agent" }]);
  });

  it("reports a failed write and tries again with the next report, from what the comment still holds", async () => {
    const sink = new RecordingSink();
    const writer = new ProgressWriter(sink, started, 0);
    sink.fail = 1;
    await writer.reporter().phase("workspace");
    expect(sink.failures).toEqual(["workspace"]);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(sink.written).toEqual([]);
    await writer.reporter().phase("agent");
    expect(sink.written).toEqual([{ before: "started", after: "agent" }]);
  });

  it("shows the growing spend at most every 15 seconds, within the same gap", async () => {
    const sink = new RecordingSink();
    const writer = new ProgressWriter(sink, started);
    const report = writer.reporter();
    report.spend({ usd: 0.01, turns: 1 });
    await vi.advanceTimersByTimeAsync(PROGRESS_WRITE_GAP_MS);
    expect(sink.written).toEqual([]);
    await vi.advanceTimersByTimeAsync(15_000);
    report.spend({ usd: 0.02, turns: 2 });
    await vi.advanceTimersByTimeAsync(0);
    expect(sink.written).toHaveLength(1);
    expect(writer.state.spend).toEqual({ usd: 0.02, turns: 2 });
  });
});
