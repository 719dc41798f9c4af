// afk's Actions executor through the App, on Probot's own HTTP server (ADR 0008): a label dispatches
// afk's workflow in the runner repository; the job proves itself with its OIDC token, gets its spec,
// runs the agent in its sandbox, heartbeats, and hands back a bundle that afk checks, pushes and opens
// a pull request for. Then the attacker's variants against the same endpoints.
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { requestIdToken } from "../../src/actions/id-token-request.js";
import { RUN_INPUT, RUNNER_WORKFLOW_PATH, runnerWorkflow } from "../../src/actions/runner-workflow.js";
import { runJobSpec } from "../../src/executor/run-job-spec.js";
import { JOB_PATHS, jobSpecSchema, type JobResult, type JobSpec } from "../../src/run-contract/job-protocol.js";
import { testPrivateKey } from "../helpers/afk-harness.js";
import { AFK_VERSION } from "../helpers/afk-cli.js";
import { freePort } from "../helpers/app-process.js";
import type { WorkflowDispatch } from "../helpers/emulator/index.js";
import { loopbackFetch } from "../helpers/emulator/loopback-fetch.js";
import { DEFAULT_PERMISSIONS } from "../helpers/emulator/store.js";
import { endTurn, toolTurn, type GitScenario } from "../helpers/git-scenario.js";
import { ciFinishes, editTurns, pullOf } from "../helpers/lifecycle-events.js";
import type { ScriptedTurn } from "../helpers/model-server.js";
import { playRunner } from "../helpers/actions-runner.js";
import { expectNothingLive, HOSTILE_TEXT, liveMentions } from "../helpers/live-text.js";
import { runStateOf } from "../helpers/run-state-of.js";
import { FULL_NAME, INSTALLATION_ID, OWNER, scenarioOn, scenarioWorld, type Scenario } from "../helpers/scenario.js";
import type { ServedAfk } from "../helpers/served-afk.js";
import { waitFor } from "../helpers/wait-for.js";
import { buildWorld, type World } from "../helpers/world/build-world.js";
import { closeWorldsAfterEach } from "../helpers/world/use-world.js";

const RUNNER = `${OWNER}/afk-runner`;
const keep = closeWorldsAfterEach();

interface ActionsWorld {
  world: World;
  scenario: Scenario;
  served: ServedAfk;
  afkUrl: string;
  /** The workflow runs afk dispatched, as the runner sees them. */
  dispatches: WorkflowDispatch[];
}

/** The fixture project with a scripted model, afk served over HTTP with AFK_EXECUTOR=actions, and the runner repository with afk's workflow. */
async function actionsWorld(script: ScriptedTurn[], config?: string, options: { now?: () => Date } = {}): Promise<ActionsWorld> {
  const port = await freePort();
  const afkUrl = `http://127.0.0.1:${port}`;
  const world = keep(await buildWorld(scenarioWorld({ git: true, model: script, ...(config === undefined ? {} : { config }) })));
  world.github.addRepo({ owner: OWNER, name: "afk-runner", installationId: INSTALLATION_ID, files: { [RUNNER_WORKFLOW_PATH]: runnerWorkflow(AFK_VERSION) } });
  world.github.setInstallationPermissions(INSTALLATION_ID, { ...DEFAULT_PERMISSIONS, actions: "write" });
  const dispatches: WorkflowDispatch[] = [];
  world.github.onWorkflowDispatch((dispatch) => void dispatches.push(dispatch));
  const served = await world.serveAfk({
    port,
    fetch: loopbackFetch,
    ...(options.now === undefined ? {} : { now: options.now }),
    env: {
      AFK_EXECUTOR: "actions",
      AFK_RUNNER_REPO: RUNNER,
      AFK_PUBLIC_URL: afkUrl,
      AFK_OIDC_ISSUER: world.github.oidc.issuer,
      PRIVATE_KEY: testPrivateKey(),
    },
  });
  return { world, scenario: scenarioOn(world, served), served, afkUrl, dispatches };
}

