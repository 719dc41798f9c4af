// The run log of every run: committed by afk to `refs/afk/runs/<run id>` in the repository (run.md and
// run.jsonl), linked from the check run and the progress comment, redacted of every secret the run
// held, inert, removed after AFK_RUN_LOG_DAYS, and never a reason for a run to end otherwise.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { requestIdToken } from "../../src/actions/id-token-request.js";
import { RUN_INPUT, RUNNER_WORKFLOW_PATH, runnerWorkflow } from "../../src/actions/runner-workflow.js";
import { runJobSpec } from "../../src/executor/run-job-spec.js";
import { JOB_PATHS, jobSpecSchema } from "../../src/run-contract/job-protocol.js";
import { testPrivateKey } from "../helpers/afk-harness.js";
import { AFK_VERSION } from "../helpers/afk-cli.js";
import { freePort } from "../helpers/app-process.js";
import type { WorkflowDispatch } from "../helpers/emulator/index.js";
import { loopbackFetch } from "../helpers/emulator/loopback-fetch.js";
import { DEFAULT_PERMISSIONS } from "../helpers/emulator/store.js";
import { waitFor } from "../helpers/wait-for.js";
import { buildWorld } from "../helpers/world/build-world.js";
import { closeWorldsAfterEach } from "../helpers/world/use-world.js";
import { runLogEntrySchema, type RunLogEntryData } from "../../src/run-contract/run-log.js";
import { installationOctokit } from "../helpers/emulator/test-kit.js";
import type { GitHubEmulator } from "../helpers/emulator/index.js";
import { endTurn, TEST_ANTHROPIC_KEY, toolTurn, useGitScenario, type GitScenario } from "../helpers/git-scenario.js";
import { ciFinishes, editTurns } from "../helpers/lifecycle-events.js";
import type { ScriptedTurn } from "../helpers/model-server.js";
import { expectNothingLive, HOSTILE_TEXT, publishedTexts } from "../helpers/live-text.js";
import { runStateIn, runStateOf } from "../helpers/run-state-of.js";
import { FULL_NAME, INSTALLATION_ID, OWNER, REPO, scenarioOn, scenarioWorld } from "../helpers/scenario.js";

const start = useGitScenario();

const MULTIPLY_TEST =
  'import { test } from "node:test";\nimport assert from "node:assert/strict";\nimport { multiply } from "../src/math.js";\n\ntest("multiply", () => {\n  assert.equal(multiply(2, 3), 6);\n});\n';

/** The scripted model's turns for an implementation (fresh each time: the model server uses its script up). */
const implement = (): ScriptedTurn[] => [
  toolTurn("bash", { command: "cat src/math.js && ls test" }),
  toolTurn("str_replace_based_edit_tool", {
    command: "str_replace",
    path: "src/math.js",
    old_str: "export function add",
    new_str: "export function multiply(a, b) {\n  return a * b;\n}\n\nexport function add",
  }),
  toolTurn("str_replace_based_edit_tool", { command: "create", path: "test/multiply.test.js", file_text: MULTIPLY_TEST }),
  toolTurn("bash", { command: "node --test 2>&1 | grep -c pass" }),
  endTurn("Added `multiply(a, b)` to src/math.js with a test.", { input_tokens: 1000, output_tokens: 200 }),
];

interface KeptLog {
  ref: string;
  commit: string;
  markdown: string;
  entries: RunLogEntryData[];
}

/** The run log of `runId` as the repository holds it. */
function keptLog(github: GitHubEmulator, runId: string): KeptLog {
  const ref = `refs/afk/runs/${runId}`;
  const commit = github.ref(FULL_NAME, ref);
  if (commit === undefined) throw new Error(`no ${ref}`);
  const markdown = github.fileAtCommit(FULL_NAME, commit, "run.md") ?? "";
  const jsonl = github.fileAtCommit(FULL_NAME, commit, "run.jsonl") ?? "";
  const entries = jsonl
    .split("\n")
    .filter((line) => line.length > 0)
    .map((line) => runLogEntrySchema.parse(JSON.parse(line)));
  return { ref, commit, markdown, entries };
}

