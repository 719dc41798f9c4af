// The workflow afk ships (`afk init-runner`'s afk-job.yml), run as GitHub Actions runs it
// (test/helpers/actions-runner.ts) on a self-hosted Linux runner: dispatched in the emulated runner
// repository, its job asks the emulator's OIDC issuer for a token, `afk doctor --job` passes, and
// `afk job` proves who it is to a loopback afk that verifies the token with afk's own verifier, does
// the work with the real sandbox and model server, and hands the change back.
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Octokit } from "@octokit/rest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OidcVerifier } from "../../src/actions/oidc-verifier.js";
import { RUN_INPUT, RUNNER_WORKFLOW_FILE, RUNNER_WORKFLOW_PATH, runnerWorkflow, SETUP_NODE } from "../../src/actions/runner-workflow.js";
import { parseRunReference, type JobSpec } from "../../src/run-contract/job-protocol.js";
import { AfkJobEndpoints } from "../helpers/afk-job-endpoints.js";
import { AFK_VERSION } from "../helpers/afk-cli.js";
import { condition, interpolate, playRunner, runWorkflowJob, type WorkflowJobInput } from "../helpers/actions-runner.js";
import type { GitHubEmulator } from "../helpers/emulator/index.js";
import { loopbackFetch } from "../helpers/emulator/loopback-fetch.js";
import { DEFAULT_PERMISSIONS } from "../helpers/emulator/store.js";
import { dispatchWorkflow, FULL, INSTALLATION, installationOctokit, OWNER, REPO, useEmulator } from "../helpers/emulator/test-kit.js";
import { createBareRepo, GitHttpServer } from "../helpers/git-http-server.js";
import { endTurn, FIXTURE_FILES, toolTurn } from "../helpers/git-scenario.js";
import { testJobSpec } from "../helpers/job-spec.js";
import { ModelServer } from "../helpers/model-server.js";
import { waitFor } from "../helpers/wait-for.js";

const current = useEmulator();
const READ_TOKEN = "ghs_runnerreadtoken0000000000000000000003";
const JOB_CREDENTIAL = "afkjob1.eyJydW4iOiJyLXJ1bm5lciJ9.c2lnbmF0dXJlLXJ1bm5lcg";
const WORKFLOW = runnerWorkflow(AFK_VERSION);
/** Doctor, a clone, the sandboxed agent and the gate, each step a Node process, on a busy machine. */
const WORKFLOW_MS = 120_000;

let root: string;
let git: GitHttpServer;
let base: string;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), "afk-actions-runner-"));
  base = createBareRepo(join(root, "remote"), "octo-org/app", FIXTURE_FILES).headSha;
  git = await GitHttpServer.start({ root: join(root, "remote"), authorize: ({ service, token }) => service === "upload-pack" && token === READ_TOKEN });
});

afterAll(async () => {
  await git.close();
  rmSync(root, { recursive: true, force: true });
});

/** The runner repository (the emulator's `acme/widgets`) holding afk's workflow, the App allowed to dispatch and cancel it. */
async function runnerRepository(emulator: GitHubEmulator, workflow = WORKFLOW): Promise<Octokit> {
  emulator.setFile(FULL, RUNNER_WORKFLOW_PATH, workflow);
  emulator.setInstallationPermissions(INSTALLATION, { ...DEFAULT_PERMISSIONS, actions: "write" });
  return installationOctokit(emulator);
}

function dispatch(octokit: Octokit, afkRun: string): Promise<number> {
  return dispatchWorkflow(octokit, { owner: OWNER, repo: REPO, workflow: RUNNER_WORKFLOW_FILE, ref: "main", inputs: { [RUN_INPUT]: afkRun } });
}

function specFor(afk: AfkJobEndpoints, modelUrl: string, runId: string): JobSpec {
  const target = { cloneUrl: git.cloneUrl("octo-org/app"), baseSha: base, endpoint: afk.url, modelBaseUrl: modelUrl };
  return testJobSpec({ ...target, readToken: READ_TOKEN, jobCredential: JOB_CREDENTIAL }, runId);
}