/** A POST to afk's job endpoint as the job makes it. */
async function post(url: string, bearer: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await loopbackFetch(url, {
    method: "POST",
    headers: { authorization: `Bearer ${bearer}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** The job's OIDC token for a workflow run, with afk's audience, as `afk job` asks Actions for it. */
function oidcToken(world: World, dispatch: WorkflowDispatch, audience: string): Promise<string> {
  const request = world.github.idTokenRequest(dispatch.repository, dispatch.run.id);
  return requestIdToken({ ACTIONS_ID_TOKEN_REQUEST_URL: request.url, ACTIONS_ID_TOKEN_REQUEST_TOKEN: request.token }, audience, loopbackFetch);
}

async function startJob(actions: ActionsWorld, dispatch: WorkflowDispatch): Promise<JobSpec> {
  const token = await oidcToken(actions.world, dispatch, actions.afkUrl);
  const started = await post(`${actions.afkUrl}${JOB_PATHS.start}`, token, { v: 1, run: dispatch.run.inputs[RUN_INPUT] });
  expect(started.status, JSON.stringify(started.body)).toBe(200);
  return jobSpecSchema.parse(started.body);
}

/** The runner's work for a spec: the same code `afk job` runs. */
function work(world: World, spec: JobSpec): Promise<JobResult> {
  return runJobSpec(spec, {
    cacheDir: join(world.root, "runner-cache"),
    allowUnsandboxed: false,
    allowHostNetwork: false,
    modelRetries: 0,
    signal: AbortSignal.timeout(120_000),
  });
}

function show(remote: string, spec: string): string {
  return execFileSync("git", ["--git-dir", remote, "show", spec], { encoding: "utf8" });
}

const MULTIPLY = toolTurn("str_replace_based_edit_tool", {
  command: "str_replace",
  path: "src/math.js",
  old_str: "export function add",
  new_str: "export function multiply(a, b) {\n  return a * b;\n}\n\nexport function add",
});

/** The runner machine: a HOME of its own and its work directory, under the world's root. */
function runnerMachine(world: World): { env: Record<string, string>; workDir: string } {
  const home = join(world.root, `runner-${Math.random().toString(36).slice(2)}`);
  return { env: { HOME: home, AFK_CACHE_DIR: join(home, "cache") }, workDir: join(home, "work") };
}

const WORKFLOW_MS = 120_000;

describe("the workflow afk ships, run by a runner against the App", () => {
  it(
    "label → afk dispatches → the runner runs doctor and afk job → afk checks, pushes and opens the pull request; the workflow run succeeds",
    async () => {
      const actions = await actionsWorld([MULTIPLY, endTurn("Added multiply.", { input_tokens: 1000, output_tokens: 100 })]);
      const { world, scenario, afkUrl } = actions;
      const runner = playRunner(world.github, { AFK_URL: afkUrl }, runnerMachine(world));
      try {
        const issue = scenario.issue({ title: "Add a multiply function", body: "We need multiply(a, b)." });
        await scenario.label(issue, "wes-write");
        await waitFor(() => runner.jobs.length === 1, "the runner to take the job", WORKFLOW_MS);
        const job = await runner.jobs[0];
        if (job === undefined) throw new Error("the runner ran no job");
        expect(job.conclusion, job.steps.map((step) => `${step.name}: ${step.output}`).join("\n")).toBe("success");
        expect(job.steps.map((step) => [step.name, step.conclusion])).toEqual([
          ["Set up Node.js 20", "success"],
          ["Allow unprivileged user namespaces (GitHub-hosted Linux runners)", "skipped"],
          ["Install bubblewrap and git", "success"],
          ["Check the runner (afk doctor --job)", "success"],
          ["Run the agent (afk job)", "success"],
        ]);
        // afk answers the job's result once the run has settled; the job ends after that answer.
        expect(runStateOf(scenario, issue)?.status).toBe("waiting");
        expect(runStateOf(scenario, issue)).toMatchObject({ spend: { turns: 2 }, pullRequest: { number: expect.any(Number) as number } });
        const branch = `afk/${issue}-add-a-multiply-function`;
        expect(show(world.repo(FULL_NAME).remote ?? "", `${branch}:src/math.js`)).toContain("export function multiply(a, b)");
        const [run] = world.github.workflowRuns(RUNNER);
        expect(run).toMatchObject({ status: "completed", conclusion: "success" });
        // The Actions log holds nothing secret: not afk's key, nor any token the job held.
        const log = job.steps.map((step) => step.output).join("\n");
        expect(log).not.toContain(world.appEnv.ANTHROPIC_API_KEY);
        for (const issued of world.github.tokens) expect(log).not.toContain(issued.token);
        world.assertClean();
      } finally {
        runner.stop();
      }
    },
    WORKFLOW_MS,
  );

  it(
    "red CI on afk's pull request: afk dispatches a fix-ci job from its branch's head, and pushes the fix on the same pull request",
    async () => {
      const actions = await actionsWorld([...editTurns("// first try", "Added a comment."), ...editTurns("// fixed", "Fixed the comment.")]);
      const { world, scenario, afkUrl } = actions;
      const gitScenario: GitScenario = { ...scenario, model: world.model, git: world.git, remote: world.repo(FULL_NAME).remote ?? "", root: world.root };
      const runner = playRunner(world.github, { AFK_URL: afkUrl }, runnerMachine(world));
      try {
        const issue = scenario.issue({ title: "Annotate math", body: "Add a comment to src/math.js." });
        await scenario.label(issue, "wes-write");
        await waitFor(() => runner.jobs.length === 1, "the runner to take the first job", WORKFLOW_MS);
        expect((await runner.jobs[0])?.conclusion).toBe("success");
        expect(runStateOf(scenario, issue)?.status).toBe("waiting");
        const first = pullOf(gitScenario);
        await ciFinishes(gitScenario, "failure", { log: "not ok 1 - annotates" });
        await waitFor(() => runner.jobs.length === 2, "afk to dispatch the fix", WORKFLOW_MS);
        expect((await runner.jobs[1])?.conclusion).toBe("success");
        expect(actions.dispatches[1]?.run.inputs[RUN_INPUT]).toMatch(new RegExp(`^${FULL_NAME}#${issue}:`));
        expect(runStateOf(scenario, issue)).toMatchObject({ status: "waiting", job: "fix-ci" });
        const fixed = pullOf(gitScenario);
        expect(fixed.number).toBe(first.number);
        expect(show(gitScenario.remote, `${fixed.head}:src/math.js`)).toContain("// fixed");
        // The fix job worked from the branch's head (the first try is still there).
        expect(show(gitScenario.remote, `${fixed.head}:src/math.js`)).toContain("// first try");
        world.assertClean();
      } finally {
        runner.stop();
      }
    },
    WORKFLOW_MS,
  );

  it(
    "/afk stop mid-job: afk cancels the workflow run, the runner interrupts afk job, nothing is pushed",
    async () => {
      let release: () => void = () => undefined;
      const held = new Promise<void>((resolve) => {
        release = resolve;
      });
      let asked: () => void = () => undefined;
      const modelAsked = new Promise<void>((resolve) => {
        asked = resolve;
      });
      const actions = await actionsWorld([
        {
          kind: "message",
          content: [{ type: "text", text: "thinking" }],
          stop_reason: "end_turn",
          meanwhile: () => asked(),
          hold: { at: "content", until: held },
        },
      ]);
      const { world, scenario, afkUrl } = actions;
      const runner = playRunner(world.github, { AFK_URL: afkUrl }, { ...runnerMachine(world), cancelGraceMs: { interrupt: 2_000, terminate: 1_000 } });
      try {
        const issue = scenario.issue({ title: "Something long" });
        await scenario.label(issue, "wes-write");
        await modelAsked;
        await scenario.comment(issue, "wes-write", "/afk stop");
        expect(runStateOf(scenario, issue)?.status).toBe("stopped");
        const job = await runner.jobs[0];
        release();
        expect(job?.conclusion).toBe("cancelled");
        expect(world.github.workflowRuns(RUNNER)[0]).toMatchObject({ status: "completed", conclusion: "cancelled" });
        expect(world.git.pushes.filter((push) => push.updates.length > 0)).toHaveLength(0);
        expect(runStateOf(scenario, issue)?.status).toBe("stopped");
      } finally {
        release();
        runner.stop();
      }
    },
    WORKFLOW_MS,
  );
});