function runIdOf(scenario: GitScenario, issue: number): string {
  const runId = runStateOf(scenario, issue)?.runId;
  if (runId === undefined) throw new Error("no run");
  return runId;
}

/** A run id as afk makes them, for a run that started `daysAgo` days ago. */
function runIdDaysAgo(daysAgo: number, suffix: string): string {
  return `r-${(Date.now() - daysAgo * 24 * 60 * 60_000).toString(36)}-${suffix}`;
}

/** A run log ref whose commit is dated `daysAgo`, as an earlier afk left it. */
async function oldRunLog(github: GitHubEmulator, runId: string, daysAgo: number): Promise<void> {
  const octokit = await installationOctokit(github, INSTALLATION_ID);
  const where = { owner: OWNER, repo: REPO };
  const blob = await octokit.rest.git.createBlob({ ...where, content: `# an old run log (${runId})\n` });
  const tree = await octokit.rest.git.createTree({ ...where, tree: [{ path: "run.md", mode: "100644", type: "blob", sha: blob.data.sha }] });
  const date = new Date(Date.now() - daysAgo * 24 * 60 * 60_000).toISOString();
  const who = { name: "afk", email: "afk@example.com", date };
  const commit = await octokit.rest.git.createCommit({ ...where, message: "old", tree: tree.data.sha, parents: [], author: who, committer: who });
  await octokit.rest.git.createRef({ ...where, ref: `refs/afk/runs/${runId}`, sha: commit.data.sha });
}

