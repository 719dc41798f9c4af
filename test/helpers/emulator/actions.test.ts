import type { Octokit } from "@octokit/rest";
import { describe, expect, it } from "vitest";
import type { GitHubEmulator } from "./emulator.js";
import type { WorkflowDispatch } from "./actions.js";
import { DEFAULT_PERMISSIONS } from "./store.js";
import { dispatchWorkflow, failure, FULL, INSTALLATION, installationOctokit, OWNER, REPO, useEmulator } from "./test-kit.js";

const current = useEmulator();

const WORKFLOW = `name: afk job
on:
  workflow_dispatch:
    inputs:
      afk_run:
        description: afk's run id
        required: true
        type: string
      verbose:
        type: boolean
        default: false
permissions:
  id-token: write
  contents: read
jobs:
  agent:
    runs-on: ubuntu-24.04
    steps:
      - run: echo "$AFK_RUN"
        env:
          AFK_RUN: \${{ inputs.afk_run }}
`;
const PATH = ".github/workflows/afk-job.yml";

/** The emulator with the workflow on the default branch, and a client whose installation may dispatch (`actions: write`). */
async function runnerRepo(emulator: GitHubEmulator, permissions: Record<string, "read" | "write"> = { actions: "write" }): Promise<Octokit> {
  emulator.setFile(FULL, PATH, WORKFLOW);
  emulator.setInstallationPermissions(INSTALLATION, { ...DEFAULT_PERMISSIONS, ...permissions });
  return installationOctokit(emulator);
}

type DispatchBody = { ref: string; inputs?: Record<string, unknown>; return_run_details?: boolean };

function dispatch(octokit: Octokit, body: DispatchBody, workflowId: string | number = "afk-job.yml") {
  return octokit.request("POST /repos/{owner}/{repo}/actions/workflows/{workflow_id}/dispatches", {
    owner: OWNER,
    repo: REPO,
    workflow_id: workflowId,
    ...body,
  });
}

/** Dispatches with `return_run_details` and answers the new run's id. */
async function dispatchRun(octokit: Octokit, body: DispatchBody = { ref: "main", inputs: { afk_run: "run-1" } }): Promise<number> {
  return dispatchWorkflow(octokit, { ref: body.ref, ...(body.inputs === undefined ? {} : { inputs: body.inputs }) });
}

