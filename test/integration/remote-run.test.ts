// A run whose job afk dispatched to its runner repository (ADR 0008), through the App: the run stays
// running with the lock held while the workflow run goes on, and `/afk stop` cancels that workflow
// run and ends the run at once, since no afk process holds the job to settle it later.
import { describe, expect, it } from "vitest";
import { RUN_INPUT, RUNNER_WORKFLOW_FILE, RUNNER_WORKFLOW_PATH, runnerWorkflow } from "../../src/actions/runner-workflow.js";
import type { GitHub } from "../../src/github/types.js";
import { readLock } from "../../src/lock/repo-lock.js";
import type { Executor, RunJob, RunOutcome } from "../../src/run-contract/executor.js";
import { AFK_VERSION } from "../helpers/afk-cli.js";
import { DEFAULT_PERMISSIONS } from "../helpers/emulator/store.js";
import { dispatchWorkflow } from "../helpers/emulator/test-kit.js";
import { runStateOf } from "../helpers/run-state-of.js";
import { INSTALLATION_ID, OWNER, useScenario } from "../helpers/scenario.js";
import { waitFor } from "../helpers/wait-for.js";

const RUNNER = "afk-runner";
const RUNNER_REPO = `${OWNER}/${RUNNER}`;

/** An executor that only dispatches afk's workflow in the runner repository and says so, as the Actions executor will. */
class DispatchingExecutor implements Executor {
  readonly name = "dispatches to the runner repository";
  readonly dispatched: number[] = [];
  constructor(readonly octokit: () => Promise<GitHub>) {}

  async execute(job: RunJob): Promise<RunOutcome> {
    const id = await dispatchWorkflow(await this.octokit(), { owner: OWNER, repo: RUNNER, workflow: RUNNER_WORKFLOW_FILE, inputs: { [RUN_INPUT]: job.runId } });
    this.dispatched.push(id);
    return {
      status: "dispatched",
      message: `The job runs as workflow run ${id} of ${RUNNER_REPO}.`,
      remote: { runnerRepo: RUNNER_REPO, workflowRunId: id, baseSha: "b".repeat(40) },
    };
  }
}

const start = useScenario();

describe("a run whose job runs in afk's runner repository", () => {
  it("stays running with the lock held; /afk stop cancels its workflow run and ends it at once, and the next issue starts", async () => {
    let executor: DispatchingExecutor | undefined;
    const scenario = await start({
      executor: {
        name: "dispatching",
        execute: (job) => {
          if (executor === undefined) throw new Error("no executor yet");
          return executor.execute(job);
        },
      },
    });
    const { github } = scenario;
    github.addRepo({ owner: OWNER, name: RUNNER, installationId: INSTALLATION_ID, files: { [RUNNER_WORKFLOW_PATH]: runnerWorkflow(AFK_VERSION) } });
    github.setInstallationPermissions(INSTALLATION_ID, { ...DEFAULT_PERMISSIONS, actions: "write" });
    const octokit = () => scenario.afk.probot.auth(INSTALLATION_ID);
    executor = new DispatchingExecutor(octokit);
    const cancelled: number[] = [];
    github.onWorkflowDispatch(({ run, signal }) => signal.addEventListener("abort", () => cancelled.push(run.id)));

    const issue = scenario.issue();
    await scenario.label(issue, "wes-write");
    await waitFor(() => runStateOf(scenario, issue)?.remote !== undefined, "the run to record its workflow run");
    const [workflowRunId] = executor.dispatched;
    expect(runStateOf(scenario, issue)).toMatchObject({ status: "running", remote: { runnerRepo: RUNNER_REPO, workflowRunId } });
    expect(github.workflowRuns(RUNNER_REPO).map((run) => [run.id, run.status, run.inputs[RUN_INPUT]])).toEqual([
      [workflowRunId, "queued", runStateOf(scenario, issue)?.runId],
    ]);
    const repo = { owner: OWNER, repo: "app", installationId: INSTALLATION_ID };
    const held = await readLock(await octokit(), repo, new Date());
    expect(held.status === "held" && held.holder.runId).toBe(runStateOf(scenario, issue)?.runId);

    await scenario.comment(issue, "wes-write", "/afk stop");
    await waitFor(() => runStateOf(scenario, issue)?.status === "stopped", "the run to stop");
    expect(runStateOf(scenario, issue)?.remote).toBeUndefined();
    expect(github.workflowRuns(RUNNER_REPO)[0]).toMatchObject({ status: "completed", conclusion: "cancelled" });
    expect(cancelled).toEqual([workflowRunId]);
    expect((await readLock(await octokit(), repo, new Date())).status).toBe("free");

    // The lock is free again: the next issue's job is dispatched.
    const next = scenario.issue();
    await scenario.label(next, "wes-write");
    await waitFor(() => runStateOf(scenario, next)?.remote !== undefined, "the next run to be dispatched");
    expect(executor.dispatched).toHaveLength(2);
    github.assertNoViolations();
  });
});
