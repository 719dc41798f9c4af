import { randomBytes } from "node:crypto";
import { branchSha, hasCommit, tagSha } from "./git-store.js";
import {
  countedPage,
  created,
  HttpError,
  installationRoute,
  notFound,
  ok,
  page,
  pageOf,
  linkHeader,
  type Reply,
  type RequestContext,
  type RouteTable,
} from "./http.js";
import type { CheckRunJson, CommitStatusJson } from "./json.js";
import { checkRunJson, checkSuiteJson, statusJson } from "./shapes-checks.js";
import { repoJson } from "./shapes.js";
import { GITHUB_ACTIONS_SLUG, type CheckRunRecord, type EmulatorStore, type RepoState, type StatusRecord } from "./store.js";
import type { CommitStatusInput, ForeignCheckRunInput, ForeignCheckRunUpdate } from "./types.js";
import { field, isObject, isSha, positiveInt, stringField, timestamp } from "./util.js";

/**
 * CI on a commit: check runs (afk's own, which it may change, and other Apps', which it may only
 * read), the check suites GitHub keeps per App and commit and rolls up from their newest runs,
 * commit statuses with their combined state, and Actions job logs behind a redirect.
 */

/** Where job logs are downloaded from (GitHub redirects to a signed URL on another host). */
export const LOG_PREFIX = "/_logs/";

export function checkRoutes(store: EmulatorStore): RouteTable {
  const runOf = (ctx: RequestContext): CheckRunRecord => {
    const run = ctx.repo().checkRuns.get(Number(ctx.params.check_run_id));
    if (run === undefined) throw notFound();
    return run;
  };
  return [
    ["POST /repos/{owner}/{repo}/check-runs", installationRoute("checks", "write", (ctx) => createCheckRun(store, ctx))],
    ["GET /repos/{owner}/{repo}/check-runs/{check_run_id}", installationRoute("checks", "read", (ctx) => ok(checkRunJson(store, ctx.repo(), runOf(ctx))))],
    ["PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}", installationRoute("checks", "write", (ctx) => updateCheckRun(store, ctx, runOf(ctx)))],
    ["GET /repos/{owner}/{repo}/commits/{ref}/check-runs", installationRoute("checks", "read", (ctx) => listCheckRunsForRef(store, ctx))],
    ["GET /repos/{owner}/{repo}/commits/{ref}/check-suites", installationRoute("checks", "read", (ctx) => listCheckSuitesForRef(store, ctx))],
    ["GET /repos/{owner}/{repo}/commits/{ref}/status", installationRoute("statuses", "read", (ctx) => combinedStatus(store, ctx))],
    ["GET /repos/{owner}/{repo}/commits/{ref}/statuses", installationRoute("statuses", "read", (ctx) => listStatuses(store, ctx))],
    ["GET /repos/{owner}/{repo}/actions/jobs/{job_id}/logs", installationRoute("actions", "read", (ctx) => jobLogs(store, ctx))],
  ];
}

function createCheckRun(store: EmulatorStore, ctx: RequestContext): Reply {
  const repo = ctx.repo();
  const headSha = stringField(ctx.body, "head_sha") ?? "";
  if (!hasCommit(repo, headSha)) throw new HttpError(422, `No commit found for SHA: ${headSha}`);
  const run: CheckRunRecord = {
    id: store.nextId("checkRun"),
    suiteId: store.suiteFor(repo, store.appId, headSha).id,
    appId: store.appId,
    name: String(field(ctx.body, "name")),
    headSha,
    externalId: "",
    detailsUrl: undefined,
    status: "queued",
    conclusion: null,
    startedAt: timestamp(),
    completedAt: null,
    output: { title: null, summary: null, text: null },
  };
  applyCheckRun(run, ctx.body);
  repo.checkRuns.set(run.id, run);
  return created(checkRunJson(store, repo, run));
}

function updateCheckRun(store: EmulatorStore, ctx: RequestContext, run: CheckRunRecord): Reply {
  // An App can only change its own check runs.
  if (run.appId !== store.appId) throw new HttpError(403, "Resource not accessible by integration");
  const name = stringField(ctx.body, "name");
  if (name !== undefined) run.name = name;
  applyCheckRun(run, ctx.body);
  return ok(checkRunJson(store, ctx.repo(), run));
}

/** A conclusion completes a run; `completed` without one (and none before) is refused, as on GitHub. */
function applyCheckRun(run: CheckRunRecord, body: unknown): void {
  const externalId = stringField(body, "external_id");
  if (externalId !== undefined) run.externalId = externalId;
  const detailsUrl = stringField(body, "details_url");
  if (detailsUrl !== undefined) run.detailsUrl = detailsUrl;
  const startedAt = stringField(body, "started_at");
  if (startedAt !== undefined) run.startedAt = startedAt;
  const status = stringField(body, "status");
  const conclusion = stringField(body, "conclusion");
  if (status === "completed" && conclusion === undefined && run.conclusion === null) {
    throw new HttpError(422, 'Invalid request.\n\n"conclusion" wasn\'t supplied.');
  }
  if (status !== undefined) run.status = status;
  if (conclusion !== undefined) {
    run.conclusion = conclusion;
    run.status = "completed";
  }
  if (run.status === "completed") run.completedAt = stringField(body, "completed_at") ?? run.completedAt ?? timestamp();
  const output = isObject(body) ? body.output : undefined;
  if (isObject(output)) {
    run.output = {
      title: stringField(output, "title") ?? run.output.title,
      summary: stringField(output, "summary") ?? run.output.summary,
      text: stringField(output, "text") ?? run.output.text,
    };
  }
}

