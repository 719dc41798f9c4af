import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { RunState } from "../../src/lifecycle/run-state.js";
import type { StateObserver } from "../../src/observability/state-observer.js";
import type { RepoRef } from "../../src/github/types.js";
import { REPO_ROOT } from "../helpers/app-process.js";
import { endTurn, toolTurn } from "../helpers/git-scenario.js";
import { runStateOf } from "../helpers/run-state-of.js";
import { FULL_NAME, INSTALLATION_ID, OWNER, REPO, scenarioOn, scenarioWorld, type Scenario } from "../helpers/scenario.js";
import { parseMetrics, sampleValue, type ServedAfk } from "../helpers/served-afk.js";
import { examplePayload } from "../helpers/webhook-payloads.js";
import { useWorld } from "../helpers/world/use-world.js";

const buildWorld = useWorld();

const MULTIPLY = "export function multiply(a, b) {\n  return a * b;\n}\n\nexport function add";

/**
 * The App on Probot's server (deliveries signed over HTTP) against the emulated GitHub, whose
 * repository is a real git repository, and the model as a scripted server: one issue, labeled.
 */
async function start(options: { observer?: StateObserver } = {}): Promise<{ scenario: Scenario; afk: ServedAfk }> {
  const world = await buildWorld(
    scenarioWorld({
      git: true,
      model: [
        toolTurn(
          "str_replace_based_edit_tool",
          { command: "str_replace", path: "src/math.js", old_str: "export function add", new_str: MULTIPLY },
          { input_tokens: 3000, output_tokens: 100, cache_creation_input_tokens: 2000 },
        ),
        endTurn("Added multiply.", { input_tokens: 1000, output_tokens: 200, cache_read_input_tokens: 4000 }),
      ],
    }),
  );
  const afk = await world.serveAfk(options);
  return { scenario: scenarioOn(world, afk), afk };
}

