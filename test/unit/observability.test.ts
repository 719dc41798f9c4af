import { describe, expect, it } from "vitest";
import { AfkMetrics } from "../../src/observability/metrics.js";
import { cachedReadiness, readinessReport, type ReadinessCheck } from "../../src/observability/readiness.js";
import { runEndRecord, runStartRecord } from "../../src/observability/run-record.js";
import { sampleValue } from "../helpers/served-afk.js";

describe("readiness", () => {
  it("is ready only when every check passed, and names the failing ones in order", () => {
    const at = new Date("2026-12-06T08:00:00Z");
    expect(readinessReport([{ name: "github", result: { ok: true, detail: "fine", ms: 3 } }], at)).toEqual({
      ready: true,
      failing: [],
      checks: { github: { ok: true, detail: "fine", ms: 3 } },
      checkedAt: "2026-12-06T08:00:00.000Z",
    });
    const report = readinessReport(
      [
        { name: "github", result: { ok: false, detail: "down", ms: 1 } },
        { name: "model", result: { ok: true, detail: "fine", ms: 1 } },
        { name: "cache", result: { ok: false, detail: "read-only", ms: 1 } },
      ],
      at,
    );
    expect(report.ready).toBe(false);
    expect(report.failing).toEqual(["github", "cache"]);
  });

  it("a check that never answers fails after the timeout, with the others still reported", async () => {
    const hanging: ReadinessCheck = { name: "github", probe: () => new Promise<string>(() => undefined) };
    const fine: ReadinessCheck = { name: "cache", probe: async () => "writable" };
    const report = await cachedReadiness([hanging, fine], { cacheMs: 0, timeoutMs: 50 })();
    expect(report.failing).toEqual(["github"]);
    expect(report.checks.github?.detail).toBe("no answer within 50 ms");
    expect(report.checks.cache).toMatchObject({ ok: true, detail: "writable" });
  });

  it("probes arriving while a round runs, or within the cache window, share it", async () => {
    let probes = 0;
    const counted: ReadinessCheck = { name: "github", probe: async () => `probe ${++probes}` };
    const ready = cachedReadiness([counted], { cacheMs: 60_000, timeoutMs: 1_000 });
    const reports = await Promise.all([ready(), ready(), ready()]);
    expect(await ready()).toBe(reports[0]);
    expect(probes).toBe(1);
    const uncached = cachedReadiness([counted], { cacheMs: 0, timeoutMs: 1_000 });
    await uncached();
    await uncached();
    expect(probes).toBe(3);
  });
});

describe("metrics", () => {
  it("label values come from fixed sets: anything else from a delivery is `other`", async () => {
    const metrics = new AfkMetrics();
    metrics.delivery("issues", "labeled", "handled");
    metrics.delivery("octo-org/app", "Robert'); DROP", "ignored");
    metrics.githubRequest("purge", undefined, { "x-ratelimit-remaining": "12", "x-ratelimit-resource": "octo-org/app" });
    metrics.githubRequest("get", 200, { "x-ratelimit-remaining": "not a number" });
    const text = await metrics.text();
    expect(sampleValue(text, "afk_webhook_deliveries_total", { event: "issues", action: "labeled", outcome: "handled" })).toBe(1);
    expect(sampleValue(text, "afk_webhook_deliveries_total", { event: "other", action: "other", outcome: "ignored" })).toBe(1);
    expect(sampleValue(text, "afk_github_requests_total", { method: "OTHER", status: "error" })).toBe(1);
    expect(sampleValue(text, "afk_github_requests_total", { method: "GET", status: "200" })).toBe(1);
    expect(sampleValue(text, "afk_github_rate_limit_remaining", { resource: "other" })).toBe(12);
    expect(text).not.toContain("octo-org");
  });

  it("every job's run counters exist at zero before any run, so rate() sees the first one", async () => {
    const text = await new AfkMetrics().text();
    for (const job of ["implement", "fix-ci", "rework", "plan", "ask"]) {
      expect(sampleValue(text, "afk_runs_started_total", { afk_job: job })).toBe(0);
      expect(sampleValue(text, "afk_runs_total", { afk_job: job, outcome: "escalated" })).toBe(0);
    }
    // Process metrics only once the metrics are served.
    expect(text).not.toContain("process_resident_memory_bytes");
  });

  it("two Apps in one process keep their own counts", async () => {
    const first = new AfkMetrics();
    const second = new AfkMetrics();
    first.runEnded({ job: "ask", outcome: "done", seconds: 3, cost: { usd: 0.5 } });
    expect(sampleValue(await first.text(), "afk_model_spend_usd_total", { afk_job: "ask" })).toBe(0.5);
    expect(sampleValue(await second.text(), "afk_model_spend_usd_total", { afk_job: "ask" })).toBeUndefined();
  });
});

describe("run log records", () => {
  it("carry the run's identity, outcome, rounded cost and duration, and tokens when known", () => {
    const identity = { repository: "octo-org/app", issue: 7, runId: "r-1", job: "implement" as const };
    expect(runStartRecord({ ...identity, replica: "a" })).toEqual({
      event: "run-start",
      repository: "octo-org/app",
      issue: 7,
      runId: "r-1",
      job: "implement",
      replica: "a",
    });
    expect(runEndRecord({ ...identity, outcome: "failed", cost: undefined, turns: undefined, durationSeconds: 1.23456 })).toEqual({
      event: "run-end",
      repository: "octo-org/app",
      issue: 7,
      runId: "r-1",
      job: "implement",
      outcome: "failed",
      costUsd: 0,
      turns: 0,
      durationSeconds: 1.235,
    });
    expect(
      runEndRecord({
        ...identity,
        outcome: "waiting",
        cost: { usd: 0.123456, tokens: { input: 1, output: 2, cacheWrite: 3, cacheRead: 4 } },
        turns: 5,
        durationSeconds: 60,
      }),
    ).toMatchObject({
      costUsd: 0.1235,
      turns: 5,
      inputTokens: 1,
      outputTokens: 2,
      cacheWriteTokens: 3,
      cacheReadTokens: 4,
    });
  });
});