/** The commit a `{ref}` names: a full sha (one GitHub knows of), or a branch (`main`, `heads/main`, `refs/heads/main`) or tag. */
function refSha(repo: RepoState, ref: string, status: 404 | 422): string {
  let sha: string | undefined;
  if (isSha(ref)) {
    const known = hasCommit(repo, ref) || [...repo.checkRuns.values()].some((run) => run.headSha === ref) || repo.statuses.some((s) => s.sha === ref);
    if (known) sha = ref;
  } else {
    const name = ref.replace(/^refs\//, "").replace(/^heads\//, "");
    sha = branchSha(repo, name);
    if (sha === undefined || sha === "") sha = tagSha(repo, name.replace(/^tags\//, ""));
  }
  if (sha === undefined || sha === "") throw new HttpError(status, `No commit found for SHA: ${ref}`);
  return sha;
}

function listCheckRunsForRef(store: EmulatorStore, ctx: RequestContext): Reply {
  const repo = ctx.repo();
  const sha = refSha(repo, ctx.params.ref ?? "", 422);
  const appId = positiveInt(ctx.query.app_id);
  const runs = store
    .runsAt(repo, sha, ctx.query.filter)
    .filter((run) => ctx.query.check_name === undefined || run.name === ctx.query.check_name)
    .filter((run) => ctx.query.status === undefined || run.status === ctx.query.status)
    .filter((run) => appId === undefined || run.appId === appId);
  return countedPage(
    store.hosts.api,
    ctx,
    "check_runs",
    runs.map((run) => checkRunJson(store, repo, run)),
  );
}

function listCheckSuitesForRef(store: EmulatorStore, ctx: RequestContext): Reply {
  const repo = ctx.repo();
  const sha = refSha(repo, ctx.params.ref ?? "", 422);
  const appId = positiveInt(ctx.query.app_id);
  const latest = store.runsAt(repo, sha);
  const suites = [...repo.checkSuites.values()]
    .filter((suite) => suite.headSha === sha && (appId === undefined || suite.appId === appId))
    .filter((suite) => ctx.query.check_name === undefined || latest.some((run) => run.suiteId === suite.id && run.name === ctx.query.check_name))
    .sort((a, b) => a.id - b.id);
  return countedPage(
    store.hosts.api,
    ctx,
    "check_suites",
    suites.map((suite) => checkSuiteJson(store, repo, suite)),
  );
}

/** The newest status of each context, oldest context first. */
function latestStatuses(repo: RepoState, sha: string): StatusRecord[] {
  const latest = new Map<string, StatusRecord>();
  for (const status of repo.statuses) if (status.sha === sha) latest.set(status.context, status);
  return [...latest.values()].sort((a, b) => a.id - b.id);
}

function combinedStatus(store: EmulatorStore, ctx: RequestContext): Reply {
  const repo = ctx.repo();
  const sha = refSha(repo, ctx.params.ref ?? "", 404);
  const latest = latestStatuses(repo, sha);
  // GitHub: failure if any context is error or failure, pending if none or any is pending, else success.
  const failed = latest.some((s) => s.state === "failure" || s.state === "error");
  const state = failed ? "failure" : latest.length === 0 || latest.some((s) => s.state === "pending") ? "pending" : "success";
  const api = `${store.hosts.api}/repos/${repo.fullName}`;
  const statuses = pageOf(ctx.query, latest).map((status) => {
    const { creator: _creator, ...simple } = statusJson(store, repo, status);
    return simple;
  });
  const body = {
    state,
    statuses,
    sha,
    total_count: latest.length,
    repository: repoJson(store, repo, "repository"),
    commit_url: `${api}/commits/${sha}`,
    url: `${api}/commits/${sha}/status`,
  };
  return ok(body, linkHeader(store.hosts.api, ctx, latest.length));
}

function listStatuses(store: EmulatorStore, ctx: RequestContext): Reply {
  const repo = ctx.repo();
  const sha = refSha(repo, ctx.params.ref ?? "", 404);
  const statuses = repo.statuses.filter((status) => status.sha === sha).sort((a, b) => b.id - a.id);
  return page(
    store.hosts.api,
    ctx,
    statuses.map((status) => statusJson(store, repo, status)),
  );
}

/** GitHub answers 302 to a short-lived download URL; here one on the emulator, outside the API. */
function jobLogs(store: EmulatorStore, ctx: RequestContext): Reply {
  const repo = ctx.repo();
  const jobId = Number(ctx.params.job_id);
  if (!repo.jobLogs.has(jobId)) throw notFound();
  const link = randomBytes(16).toString("hex");
  store.jobLogLinks.set(link, { repoKey: repo.fullName.toLowerCase(), jobId });
  return { status: 302, headers: { location: `http://${store.hosts.host}${LOG_PREFIX}${link}` } };
}

/** The plain-text download behind a job log's redirect. */
export function serveLog(store: EmulatorStore, link: string): Reply {
  const target = store.jobLogLinks.get(link);
  const text = target === undefined ? undefined : store.repos.get(target.repoKey)?.jobLogs.get(target.jobId);
  if (text === undefined) return { status: 404, text: "The specified blob does not exist." };
  return { status: 200, text };
}

// ---------------------------------------------------------------------------
// Seeding: what other Apps and CI systems do on GitHub

/**
 * The check suite GitHub makes on a push for an App with checks that has nothing to run there:
 * queued for ever, with no check runs.
 */
export function addEmptyCheckSuite(store: EmulatorStore, repo: RepoState, input: { headSha: string; appSlug: string }): void {
  store.suiteFor(repo, store.foreignApp(input.appSlug).id, input.headSha);
}

/**
 * A check run by another App (`github-actions` is GitHub Actions, and then the run's id is also
 * its job id for `setJobLog`). Each App slug gets a stable id of its own.
 */
export function addForeignCheckRun(store: EmulatorStore, repo: RepoState, input: ForeignCheckRunInput & { id?: number; appId?: number }): CheckRunJson {
  if (!isSha(input.headSha)) throw new Error(`addForeignCheckRun: headSha ${input.headSha} is not a full commit sha`);
  const appId = input.appSlug.toLowerCase() === store.appSlug.toLowerCase() ? store.appId : store.foreignApp(input.appSlug, input.appId).id;
  const conclusion = input.conclusion ?? null;
  const status = input.status ?? (conclusion === null ? "queued" : "completed");
  if (status === "completed" && conclusion === null) throw new Error("addForeignCheckRun: a completed check run needs a conclusion");
  if (status !== "completed" && conclusion !== null) throw new Error(`addForeignCheckRun: a ${status} check run has no conclusion`);
  const now = timestamp();
  const id = input.id ?? store.nextId("checkRun");
  const suite = store.suiteFor(repo, appId, input.headSha);
  const actionsUrl = `${store.hosts.web}/${repo.fullName}/actions/runs/${suite.id}/job/${id}`;
  const run: CheckRunRecord = {
    id,
    suiteId: suite.id,
    appId,
    name: input.name,
    headSha: input.headSha,
    externalId: "",
    detailsUrl: input.detailsUrl ?? (input.appSlug === GITHUB_ACTIONS_SLUG ? actionsUrl : undefined),
    status,
    conclusion,
    startedAt: now,
    completedAt: status === "completed" ? now : null,
    output: { title: input.output?.title ?? null, summary: input.output?.summary ?? null, text: input.output?.text ?? null },
  };
  repo.checkRuns.set(id, run);
  return checkRunJson(store, repo, run);
}

/** Moves another App's check run along (queued → in_progress → completed with a conclusion). */
export function updateForeignCheckRun(store: EmulatorStore, repo: RepoState, id: number, update: ForeignCheckRunUpdate): CheckRunJson {
  const run = repo.checkRuns.get(id);
  if (run === undefined) throw new Error(`GitHub emulator: no check run ${id} in ${repo.fullName}`);
  if (update.status !== undefined) run.status = update.status;
  if (update.conclusion !== undefined) {
    run.conclusion = update.conclusion;
    if (update.conclusion !== null) run.status = "completed";
  }
  if (run.status === "completed") {
    if (run.conclusion === null) throw new Error("updateForeignCheckRun: a completed check run needs a conclusion");
    run.completedAt ??= timestamp();
  } else {
    run.conclusion = null;
    run.completedAt = null;
  }
  if (update.output !== undefined) {
    run.output = {
      title: update.output.title ?? run.output.title,
      summary: update.output.summary ?? run.output.summary,
      text: update.output.text ?? run.output.text,
    };
  }
  return checkRunJson(store, repo, run);
}

/** Posts a commit status (a CI outside GitHub Actions, say); the newest per context counts in the combined status. */
export function setCommitStatus(store: EmulatorStore, repo: RepoState, sha: string, input: CommitStatusInput): CommitStatusJson {
  if (!isSha(sha)) throw new Error(`setCommitStatus: ${sha} is not a full commit sha`);
  const status: StatusRecord = {
    id: store.nextId("status"),
    sha,
    context: input.context,
    state: input.state,
    description: input.description ?? null,
    targetUrl: input.targetUrl ?? null,
    creator: input.creator === undefined ? repo.owner : store.addUser(input.creator),
    createdAt: timestamp(),
  };
  repo.statuses.push(status);
  return statusJson(store, repo, status);
}