describe("/metrics and the run log through the App", () => {
  it("after one label→PR run, /metrics shows the delivery, the run and its outcome, its duration, spend and tokens, and GitHub's requests; every metric the Grafana dashboard queries is there", async () => {
    const { scenario, afk } = await start();
    scenario.github.rateLimitRemaining = 4321;
    const issue = scenario.issue({ title: "Add a multiply function" });
    await scenario.label(issue, "wes-write");
    expect(runStateOf(scenario, issue)?.status).toBe("waiting");
    // A delivery afk has no handler for is counted as ignored.
    await afk.deliver("issues", examplePayload("issues", "opened"));

    const response = await afk.get("/metrics");
    expect(response.status).toBe(200);
    expect(response.contentType).toContain("text/plain");
    const text = response.body;
    expect(sampleValue(text, "afk_webhook_deliveries_total", { event: "issues", action: "labeled", outcome: "handled" })).toBe(1);
    expect(sampleValue(text, "afk_webhook_deliveries_total", { event: "issues", action: "opened", outcome: "ignored" })).toBe(1);
    expect(sampleValue(text, "afk_runs_started_total", { afk_job: "implement" })).toBe(1);
    expect(sampleValue(text, "afk_runs_total", { afk_job: "implement", outcome: "waiting" })).toBe(1);
    expect(sampleValue(text, "afk_runs_total", { afk_job: "implement", outcome: "failed" })).toBe(0);
    expect(sampleValue(text, "afk_run_duration_seconds_count", { afk_job: "implement", outcome: "waiting" })).toBe(1);
    const seconds = sampleValue(text, "afk_run_duration_seconds_sum", { afk_job: "implement", outcome: "waiting" }) ?? 0;
    expect(seconds).toBeGreaterThan(0);
    expect(seconds).toBeLessThan(120);
    // claude-sonnet-5-5: $2/MTok in, $10 out, $2.50 cache writes, $0.10 cache reads.
    // 4000 × 2 + 300 × 10 + 2000 × 2.5 + 4000 × 0.1 = 16,400 micro-dollars.
    expect(sampleValue(text, "afk_model_spend_usd_total", { afk_job: "implement" })).toBeCloseTo(0.0164, 6);
    expect(sampleValue(text, "afk_model_tokens_total", { afk_job: "implement", kind: "input" })).toBe(4000);
    expect(sampleValue(text, "afk_model_tokens_total", { afk_job: "implement", kind: "output" })).toBe(300);
    expect(sampleValue(text, "afk_model_tokens_total", { afk_job: "implement", kind: "cache_write" })).toBe(2000);
    expect(sampleValue(text, "afk_model_tokens_total", { afk_job: "implement", kind: "cache_read" })).toBe(4000);
    // The run is over: no lock held, nothing waiting for a slot.
    expect(sampleValue(text, "afk_locks_held")).toBe(0);
    expect(sampleValue(text, "afk_run_queue_length")).toBe(0);
    // afk's GitHub requests, each counted once with the status GitHub gave.
    const requests = parseMetrics(text).filter((sample) => sample.name === "afk_github_requests_total");
    const byStatus = (method: string, status: string) =>
      requests.find((sample) => sample.labels.method === method && sample.labels.status === status)?.value ?? 0;
    const emulated = scenario.github.requests.filter((request) => request.path !== "/app" || request.method !== "GET");
    expect(byStatus("POST", "201")).toBe(emulated.filter((request) => request.method === "POST" && request.status === 201).length);
    expect(byStatus("PATCH", "200")).toBe(emulated.filter((request) => request.method === "PATCH" && request.status === 200).length);
    expect(byStatus("GET", "200")).toBeGreaterThan(10);
    expect(sampleValue(text, "afk_github_rate_limit_remaining", { resource: "core" })).toBe(4321);
    // Process metrics for sizing (resident memory).
    expect(sampleValue(text, "process_resident_memory_bytes")).toBeGreaterThan(0);
    // Every metric the Grafana dashboard queries is there, with the labels it groups by.
    const samples = parseMetrics(text);
    const dashboard = JSON.parse(readFileSync(join(REPO_ROOT, "docs", "grafana-dashboard.json"), "utf8")) as DashboardJson;
    const queries = [
      ...dashboard.panels.flatMap((panel) => (panel.targets ?? []).map((target) => target.expr)),
      ...dashboard.templating.list.map((variable) => (typeof variable.query === "string" ? variable.query : variable.query.query)),
    ];
    expect(queries.length).toBeGreaterThan(10);
    for (const query of queries) {
      const metrics = [...query.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)\{/g), ...query.matchAll(/label_values\(([a-zA-Z_:][a-zA-Z0-9_:]*)/g)].map(
        (match) => match[1] ?? "",
      );
      expect(metrics.length, query).toBeGreaterThan(0);
      for (const name of metrics)
        expect(
          samples.some((sample) => sample.name === name),
          `${name} in ${query}`,
        ).toBe(true);
      // Labels grouped by (Prometheus adds `instance` when it scrapes) exist on the series queried.
      const labels = new Set(samples.filter((sample) => metrics.includes(sample.name)).flatMap((sample) => Object.keys(sample.labels)));
      for (const grouping of query.matchAll(/by \(([^)]*)\)/g)) {
        for (const label of (grouping[1] ?? "").split(",").map((part) => part.trim())) {
          if (label !== "instance") expect(labels.has(label), `label ${label} in ${query}`).toBe(true);
        }
      }
    }
    // Cardinality: no repository, person, issue or run id is ever a label value.
    expect(text).not.toMatch(/octo-org|wes-write|r-[a-z0-9]+-[0-9a-f]{8}/);
    for (const sample of parseMetrics(text).filter((one) => one.name.startsWith("afk_"))) {
      // Words from fixed sets, upper-case HTTP methods, three-digit statuses, bucket bounds.
      for (const [label, value] of Object.entries(sample.labels))
        expect(value, `${sample.name} ${label}`).toMatch(label === "le" ? /^[\d.]+$|^\+Inf$/ : label === "status" ? /^\d{3}$|^error$/ : /^[a-z_-]*$|^[A-Z]+$/);
    }
  });

  it("logs one structured line at run start and one at run end (repository, issue, run id, job, outcome, cost, duration); the observer sees every run state written, before → after, and one that throws changes nothing for the run", async () => {
    const seen: Array<{ repo: RepoRef; before: RunState | undefined; after: RunState }> = [];
    const { scenario, afk } = await start({
      observer: {
        stateWritten(repo, before, after) {
          seen.push({ repo, before, after });
          // Both ways an observer can fail: thrown here, rejected on the next write.
          if (seen.length % 2 === 1) throw new Error("observer exploded");
          return Promise.reject(new Error("observer rejected"));
        },
      },
    });
    const issue = scenario.issue({ title: "Add a multiply function" });
    await scenario.label(issue, "wes-write");
    const final = runStateOf(scenario, issue);
    expect(final?.status).toBe("waiting");
    expect(scenario.github.pulls(FULL_NAME)).toHaveLength(1);
    // The first write had nothing before it; each later one starts where the previous one ended.
    expect(seen[0]?.before).toBeUndefined();
    expect(seen.map(({ after }) => after.status)).toEqual(["queued", "running", ...seen.slice(2, -1).map(() => "running"), "waiting"]);
    for (const [index, entry] of seen.entries()) {
      expect(entry.repo).toMatchObject({ owner: OWNER, repo: REPO, installationId: INSTALLATION_ID });
      if (index > 0) expect(entry.before).toEqual(seen[index - 1]?.after);
    }
    expect(seen.at(-1)?.after).toEqual(final);
    expect(afk.logs.filter((line) => line.msg === "afk: a run-state observer failed; the run goes on")).toHaveLength(seen.length);

    // One structured line when the run starts and one when it ends.
    const starts = afk.logs.filter((line) => line.event === "run-start");
    const ends = afk.logs.filter((line) => line.event === "run-end");
    expect(starts).toEqual([
      expect.objectContaining({
        msg: "afk run started",
        level: 30,
        repository: FULL_NAME,
        issue,
        runId: final?.runId,
        job: "implement",
        replica: "replica-served",
      }),
    ]);
    expect(ends).toEqual([
      expect.objectContaining({
        msg: "afk run ended",
        level: 30,
        repository: FULL_NAME,
        issue,
        runId: final?.runId,
        job: "implement",
        outcome: "waiting",
        costUsd: 0.0164,
        turns: 2,
        inputTokens: 4000,
        outputTokens: 300,
        cacheWriteTokens: 2000,
        cacheReadTokens: 4000,
      }),
    ]);
    const duration = ends[0]?.durationSeconds;
    expect(typeof duration === "number" && duration > 0 && duration < 120).toBe(true);
    // The run state on the issue keeps dollars and turns only: token counts are for metrics and logs.
    expect(final?.spend).toEqual({ usd: 0.0164, turns: 2 });
  });
});

interface DashboardJson {
  panels: Array<{ targets?: Array<{ expr: string }> }>;
  templating: { list: Array<{ query: string | { query: string } }> };
}
