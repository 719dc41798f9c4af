// CI's verdict on a commit, judged from what GitHub reported (pure: `ci-status.ts` reads, this judges).

/**
 * What afk knows about CI on one commit, other apps' check runs and commit statuses only (afk's own
 * `afk` check run is its gate, not CI). `red` names the failing checks, and which of them are red on
 * the base branch's head too.
 */
export type CiVerdict =
  /** Something still runs; `failing` names checks already red (and `redOnBase` those red on the base too). */
  | { kind: "pending"; failing?: string[]; redOnBase?: string[] }
  | { kind: "none" }
  | { kind: "green" }
  | { kind: "red"; failing: string[]; redOnBase: string[] };

/** Check-run conclusions that make CI red. `neutral` and `skipped` do not. */
export const RED_CONCLUSIONS = new Set(["failure", "timed_out", "cancelled", "action_required", "startup_failure", "stale"]);
export const RED_STATES = new Set(["failure", "error"]);

export interface CheckRunLite {
  id: number;
  name: string;
  status: string;
  conclusion: string | null;
  app: string | undefined;
  detailsUrl: string | null;
  output: { title: string | null; summary: string | null; text: string | null };
}

export interface StatusLite {
  context: string;
  state: string;
  description: string | null;
  targetUrl: string | null;
}

/** A check suite that has check runs (GitHub makes an empty, forever-queued suite for every app with checks on each push). */
export interface CheckSuiteLite {
  app: string | undefined;
  status: string | null;
  conclusion: string | null;
}

/**
 * What CI says about one commit: other apps' check runs, their check suites that have runs, and
 * commit statuses (afk's own check run and suite are excluded).
 */
export interface CiReport {
  checkRuns: CheckRunLite[];
  checkSuites: CheckSuiteLite[];
  statuses: StatusLite[];
}

/**
 * The names of the red checks and statuses in a report. A red suite whose app shows no check run yet
 * (the two lists are read one after the other) is named by its app.
 */
export function failingNames(report: CiReport): string[] {
  const appsWithRuns = new Set(report.checkRuns.map((run) => run.app));
  return [
    ...report.checkRuns.filter((run) => run.conclusion !== null && RED_CONCLUSIONS.has(run.conclusion)).map((run) => run.name),
    ...report.checkSuites
      .filter((suite) => suite.conclusion !== null && RED_CONCLUSIONS.has(suite.conclusion) && !appsWithRuns.has(suite.app))
      .map((suite) => `${suite.app ?? "an app"}'s check suite`),
    ...report.statuses.filter((status) => RED_STATES.has(status.state)).map((status) => status.context),
  ];
}

/**
 * The verdict on a report, without the base branch: none only when there is no check run, no check
 * suite with runs and no status; pending while anything runs; red if anything failed.
 */
export function verdictOf(report: CiReport): CiVerdict {
  if (report.checkRuns.length === 0 && report.checkSuites.length === 0 && report.statuses.length === 0) return { kind: "none" };
  const running =
    report.checkRuns.some((run) => run.status !== "completed") ||
    report.checkSuites.some((suite) => suite.status !== "completed") ||
    report.statuses.some((status) => status.state === "pending");
  const failing = failingNames(report);
  if (running) return failing.length === 0 ? { kind: "pending" } : { kind: "pending", failing };
  return failing.length === 0 ? { kind: "green" } : { kind: "red", failing, redOnBase: [] };
}
