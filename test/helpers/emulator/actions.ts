import { randomBytes } from "node:crypto";
import { parse as parseYaml } from "yaml";
import { branchSha, commitObject, fileAt, gitRun, lookupPath, tagSha } from "./git-store.js";
import { countedPage, HttpError, installationRoute, notFound, ok, type Reply, type RequestContext, type RouteTable } from "./http.js";
import { workflowRunJson } from "./shapes-actions.js";
import type { EmulatorStore, RepoState, UserState } from "./store.js";
import { field, isObject, stringField, timestamp } from "./util.js";

/**
 * GitHub Actions as far as a dispatcher sees it: `workflow_dispatch` of a workflow file on a ref
 * (its trigger and declared inputs checked as GitHub checks them), the workflow runs it creates,
 * reading and cancelling them. Nothing runs a job here: a test subscribes with
 * `onWorkflowDispatch` and plays the runner, moving the run along with `setWorkflowRunStatus`.
 *
 * Invariants: a run's id is unique across the emulator; a completed run never changes again; a
 * run's `signal` is aborted exactly when it is cancelled (through the API or by a test).
 */

/** Where a repository's workflow files live. */
const WORKFLOWS_DIR = ".github/workflows";

export type WorkflowRunStatus = "queued" | "in_progress" | "completed" | "waiting" | "requested" | "pending";
export type WorkflowRunConclusion = "success" | "failure" | "neutral" | "cancelled" | "skipped" | "timed_out" | "action_required" | "stale";

/** One workflow run as the emulator keeps it. */
export interface WorkflowRunRecord {
  id: number;
  /** The lower-cased full name of the repository it runs in. */
  repoKey: string;
  /** `owner/name` as the repository spells it. */
  fullName: string;
  workflowId: number;
  /** The workflow's `name:`, or its path when it has none. */
  workflowName: string;
  /** `.github/workflows/afk-job.yml` */
  path: string;
  /** The full ref dispatched: `refs/heads/main`, `refs/tags/v1`. */
  ref: string;
  refType: "branch" | "tag";
  /** The branch or tag name (`main`). */
  headBranch: string;
  headSha: string;
  event: "workflow_dispatch";
  status: WorkflowRunStatus;
  conclusion: WorkflowRunConclusion | null;
  /** How many runs of this workflow the repository had, this one included. */
  runNumber: number;
  runAttempt: number;
  /** The inputs as the job sees them (`github.event.inputs`): those given, and the declared defaults of the rest, as strings. */
  inputs: Record<string, string>;
  actor: UserState;
  createdAt: string;
  updatedAt: string;
  runStartedAt: string;
  checkSuiteId: number;
  /** The workflow file's text at `headSha`, as a runner checks it out. */
  workflowText: string;
  /** What Actions hands the job as `ACTIONS_ID_TOKEN_REQUEST_TOKEN`. */
  idTokenRequestToken: string;
  controller: AbortController;
}

/** A workflow run as `workflowRuns()` reports it. */
export interface WorkflowRunSummary {
  id: number;
  workflowId: number;
  path: string;
  name: string;
  event: "workflow_dispatch";
  /** `refs/heads/main` */
  ref: string;
  headBranch: string;
  headSha: string;
  status: WorkflowRunStatus;
  conclusion: WorkflowRunConclusion | null;
  runNumber: number;
  runAttempt: number;
  inputs: Record<string, string>;
  /** The login that dispatched it (the App's bot when afk did). */
  actor: string;
  htmlUrl: string;
}

/** What Actions puts in a job's `ACTIONS_ID_TOKEN_REQUEST_URL` and `ACTIONS_ID_TOKEN_REQUEST_TOKEN`. */
export interface IdTokenRequest {
  url: string;
  token: string;
}