describe("the run log of every run", () => {
  it("an implement run: refs/afk/runs/<run id> holds run.md and run.jsonl with every entry; the check run and the progress comment link it", async () => {
    const scenario = await start({ script: implement() });
    const { github } = scenario;
    const issue = scenario.issue({ title: "Add a multiply function", body: "We need multiply(a, b) next to add." });
    await scenario.label(issue, "wes-write");

    const state = runStateOf(scenario, issue);
    expect(state?.status).toBe("waiting");
    const runId = runIdOf(scenario, issue);
    expect(github.refsUnder(FULL_NAME, "refs/afk/runs/")).toEqual([`refs/afk/runs/${runId}`]);
    const log = keptLog(github, runId);
    expect(state?.runLog).toBe(log.commit);
    // A commit of its own: no parent, nothing of the repository's history, just the two files.
    const commit = github.commit(FULL_NAME, log.commit);
    expect(commit?.parents).toEqual([]);
    expect(commit?.author.name).toBe(github.botLogin);

    // Every message, turn, tool call and result, in order: the task, then 4 tool calls each with its result, then the summary.
    // Every message, turn, tool call and result, in order: the task (and any note afk sent), then 4 tool calls each with its result, then the summary.
    expect(log.entries[0]).toMatchObject({ kind: "user", turn: 0 });
    expect(log.entries[0]?.text).toContain("We need multiply(a, b) next to add.");
    const work = log.entries.filter((entry) => entry.kind !== "user");
    expect(work.map((entry) => entry.kind)).toEqual([...Array<string[]>(4).fill(["tool_call", "tool_result"]).flat(), "assistant"]);
    expect(work[0]?.text).toBe('bash {"command":"cat src/math.js && ls test"}');
    expect(work[1]?.text).toContain("return a + b;");
    expect(work[4]?.text).toContain("test/multiply.test.js");
    expect(work.at(-1)?.text).toBe("Added `multiply(a, b)` to src/math.js with a test.");
    expect(work.map((entry) => entry.turn)).toEqual([1, 1, 2, 2, 3, 3, 4, 4, 5]);
    expect(log.entries.every((entry, index) => index === 0 || entry.atMs >= (log.entries[index - 1]?.atMs ?? 0))).toBe(true);

    // run.md: the header, then each entry in a fence.
    expect(log.markdown).toContain(`# afk run log: ${FULL_NAME}#${issue}`);
    expect(log.markdown).toContain(`- Run: \`${runId}\` (implement, on afk's host)`);
    expect(log.markdown).toContain("- Model: ` claude-sonnet-5-5 `");
    expect(log.markdown).toContain("- Outcome: **waiting**");
    expect(log.markdown).toContain("- Spend: $0.0040 (tokens: 1000 input, 0 cache write, 0 cache read, 200 output)");
    expect(log.markdown).toContain("- Turns: 5 · tool calls: 4");
    expect(log.markdown).toMatch(/- Gate: ` node --test ` passed after 1 round, the last in \d+\.\d s/);
    expect(log.markdown).toContain(`### ${log.entries.findIndex((entry) => entry.kind === "tool_call") + 1} · tool call · turn 1`);
    expect(log.markdown).toContain('```text\nbash {"command":"cat src/math.js && ls test"}\n```');
    expect(log.markdown).toContain(`### ${log.entries.length} · agent · turn 5`);

    // Linked from the check run and the progress comment, at the log's commit.
    const url = `https://github.com/${FULL_NAME}/blob/${log.commit}/run.md`;
    const [check] = github.checkRuns(FULL_NAME);
    expect(check?.output.summary).toContain(`[Run log](${url}) (\`afk log ${runId}\`)`);
    expect(scenario.afkComments(issue)[0]).toContain(`[Run log](${url})`);
    expect(github.violations).toEqual([]);
  });

  it("a hostile agent: nothing of the key or any token is in the log, whether read from a file or written by the model itself; nothing in it is live", async () => {
    const webhookSecret = "webhook-secret-of-the-app-0123456789";
    const keyBase64 = Buffer.from(TEST_ANTHROPIC_KEY).toString("base64");
    const scenario = await start({
      env: { WEBHOOK_SECRET: webhookSecret },
      files: { "notes/key.txt": `the key: ${TEST_ANTHROPIC_KEY}\n` },
      script: [
        toolTurn("bash", { command: "env | grep -i -E 'token|key|secret'; echo $GITHUB_TOKEN $ANTHROPIC_API_KEY; cat notes/key.txt" }),
        // The model's own words hold the secrets (as a model that learned them would write them): no tool ever redacts these.
        {
          kind: "message",
          content: [
            { type: "text", text: `${HOSTILE_TEXT}\nThe key is ${TEST_ANTHROPIC_KEY}. \`\`\`\`\`\` fence broken? [click](https://evil.example)` },
            { type: "tool_use", id: "toolu_hostile_echo", name: "bash", input: { command: `echo ${TEST_ANTHROPIC_KEY} ${keyBase64} ${webhookSecret}` } },
          ],
          stop_reason: "tool_use",
        },
        // Its summary too, which afk publishes on the issue.
        endTurn(`Nothing to change. The key is ${TEST_ANTHROPIC_KEY} (${keyBase64}).`),
      ],
    });
    const { github } = scenario;
    const issue = scenario.issue({ title: "Innocent request" });
    await scenario.label(issue, "wes-write");

    const log = keptLog(github, runIdOf(scenario, issue));
    const files = `${log.markdown}\n${JSON.stringify(log.entries)}`;
    expect(log.entries.filter((entry) => entry.kind === "tool_call")).toHaveLength(2);
    for (const secret of [TEST_ANTHROPIC_KEY, keyBase64, webhookSecret, ...github.tokens.map((issued) => issued.token)]) {
      expect(files).not.toContain(secret);
    }
    expect(log.entries.filter((entry) => entry.kind === "tool_call")[1]?.text).toBe(
      "bash " + JSON.stringify({ command: "echo [redacted] [redacted] [redacted]" }),
    );
    expect(log.entries.filter((entry) => entry.kind === "tool_result")[0]?.text).toContain("the key: [redacted]");
    expect(log.entries.find((entry) => entry.kind === "assistant")?.text).toContain("The key is [redacted].");
    // Nor in anything afk published: the model's summary quoted on the issue is redacted too.
    const published = publishedTexts(github).map(({ text }) => text);
    expect(published.join("\n")).toContain("Nothing to change. The key is [redacted] ([redacted]).");
    for (const secret of [TEST_ANTHROPIC_KEY, keyBase64, webhookSecret]) for (const text of published) expect(text).not.toContain(secret);
    // The agent's text cannot close its fence in run.md: the fence is longer than any backtick run in it.
    expect(log.markdown).toContain("\n```````text\n");
    // Nothing afk published, the log's files included, mentions, commands or closes anything.
    expectNothingLive(github, { mentions: ["@wes-write"], closes: [] });
    expect(github.violations).toEqual([]);
  });

  it("retention: writing a log deletes the repository's run logs older than AFK_RUN_LOG_DAYS, and keeps the rest", async () => {
    const scenario = await start({ env: { AFK_RUN_LOG_DAYS: "7" }, script: implement() });
    const { github } = scenario;
    const expired = runIdDaysAgo(10, "0000dead");
    const recent = runIdDaysAgo(2, "0000beef");
    // An old run whose log was written again lately (a fix weeks later) is kept; a ref not named like afk's run ids is left alone.
    const stillGoing = runIdDaysAgo(20, "0000cafe");
    await oldRunLog(github, expired, 10);
    await oldRunLog(github, recent, 2);
    await oldRunLog(github, stillGoing, 1);
    await oldRunLog(github, "someone-elses", 400);
    const issue = scenario.issue({ title: "Add a multiply function" });
    await scenario.label(issue, "wes-write");

    const runId = runIdOf(scenario, issue);
    expect(github.refsUnder(FULL_NAME, "refs/afk/runs/")).toEqual(
      [`refs/afk/runs/${runId}`, `refs/afk/runs/${recent}`, `refs/afk/runs/${stillGoing}`, "refs/afk/runs/someone-elses"].sort(),
    );
    expect(github.violations).toEqual([]);
  });

  it("AFK_RUN_LOG_DAYS=0 keeps no run log: nothing is written, nothing linked, and the run is the same", async () => {
    const scenario = await start({ env: { AFK_RUN_LOG_DAYS: "0" }, script: implement() });
    const { github } = scenario;
    const issue = scenario.issue({ title: "Add a multiply function" });
    await scenario.label(issue, "wes-write");

    const state = runStateOf(scenario, issue);
    expect(state?.status).toBe("waiting");
    expect(state?.runLog).toBeUndefined();
    expect(github.refsUnder(FULL_NAME, "refs/afk/runs/")).toEqual([]);
    expect(github.requests.filter((request) => request.path.includes("/git/blobs") || request.path.includes("/matching-refs/"))).toEqual([]);
    expect(scenario.afkComments(issue)[0]).not.toContain("Run log");
    expect(github.checkRuns(FULL_NAME)[0]?.output.summary).not.toContain("Run log");
  });

  it("a run log GitHub will not take (createTree answers 500) changes nothing of the run's outcome; no link is shown", async () => {
    const scenario = await start({ script: implement() });
    const { github } = scenario;
    const refused: string[] = [];
    github.onRequest = ({ method, path, body }) => {
      if (method !== "POST" || !path.endsWith("/git/trees") || !JSON.stringify(body).includes('"run.md"')) return undefined;
      refused.push(path);
      return { status: 500, body: { message: "Server Error" } };
    };
    const issue = scenario.issue({ title: "Add a multiply function" });
    await scenario.label(issue, "wes-write");

    expect(refused.length).toBeGreaterThan(0);
    const state = runStateOf(scenario, issue);
    expect(state).toMatchObject({ status: "waiting", phase: "ci", pullRequest: { draft: true } });
    expect(state?.runLog).toBeUndefined();
    expect(github.refsUnder(FULL_NAME, "refs/afk/runs/")).toEqual([]);
    expect(github.pulls(FULL_NAME)).toHaveLength(1);
    expect(github.checkRuns(FULL_NAME)[0]).toMatchObject({ conclusion: "success" });
    expect(scenario.afkComments(issue)[0]).not.toContain("Run log");
  });
});