describe("GitHub Actions: workflow dispatch and workflow runs", () => {
  it("dispatches a workflow by file name with the run's details, and the run is queued on the ref's commit with its inputs", async () => {
    const emulator = current();
    const octokit = await runnerRepo(emulator);
    const head = emulator.ref(FULL, "heads/main") ?? "";

    const answer = await octokit.request("POST /repos/{owner}/{repo}/actions/workflows/{workflow_id}/dispatches", {
      owner: OWNER,
      repo: REPO,
      workflow_id: "afk-job.yml",
      ref: "main",
      inputs: { afk_run: "run-41" },
      return_run_details: true,
    });
    expect(answer.status).toBe(200);
    const [run] = emulator.workflowRuns(FULL);
    if (run === undefined) throw new Error("no workflow run");
    expect(answer.data).toEqual({
      workflow_run_id: run.id,
      run_url: `${emulator.apiUrl}/repos/${FULL}/actions/runs/${run.id}`,
      html_url: `${emulator.webUrl}/${FULL}/actions/runs/${run.id}`,
    });
    expect(run).toEqual({
      id: run.id,
      workflowId: run.workflowId,
      path: PATH,
      name: "afk job",
      event: "workflow_dispatch",
      ref: "refs/heads/main",
      headBranch: "main",
      headSha: head,
      status: "queued",
      conclusion: null,
      runNumber: 1,
      runAttempt: 1,
      // The declared default of an input not given is what the job sees.
      inputs: { afk_run: "run-41", verbose: "false" },
      actor: "afk[bot]",
      htmlUrl: `${emulator.webUrl}/${FULL}/actions/runs/${run.id}`,
    });

    const { data } = await octokit.rest.actions.getWorkflowRun({ owner: OWNER, repo: REPO, run_id: run.id });
    expect(data).toMatchObject({
      id: run.id,
      name: "afk job",
      path: PATH,
      event: "workflow_dispatch",
      status: "queued",
      conclusion: null,
      head_branch: "main",
      head_sha: head,
      run_number: 1,
      run_attempt: 1,
      workflow_id: run.workflowId,
      actor: { login: "afk[bot]", type: "Bot" },
      head_commit: { id: head, message: "Update .github/workflows/afk-job.yml" },
      repository: { full_name: FULL },
    });

    // Without `return_run_details` GitHub answers 204; the numeric workflow id works as well as the file name.
    const plain = await dispatch(octokit, { ref: "refs/heads/main", inputs: { afk_run: "run-42", verbose: true } }, run.workflowId);
    expect(plain.status).toBe(204);
    const second = emulator.workflowRuns(FULL)[1];
    expect(second).toMatchObject({ runNumber: 2, ref: "refs/heads/main", inputs: { afk_run: "run-42", verbose: "true" } });
    expect(second?.id).not.toBe(run.id);
  });

  it("runs the workflow file as it is on the dispatched branch or tag", async () => {
    const emulator = current();
    const octokit = await runnerRepo(emulator);
    const octokitApp = await installationOctokit(emulator);
    const main = emulator.ref(FULL, "heads/main") ?? "";
    await octokitApp.rest.git.createRef({ owner: OWNER, repo: REPO, ref: "refs/tags/v1", sha: main });
    emulator.setFile(FULL, PATH, WORKFLOW.replace("name: afk job", "name: afk job v2"));

    await dispatchRun(octokit, { ref: "v1", inputs: { afk_run: "tagged" } });
    await dispatchRun(octokit, { ref: "main", inputs: { afk_run: "latest" } });
    const [tagged, latest] = emulator.workflowRuns(FULL);
    expect(tagged).toMatchObject({ ref: "refs/tags/v1", headBranch: "v1", headSha: main, name: "afk job" });
    expect(latest).toMatchObject({ ref: "refs/heads/main", headSha: emulator.ref(FULL, "heads/main"), name: "afk job v2" });
  });

  it("refuses a dispatch as GitHub does: unknown workflow 404, unknown ref, no workflow_dispatch trigger, unexpected or missing inputs 422", async () => {
    const emulator = current();
    const octokit = await runnerRepo(emulator);
    emulator.setFile(FULL, ".github/workflows/ci.yml", "on: push\njobs: {}\n");

    const refused = async (body: DispatchBody, workflowId: string | number = "afk-job.yml"): Promise<[number | undefined, string]> => {
      const { status, message } = await failure(dispatch(octokit, body, workflowId));
      return [status, message.split(" - ")[0] ?? ""];
    };
    expect(await refused({ ref: "main", inputs: { afk_run: "1" } }, "nope.yml")).toEqual([404, "Not Found"]);
    expect(await refused({ ref: "main", inputs: { afk_run: "1" } }, 999_999)).toEqual([404, "Not Found"]);
    expect(await refused({ ref: "gone", inputs: { afk_run: "1" } })).toEqual([422, "No ref found for: gone"]);
    expect(await refused({ ref: "main" }, "ci.yml")).toEqual([422, "Workflow does not have 'workflow_dispatch' trigger"]);
    expect(await refused({ ref: "main", inputs: { afk_run: "1", token: "x", model_key: "y" } })).toEqual([
      422,
      'Unexpected inputs provided: ["token", "model_key"]',
    ]);
    expect(await refused({ ref: "main", inputs: { verbose: "true" } })).toEqual([422, "Required input 'afk_run' not provided"]);
    expect(await refused({ ref: "main" })).toEqual([422, "Required input 'afk_run' not provided"]);
    expect(emulator.workflowRuns(FULL)).toEqual([]);

    // More than 25 inputs is outside GitHub's description: refused and reported.
    const many = Object.fromEntries(Array.from({ length: 26 }, (_, i) => [`input_${i}`, "x"]));
    expect((await failure(dispatch(octokit, { ref: "main", inputs: many }))).status).toBe(400);
    expect(emulator.takeViolations()).toEqual([expect.stringContaining("inputs")]);
    expect(emulator.workflowRuns(FULL)).toEqual([]);
  });

  it("needs actions: write to dispatch and cancel and actions: read to read; another installation's repository is not found", async () => {
    const emulator = current();
    const readOnly = await runnerRepo(emulator, { actions: "read" });
    expect((await failure(dispatch(readOnly, { ref: "main", inputs: { afk_run: "1" } }))).status).toBe(403);
    emulator.setInstallationPermissions(INSTALLATION, { ...DEFAULT_PERMISSIONS, actions: "write" });
    const writer = await installationOctokit(emulator);
    const runId = await dispatchRun(writer);
    expect((await failure(readOnly.rest.actions.cancelWorkflowRun({ owner: OWNER, repo: REPO, run_id: runId }))).status).toBe(403);
    expect((await readOnly.rest.actions.getWorkflowRun({ owner: OWNER, repo: REPO, run_id: runId })).data.id).toBe(runId);

    const noActions = await installationOctokit(emulator, INSTALLATION, { permissions: { metadata: "read", contents: "read" } });
    expect((await failure(noActions.rest.actions.getWorkflowRun({ owner: OWNER, repo: REPO, run_id: runId }))).status).toBe(403);
    expect((await failure(noActions.rest.actions.listWorkflowRuns({ owner: OWNER, repo: REPO, workflow_id: "afk-job.yml" }))).status).toBe(403);

    emulator.addRepo({ owner: "other", name: "runner", installationId: 12, files: { [PATH]: WORKFLOW } });
    const outsider = failure(
      writer.request("POST /repos/{owner}/{repo}/actions/workflows/{workflow_id}/dispatches", {
        owner: "other",
        repo: "runner",
        workflow_id: "afk-job.yml",
        ref: "main",
        inputs: { afk_run: "1" },
      }),
    );
    expect((await outsider).status).toBe(404);
    expect((await failure(writer.rest.actions.getWorkflowRun({ owner: OWNER, repo: REPO, run_id: runId + 1000 }))).status).toBe(404);
    expect(emulator.workflowRuns("other/runner")).toEqual([]);
  });

  it("hands each new run to the dispatch listeners after the dispatch is answered, with its workflow file and ID token request", async () => {
    const emulator = current();
    const octokit = await runnerRepo(emulator);
    const seen: WorkflowDispatch[] = [];
    const unsubscribe = emulator.onWorkflowDispatch((dispatched) => {
      // The dispatch has been answered: the run is there to read.
      expect(emulator.workflowRuns(FULL).map((run) => run.id)).toContain(dispatched.run.id);
      seen.push(dispatched);
    });
    const runId = await dispatchRun(octokit);
    await expect.poll(() => seen.length).toBe(1);
    const [first] = seen;
    expect(first?.repository).toBe(FULL);
    expect(first?.run).toMatchObject({ id: runId, status: "queued", inputs: { afk_run: "run-1" } });
    expect(first?.workflow).toBe(WORKFLOW);
    expect(first?.idTokenRequest).toEqual(emulator.idTokenRequest(FULL, runId));
    expect(first?.signal.aborted).toBe(false);

    unsubscribe();
    await dispatchRun(octokit);
    await new Promise((resolve) => setImmediate(resolve));
    expect(seen).toHaveLength(1);
    expect(emulator.workflowRuns(FULL)).toHaveLength(2);
  });

  it("records a dispatch listener that throws or rejects as a violation", async () => {
    const emulator = current();
    const octokit = await runnerRepo(emulator);
    emulator.onWorkflowDispatch(() => {
      throw new Error("runner crashed");
    });
    emulator.onWorkflowDispatch(() => Promise.reject(new Error("runner failed later")));
    const runId = await dispatchRun(octokit);
    await expect.poll(() => emulator.violations.length).toBe(2);
    expect(emulator.takeViolations()).toEqual([
      expect.stringContaining(`workflow dispatch listener failed on run ${runId}: Error: runner crashed`),
      expect.stringContaining(`workflow dispatch listener failed on run ${runId}: Error: runner failed later`),
    ]);
  });

  it("cancels a queued or running run (202): it completes cancelled and its listener's signal aborts; a completed run cannot be cancelled (409)", async () => {
    const emulator = current();
    const octokit = await runnerRepo(emulator);
    const signals = new Map<number, AbortSignal>();
    emulator.onWorkflowDispatch((dispatched) => {
      signals.set(dispatched.run.id, dispatched.signal);
    });
    const queued = await dispatchRun(octokit);
    const running = await dispatchRun(octokit);
    const finished = await dispatchRun(octokit);
    await expect.poll(() => signals.size).toBe(3);
    emulator.setWorkflowRunStatus(FULL, running, "in_progress");
    emulator.setWorkflowRunStatus(FULL, finished, "in_progress");
    expect(emulator.setWorkflowRunStatus(FULL, finished, "completed", "success")).toMatchObject({ status: "completed", conclusion: "success" });

    for (const runId of [queued, running]) {
      const answer = await octokit.rest.actions.cancelWorkflowRun({ owner: OWNER, repo: REPO, run_id: runId });
      expect(answer.status).toBe(202);
      const { data } = await octokit.rest.actions.getWorkflowRun({ owner: OWNER, repo: REPO, run_id: runId });
      expect([data.status, data.conclusion]).toEqual(["completed", "cancelled"]);
      expect(signals.get(runId)?.aborted).toBe(true);
    }
    expect(signals.get(finished)?.aborted).toBe(false);
    for (const runId of [queued, finished]) {
      const refused = await failure(octokit.rest.actions.cancelWorkflowRun({ owner: OWNER, repo: REPO, run_id: runId }));
      expect(refused).toMatchObject({ status: 409, message: expect.stringContaining("Cannot cancel a workflow run that is completed.") });
    }
    expect(() => emulator.setWorkflowRunStatus(FULL, queued, "in_progress")).toThrow(/completed/);
  });

  it("a test cancelling a run aborts its signal; setWorkflowRunStatus refuses a completed run without a conclusion and a running one with one", async () => {
    const emulator = current();
    const octokit = await runnerRepo(emulator);
    let signal: AbortSignal | undefined;
    emulator.onWorkflowDispatch((dispatched) => {
      signal = dispatched.signal;
    });
    const runId = await dispatchRun(octokit);
    await expect.poll(() => signal).toBeDefined();
    expect(() => emulator.setWorkflowRunStatus(FULL, runId, "completed")).toThrow(/needs a conclusion/);
    expect(() => emulator.setWorkflowRunStatus(FULL, runId, "in_progress", "success")).toThrow(/has no conclusion/);
    expect(() => emulator.setWorkflowRunStatus(FULL, runId + 1, "in_progress")).toThrow(/no workflow run/);
    expect(emulator.setWorkflowRunStatus(FULL, runId, "in_progress").status).toBe("in_progress");
    emulator.setWorkflowRunStatus(FULL, runId, "completed", "cancelled");
    expect(signal?.aborted).toBe(true);
    expect(String(signal?.reason)).toContain(`workflow run ${runId} was cancelled`);
  });

  it("lists a workflow's runs newest first, filtered by status or conclusion, a page at a time", async () => {
    const emulator = current();
    const octokit = await runnerRepo(emulator);
    const ids = [await dispatchRun(octokit), await dispatchRun(octokit), await dispatchRun(octokit)];
    const [first, second, third] = ids;
    if (first === undefined || second === undefined || third === undefined) throw new Error("three runs");
    emulator.setWorkflowRunStatus(FULL, first, "in_progress");
    emulator.setWorkflowRunStatus(FULL, first, "completed", "success");
    emulator.setWorkflowRunStatus(FULL, second, "in_progress");

    const list = async (status?: "queued" | "in_progress" | "completed" | "success" | "failure"): Promise<number[]> => {
      const { data } = await octokit.rest.actions.listWorkflowRuns({ owner: OWNER, repo: REPO, workflow_id: "afk-job.yml", ...(status ? { status } : {}) });
      expect(data.total_count).toBe(data.workflow_runs.length);
      return data.workflow_runs.map((run) => run.id);
    };
    expect(await list()).toEqual([third, second, first]);
    expect(await list("queued")).toEqual([third]);
    expect(await list("in_progress")).toEqual([second]);
    expect(await list("completed")).toEqual([first]);
    expect(await list("success")).toEqual([first]);
    expect(await list("failure")).toEqual([]);

    const workflowId = emulator.workflowRuns(FULL)[0]?.workflowId ?? 0;
    const paged = await octokit.rest.actions.listWorkflowRuns({ owner: OWNER, repo: REPO, workflow_id: workflowId, per_page: 1, page: 2 });
    expect(paged.data.total_count).toBe(3);
    expect(paged.data.workflow_runs.map((run) => run.id)).toEqual([second]);
    expect(paged.headers.link).toContain('rel="next"');
    expect((await failure(octokit.rest.actions.listWorkflowRuns({ owner: OWNER, repo: REPO, workflow_id: "nope.yml" }))).status).toBe(404);
  });
});