describe("the Actions executor, through the App", () => {
  it(
    "label → dispatch → the job's spec → agent and gate on the runner → bundle → afk pushes and opens the pull request",
    async () => {
      const actions = await actionsWorld([MULTIPLY, endTurn("Added multiply.", { input_tokens: 1000, output_tokens: 100 })]);
      const { world, scenario, afkUrl } = actions;
      const issue = scenario.issue({ title: "Add a multiply function", body: "We need multiply(a, b)." });
      await scenario.label(issue, "wes-write");
      await waitFor(() => actions.dispatches.length === 1, "afk to dispatch the job");
      const [dispatch] = actions.dispatches;
      if (dispatch === undefined) throw new Error("no dispatch");
      const state = runStateOf(scenario, issue);
      // One input, naming the run; the run is running with the workflow run recorded, and nothing ran on afk's host.
      expect(dispatch.repository).toBe(RUNNER);
      expect(dispatch.run.inputs).toEqual({ [RUN_INPUT]: `${FULL_NAME}#${issue}:${state?.runId}` });
      expect(state).toMatchObject({ status: "running", remote: { runnerRepo: RUNNER, workflowRunId: dispatch.run.id } });
      expect(world.model.requests).toHaveLength(0);
      // The issue links the workflow run the agent runs in.
      expect(scenario.afkComments(issue).join("\n")).toContain(`(https://github.com/${RUNNER}/actions/runs/${dispatch.run.id})`);

      const spec = await startJob(actions, dispatch);
      expect(spec).toMatchObject({
        runId: state?.runId,
        repository: { fullName: FULL_NAME },
        baseSha: state?.remote?.baseSha,
        modelBaseUrl: `${afkUrl}/afk/jobs/model`,
      });
      // The read token reads the one repository and can write nothing.
      const token = world.github.tokens.find((issued) => issued.token === spec.readToken);
      expect(token).toMatchObject({ repositories: ["app"], permissions: { metadata: "read", contents: "read" } });
      expect(JSON.stringify(spec)).not.toContain(world.appEnv.ANTHROPIC_API_KEY);

      const beat = await post(`${afkUrl}${JOB_PATHS.heartbeat}`, spec.jobCredential, { v: 1, phase: "agent" });
      expect(beat).toEqual({ status: 200, body: { kind: "continue" } });
      const result = await work(world, spec);
      expect(result.outcome, JSON.stringify(result.outcome)).toMatchObject({ kind: "implemented", result: { kind: "passed" } });
      // The model was reached through afk's proxy with afk's key; the job's credential never went further.
      expect(world.model.requests.map((request) => request.headers["x-api-key"])).toEqual([world.appEnv.ANTHROPIC_API_KEY, world.appEnv.ANTHROPIC_API_KEY]);
      expect(JSON.stringify(world.model.requests.map((request) => request.headers))).not.toContain(spec.jobCredential);

      const answered = await post(`${afkUrl}${JOB_PATHS.result}`, spec.jobCredential, result);
      expect(answered.status, JSON.stringify(answered.body)).toBe(200);
      await scenario.afk.idle();
      const settled = runStateOf(scenario, issue);
      expect(settled).toMatchObject({ status: "waiting", pullRequest: { number: expect.any(Number) as number } });
      expect(settled?.remote).toBeUndefined();
      // afk counted the spend at its proxy: 2 turns; the run's end is logged as a local run's is.
      expect(settled?.spend?.turns).toBe(2);
      expect(actions.served.logs.find((line) => line.msg === "afk run ended")).toMatchObject({
        event: "run-end",
        outcome: "waiting",
        turns: 2,
        runId: settled?.runId,
      });
      const branch = `afk/${issue}-add-a-multiply-function`;
      const remote = world.repo(FULL_NAME).remote ?? "";
      expect(show(remote, `${branch}:src/math.js`)).toContain("export function multiply(a, b)");
      // Only afk pushed, with its own write token.
      const pushes = world.git.pushes.filter((push) => push.updates.length > 0);
      expect(pushes).toHaveLength(1);
      expect(world.github.tokens.find((issued) => issued.token === pushes[0]?.token)?.permissions).toEqual({ metadata: "read", contents: "write" });
      // A second result for the run (a replay, or the job retrying) is refused: the run has ended.
      expect((await post(`${afkUrl}${JOB_PATHS.result}`, spec.jobCredential, result)).status).toBe(409);
      expect(await post(`${afkUrl}${JOB_PATHS.heartbeat}`, spec.jobCredential, { v: 1, phase: "gate" })).toEqual({
        status: 200,
        body: { kind: "stop", reason: "the run has ended" },
      });
      world.assertClean();
    },
    WORKFLOW_MS,
  );
});

