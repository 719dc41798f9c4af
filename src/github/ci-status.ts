import { failingNames, RED_CONCLUSIONS, RED_STATES, verdictOf, type CiReport, type CiVerdict } from "./ci-verdict.js";
import { keepHeadAndTail } from "../text/keep-head-and-tail.js";
import { errorStatus, type GitHub, type RepoRef } from "./types.js";

/** Characters of a failed Actions job's log the agent is shown (the end, where failures are). */
const LOG_TAIL_CHARS = 12_000;
const OUTPUT_CHARS = 4_000;
/** GitHub Actions' app: its check run ids are job ids, so the job's log can be read. */
const ACTIONS_APP = "github-actions";

export async function readCi(octokit: GitHub, repo: RepoRef, ref: string, ownAppSlug: string): Promise<CiReport> {
  const runs = await octokit.paginate(octokit.rest.checks.listForRef, { owner: repo.owner, repo: repo.repo, ref, filter: "latest", per_page: 100 });
  const suites = await octokit.paginate(octokit.rest.checks.listSuitesForRef, { owner: repo.owner, repo: repo.repo, ref, per_page: 100 });
  const combined = await octokit.rest.repos.getCombinedStatusForRef({ owner: repo.owner, repo: repo.repo, ref, per_page: 100 });
  return {
    checkSuites: suites
      .filter((suite) => suite.app?.slug !== ownAppSlug && (suite.latest_check_runs_count ?? 0) > 0)
      .map((suite) => ({ app: suite.app?.slug, status: suite.status, conclusion: suite.conclusion })),
    checkRuns: runs
      .filter((run) => run.app?.slug !== ownAppSlug)
      .map((run) => ({
        id: run.id,
        name: run.name,
        status: run.status,
        conclusion: run.conclusion,
        app: run.app?.slug,
        detailsUrl: run.details_url,
        output: { title: run.output.title, summary: run.output.summary, text: run.output.text },
      })),
    statuses: combined.data.statuses.map((status) => ({
      context: status.context,
      state: status.state,
      description: status.description,
      targetUrl: status.target_url,
    })),
  };
}

/**
 * CI's verdict on `sha`: red checks also red on `baseRef` (the base branch, or the commit afk's work
 * started from) are named, so afk does not chase a failure that is not its own. The base is asked
 * for only when something is red, and while other checks still run only if `redWhileRunning` (the
 * caller acts on a red check before CI has finished).
 */
export async function ciVerdict(
  octokit: GitHub,
  repo: RepoRef,
  input: { sha: string; baseRef: () => Promise<string>; ownAppSlug: string; redWhileRunning: boolean },
): Promise<CiVerdict> {
  const verdict = verdictOf(await readCi(octokit, repo, input.sha, input.ownAppSlug));
  const actsOnRed = verdict.kind === "red" || (verdict.kind === "pending" && verdict.failing !== undefined && input.redWhileRunning);
  if (!actsOnRed) return verdict;
  const onBase = new Set(failingNames(await readCi(octokit, repo, await input.baseRef(), input.ownAppSlug)));
  return { ...verdict, redOnBase: (verdict.failing ?? []).filter((name) => onBase.has(name)) };
}

/** One red check as the agent is shown it. All of it is untrusted text (logs print anything). */
export interface FailingCheck {
  name: string;
  kind: "check run" | "commit status";
  conclusion: string;
  detailsUrl: string | undefined;
  /** The check's own report (title, summary, text), shortened. */
  report: string;
  /** For a GitHub Actions job, the end of its log. */
  logTail: string | undefined;
}

/** The red checks on `sha`, with what each says and, for Actions jobs, the tail of the failed job's log. */
export async function failingChecks(octokit: GitHub, repo: RepoRef, sha: string, ownAppSlug: string): Promise<FailingCheck[]> {
  const report = await readCi(octokit, repo, sha, ownAppSlug);
  const checks: FailingCheck[] = [];
  for (const run of report.checkRuns) {
    if (run.conclusion === null || !RED_CONCLUSIONS.has(run.conclusion)) continue;
    const text = [run.output.title, run.output.summary, run.output.text].filter((part): part is string => part !== null && part.trim().length > 0).join("\n\n");
    checks.push({
      name: run.name,
      kind: "check run",
      conclusion: run.conclusion,
      detailsUrl: run.detailsUrl ?? undefined,
      report: keepHeadAndTail(text.length > 0 ? text : "(the check gave no report)", OUTPUT_CHARS).text,
      logTail: run.app === ACTIONS_APP ? await jobLogTail(octokit, repo, run.id) : undefined,
    });
  }
  for (const status of report.statuses) {
    if (!RED_STATES.has(status.state)) continue;
    checks.push({
      name: status.context,
      kind: "commit status",
      conclusion: status.state,
      detailsUrl: status.targetUrl ?? undefined,
      report: status.description ?? "(no description)",
      logTail: undefined,
    });
  }
  return checks;
}

/** The end of an Actions job's log; undefined when GitHub has none (expired, or no access). */
async function jobLogTail(octokit: GitHub, repo: RepoRef, jobId: number): Promise<string | undefined> {
  try {
    const { data } = await octokit.rest.actions.downloadJobLogsForWorkflowRun({ owner: repo.owner, repo: repo.repo, job_id: jobId });
    const text = typeof data === "string" ? data : data instanceof ArrayBuffer ? new TextDecoder().decode(data) : String(data);
    return text.length <= LOG_TAIL_CHARS
      ? text
      : `[afk: the first ${text.length - LOG_TAIL_CHARS} characters of the log are left out]\n${text.slice(-LOG_TAIL_CHARS)}`;
  } catch (error) {
    const status = errorStatus(error);
    if (status === 404 || status === 410 || status === 403) return undefined;
    throw error;
  }
}