const RUNNER = `${OWNER}/afk-runner`;
const keepWorld = closeWorldsAfterEach();

/** A POST to afk's job endpoint as the job makes it. */
async function post(url: string, bearer: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await loopbackFetch(url, {
    method: "POST",
    headers: { authorization: `Bearer ${bearer}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe("the run log of a job on GitHub Actions", () => {
  it("arrives with the job's result, is redacted again by afk, and is kept and linked as a local run's", async () => {
    const port = await freePort();
    const afkUrl = `http://127.0.0.1:${port}`;
    const world = keepWorld(await buildWorld(scenarioWorld({ git: true, model: implement() })));
    world.github.addRepo({ owner: OWNER, name: "afk-runner", installationId: INSTALLATION_ID, files: { [RUNNER_WORKFLOW_PATH]: runnerWorkflow(AFK_VERSION) } });
    world.github.setInstallationPermissions(INSTALLATION_ID, { ...DEFAULT_PERMISSIONS, actions: "write" });
    const dispatches: WorkflowDispatch[] = [];
    world.github.onWorkflowDispatch((dispatch) => void dispatches.push(dispatch));
    const served = await world.serveAfk({
      port,
      fetch: loopbackFetch,
      env: {
        AFK_EXECUTOR: "actions",
        AFK_RUNNER_REPO: RUNNER,
        AFK_PUBLIC_URL: afkUrl,
        AFK_OIDC_ISSUER: world.github.oidc.issuer,
        PRIVATE_KEY: testPrivateKey(),
      },
    });
    const scenario = scenarioOn(world, served);
    const issue = scenario.issue({ title: "Add a multiply function", body: "We need multiply(a, b)." });
    await scenario.label(issue, "wes-write");
    await waitFor(() => dispatches.length === 1, "afk to dispatch the job");
    const [dispatch] = dispatches;
    if (dispatch === undefined) throw new Error("no dispatch");
    const request = world.github.idTokenRequest(dispatch.repository, dispatch.run.id);
    const oidc = await requestIdToken({ ACTIONS_ID_TOKEN_REQUEST_URL: request.url, ACTIONS_ID_TOKEN_REQUEST_TOKEN: request.token }, afkUrl, loopbackFetch);
    const started = await post(`${afkUrl}${JOB_PATHS.start}`, oidc, { v: 1, run: dispatch.run.inputs[RUN_INPUT] });
    expect(started.status, JSON.stringify(started.body)).toBe(200);
    const spec = jobSpecSchema.parse(started.body);
    const result = await runJobSpec(spec, {
      cacheDir: join(world.root, "runner-cache"),
      allowUnsandboxed: false,
      allowHostNetwork: false,
      modelRetries: 0,
      signal: AbortSignal.timeout(120_000),
    });
    // The job sends its whole log: every tool call and result the model caused.
    expect(result.runLog?.toolCalls).toBe(4);
    expect(result.runLog?.entries.filter((entry) => entry.kind === "tool_result")).toHaveLength(4);
    // A runner that smuggles afk's key into the log (a hostile job) still gets it redacted by afk.
    const key = world.appEnv.ANTHROPIC_API_KEY ?? "";
    expect(key.length).toBeGreaterThan(8);
    const smuggled =
      result.runLog === undefined
        ? undefined
        : { ...result.runLog, entries: [...result.runLog.entries, { atMs: 1, turn: 5, kind: "assistant" as const, text: `key ${key}` }] };
    const answered = await post(`${afkUrl}${JOB_PATHS.result}`, spec.jobCredential, { ...result, runLog: smuggled });
    expect(answered.status, JSON.stringify(answered.body)).toBe(200);
    await scenario.afk.idle();

    const state = runStateIn(world.github, FULL_NAME, issue);
    expect(state?.status).toBe("waiting");
    const log = keptLog(world.github, state?.runId ?? "");
    expect(state?.runLog).toBe(log.commit);
    expect(log.markdown).toContain(`(implement, on GitHub Actions)`);
    expect(log.markdown).toContain("- Turns: 5 · tool calls: 4");
    expect(log.entries.filter((entry) => entry.kind === "tool_call").map((entry) => entry.text.split(" ")[0])).toEqual([
      "bash",
      "str_replace_based_edit_tool",
      "str_replace_based_edit_tool",
      "bash",
    ]);
    expect(log.entries.at(-1)?.text).toBe("key [redacted]");
    for (const secret of [key, spec.jobCredential, spec.readToken, ...world.github.tokens.map((issued) => issued.token)]) {
      expect(`${log.markdown}${JSON.stringify(log.entries)}`).not.toContain(secret);
    }
    const url = `https://github.com/${FULL_NAME}/blob/${log.commit}/run.md`;
    expect(world.github.checkRuns(FULL_NAME)[0]?.output.summary).toContain(url);
    expect(scenario.afkComments(issue)[0]).toContain(url);
    world.assertClean();
  }, 120_000);
});

