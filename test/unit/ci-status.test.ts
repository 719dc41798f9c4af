import { describe, expect, it } from "vitest";
import { failingNames, verdictOf, type CiReport } from "../../src/github/ci-verdict.js";

const run = (name: string, status: string, conclusion: string | null, app = "github-actions") => ({
  id: 1,
  name,
  status,
  conclusion,
  app,
  detailsUrl: null,
  output: { title: null, summary: null, text: null },
});
const empty: CiReport = { checkRuns: [], checkSuites: [], statuses: [] };

describe("CI's verdict on a commit", () => {
  it("is none only with no check run, no check suite with runs and no status", () => {
    expect(verdictOf(empty)).toEqual({ kind: "none" });
    expect(verdictOf({ ...empty, checkSuites: [{ app: "circleci", status: "queued", conclusion: null }] })).toEqual({ kind: "pending" });
    expect(verdictOf({ ...empty, statuses: [{ context: "ci/lint", state: "pending", description: null, targetUrl: null }] })).toEqual({ kind: "pending" });
  });

  it("is pending while a suite with runs has not completed, even when every run shown has", () => {
    const report: CiReport = {
      ...empty,
      checkRuns: [run("lint", "completed", "success")],
      checkSuites: [{ app: "github-actions", status: "in_progress", conclusion: null }],
    };
    expect(verdictOf(report)).toEqual({ kind: "pending" });
    // A check already red is named while others still run (afk acts on it once it has counted CI as passing).
    expect(verdictOf({ ...report, checkRuns: [run("lint", "completed", "failure"), run("test", "in_progress", null)] })).toEqual({
      kind: "pending",
      failing: ["lint"],
    });
  });

  it("is red when a suite with runs failed though its runs are not listed yet, named by its app", () => {
    const report: CiReport = { ...empty, checkSuites: [{ app: "circleci", status: "completed", conclusion: "failure" }] };
    expect(verdictOf(report)).toEqual({ kind: "red", failing: ["circleci's check suite"], redOnBase: [] });
    // With the app's runs listed, they name the failure instead.
    const listed: CiReport = { ...report, checkRuns: [run("build", "completed", "failure", "circleci")] };
    expect(failingNames(listed)).toEqual(["build"]);
  });

  it("is green when every run, suite and status finished without a failure (neutral and skipped are not red)", () => {
    const report: CiReport = {
      checkRuns: [run("lint", "completed", "success"), run("docs", "completed", "skipped"), run("perf", "completed", "neutral")],
      checkSuites: [{ app: "github-actions", status: "completed", conclusion: "success" }],
      statuses: [{ context: "deploy/preview", state: "success", description: null, targetUrl: null }],
    };
    expect(verdictOf(report)).toEqual({ kind: "green" });
  });
});
