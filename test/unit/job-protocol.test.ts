import { describe, expect, it } from "vitest";
import { jobResultSchema, jobSpecSchema, MAX_JOB_TEXT_CHARS, type JobSpec, type TaskSpec } from "../../src/run-contract/job-protocol.js";
import { repoConfigSchema } from "../../src/config/repo-config.js";
import type { ImplementResult } from "../../src/executor/implement-result.js";

const BASE = "a".repeat(40);
const config = repoConfigSchema.parse({ test: "npm test", budget: { max_usd: 3 }, protected_paths: ["infra/**"] });
const task: TaskSpec = {
  prompt: "implement",
  slots: { repository: "octo-org/app", issue_number: "7", issue_title: "Add a test", issue_body: "Please.", discussion: "(none)" },
  repoInstructions: true,
  approvedPlan: "1. add a test",
};
const spec: JobSpec = {
  v: 1,
  runId: "r-mxbw6pou-a66d4273",
  kind: "implement",
  repository: { fullName: "octo-org/app", cloneUrl: "https://github.com/octo-org/app.git" },
  baseSha: BASE,
  model: "claude-sonnet-5-5",
  config,
  task,
  sharedPackageCache: true,
  readToken: "ghs_read",
  jobCredential: "afkjob.v1.abc",
  endpoint: "https://afk.example.com/afk/jobs/r-mxbw6pou-a66d4273",
  modelBaseUrl: "https://afk.example.com/afk/jobs/r-mxbw6pou-a66d4273/model",
  heartbeatSeconds: 30,
  deadline: "2026-12-06T12:00:00.000Z",
};
const gate = { command: "npm test", exitCode: 0, output: "ok", rounds: 1, durationMs: 1200 };

/** What a job sends: the value as JSON text, as it crosses HTTP. */
const overTheWire = (value: unknown): unknown => JSON.parse(JSON.stringify(value));

describe("what afk and an Actions job say to each other", () => {
  it("a job spec crosses the wire unchanged, the repository's config included as afk parsed it", () => {
    expect(jobSpecSchema.parse(overTheWire(spec))).toEqual(spec);
  });

  it("every way implementing can end on the runner crosses the wire as the executor's own result", () => {
    const results: ImplementResult[] = [
      { kind: "passed", summary: "Added a test.", gate },
      { kind: "tests-fail", summary: "Tried.", gate: { ...gate, exitCode: 1 } },
      { kind: "budget", message: "Out of turns.", gate: undefined },
      { kind: "model-error", message: "529", retryable: true, gate },
      { kind: "aborted", message: "Stopped." },
    ];
    for (const result of results) {
      const sent = {
        v: 1,
        runId: spec.runId,
        outcome: { kind: "implemented", result, transcriptTail: "…" },
        bundle: Buffer.from("# v2 git bundle\n").toString("base64"),
      };
      const parsed = jobResultSchema.parse(overTheWire(sent));
      expect(parsed.outcome).toEqual(overTheWire(sent.outcome));
    }
    expect(
      jobResultSchema.parse({ v: 1, runId: spec.runId, outcome: { kind: "not-started", reason: "no bubblewrap", retryable: true } }).bundle,
    ).toBeUndefined();
  });

  it("refuses what a hostile runner could send: unknown fields, text over the cap, a run id that is a path, a bundle that is not base64", () => {
    const result = { v: 1, runId: spec.runId, outcome: { kind: "implemented", result: { kind: "passed", summary: "x", gate }, transcriptTail: "" } };
    expect(jobResultSchema.safeParse(result).success).toBe(true);
    expect(jobResultSchema.safeParse({ ...result, pushTo: "main" }).success).toBe(false);
    expect(jobResultSchema.safeParse({ ...result, runId: "../../etc" }).success).toBe(false);
    expect(jobResultSchema.safeParse({ ...result, bundle: "not base64!" }).success).toBe(false);
    const long = { ...result, outcome: { ...result.outcome, transcriptTail: "x".repeat(MAX_JOB_TEXT_CHARS + 1) } };
    expect(jobResultSchema.safeParse(long).success).toBe(false);
    expect(jobResultSchema.safeParse({ ...result, outcome: { ...result.outcome, result: { kind: "passed", summary: "x", gate, spend: 0 } } }).success).toBe(
      false,
    );
  });

  it("refuses a spec whose base is not a commit id or whose endpoint is not an address", () => {
    expect(jobSpecSchema.safeParse({ ...spec, baseSha: "main" }).success).toBe(false);
    expect(jobSpecSchema.safeParse({ ...spec, endpoint: "afk" }).success).toBe(false);
    expect(jobSpecSchema.safeParse({ ...spec, task: { ...task, prompt: "system" } }).success).toBe(false);
  });
});