/** What a dispatch listener (a test playing the runner) is handed for each new workflow run. */
export interface WorkflowDispatch {
  /** `owner/name` of the repository the run belongs to. */
  repository: string;
  run: WorkflowRunSummary;
  /** The workflow file's text at the dispatched commit. */
  workflow: string;
  /** What the job gets to ask for its OIDC token. */
  idTokenRequest: IdTokenRequest;
  /** Aborted when the run is cancelled (through the API or `setWorkflowRunStatus`), so the runner can stop the job. */
  signal: AbortSignal;
}

export type WorkflowDispatchListener = (dispatch: WorkflowDispatch) => void | Promise<void>;

/** A workflow's file, read as GitHub reads it for a dispatch. */
interface WorkflowDefinition {
  name: string | undefined;
  /** Whether `on:` names `workflow_dispatch`. */
  dispatchable: boolean;
  /** The declared `workflow_dispatch` inputs, in declaration order. */
  inputs: Array<{ name: string; required: boolean; default: string | undefined }>;
}

/** Reads a workflow file's name, trigger and inputs; undefined when the YAML does not parse. */
function readWorkflow(text: string): WorkflowDefinition | undefined {
  let parsed: unknown;
  try {
    parsed = parseYaml(text);
  } catch {
    return undefined;
  }
  if (!isObject(parsed)) return undefined;
  const name = typeof parsed.name === "string" ? parsed.name : undefined;
  const on = parsed.on;
  const dispatchable =
    on === "workflow_dispatch" || (Array.isArray(on) && on.includes("workflow_dispatch")) || (isObject(on) && Object.hasOwn(on, "workflow_dispatch"));
  const declared = isObject(on) ? field(on.workflow_dispatch, "inputs") : undefined;
  const inputs = Object.entries(isObject(declared) ? declared : {}).map(([inputName, spec]) => {
    const fallback = field(spec, "default");
    return {
      name: inputName,
      required: field(spec, "required") === true,
      default: fallback === undefined || fallback === null ? undefined : String(fallback),
    };
  });
  return { name, dispatchable, inputs };
}

/** What the Actions state needs from the rest of the emulator. */
export interface ActionsParts {
  /** The web root `htmlUrl`s name. */
  web: () => string;
  /** What a run's job gets to ask for its OIDC token (oidc.ts). */
  idTokenRequest: (run: WorkflowRunRecord) => IdTokenRequest;
  /** Told of a listener that threw or rejected (the emulator records it as a violation). */
  report: (message: string) => void;
}

/** The emulator's Actions state: workflow ids, runs, and who listens for dispatches. */
export class ActionsState {
  readonly runs = new Map<number, WorkflowRunRecord>();
  /** Lower-cased repository full name → workflow path → workflow id. */
  private readonly workflowIds = new Map<string, Map<string, number>>();
  private readonly runCounts = new Map<number, number>();
  private readonly listeners = new Set<WorkflowDispatchListener>();
  private nextRunId = 30_000_000;
  private nextWorkflowId = 160_000;
  private nextSuiteId = 70_000_000;

  constructor(private readonly parts: ActionsParts) {}

  /** Subscribes to new workflow runs; returns the unsubscribe. */
  onDispatch(listener: WorkflowDispatchListener): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** The workflow id of a path in a repository, assigned the first time it is seen. */
  workflowId(repo: RepoState, path: string): number {
    const key = repo.fullName.toLowerCase();
    let ids = this.workflowIds.get(key);
    if (ids === undefined) {
      ids = new Map();
      this.workflowIds.set(key, ids);
    }
    let id = ids.get(path);
    if (id === undefined) {
      id = this.nextWorkflowId++;
      ids.set(path, id);
    }
    return id;
  }

  /** The path of a workflow id: one seen before, or a file on the default branch. */
  workflowPath(repo: RepoState, id: number): string | undefined {
    const head = branchSha(repo, repo.defaultBranch);
    for (const path of head === undefined ? [] : workflowFilesAt(repo, head)) this.workflowId(repo, path);
    const ids = this.workflowIds.get(repo.fullName.toLowerCase());
    return [...(ids ?? [])].find(([, known]) => known === id)?.[0];
  }