/** afk's start as afk verifies it: the token's signature against the emulator's issuer, the runner repository, the workflow on main, and the workflow run afk dispatched. */
async function verifiedStart(
  emulator: GitHubEmulator,
  afk: AfkJobEndpoints,
  token: string,
  workflowRunId: () => number | undefined,
): Promise<string | undefined> {
  const runId = workflowRunId();
  if (runId === undefined) return "no workflow run was dispatched";
  const verifier = new OidcVerifier({ issuer: emulator.oidc.issuer, fetch: loopbackFetch });
  const verified = await verifier.verifyJob(token, {
    audience: afk.url,
    runnerRepo: FULL,
    workflowPath: RUNNER_WORKFLOW_PATH,
    workflowRef: "refs/heads/main",
    runId,
  });
  return verified.ok ? undefined : verified.reason;
}

/** Whether a process runs (a zombie waiting for its parent to reap it does not). */
function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}

/** The runner machine's own environment: a home of its own (afk job's cache goes to RUNNER_TEMP). */
function machine(): { env: Record<string, string>; workDir: string } {
  const home = mkdtempSync(join(root, "machine-"));
  return { env: { HOME: home }, workDir: join(home, "runner") };
}

describe("the workflow afk ships, run as GitHub Actions runs it", () => {
  it(
    "sets up Node at the pinned commit, skips the hosted-runner step, passes afk doctor --job, and afk job does the run's work for a loopback afk that verifies its OIDC token",
    async () => {
      const emulator = current();
      const octokit = await runnerRepository(emulator);
      const model = await ModelServer.start([
        toolTurn("str_replace_based_edit_tool", {
          command: "create",
          path: "test/sub.test.js",
          file_text: 'import { test } from "node:test";\nimport assert from "node:assert/strict";\ntest("sub", () => assert.equal(5 - 3, 2));\n',
        }),
        endTurn("Added a test of subtraction."),
      ]);
      let workflowRunId: number | undefined;
      const afk = await AfkJobEndpoints.start({
        start: async (start, bearer) => {
          const refused = await verifiedStart(emulator, afk, bearer, () => workflowRunId);
          if (refused !== undefined) return { status: 403, body: { error: refused } };
          return { status: 200, body: specFor(afk, model.url, parseRunReference(start.run)?.runId ?? "") };
        },
      });
      const runner = playRunner(emulator, { AFK_URL: afk.url }, machine());
      try {
        workflowRunId = await dispatch(octokit, "octo-org/app#3:r-runner-1");
        await waitFor(() => runner.jobs.length === 1);
        const job = await runner.jobs[0];
        if (job === undefined) throw new Error("the runner ran no job");
        const summary = job.steps.map(({ name, ran, conclusion, exitCode }) => ({ name, ran, conclusion, exitCode }));
        expect(summary).toEqual([
          { name: "Set up Node.js 20", ran: true, conclusion: "success", exitCode: 0 },
          { name: "Allow unprivileged user namespaces (GitHub-hosted Linux runners)", ran: false, conclusion: "skipped", exitCode: null },
          { name: "Install bubblewrap and git", ran: true, conclusion: "success", exitCode: 0 },
          { name: "Check the runner (afk doctor --job)", ran: true, conclusion: "success", exitCode: 0 },
          { name: "Run the agent (afk job)", ran: true, conclusion: "success", exitCode: 0 },
        ]);
        expect(job.steps[0]?.action).toEqual({ repository: SETUP_NODE.repository, ref: SETUP_NODE.commit, with: { "node-version": "20" } });
        expect(job.steps[1]?.skippedBecause).toBe("its if: runner.os == 'Linux' && runner.environment == 'github-hosted' is false on this runner");
        expect(job).toMatchObject({ job: "agent", runName: "afk run octo-org/app#3:r-runner-1", runsOn: "ubuntu-24.04", conclusion: "success" });
        expect(job.env).toEqual({ AFK_URL: afk.url, AFK_RUN: "octo-org/app#3:r-runner-1" });
        expect(job.steps[3]?.output).toContain("✓ OIDC token: Actions can give this job an OIDC token for afk");
        expect(job.steps[4]?.output).toContain("afk: afk took the result");

        expect(afk.violations).toEqual([]);
        expect(afk.sequence[0]).toBe("start");
        expect(afk.sequence.at(-1)).toBe("result");
        const result = afk.requests.find((request) => request.kind === "result")?.body;
        expect(result).toMatchObject({ runId: "r-runner-1", outcome: { kind: "implemented", result: { kind: "passed" } } });
        expect(result?.bundle).toBeDefined();
        expect(emulator.workflowRuns(FULL).find((run) => run.id === workflowRunId)).toMatchObject({ status: "completed", conclusion: "success" });
        // The job's log holds none of its tokens.
        const request = emulator.idTokenRequest(FULL, workflowRunId);
        const log = job.steps.map((step) => step.output).join("\n");
        for (const secret of [READ_TOKEN, JOB_CREDENTIAL, request.token]) expect(log).not.toContain(secret);
      } finally {
        runner.stop();
        await afk.close();
        await model.close();
      }
    },
    WORKFLOW_MS,
  );

  it("without id-token: write the job gets no OIDC token request: afk doctor --job fails, and afk job never runs", async () => {
    const emulator = current();
    const withoutIdToken = WORKFLOW.replace("  id-token: write\n", "");
    expect(withoutIdToken).not.toBe(WORKFLOW);
    const octokit = await runnerRepository(emulator, withoutIdToken);
    const afk = await AfkJobEndpoints.start({ start: () => ({ status: 500, body: { error: "never asked" } }) });
    const runner = playRunner(emulator, { AFK_URL: afk.url }, machine());
    try {
      const runId = await dispatch(octokit, "octo-org/app#3:r-runner-2");
      await waitFor(() => runner.jobs.length === 1);
      const job = await runner.jobs[0];
      expect(job?.conclusion).toBe("failure");
      expect(job?.steps.slice(3).map(({ name, conclusion, exitCode, skippedBecause }) => ({ name, conclusion, exitCode, skippedBecause }))).toEqual([
        { name: "Check the runner (afk doctor --job)", conclusion: "failure", exitCode: 1, skippedBecause: undefined },
        { name: "Run the agent (afk job)", conclusion: "skipped", exitCode: null, skippedBecause: "step Check the runner (afk doctor --job) failed" },
      ]);
      expect(job?.steps[3]?.output).toContain("✗ OIDC token");
      expect(afk.requests).toEqual([]);
      expect(emulator.workflowRuns(FULL).find((run) => run.id === runId)).toMatchObject({ status: "completed", conclusion: "failure" });
    } finally {
      runner.stop();
      await afk.close();
    }
  }, 60_000);

  it("a workflow run cancelled mid-job (as afk cancels it) interrupts afk job: it stops on Actions' SIGINT without a result", async () => {
    const emulator = current();
    const octokit = await runnerRepository(emulator);
    let workflowRunId = 0;
    let release = (): void => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    const afk = await AfkJobEndpoints.start({
      // afk cancels the workflow run while the job waits for its spec, and never answers.
      start: async () => {
        await octokit.rest.actions.cancelWorkflowRun({ owner: OWNER, repo: REPO, run_id: workflowRunId });
        await held;
        return { status: 503, body: { error: "too late" } };
      },
    });
    const runner = playRunner(emulator, { AFK_URL: afk.url }, machine());
    try {
      const started = Date.now();
      workflowRunId = await dispatch(octokit, "octo-org/app#3:r-runner-3");
      await waitFor(() => runner.jobs.length === 1);
      const job = await runner.jobs[0];
      expect(job?.conclusion).toBe("cancelled");
      const last = job?.steps.at(-1);
      expect(last).toMatchObject({ name: "Run the agent (afk job)", ran: true, conclusion: "cancelled" });
      // afk job heard Actions' SIGINT and ended on its own, well inside the 7.5 s before SIGTERM.
      expect(last?.exitCode).toBe(1);
      expect(last?.output).toContain("afk job: afk did not answer the start after 1 tries (cancelled); giving up");
      expect(Date.now() - started).toBeLessThan(30_000);
      expect(afk.sequence).toEqual(["start"]);
      expect(emulator.workflowRuns(FULL).find((run) => run.id === workflowRunId)).toMatchObject({ status: "completed", conclusion: "cancelled" });
    } finally {
      release();
      runner.stop();
      await afk.close();
    }
  }, 60_000);

  it("cancelling kills the running step's whole process group, escalating to SIGKILL for what ignores SIGINT and SIGTERM, and skips the steps after it", async () => {
    const stubborn = [
      "name: stubborn",
      "on: workflow_dispatch",
      "permissions:",
      "  contents: read",
      "jobs:",
      "  work:",
      "    runs-on: self-hosted",
      "    steps:",
      "      - name: Ignore the polite signals",
      "        run: |",
      "          trap '' INT TERM",
      "          sleep 300 &",
      '          echo $! > "$RUNNER_TEMP/child.pid"',
      "          wait",
      "      - name: After",
      "        run: echo never",
      "",
    ].join("\n");
    const where = machine();
    const controller = new AbortController();
    const pidFile = join(where.workDir, "_temp", "child.pid");
    const job = runWorkflowJob(
      {
        workflow: stubborn,
        repository: FULL,
        runId: 1,
        workflowRef: `${FULL}/.github/workflows/stubborn.yml@refs/heads/main`,
        inputs: {},
        vars: {},
        idTokenRequest: { url: "http://127.0.0.1:9/token", token: "t" },
        signal: controller.signal,
      },
      { ...where, cancelGraceMs: { interrupt: 300, terminate: 300 } },
    );
    await waitFor(() => existsSync(pidFile) && readFileSync(pidFile, "utf8").trim() !== "", "the step's child");
    const child = Number(readFileSync(pidFile, "utf8").trim());
    expect(alive(child)).toBe(true);
    controller.abort();
    const ran = await job;
    expect(ran.conclusion).toBe("cancelled");
    expect(ran.steps.map(({ name, conclusion, signal, skippedBecause }) => ({ name, conclusion, signal, skippedBecause }))).toEqual([
      { name: "Ignore the polite signals", conclusion: "cancelled", signal: "SIGKILL", skippedBecause: undefined },
      { name: "After", conclusion: "skipped", signal: undefined, skippedBecause: "the run was cancelled" },
    ]);
    await waitFor(() => !alive(child), "the step's child to be gone");
  });

  it("refuses what it does not know rather than guess: a function in if:, a secret in env:, an expression in a script, an unpinned action, another afk", async () => {
    const input = (workflow: string): WorkflowJobInput => ({
      workflow,
      repository: FULL,
      runId: 1,
      workflowRef: `${FULL}/${RUNNER_WORKFLOW_PATH}@refs/heads/main`,
      inputs: { [RUN_INPUT]: "octo-org/app#3:r-1" },
      vars: {},
      idTokenRequest: { url: "http://127.0.0.1:9/token", token: "t" },
    });
    const cases: Array<[string, string, RegExp]> = [
      [
        "a status function",
        WORKFLOW.replace("if: runner.os == 'Linux'", "if: always() && runner.os == 'Linux'"),
        /the function always\(\) is not one it knows/,
      ],
      ["a secret", WORKFLOW.replace("${{ vars.AFK_URL }}", "${{ secrets.AFK_URL }}"), /does not know the context "secrets"/],
      ["a comparison in a value", WORKFLOW.replace("${{ vars.AFK_URL }}", "${{ vars.AFK_URL == 'x' }}"), /takes only vars\.X, inputs\.X and 'default'/],
      [
        "an expression in a script",
        WORKFLOW.replace(`afk-agent@${AFK_VERSION} doctor --job`, `afk-agent@${AFK_VERSION} doctor --job \${{ inputs.afk_run }}`),
        /puts an expression inside its script/,
      ],
      ["a moved tag", WORKFLOW.replace(`@${SETUP_NODE.commit}`, `@${SETUP_NODE.version}`), /is pinned to v6\.5\.0, not the commit afk ships/],
      ["another afk", WORKFLOW.replaceAll(`afk-agent@${AFK_VERSION}`, "afk-agent@9.9.9"), /runs afk-agent@9\.9\.9, but this afk is/],
      [
        "a key it does not know",
        WORKFLOW.replace("    timeout-minutes:", "    continue-on-error: true\n    timeout-minutes:"),
        /does not know job agent's continue-on-error/,
      ],
    ];
    for (const [, workflow, error] of cases) {
      expect(workflow).not.toBe(WORKFLOW);
      await expect(runWorkflowJob(input(workflow), machine())).rejects.toThrow(error);
    }
    // The expressions themselves, as GitHub reads them: strings compare ignoring case, || gives the first value that is set.
    expect(condition("${{ runner.os == 'linux' }}", { runner: { os: "Linux" } })).toBe(true);
    expect(condition("!(runner.os != 'Linux')", { runner: { os: "Linux" } })).toBe(true);
    expect(interpolate("${{ vars.AFK_RUNS_ON || 'ubuntu-24.04' }}", { vars: {} })).toBe("ubuntu-24.04");
    expect(interpolate("${{ vars.AFK_RUNS_ON || 'ubuntu-24.04' }}", { vars: { AFK_RUNS_ON: "gpu" } })).toBe("gpu");
    expect(() => interpolate("${{ inputs.other }}", { inputs: { afk_run: "x" } })).toThrow(/does not know inputs\.other/);
  });
});