/** A label on a fresh issue, and the dispatch it leads to. */
async function dispatchedRun(actions: ActionsWorld, title = "Add a multiply function"): Promise<{ issue: number; dispatch: WorkflowDispatch }> {
  const issue = actions.scenario.issue({ title, body: "We need multiply(a, b)." });
  const before = actions.dispatches.length;
  await actions.scenario.label(issue, "wes-write");
  await waitFor(() => actions.dispatches.length > before, "afk to dispatch the job");
  const dispatch = actions.dispatches[before];
  if (dispatch === undefined) throw new Error("no dispatch");
  return { issue, dispatch };
}

/** A bundle of one commit on `base` that a hostile runner made: `change` edits a clone of the repository. */
function hostileBundle(world: World, base: string, change: (dir: string) => void): string {
  const dir = join(world.root, `hostile-${Math.random().toString(36).slice(2)}`);
  const remote = world.repo(FULL_NAME).remote ?? "";
  const git = (...args: string[]) => execFileSync("git", ["-C", dir, "-c", "user.name=x", "-c", "user.email=x@x", ...args], { encoding: "utf8" });
  execFileSync("git", ["clone", "--quiet", remote, dir]);
  git("checkout", "--quiet", base);
  change(dir);
  git("commit", "--quiet", "-am", "hostile", "--allow-empty");
  git("bundle", "create", "--quiet", join(dir, "change.bundle"), "HEAD", `^${base}`);
  return execFileSync("base64", ["-w0", join(dir, "change.bundle")], { encoding: "utf8" });
}

