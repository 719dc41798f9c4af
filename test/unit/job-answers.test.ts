// What `afk job` makes of afk's answers and when it tries again (src/cli/job-answers.ts): pure, table-driven.
import { describe, expect, it } from "vitest";
import {
  describeJobResult,
  jobCacheDir,
  jobUrl,
  logLine,
  readHeartbeatAnswer,
  readResultAnswer,
  readStartAnswer,
  redact,
  RETRY_DELAYS_MS,
  retryDelay,
  type Exchange,
} from "../../src/cli/job-answers.js";
import { repoConfigSchema } from "../../src/config/repo-config.js";
import type { JobSpec, RunReference } from "../../src/run-contract/job-protocol.js";

const RUN: RunReference = { repository: "octo-org/app", issue: 3, runId: "r-1" };
const SPEC: JobSpec = {
  v: 1,
  runId: "r-1",
  kind: "implement",
  repository: { fullName: "octo-org/app", cloneUrl: "https://github.com/octo-org/app.git" },
  baseSha: "a".repeat(40),
  model: "claude-sonnet-5-5",
  config: repoConfigSchema.parse({ test: "npm test" }),
  task: { prompt: "implement", slots: {}, repoInstructions: true },
  sharedPackageCache: true,
  readToken: "ghs_readtoken",
  jobCredential: "afkjob1.x.y",
  endpoint: "https://afk.example.com",
  modelBaseUrl: "https://afk.example.com/afk/jobs/model",
  heartbeatSeconds: 30,
  deadline: "2026-12-06T18:00:00.000Z",
};

const answered = (status: number, body: unknown): Exchange => ({ kind: "answered", status, body: typeof body === "string" ? body : JSON.stringify(body) });
const unanswered: Exchange = { kind: "unanswered", reason: "connect ECONNREFUSED 127.0.0.1:443 (ECONNREFUSED)" };