  runsOf(repo: RepoState): WorkflowRunRecord[] {
    const key = repo.fullName.toLowerCase();
    return [...this.runs.values()].filter((run) => run.repoKey === key);
  }

  /** A run of the repository; a run that does not exist is a mistake in the test. */
  run(repo: RepoState, runId: number): WorkflowRunRecord {
    const run = this.runs.get(runId);
    if (run === undefined || run.repoKey !== repo.fullName.toLowerCase()) throw new Error(`GitHub emulator: no workflow run ${runId} in ${repo.fullName}`);
    return run;
  }

  /** Creates a queued run and tells the listeners once the current request has been answered. */
  createRun(
    input: Omit<WorkflowRunRecord, "id" | "runNumber" | "runAttempt" | "status" | "conclusion" | "checkSuiteId" | "controller" | "idTokenRequestToken">,
  ): WorkflowRunRecord {
    const runNumber = (this.runCounts.get(input.workflowId) ?? 0) + 1;
    this.runCounts.set(input.workflowId, runNumber);
    const run: WorkflowRunRecord = {
      ...input,
      id: this.nextRunId++,
      runNumber,
      runAttempt: 1,
      status: "queued",
      conclusion: null,
      checkSuiteId: this.nextSuiteId++,
      idTokenRequestToken: randomBytes(24).toString("base64url"),
      controller: new AbortController(),
    };
    this.runs.set(run.id, run);
    const listeners = [...this.listeners];
    queueMicrotask(() => {
      for (const listener of listeners) this.tell(listener, run);
    });
    return run;
  }

  private tell(listener: WorkflowDispatchListener, run: WorkflowRunRecord): void {
    const failed = (error: unknown): void => {
      const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
      this.parts.report(`workflow dispatch listener failed on run ${run.id}: ${message}`);
    };
    const dispatch: WorkflowDispatch = {
      repository: run.fullName,
      run: workflowRunSummary(run, this.parts.web()),
      workflow: run.workflowText,
      idTokenRequest: this.parts.idTokenRequest(run),
      signal: run.controller.signal,
    };
    try {
      const pending = listener(dispatch);
      if (pending !== undefined) pending.catch(failed);
    } catch (error) {
      failed(error);
    }
  }
}

/**
 * Moves a run along as its runner would: queued → in_progress → completed with a conclusion.
 * `cancelled` aborts the run's signal. A completed run stays as it is (GitHub re-runs are new attempts).
 */
export function setRunStatus(run: WorkflowRunRecord, status: WorkflowRunStatus, conclusion?: WorkflowRunConclusion): void {
  if (run.status === "completed") throw new Error(`GitHub emulator: workflow run ${run.id} is completed (${run.conclusion ?? "?"}) and cannot change`);
  if (status === "completed" && conclusion === undefined) throw new Error("setWorkflowRunStatus: a completed run needs a conclusion");
  if (status !== "completed" && conclusion !== undefined) throw new Error(`setWorkflowRunStatus: a ${status} run has no conclusion`);
  run.status = status;
  run.conclusion = conclusion ?? null;
  run.updatedAt = timestamp();
  if (conclusion === "cancelled") run.controller.abort(new Error(`workflow run ${run.id} was cancelled`));
}

/** The summary tests read; `web` is the web root `htmlUrl` is under. */
export function workflowRunSummary(run: WorkflowRunRecord, web: string): WorkflowRunSummary {
  return {
    id: run.id,
    workflowId: run.workflowId,
    path: run.path,
    name: run.workflowName,
    event: run.event,
    ref: run.ref,
    headBranch: run.headBranch,
    headSha: run.headSha,
    status: run.status,
    conclusion: run.conclusion,
    runNumber: run.runNumber,
    runAttempt: run.runAttempt,
    inputs: { ...run.inputs },
    actor: run.actor.login,
    htmlUrl: `${web}/${run.fullName}/actions/runs/${run.id}`,
  };
}