function passedResult(runId: string, bundle: string): JobResult {
  return {
    v: 1,
    runId,
    outcome: {
      kind: "implemented",
      result: { kind: "passed", summary: "Done.", gate: { command: "node --test", exitCode: 0, output: "ok", rounds: 1, durationMs: 10 } },
      transcriptTail: "",
    },
    bundle,
  };
}

describe("the job endpoints, attacked", () => {
  it("refuse a forged, replayed, misdirected or foreign token before serving anything, and cost afk no GitHub request for one not of its runner workflow", async () => {
    const actions = await actionsWorld([]);
    const { world, afkUrl } = actions;
    const { dispatch } = await dispatchedRun(actions);
    const start = (token: string, run = dispatch.run.inputs[RUN_INPUT]) => post(`${afkUrl}${JOB_PATHS.start}`, token, { v: 1, run });
    const claims = world.github.oidc.claimsFor(RUNNER, dispatch.run.id, afkUrl);

    // Signed by a key the issuer does not publish; the issuer's own tokens for another audience, for a
    // repository copying afk's workflow, or expired: each refused before afk asks GitHub anything.
    const requestsBefore = world.github.requests.length;
    expect(await start(world.github.oidc.mint(claims, { key: "foreign" }))).toMatchObject({
      status: 401,
      body: { error: expect.stringMatching(/signature/) as string },
    });
    expect(await start("not.a.token")).toMatchObject({ status: 401 });
    const otherAudience = await oidcToken(world, dispatch, "https://other.example.com");
    expect((await start(otherAudience)).status).toBe(401);
    expect((await start(world.github.oidc.mint({ ...claims, repository: `${OWNER}/copycat`, jti: "copy" }))).body).toMatchObject({
      error: expect.stringMatching(/repository/) as string,
    });
    expect((await start(world.github.oidc.mint({ ...claims, exp: Math.floor(Date.now() / 1000) - 3600, jti: "old" }))).status).toBe(401);
    // (Asking the emulator's Actions for the token above is a request of the job's, not afk's.)
    expect(world.github.requests.slice(requestsBefore).filter((request) => request.auth !== "none")).toEqual([]);
    // Another workflow run of the runner repository: afk looks the run up, then refuses.
    expect((await start(world.github.oidc.mint({ ...claims, run_id: String(dispatch.run.id + 1000), jti: "other-run" }))).body).toMatchObject({
      error: expect.stringMatching(/workflow run/) as string,
    });
    // The real token, presented for another run of the same repository: the run is not waiting for it.
    const token = await oidcToken(world, dispatch, afkUrl);
    expect((await start(token, `${FULL_NAME}#999:r-someone-else`)).status).toBe(409);
    // The real token works once; the same token again (replayed from a log, say) is refused.
    expect((await start(token)).status).toBe(200);
    expect(await start(token)).toMatchObject({ status: 401, body: { error: expect.stringMatching(/already used/) as string } });
    // No Bearer, or a malformed body.
    expect((await loopbackFetch(`${afkUrl}${JOB_PATHS.start}`, { method: "POST", body: "{}" })).status).toBe(401);
    expect((await post(`${afkUrl}${JOB_PATHS.start}`, token, { v: 1, run: "../../etc/passwd" })).status).toBe(400);
    world.assertClean();
  });

  it("refuse a forged credential, a result for another run, and a result once the run has ended", async () => {
    const actions = await actionsWorld([]);
    const { world, afkUrl, scenario } = actions;
    const first = await dispatchedRun(actions);
    const spec = await startJob(actions, first.dispatch);
    const forged = `${spec.jobCredential.slice(0, -4)}AAAA`;
    expect((await post(`${afkUrl}${JOB_PATHS.heartbeat}`, forged, { v: 1, phase: "agent" })).status).toBe(401);
    expect((await post(`${afkUrl}${JOB_PATHS.result}`, forged, passedResult(spec.runId, ""))).status).toBe(401);
    // This job's credential with a result naming another run.
    expect((await post(`${afkUrl}${JOB_PATHS.result}`, spec.jobCredential, passedResult("r-another-run", ""))).status).toBe(403);
    // A body over what afk reads is refused, whether its length is declared or streamed.
    expect((await post(`${afkUrl}${JOB_PATHS.heartbeat}`, spec.jobCredential, { v: 1, phase: "agent", pad: "x".repeat(20_000) })).status).toBe(413);
    const streamed = await loopbackFetch(`${afkUrl}${JOB_PATHS.heartbeat}`, {
      method: "POST",
      headers: { authorization: `Bearer ${spec.jobCredential}`, "content-type": "application/json", "transfer-encoding": "chunked" },
      body: JSON.stringify({ v: 1, phase: "agent", pad: "x".repeat(20_000) }),
    });
    expect(streamed.status).toBe(413);
    // A stop ends the run at once: the workflow run is cancelled, the job is told to stop, and its late result is refused.
    await scenario.comment(first.issue, "wes-write", "/afk stop");
    expect(runStateOf(scenario, first.issue)?.status).toBe("stopped");
    expect(first.dispatch.signal.aborted).toBe(true);
    expect(await post(`${afkUrl}${JOB_PATHS.heartbeat}`, spec.jobCredential, { v: 1, phase: "agent" })).toEqual({
      status: 200,
      body: { kind: "stop", reason: "the run has ended" },
    });
    expect((await post(`${afkUrl}${JOB_PATHS.result}`, spec.jobCredential, passedResult(spec.runId, ""))).status).toBe(409);
    expect(world.git.pushes.filter((push) => push.updates.length > 0)).toHaveLength(0);
    world.assertClean();
  });

  it(
    "refuse a bundle that changes a workflow or adds a gitlink: nothing is pushed, the issue goes to a person",
    async () => {
      const actions = await actionsWorld([]);
      const { world, afkUrl, scenario } = actions;
      for (const [title, change] of [
        [
          "Workflow",
          (dir: string) =>
            execFileSync("sh", ["-c", "mkdir -p .github/workflows && echo 'on: push' > .github/workflows/steal.yml && git add .github"], { cwd: dir }),
        ],
        ["Gitlink", (dir: string) => execFileSync("git", ["update-index", "--add", "--cacheinfo", `160000,${"a".repeat(40)},vendor/evil`], { cwd: dir })],
      ] as const) {
        const { issue, dispatch } = await dispatchedRun(actions, title);
        const spec = await startJob(actions, dispatch);
        const answered = await post(`${afkUrl}${JOB_PATHS.result}`, spec.jobCredential, passedResult(spec.runId, hostileBundle(world, spec.baseSha, change)));
        expect(answered.status, JSON.stringify(answered.body)).toBe(200);
        await scenario.afk.idle();
        expect(runStateOf(scenario, issue), title).toMatchObject({ status: "escalated" });
      }
      expect(world.git.pushes.filter((push) => push.updates.length > 0)).toHaveLength(0);
      world.assertClean();
    },
    WORKFLOW_MS,
  );

  it(
    "publish a hostile runner's summary, test output and transcript only inert, and push its change only as afk's own commit",
    async () => {
      const actions = await actionsWorld([]);
      const { world, afkUrl, scenario } = actions;
      const { issue, dispatch } = await dispatchedRun(actions);
      const spec = await startJob(actions, dispatch);
      const bundle = hostileBundle(world, spec.baseSha, (dir) => execFileSync("sh", ["-c", "echo 'export const two = 2;' >> src/math.js"], { cwd: dir }));
      const hostile: JobResult = {
        v: 1,
        runId: spec.runId,
        outcome: {
          kind: "implemented",
          result: {
            kind: "passed",
            summary: `Done. ${HOSTILE_TEXT}`,
            gate: { command: "node --test", exitCode: 0, output: HOSTILE_TEXT, rounds: 1, durationMs: 5 },
          },
          transcriptTail: HOSTILE_TEXT,
        },
        bundle,
      };
      expect((await post(`${afkUrl}${JOB_PATHS.result}`, spec.jobCredential, hostile)).status).toBe(200);
      await scenario.afk.idle();
      const [pull] = world.github.pulls(FULL_NAME);
      expect(pull?.body.replace(/\u200B/g, "")).toContain("@someone and @octo-org/admins please look.");
      expectNothingLive(world.github, { mentions: ["@wes-write"], closes: [`Closes #${issue}`] });
      // The commit on the branch is afk's, not the runner's (whose author and message never reach GitHub).
      const log = execFileSync("git", ["--git-dir", world.repo(FULL_NAME).remote ?? "", "log", "-1", "--format=%an%n%B", pull?.head ?? ""], {
        encoding: "utf8",
      });
      expect(log).not.toContain("hostile");
      expect(liveMentions(log)).toEqual([]);
      world.assertClean();
    },
    WORKFLOW_MS,
  );

  it(
    "cuts the job off at the proxy when the run's turns are spent",
    async () => {
      const actions = await actionsWorld(
        [toolTurn("bash", { command: "true" }), toolTurn("bash", { command: "true" }), endTurn("never reached")],
        "test: node --test\nbudget:\n  max_turns: 2\n",
      );
      const { world, afkUrl } = actions;
      const { dispatch } = await dispatchedRun(actions);
      const spec = await startJob(actions, dispatch);
      // A hostile runner ignores the budget in its spec and keeps asking: the proxy answers for afk.
      const result = await runJobSpec(
        { ...spec, config: { ...spec.config, budget: { ...spec.config.budget, max_turns: 1000 } } },
        {
          cacheDir: join(world.root, "runner-cache"),
          allowUnsandboxed: false,
          allowHostNetwork: false,
          modelRetries: 0,
          signal: AbortSignal.timeout(120_000),
        },
      );
      expect(world.model.requests).toHaveLength(2);
      expect(result.outcome).toMatchObject({ kind: "implemented", result: { kind: "model-error", message: expect.stringMatching(/budget/) as string } });
      expect((await post(`${afkUrl}${JOB_PATHS.result}`, spec.jobCredential, result)).status).toBe(200);
      world.assertClean();
    },
    WORKFLOW_MS,
  );
});