describe("afk job's reading of afk's answers", () => {
  it("tries six times over about a minute, then gives up", () => {
    const waits = [1, 2, 3, 4, 5, 6, 7].map(retryDelay);
    expect(waits).toEqual([500, 1_500, 4_000, 8_000, 16_000, 30_000, undefined]);
    expect(RETRY_DELAYS_MS.reduce((sum, wait) => sum + wait, 0)).toBe(60_000);
    expect(retryDelay(0)).toBeUndefined();
  });

  it.each<[string, Exchange, ReturnType<typeof readStartAnswer>]>([
    ["a spec for this run", answered(200, SPEC), { kind: "spec", spec: SPEC }],
    [
      "a spec naming the repository in other case",
      answered(200, { ...SPEC, repository: { ...SPEC.repository, fullName: "Octo-Org/App" } }),
      expect.objectContaining({ kind: "spec" }),
    ],
    ["a refusal with afk's reason", answered(403, { error: "not the run afk dispatched" }), { kind: "refused", message: "not the run afk dispatched" }],
    ["a refusal from something else", answered(404, "<html>Not Found</html>\nmore"), { kind: "refused", message: "HTTP 404: <html>Not Found</html>" }],
    ["a server error", answered(503, { error: "afk is restarting" }), { kind: "retry", reason: "afk is restarting" }],
    ["too many requests", answered(429, ""), { kind: "retry", reason: "HTTP 429" }],
    ["no answer", unanswered, { kind: "retry", reason: unanswered.kind === "unanswered" ? unanswered.reason : "" }],
    ["200 and not JSON", answered(200, "ok"), { kind: "malformed", message: "afk answered the start with 200 and a body that is not JSON" }],
    [
      "200 and a spec missing a field",
      answered(200, { ...SPEC, jobCredential: undefined }),
      { kind: "malformed", message: "afk's job spec is not one this afk job understands: jobCredential: Invalid input: expected string, received undefined" },
    ],
    ["a spec for another run", answered(200, { ...SPEC, runId: "r-2" }), { kind: "malformed", message: "afk's job spec is for run r-2, not r-1" }],
    [
      "a spec for another repository",
      answered(200, { ...SPEC, repository: { ...SPEC.repository, fullName: "octo-org/other" } }),
      { kind: "malformed", message: "afk's job spec is for octo-org/other, not octo-org/app" },
    ],
  ])("the start answered with %s", (_name, exchange, verdict) => {
    expect(readStartAnswer(exchange, RUN)).toEqual(verdict);
  });

  it("never quotes a field's value when a spec is malformed (it may be a token)", () => {
    const verdict = readStartAnswer(answered(200, { ...SPEC, readToken: "x".repeat(500) + "SECRET" }), RUN);
    expect(verdict.kind).toBe("malformed");
    expect(JSON.stringify(verdict)).not.toContain("SECRET");
  });

  it.each<[string, Exchange, ReturnType<typeof readHeartbeatAnswer>]>([
    ["continue", answered(200, { kind: "continue" }), { kind: "continue" }],
    ["stop", answered(200, { kind: "stop", reason: "/afk stop" }), { kind: "stop", reason: "/afk stop" }],
    ["409 (the run is over)", answered(409, { error: "run r-1 has ended" }), { kind: "stop", reason: "afk no longer runs this job (run r-1 has ended)" }],
    ["401", answered(401, { error: "the credential expired" }), { kind: "stop", reason: "afk no longer runs this job (the credential expired)" }],
    ["403", answered(403, ""), { kind: "stop", reason: "afk no longer runs this job (HTTP 403)" }],
    ["404", answered(404, { error: "no such run" }), { kind: "stop", reason: "afk no longer runs this job (no such run)" }],
    ["500", answered(500, { error: "boom" }), { kind: "failed", reason: "boom" }],
    ["400", answered(400, { error: "bad phase" }), { kind: "failed", reason: "bad phase" }],
    ["no answer", unanswered, { kind: "failed", reason: "connect ECONNREFUSED 127.0.0.1:443 (ECONNREFUSED)" }],
    ["200 and something else", answered(200, { kind: "pause" }), expect.objectContaining({ kind: "failed" })],
  ])("a heartbeat answered %s", (_name, exchange, verdict) => {
    expect(readHeartbeatAnswer(exchange)).toEqual(verdict);
  });

  it.each<[string, Exchange, ReturnType<typeof readResultAnswer>]>([
    ["200", answered(200, { message: "afk checks the change" }), { kind: "accepted", message: "afk checks the change" }],
    ["200 without a message", answered(200, ""), { kind: "accepted", message: "afk took the result" }],
    ["409", answered(409, { error: "run r-1 has ended" }), { kind: "refused", status: 409, message: "run r-1 has ended" }],
    ["413", answered(413, { error: "bundle too large" }), { kind: "refused", status: 413, message: "bundle too large" }],
    ["502", answered(502, "Bad Gateway"), { kind: "retry", reason: "HTTP 502: Bad Gateway" }],
    ["no answer", unanswered, { kind: "retry", reason: "connect ECONNREFUSED 127.0.0.1:443 (ECONNREFUSED)" }],
  ])("the result answered %s", (_name, exchange, verdict) => {
    expect(readResultAnswer(exchange)).toEqual(verdict);
  });

  it("puts the job's paths under afk's address, keeping a path afk is served under", () => {
    expect(jobUrl("https://afk.example.com", "/afk/jobs/start")).toBe("https://afk.example.com/afk/jobs/start");
    expect(jobUrl("https://afk.example.com/", "/afk/jobs/start")).toBe("https://afk.example.com/afk/jobs/start");
    expect(jobUrl("https://example.com/afk-app/?x=1#y", "/afk/jobs/result")).toBe("https://example.com/afk-app/afk/jobs/result");
  });

  it("keeps its clones in AFK_CACHE_DIR, else the runner's temporary directory, else the system's", () => {
    expect(jobCacheDir({ AFK_CACHE_DIR: "/cache", RUNNER_TEMP: "/runner/tmp" }, "/tmp")).toBe("/cache");
    expect(jobCacheDir({ AFK_CACHE_DIR: " ", RUNNER_TEMP: "/runner/tmp" }, "/tmp")).toBe("/runner/tmp/afk-cache");
    expect(jobCacheDir({}, "/tmp")).toBe("/tmp/afk-cache");
  });

  it("masks every secret in a line, and leaves short strings alone", () => {
    expect(redact("token ghs_abcdefgh and again ghs_abcdefgh, credential afkjob1.x.y.z", ["ghs_abcdefgh", "afkjob1.x.y.z", ""])).toBe(
      "token *** and again ***, credential ***",
    );
    expect(redact("a b c", ["a"])).toBe("a b c");
  });

  it("never lets a line start a workflow command in the Actions log, and masks secrets in it", () => {
    expect(logLine("afk refused the job: x\n::add-mask::y\n  ::stop-commands::z ghs_abcdefgh", ["ghs_abcdefgh"])).toBe(
      "afk refused the job: x\n: :add-mask::y\n  : :stop-commands::z ***",
    );
    expect(logLine("::error::at the start", [])).toBe(": :error::at the start");
  });

  it("tells how the work ended without the agent's own words", () => {
    const gate = { command: "npm test", exitCode: 1, output: "::error::from the tests", rounds: 2, durationMs: 10 };
    expect(
      describeJobResult({
        v: 1,
        runId: "r-1",
        outcome: { kind: "implemented", result: { kind: "tests-fail", summary: "::add-mask::x", gate }, transcriptTail: "" },
        bundle: "A".repeat(4096),
      }),
    ).toEqual(["the tests do not pass (`npm test` exited 1 after 2 round(s))", "the change goes back to afk as a git bundle (3 KiB)"]);
    expect(describeJobResult({ v: 1, runId: "r-1", outcome: { kind: "not-started", reason: "no such commit", retryable: true } })).toEqual([
      "not started (afk may try again): no such commit",
    ]);
  });
});