/** The workflow files (`.github/workflows/*.yml|yaml`) of a commit. */
function workflowFilesAt(repo: RepoState, sha: string): string[] {
  const entry = lookupPath(repo, sha, WORKFLOWS_DIR);
  const tree = entry === undefined ? undefined : repo.objects.get(entry.sha);
  const names =
    tree?.type === "tree"
      ? tree.entries.filter((child) => child.type === "blob").map((child) => child.name)
      : commitObject(repo, sha) === undefined
        ? (gitRun(repo, ["ls-tree", "--name-only", `${sha}:${WORKFLOWS_DIR}`]) ?? "").split("\n")
        : [];
  return names.filter((name) => /\.ya?ml$/.test(name)).map((name) => `${WORKFLOWS_DIR}/${name}`);
}

/** A dispatch's `ref`: a branch or tag name, or a full `refs/heads/…` / `refs/tags/…` ref. */
function resolveRef(repo: RepoState, ref: string): { ref: string; type: "branch" | "tag"; name: string; sha: string } | undefined {
  const found = (type: "branch" | "tag", name: string): { ref: string; type: "branch" | "tag"; name: string; sha: string } | undefined => {
    const sha = type === "branch" ? branchSha(repo, name) : tagSha(repo, name);
    return sha === undefined || sha === "" ? undefined : { ref: `refs/${type === "branch" ? "heads" : "tags"}/${name}`, type, name, sha };
  };
  if (ref.startsWith("refs/heads/")) return found("branch", ref.slice("refs/heads/".length));
  if (ref.startsWith("refs/tags/")) return found("tag", ref.slice("refs/tags/".length));
  return found("branch", ref) ?? found("tag", ref);
}

export function actionsRoutes(store: EmulatorStore, actions: ActionsState): RouteTable {
  const runOf = (ctx: RequestContext): WorkflowRunRecord => {
    const run = actions.runs.get(Number(ctx.params.run_id));
    if (run === undefined || run.repoKey !== ctx.repo().fullName.toLowerCase()) throw notFound();
    return run;
  };
  return [
    ["POST /repos/{owner}/{repo}/actions/workflows/{workflow_id}/dispatches", installationRoute("actions", "write", (ctx) => dispatch(store, actions, ctx))],
    ["GET /repos/{owner}/{repo}/actions/workflows/{workflow_id}/runs", installationRoute("actions", "read", (ctx) => listRuns(store, actions, ctx))],
    ["GET /repos/{owner}/{repo}/actions/runs/{run_id}", installationRoute("actions", "read", (ctx) => ok(workflowRunJson(store, ctx.repo(), runOf(ctx))))],
    ["POST /repos/{owner}/{repo}/actions/runs/{run_id}/cancel", installationRoute("actions", "write", (ctx) => cancel(runOf(ctx)))],
  ];
}

/**
 * The workflow a `{workflow_id}` names: a file name under `.github/workflows` (on `ref`, or on the
 * default branch), or the numeric id of one. Unknown: 404, as GitHub answers.
 */
function workflowOf(actions: ActionsState, repo: RepoState, workflowId: string, refSha: string | undefined): { id: number; path: string } {
  if (/^\d+$/.test(workflowId)) {
    const path = actions.workflowPath(repo, Number(workflowId));
    if (path === undefined) throw notFound();
    return { id: Number(workflowId), path };
  }
  const path = `${WORKFLOWS_DIR}/${workflowId}`;
  if (workflowId.includes("/") || !/\.ya?ml$/.test(workflowId)) throw notFound();
  const head = branchSha(repo, repo.defaultBranch);
  const known = [head, refSha].some((sha) => sha !== undefined && sha !== "" && fileAt(repo, sha, path) !== undefined);
  if (!known && !actions.runsOf(repo).some((run) => run.path === path)) throw notFound();
  return { id: actions.workflowId(repo, path), path };
}