describe("a job on GitHub Actions, when things go wrong", () => {
  it("a job killed mid-run: when its lease ends the run is interrupted (retryable), its workflow run cancelled and the issue told", async () => {
    let offsetMs = 0;
    const actions = await actionsWorld([], undefined, { now: () => new Date(Date.now() + offsetMs) });
    const { world, afkUrl } = actions;
    const served = actions.served;
    const { issue, dispatch } = await dispatchedRun(actions);
    const repo = { owner: OWNER, repo: "app", installationId: INSTALLATION_ID };
    // A runner may take a while to pick the job up: past the usual 5-minute lease, the run still waits for it.
    offsetMs = 6 * 60_000;
    await served.coordinator.dispatchNext(repo);
    await served.idle();
    expect(runStateOf(actions.scenario, issue)?.status).toBe("running");
    const spec = await startJob(actions, dispatch);
    expect((await post(`${afkUrl}${JOB_PATHS.heartbeat}`, spec.jobCredential, { v: 1, phase: "agent" })).body).toEqual({ kind: "continue" });
    // The runner dies: no more heartbeats. Once the lease its last heartbeat gave has passed, afk looks again.
    offsetMs = 12 * 60_000;
    await served.coordinator.dispatchNext(repo);
    await served.idle();
    expect(runStateOf(actions.scenario, issue)).toMatchObject({ status: "interrupted", outcome: { retryable: true } });
    expect(runStateOf(actions.scenario, issue)?.remote).toBeUndefined();
    expect(dispatch.signal.aborted).toBe(true);
    expect(world.github.workflowRuns(RUNNER).find((run) => run.id === dispatch.run.id)).toMatchObject({ status: "completed", conclusion: "cancelled" });
    expect(actions.scenario.afkComments(issue).join("\n")).toMatch(/interrupted/i);
    // Should it come back to life, it is told to stop, and its result is refused.
    expect((await post(`${afkUrl}${JOB_PATHS.heartbeat}`, spec.jobCredential, { v: 1, phase: "agent" })).body).toEqual({
      kind: "stop",
      reason: "the run has ended",
    });
    expect((await post(`${afkUrl}${JOB_PATHS.result}`, spec.jobCredential, passedResult(spec.runId, ""))).status).toBe(409);
    world.assertClean();
  });

  it("a job still heartbeating past the run's time budget is told to stop, and the run is handed to a person", async () => {
    let offsetMs = 0;
    const actions = await actionsWorld([], "test: node --test\nbudget:\n  timeout_minutes: 5\n", { now: () => new Date(Date.now() + offsetMs) });
    const { issue, dispatch } = await dispatchedRun(actions);
    const spec = await startJob(actions, dispatch);
    expect((await post(`${actions.afkUrl}${JOB_PATHS.heartbeat}`, spec.jobCredential, { v: 1, phase: "agent" })).body).toEqual({ kind: "continue" });
    offsetMs = 6 * 60_000;
    expect((await post(`${actions.afkUrl}${JOB_PATHS.heartbeat}`, spec.jobCredential, { v: 1, phase: "agent" })).body).toEqual({
      kind: "stop",
      reason: "the run's time budget (budget.timeout_minutes) is spent",
    });
    await actions.served.idle();
    expect(runStateOf(actions.scenario, issue)).toMatchObject({ status: "escalated", outcome: { message: expect.stringMatching(/time budget/) as string } });
    expect(actions.world.github.labels(FULL_NAME, issue)).toEqual(["ready-for-human"]);
    expect((await post(`${actions.afkUrl}${JOB_PATHS.result}`, spec.jobCredential, passedResult(spec.runId, ""))).status).toBe(409);
    actions.world.assertClean();
  });

  it("a runner that starts the job before afk has recorded the dispatch is told to try again, not refused", async () => {
    const actions = await actionsWorld([]);
    const { world, afkUrl } = actions;
    const first: Array<{ status: number; body: Record<string, unknown> }> = [];
    let answered: () => void = () => undefined;
    const firstStartAnswered = new Promise<void>((resolve) => {
      answered = resolve;
    });
    let holding = false;
    // afk's write of the dispatched state waits until the runner's first start is answered: the runner was faster.
    world.github.holdRequest = ({ method, path }) => (holding && method === "PATCH" && /\/issues\/comments\/\d+$/.test(path) ? firstStartAnswered : undefined);
    world.github.onWorkflowDispatch(async (dispatch) => {
      holding = true;
      const token = await oidcToken(world, dispatch, afkUrl);
      first.push(await post(`${afkUrl}${JOB_PATHS.start}`, token, { v: 1, run: dispatch.run.inputs[RUN_INPUT] }));
      holding = false;
      answered();
    });
    const { dispatch } = await dispatchedRun(actions);
    expect(first).toEqual([{ status: 503, body: { error: expect.stringMatching(/still recording which workflow run/) as string } }]);
    // What the job does next (it retries a 503) gets its spec.
    expect((await startJob(actions, dispatch)).runId).toMatch(/^r-/);
    world.assertClean();
  });

  it(
    "afk restarting mid-job loses nothing: the job's heartbeats and result go to whichever replica answers",
    async () => {
      const actions = await actionsWorld([MULTIPLY, endTurn("Added multiply.", { input_tokens: 1000, output_tokens: 100 })]);
      const { world, scenario } = actions;
      const { issue, dispatch } = await dispatchedRun(actions);
      const spec = await startJob(actions, dispatch);
      const result = await work(world, spec);
      // A heartbeat on the first replica writes afk's count of the spend on the issue.
      expect((await post(`${actions.afkUrl}${JOB_PATHS.heartbeat}`, spec.jobCredential, { v: 1, phase: "gate" })).body).toEqual({ kind: "continue" });
      await waitFor(() => runStateOf(scenario, issue)?.spend?.turns === 2, "the heartbeat to show the spend");
      // Another replica (or afk after a restart) with the same settings and App key, at another address.
      const port = await freePort();
      const other = await world.serveAfk({
        port,
        fetch: loopbackFetch,
        replicaId: "replica-two",
        env: {
          AFK_EXECUTOR: "actions",
          AFK_RUNNER_REPO: RUNNER,
          AFK_PUBLIC_URL: actions.afkUrl,
          AFK_OIDC_ISSUER: world.github.oidc.issuer,
          PRIVATE_KEY: testPrivateKey(),
        },
      });
      expect((await post(`${other.url}${JOB_PATHS.heartbeat}`, spec.jobCredential, { v: 1, phase: "gate" })).body).toEqual({ kind: "continue" });
      const answered = await post(`${other.url}${JOB_PATHS.result}`, spec.jobCredential, result);
      expect(answered.status, JSON.stringify(answered.body)).toBe(200);
      await other.idle();
      expect(runStateOf(scenario, issue)).toMatchObject({ status: "waiting", spend: { turns: 2 }, pullRequest: { number: expect.any(Number) as number } });
      world.assertClean();
    },
    WORKFLOW_MS,
  );
});
