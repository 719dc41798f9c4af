// `afk job` as the runner workflow runs it: the command in a child process, against afk's side of the
// job protocol played strictly on loopback (test/helpers/afk-job-endpoints.ts: the real schemas, the
// bearer values), a real repository over git's HTTP protocol, bubblewrap and the model as a server.
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WorkspaceCache } from "../../src/executor/workspace.js";
import type { JobSpec } from "../../src/run-contract/job-protocol.js";
import { AfkJobEndpoints, type PlayedAfk } from "../helpers/afk-job-endpoints.js";
import { runAfk, type Ran } from "../helpers/afk-cli.js";
import { createBareRepo, GitHttpServer } from "../helpers/git-http-server.js";
import { endTurn, FIXTURE_FILES, toolTurn } from "../helpers/git-scenario.js";
import { testJobSpec } from "../helpers/job-spec.js";
import { ModelServer } from "../helpers/model-server.js";

const READ_TOKEN = "ghs_jobreadtoken000000000000000000000002";
const JOB_CREDENTIAL = "afkjob1.eyJydW4iOiJyLWpvYi1jbGkifQ.c2lnbmF0dXJlLWNsaQ";
const ID_TOKEN_REQUEST_TOKEN = "actions-id-token-request-bearer-0000000001";
/** The OIDC tokens the played Actions hands out, a fresh one each request (`n` from 1). */
const oidcToken = (n: number): string => `eyJhbGciOiJSUzI1NiJ9.eyJydW5faWQiOiIxIiwibiI6${n}fQ.oidc-signature-${n}`;
/** A commit the repository does not have: the job says "not started" at once, without the model (for the protocol's edges). */
const MISSING_COMMIT = "b".repeat(40);
/** A clone, a sandboxed agent and the gate in a child process on a busy machine. */
const FULL_RUN_MS = 90_000;

let root: string;
let git: GitHttpServer;
let base: string;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), "afk-job-cli-"));
  base = createBareRepo(join(root, "remote"), "octo-org/app", FIXTURE_FILES).headSha;
  git = await GitHttpServer.start({ root: join(root, "remote"), authorize: ({ service, token }) => service === "upload-pack" && token === READ_TOKEN });
});

afterAll(async () => {
  await git.close();
  rmSync(root, { recursive: true, force: true });
});

function specFor(endpoint: string, modelUrl: string, runId: string, overrides: Partial<JobSpec> = {}): JobSpec {
  const target = { cloneUrl: git.cloneUrl("octo-org/app"), baseSha: base, endpoint, modelBaseUrl: modelUrl };
  return testJobSpec({ ...target, readToken: READ_TOKEN, jobCredential: JOB_CREDENTIAL }, runId, overrides);
}

/** afk's side played by `played`, Actions' ID token endpoint beside it. */
function playAfk(played: PlayedAfk): Promise<AfkJobEndpoints> {
  return AfkJobEndpoints.start(played, { idTokens: { requestToken: ID_TOKEN_REQUEST_TOKEN, token: oidcToken } });
}

/** The job's environment as the runner workflow gives it (`AFK_URL`, `AFK_RUN`) and Actions adds to it. */
function jobEnv(afk: AfkJobEndpoints, runId: string): Record<string, string> {
  const home = mkdtempSync(join(root, "home-"));
  mkdirSync(join(home, "runner-temp"));
  return {
    HOME: home,
    RUNNER_TEMP: join(home, "runner-temp"),
    AFK_URL: afk.url,
    AFK_RUN: `octo-org/app#3:${runId}`,
    ACTIONS_ID_TOKEN_REQUEST_URL: afk.idTokenRequestUrl,
    ACTIONS_ID_TOKEN_REQUEST_TOKEN: ID_TOKEN_REQUEST_TOKEN,
  };
}

function afkJob(env: Record<string, string>): Promise<Ran> {
  return runAfk(["job"], { cwd: root, env });
}

/** No token the job holds appears in what it printed: not the OIDC tokens, the request bearer, the read token or the job credential. */
function expectNoSecrets(ran: Ran, afk?: AfkJobEndpoints): void {
  const printed = ran.stdout + ran.stderr;
  const issued = (afk?.requests ?? []).flatMap((request) => (request.kind === "id-token" ? [request.token] : []));
  for (const secret of [READ_TOKEN, JOB_CREDENTIAL, ID_TOKEN_REQUEST_TOKEN, ...issued]) expect(printed).not.toContain(secret);
}