/** `POST …/dispatches`: 204, or 200 with the run's id and URLs when `return_run_details` is true. */
function dispatch(store: EmulatorStore, actions: ActionsState, ctx: RequestContext): Reply {
  const repo = ctx.repo();
  const refName = stringField(ctx.body, "ref") ?? "";
  const ref = resolveRef(repo, refName);
  const workflow = workflowOf(actions, repo, ctx.params.workflow_id ?? "", ref?.sha);
  if (ref === undefined) throw new HttpError(422, `No ref found for: ${refName}`);
  const text = fileAt(repo, ref.sha, workflow.path);
  const definition = text === undefined ? undefined : readWorkflow(text);
  if (text === undefined || definition === undefined || !definition.dispatchable)
    throw new HttpError(422, "Workflow does not have 'workflow_dispatch' trigger");
  const given = field(ctx.body, "inputs");
  const provided = isObject(given) ? given : {};
  const declared = new Set(definition.inputs.map((input) => input.name));
  const unexpected = Object.keys(provided).filter((name) => !declared.has(name));
  if (unexpected.length > 0) throw new HttpError(422, `Unexpected inputs provided: [${unexpected.map((name) => JSON.stringify(name)).join(", ")}]`);
  const inputs: Record<string, string> = {};
  for (const input of definition.inputs) {
    const value = provided[input.name];
    if (value === undefined || value === null) {
      if (input.required && input.default === undefined) throw new HttpError(422, `Required input '${input.name}' not provided`);
      if (input.default !== undefined) inputs[input.name] = input.default;
    } else {
      inputs[input.name] = typeof value === "string" ? value : JSON.stringify(value);
    }
  }
  const now = timestamp();
  const run = actions.createRun({
    repoKey: repo.fullName.toLowerCase(),
    fullName: repo.fullName,
    workflowId: workflow.id,
    workflowName: definition.name ?? workflow.path,
    path: workflow.path,
    ref: ref.ref,
    refType: ref.type,
    headBranch: ref.name,
    headSha: ref.sha,
    event: "workflow_dispatch",
    inputs,
    actor: store.bot,
    createdAt: now,
    updatedAt: now,
    runStartedAt: now,
    workflowText: text,
  });
  if (field(ctx.body, "return_run_details") !== true) return { status: 204 };
  return ok({
    workflow_run_id: run.id,
    run_url: `${store.hosts.api}/repos/${repo.fullName}/actions/runs/${run.id}`,
    html_url: `${store.hosts.web}/${repo.fullName}/actions/runs/${run.id}`,
  });
}

/** `GET …/workflows/{workflow_id}/runs`, newest first; `status` matches a status or a conclusion, as on GitHub. */
function listRuns(store: EmulatorStore, actions: ActionsState, ctx: RequestContext): Reply {
  const repo = ctx.repo();
  const workflow = workflowOf(actions, repo, ctx.params.workflow_id ?? "", undefined);
  const { status, branch, event, head_sha: headSha, actor } = ctx.query;
  const runs = actions
    .runsOf(repo)
    .filter((run) => run.workflowId === workflow.id)
    .filter((run) => status === undefined || run.status === status || run.conclusion === status)
    .filter((run) => branch === undefined || run.headBranch === branch)
    .filter((run) => event === undefined || run.event === event)
    .filter((run) => headSha === undefined || run.headSha === headSha)
    .filter((run) => actor === undefined || run.actor.login.toLowerCase() === actor.toLowerCase())
    .sort((a, b) => b.id - a.id);
  return countedPage(
    store.hosts.api,
    ctx,
    "workflow_runs",
    runs.map((run) => workflowRunJson(store, repo, run)),
  );
}

/** `POST …/runs/{run_id}/cancel`: 202, and the run ends cancelled; a completed run cannot be cancelled (409). */
function cancel(run: WorkflowRunRecord): Reply {
  if (run.status === "completed") throw new HttpError(409, "Cannot cancel a workflow run that is completed.");
  setRunStatus(run, "completed", "cancelled");
  return { status: 202, body: {} };
}
