import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runJobSpec } from "../../src/executor/run-job-spec.js";
import { WorkspaceCache } from "../../src/executor/workspace.js";
import { jobResultSchema, type JobSpec } from "../../src/run-contract/job-protocol.js";
import { commitToBareRepo, createBareRepo, GitHttpServer } from "../helpers/git-http-server.js";
import { endTurn, FIXTURE_FILES, toolResultsIn, toolTurn } from "../helpers/git-scenario.js";
import { testJobSpec } from "../helpers/job-spec.js";
import { ModelServer } from "../helpers/model-server.js";

const READ_TOKEN = "ghs_jobreadtoken000000000000000000000001";
const JOB_CREDENTIAL = "afkjob1.eyJydW4iOiJyLWpvYiJ9.c2lnbmF0dXJl";
const SANDBOX = { allowUnsandboxed: false, allowHostNetwork: false, modelRetries: 0 };

let root: string;
let git: GitHttpServer;
let base: string;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), "afk-job-spec-"));
  base = createBareRepo(join(root, "remote"), "octo-org/app", FIXTURE_FILES).headSha;
  // The branch moves on after afk pinned its base: the job must still work at the pinned commit.
  commitToBareRepo(join(root, "remote", "octo-org/app.git"), { "later.txt": "after the pin\n" }, "Later");
  git = await GitHttpServer.start({ root: join(root, "remote"), authorize: ({ service, token }) => service === "upload-pack" && token === READ_TOKEN });
});

afterAll(async () => {
  await git.close();
  rmSync(root, { recursive: true, force: true });
});

function specFor(model: ModelServer, runId: string): JobSpec {
  const target = { cloneUrl: git.cloneUrl("octo-org/app"), baseSha: base, endpoint: "http://127.0.0.1:9", modelBaseUrl: model.url };
  return testJobSpec({ ...target, readToken: READ_TOKEN, jobCredential: JOB_CREDENTIAL }, runId, { heartbeatSeconds: 30 });
}

describe("a job's work where it runs (the runner side of the Actions executor)", () => {
  it("works at the pinned commit with the same agent and gate, reaches the model with its job credential only, and hands back its change as a bundle afk can take", async () => {
    const model = await ModelServer.start([
      toolTurn("str_replace_based_edit_tool", {
        command: "create",
        path: "test/sub.test.js",
        file_text: 'import { test } from "node:test";\nimport assert from "node:assert/strict";\ntest("sub", () => assert.equal(5 - 3, 2));\n',
      }),
      toolTurn("bash", { command: "ls later.txt || echo no-later" }),
      endTurn("Added a test of subtraction."),
    ]);
    try {
      const phases: string[] = [];
      const result = await runJobSpec(specFor(model, "r-job-1"), {
        cacheDir: join(root, "runner"),
        ...SANDBOX,
        signal: new AbortController().signal,
        onPhase: (phase) => phases.push(phase),
      });
      // What goes over the wire is what afk's schema takes.
      expect(jobResultSchema.parse(JSON.parse(JSON.stringify(result)))).toEqual(result);
      expect(result.outcome).toMatchObject({
        kind: "implemented",
        result: { kind: "passed", summary: "Added a test of subtraction.", gate: { command: "node --test", exitCode: 0 } },
      });
      expect(phases).toEqual(["workspace", "agent", "gate"]);
      // The worktree was the pinned commit, not the branch's later head.
      expect(JSON.stringify(model.requests.at(-1)?.body)).toContain("no-later");
      // The model saw the job's credential as its key, and never the read token.
      expect(model.requests.map((request) => request.headers.authorization)).toEqual(model.requests.map(() => `Bearer ${JOB_CREDENTIAL}`));
      expect(model.requests.some((request) => JSON.stringify(request.body).includes(READ_TOKEN))).toBe(false);
      expect(model.violations).toEqual([]);

      if (result.bundle === undefined) throw new Error("no bundle");
      const afk = await new WorkspaceCache({ cacheDir: join(root, "afk"), sandbox: { allowUnsandboxed: false } }).open({
        cloneUrl: git.cloneUrl("octo-org/app"),
        auth: { token: READ_TOKEN },
        ref: base,
        runId: "r-afk-1",
      });
      await afk.applyChangeBundle(Buffer.from(result.bundle, "base64"));
      expect(await afk.changedFiles()).toEqual(["test/sub.test.js"]);
      expect(readFileSync(join(afk.path, "test/sub.test.js"), "utf8")).toContain('test("sub"');
      await afk.remove();
    } finally {
      await model.close();
    }
  });

  it("as the attacker: the agent cannot see or plant the bundle the job hands back (its directory is mounted only in afk's own git sandbox)", async () => {
    const probe = [
      'runs="$(dirname "$PWD")"',
      'ls "$runs/bundles" >/dev/null 2>&1 && echo BUNDLES-VISIBLE',
      // Planting a link, or a bundle of its own, where afk's git writes the change.
      'mkdir -p "$runs/bundles" 2>/dev/null; ln -sf /etc/hostname "$runs/bundles/change.bundle" 2>/dev/null; echo planted > "$runs/bundles/change.bundle" 2>/dev/null',
      "echo 'export const planted = true;' > src/math.js",
      "echo probed",
    ].join("; ");
    const model = await ModelServer.start([toolTurn("bash", { command: probe }), endTurn("Changed math.js.")]);
    try {
      const result = await runJobSpec(specFor(model, "r-job-3"), { cacheDir: join(root, "runner"), ...SANDBOX, signal: new AbortController().signal });
      const output = toolResultsIn(model.requests[1]?.body ?? {})[0]?.content ?? "";
      expect(output).toContain("probed");
      expect(output).not.toContain("BUNDLES-VISIBLE");
      // The bundle the job returns is afk's git's, of the agent's real change, and applies as such.
      if (result.bundle === undefined) throw new Error("no bundle");
      const afk = await new WorkspaceCache({ cacheDir: join(root, "afk"), sandbox: { allowUnsandboxed: false } }).open({
        cloneUrl: git.cloneUrl("octo-org/app"),
        auth: { token: READ_TOKEN },
        ref: base,
        runId: "r-afk-3",
      });
      await afk.applyChangeBundle(Buffer.from(result.bundle, "base64"));
      expect(await afk.changedFiles()).toEqual(["src/math.js"]);
      expect(readFileSync(join(afk.path, "src/math.js"), "utf8")).toBe("export const planted = true;\n");
      await afk.remove();
    } finally {
      await model.close();
    }
  });

  it("says it did not start, and why, when the pinned commit cannot be had, without calling the model", async () => {
    const model = await ModelServer.start([endTurn("never")]);
    try {
      const spec = { ...specFor(model, "r-job-2"), baseSha: "b".repeat(40) };
      const result = await runJobSpec(spec, { cacheDir: join(root, "runner"), ...SANDBOX, signal: new AbortController().signal });
      expect(result.outcome).toMatchObject({ kind: "not-started", retryable: true });
      expect(result.outcome.kind === "not-started" && result.outcome.reason).toMatch(/could not prepare a worktree of octo-org\/app at bbbbbbbbbbbb/);
      expect(result.bundle).toBeUndefined();
      expect(model.requests).toHaveLength(0);
    } finally {
      await model.close();
    }
  });
});