describe("the run log of a run with several jobs", () => {
  it("plan, then the approved implementation, then a CI fix: one ref, each job's log a commit on the one before, each linked as its job ends", async () => {
    const scenario = await start({
      config: "test: node --test\nplan_approval: true\n",
      script: [
        toolTurn("bash", { command: "grep -n add src/math.js" }),
        endTurn("## Plan\n1. Add a comment to src/math.js."),
        ...editTurns("// planned", "Did what the plan said."),
        ...editTurns("// fixed", "Fixed the CI failure."),
      ],
    });
    const { github } = scenario;
    const issue = scenario.issue({ title: "Annotate math" });
    await scenario.label(issue, "wes-write");
    const runId = runIdOf(scenario, issue);
    const plan = keptLog(github, runId);
    expect(runStateOf(scenario, issue)).toMatchObject({ status: "waiting", phase: "plan", runLog: plan.commit });
    expect(plan.markdown).toContain(`- Run: \`${runId}\` (plan, on afk's host)`);
    expect(plan.entries.filter((entry) => entry.kind === "tool_call").map((entry) => entry.text)).toEqual(['bash {"command":"grep -n add src/math.js"}']);
    expect(scenario.afkComments(issue)[0]).toContain(`/blob/${plan.commit}/run.md`);

    await scenario.comment(issue, "max-maintain", "/afk approve");
    const implemented = keptLog(github, runId);
    expect(runStateOf(scenario, issue)).toMatchObject({ status: "waiting", job: "implement", runLog: implemented.commit });
    expect(implemented.markdown).toContain("(implement, on afk's host)");
    expect(github.commit(FULL_NAME, implemented.commit)?.parents.map((parent) => parent.sha)).toEqual([plan.commit]);

    await ciFinishes(scenario, "failure", { log: "not ok 1 - annotates" });
    const fixed = keptLog(github, runId);
    expect(runStateOf(scenario, issue)).toMatchObject({ status: "waiting", job: "fix-ci", runLog: fixed.commit });
    expect(fixed.markdown).toContain("(fix-ci, on afk's host)");
    expect(fixed.entries.at(-1)?.text).toBe("Fixed the CI failure.");
    expect(github.commit(FULL_NAME, fixed.commit)?.parents.map((parent) => parent.sha)).toEqual([implemented.commit]);
    expect(github.refsUnder(FULL_NAME, "refs/afk/runs/")).toEqual([`refs/afk/runs/${runId}`]);
    // The fix's check run links the fix's log; the earlier links stay valid (their commits are the ref's history).
    expect(github.checkRuns(FULL_NAME).at(-1)?.output.summary).toContain(`/blob/${fixed.commit}/run.md`);
    expect(github.fileAtCommit(FULL_NAME, plan.commit, "run.md")).toBe(plan.markdown);
    expect(github.violations).toEqual([]);
  });
});