describe("afk job", () => {
  it(
    "starts with its OIDC token, heartbeats through the work, and hands back a result whose bundle applies; the model sees only the job's credential",
    async () => {
      const model = await ModelServer.start([
        toolTurn("str_replace_based_edit_tool", {
          command: "create",
          path: "test/sub.test.js",
          file_text: 'import { test } from "node:test";\nimport assert from "node:assert/strict";\ntest("sub", () => assert.equal(5 - 3, 2));\n',
        }),
        // Long enough for a heartbeat to say the agent is at work.
        toolTurn("bash", { command: "sleep 2" }),
        endTurn("Added a test of subtraction."),
      ]);
      const afk = await playAfk({ start: () => ({ status: 200, body: specFor(afk.url, model.url, "r-job-ok") }) });
      try {
        const ran = await afkJob(jobEnv(afk, "r-job-ok"));
        expect(ran.stderr).toBe("");
        expect(ran.code).toBe(0);
        expect(afk.violations).toEqual([]);
        // One start with the token Actions gave for afk's origin, beats from the start, the result last.
        expect(afk.requests.filter((request) => request.kind === "id-token")).toEqual([{ kind: "id-token", audience: afk.url, token: oidcToken(1) }]);
        expect(afk.requests.find((request) => request.kind === "start")).toEqual({
          kind: "start",
          body: { v: 1, run: "octo-org/app#3:r-job-ok" },
          bearer: oidcToken(1),
        });
        const sequence = afk.sequence;
        expect(sequence.slice(0, 2)).toEqual(["start", "heartbeat:workspace"]);
        expect(sequence).toContain("heartbeat:agent");
        expect(sequence.filter((kind) => kind === "result")).toHaveLength(1);
        expect(sequence.indexOf("result")).toBeGreaterThan(sequence.lastIndexOf("heartbeat:workspace"));

        const result = afk.requests.find((request) => request.kind === "result")?.body;
        expect(result?.outcome).toMatchObject({ kind: "implemented", result: { kind: "passed", gate: { command: "node --test", exitCode: 0 } } });
        if (result?.bundle === undefined) throw new Error("the result carries no bundle");
        const taken = await new WorkspaceCache({ cacheDir: join(root, "afk"), sandbox: { allowUnsandboxed: false } }).open({
          cloneUrl: git.cloneUrl("octo-org/app"),
          auth: { token: READ_TOKEN },
          ref: base,
          runId: "r-afk-ok",
        });
        await taken.applyChangeBundle(Buffer.from(result.bundle, "base64"));
        expect(await taken.changedFiles()).toEqual(["test/sub.test.js"]);
        expect(readFileSync(join(taken.path, "test/sub.test.js"), "utf8")).toContain('test("sub"');
        await taken.remove();

        expect(model.requests.map((request) => request.headers.authorization)).toEqual(model.requests.map(() => `Bearer ${JOB_CREDENTIAL}`));
        expect(ran.stdout).toMatch(/workspace: octo-org\/app at [0-9a-f]{12}\nagent: working\n/);
        expect(ran.stdout).toContain("the tests pass (`node --test` exited 0 after 1 round(s))\n");
        expect(ran.stdout).toMatch(/spent \$\d+\.\d{4} over 3 turn\(s\)/);
        expect(ran.stdout).toContain("afk: afk took the result\n");
        // The agent's own words never reach the Actions log (lines starting `::` are workflow commands there).
        expect(ran.stdout).not.toContain("Added a test of subtraction.");
        expectNoSecrets(ran, afk);
      } finally {
        await afk.close();
        await model.close();
      }
    },
    FULL_RUN_MS,
  );

  it(
    "a heartbeat answered stop aborts the work mid-command and sends no result; the job ends 0 saying why",
    async () => {
      const model = await ModelServer.start([toolTurn("bash", { command: "sleep 60" }), endTurn("never reached")]);
      const afk = await playAfk({
        start: () => ({ status: 200, body: specFor(afk.url, model.url, "r-job-stop") }),
        heartbeat: (beat) => ({
          status: 200,
          body: beat.phase === "agent" ? { kind: "stop", reason: "@octocat asked afk to stop (/afk stop)" } : { kind: "continue" },
        }),
      });
      try {
        const started = Date.now();
        const ran = await afkJob(jobEnv(afk, "r-job-stop"));
        expect(ran.code).toBe(0);
        expect(ran.stdout).toContain("stopped by afk: @octocat asked afk to stop (/afk stop)\n");
        // The sandboxed `sleep 60` was killed: the job ended long before it would have.
        expect(Date.now() - started).toBeLessThan(40_000);
        expect(afk.sequence).not.toContain("result");
        expect(afk.sequence.at(-1)).toBe("heartbeat:agent");
        expect(model.requests).toHaveLength(1);
        expect(afk.violations).toEqual([]);
        expectNoSecrets(ran, afk);
      } finally {
        await afk.close();
        await model.close();
      }
    },
    FULL_RUN_MS,
  );

  it("a start answered 503 is tried again with a fresh OIDC token, a failed heartbeat is followed by the next, and a result answered 502 is sent again while the beats go on", async () => {
    const afk = await playAfk({
      start: (_start, _bearer, attempt) =>
        attempt === 1
          ? { status: 503, body: { error: "afk is restarting" } }
          : { status: 200, body: specFor(afk.url, "http://127.0.0.1:9", "r-job-retry", { baseSha: MISSING_COMMIT }) },
      heartbeat: (_beat, count) => (count === 1 ? { status: 500, body: { error: "afk lost its lock view" } } : { status: 200, body: { kind: "continue" } }),
      result: (_result, attempt) =>
        attempt <= 2 ? { status: 502, body: "Bad Gateway" } : { status: 200, body: { message: "afk will say on the issue that the run did not start" } },
    });
    try {
      const ran = await afkJob(jobEnv(afk, "r-job-retry"));
      expect(ran.code).toBe(0);
      expect(afk.requests.filter((request) => request.kind === "start").map((request) => request.bearer)).toEqual([oidcToken(1), oidcToken(2)]);
      expect(afk.sequence.filter((kind) => kind === "result")).toHaveLength(3);
      // A heartbeat that failed is said and the next one sent; the beats go on while afk is not taking the result.
      expect(ran.stderr).toContain("afk job: a heartbeat did not get through (afk lost its lock view); the next one is in 1s\n");
      // (The result's retries wait 0.5 s, then 1.5 s; a beat goes every second.)
      const results = afk.sequence.flatMap((kind, index) => (kind === "result" ? [index] : []));
      expect(afk.sequence.slice(results[0], results[2]).filter((kind) => kind.startsWith("heartbeat")).length).toBeGreaterThan(0);
      expect(afk.requests.find((request) => request.kind === "result")?.body.outcome).toMatchObject({ kind: "not-started", retryable: true });
      expect(ran.stderr).toContain("afk job: afk did not answer the start (afk is restarting); trying again in 0.5s\n");
      expect(ran.stderr).toContain('afk job: afk did not take the result (HTTP 502: "Bad Gateway"); trying again in 0.5s\n');
      expect(ran.stderr).toContain('afk job: afk did not take the result (HTTP 502: "Bad Gateway"); trying again in 1.5s\n');
      expect(ran.stdout).toContain("afk: afk will say on the issue that the run did not start\n");
      expect(afk.violations).toEqual([]);
      expectNoSecrets(ran, afk);
    } finally {
      await afk.close();
    }
  });

  it("a result afk refuses with 409 (the run already ended) exits 1 with afk's message, sent once", async () => {
    const afk = await playAfk({
      start: () => ({ status: 200, body: specFor(afk.url, "http://127.0.0.1:9", "r-job-late", { baseSha: MISSING_COMMIT }) }),
      result: () => ({ status: 409, body: { error: "run r-job-late has already ended (stopped by @octocat); afk takes no result for it" } }),
    });
    try {
      const ran = await afkJob(jobEnv(afk, "r-job-late"));
      expect(ran.code).toBe(1);
      expect(ran.stderr).toContain(
        "afk job: afk refused the result (409): run r-job-late has already ended (stopped by @octocat); afk takes no result for it\n",
      );
      expect(afk.sequence.filter((kind) => kind === "result")).toHaveLength(1);
      expect(afk.violations).toEqual([]);
      expectNoSecrets(ran, afk);
    } finally {
      await afk.close();
    }
  });

  it("a refused start exits 1 with afk's reason, without trying again, and a token echoed in it is masked", async () => {
    const afk = await playAfk({
      start: (_start, bearer) => ({ status: 403, body: { error: `the token ${bearer} names workflow run 7, not the run afk dispatched for r-job-no` } }),
    });
    try {
      const ran = await afkJob(jobEnv(afk, "r-job-no"));
      expect(ran.code).toBe(1);
      expect(ran.stderr).toBe("afk job: afk refused the job: the token *** names workflow run 7, not the run afk dispatched for r-job-no\n");
      expect(afk.sequence).toEqual(["start"]);
      expect(afk.violations).toEqual([]);
      expectNoSecrets(ran, afk);
    } finally {
      await afk.close();
    }
  });

  it("a 200 that is not a job spec for this run exits 1 naming what is wrong, and nothing else is sent", async () => {
    const { readToken: _dropped, ...withoutToken } = specFor("http://127.0.0.1:9", "http://127.0.0.1:9", "r-job-odd");
    const other = specFor("http://127.0.0.1:9", "http://127.0.0.1:9", "r-someone-else");
    const afk = await playAfk({ start: (_start, _bearer, attempt) => ({ status: 200, body: attempt === 1 ? withoutToken : other }) });
    try {
      const env = jobEnv(afk, "r-job-odd");
      const missing = await afkJob(env);
      expect(missing.code).toBe(1);
      expect(missing.stderr).toBe(
        "afk job: afk's job spec is not one this afk job understands: readToken: Invalid input: expected string, received undefined\n",
      );
      const elsewhere = await afkJob(env);
      expect(elsewhere.code).toBe(1);
      expect(elsewhere.stderr).toBe("afk job: afk's job spec is for run r-someone-else, not r-job-odd\n");
      expect(afk.sequence).toEqual(["start", "start"]);
      expectNoSecrets(elsewhere, afk);
    } finally {
      await afk.close();
    }
  });

  it("without AFK_URL, AFK_RUN or the OIDC token request, or with AFK_URL over plain http to another host, exits 2 with the fix and asks nothing", async () => {
    const afk = await playAfk({ start: () => ({ status: 500, body: { error: "never asked" } }) });
    try {
      const env = jobEnv(afk, "r-job-env");
      const { AFK_URL: _url, AFK_RUN: _run, ACTIONS_ID_TOKEN_REQUEST_URL: _request, ...bare } = env;
      const [noUrl, noRun, noOidc, plainHttp] = await Promise.all([
        afkJob({ ...bare, AFK_RUN: env.AFK_RUN ?? "", ACTIONS_ID_TOKEN_REQUEST_URL: afk.idTokenRequestUrl }),
        afkJob({ ...bare, AFK_URL: afk.url, ACTIONS_ID_TOKEN_REQUEST_URL: afk.idTokenRequestUrl }),
        afkJob({ ...bare, AFK_URL: afk.url, AFK_RUN: env.AFK_RUN ?? "" }),
        afkJob({ ...env, AFK_URL: "http://afk.example.com" }),
      ]);
      expect(noUrl).toEqual({
        code: 2,
        stdout: "",
        stderr: "afk job: AFK_URL is not set; set the runner repository's variable AFK_URL to afk's public address\n",
      });
      expect(noRun).toEqual({
        code: 2,
        stdout: "",
        stderr: "afk job: AFK_RUN is not set; run afk's workflow as afk dispatches it (its afk_run input reaches AFK_RUN); `afk init-runner` prints it\n",
      });
      expect(noOidc.code).toBe(2);
      expect(noOidc.stderr).toContain("the workflow `permissions: id-token: write`");
      expect(plainHttp.code).toBe(2);
      expect(plainHttp.stderr).toContain('AFK_URL is "http://afk.example.com", not an https:// address; set AFK_URL to afk\'s public https:// address');
      expect(afk.requests).toEqual([]);
      for (const ran of [noUrl, noRun, noOidc, plainHttp]) expectNoSecrets(ran);
    } finally {
      await afk.close();
    }
  });

  it("says what it does in afk job --help, and takes no arguments", async () => {
    const [help, topic, afkHelp, extra] = await Promise.all([
      runAfk(["job", "--help"], { cwd: root, env: {} }),
      runAfk(["help", "job"], { cwd: root, env: {} }),
      runAfk(["--help"], { cwd: root, env: {} }),
      runAfk(["job", "now"], { cwd: root, env: {} }),
    ]);
    for (const ran of [help, topic]) {
      expect(ran.code).toBe(0);
      expect(ran.stdout).toContain("Usage: afk job\n");
      expect(ran.stdout).toContain("Reads AFK_URL");
      expect(ran.stdout).toContain("holds no key");
    }
    expect(afkHelp.stdout).toContain(
      "  afk job                                                an afk run's work on a GitHub Actions runner (the workflow runs it)\n",
    );
    expect(extra).toEqual({
      code: 2,
      stdout: "",
      stderr: "afk job: takes no arguments (got now); it reads AFK_URL and AFK_RUN from the environment (see afk job --help)\n",
    });
  });
});
