import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { formatFindings, runDoctor } from "../../src/cli/doctor.js";
import { EXIT, parseCliArgs } from "../../src/cli/parse-cli-args.js";
import { runLocal } from "../../src/cli/run-local.js";
import { testPrivateKey } from "../helpers/afk-harness.js";
import { endTurn, FIXTURE_FILES, toolTurn } from "../helpers/git-scenario.js";
import { GitHubEmulator } from "../helpers/emulator/index.js";
import { localCheckout } from "../helpers/local-checkout.js";
import { ModelServer } from "../helpers/model-server.js";

let root: string;
let model: ModelServer | undefined;
const KEY = "sk-ant-api03-cli-test-key-000000000000";

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "afk-cli-"));
});

afterEach(async () => {
  await model?.close();
  model = undefined;
  rmSync(root, { recursive: true, force: true });
});

function checkout(files: Record<string, string>): string {
  return localCheckout(root, files);
}

async function afkRun(argv: string[], env: Record<string, string>): Promise<{ code: number; output: string; errors: string }> {
  const command = parseCliArgs(["run", ...argv]);
  if (command.kind !== "run") throw new Error(`not a run command: ${JSON.stringify(command)}`);
  const lines: string[] = [];
  const errors: string[] = [];
  const code = await runLocal(command, {
    env: { AFK_CACHE_DIR: join(root, "cache"), ...env },
    out: (line) => lines.push(line),
    err: (line) => errors.push(line),
    signal: new AbortController().signal,
  });
  return { code, output: lines.join("\n"), errors: errors.join("\n") };
}

describe("afk run", () => {
  it("runs the agent on a checkout's HEAD in its own worktree and leaves the result on a local branch", async () => {
    const repo = checkout({ ...FIXTURE_FILES, ".github/afk.yml": "test: node --test\n" });
    const headBefore = execFileSync("git", ["-C", repo, "rev-parse", "HEAD"], { encoding: "utf8" });
    model = await ModelServer.start([
      toolTurn("str_replace_based_edit_tool", {
        command: "create",
        path: "test/sub.test.js",
        file_text: 'import { test } from "node:test";\nimport assert from "node:assert/strict";\ntest("sub", () => assert.equal(3 - 1, 2));\n',
      }),
      endTurn("Added a subtraction test."),
    ]);
    const { code, output } = await afkRun(["--repo", repo, "--task", "Add a test for subtraction"], { ANTHROPIC_API_KEY: KEY, ANTHROPIC_BASE_URL: model.url });
    expect(output).toContain("agent working (claude-sonnet-5-5)");
    expect(output).toContain("running the tests: node --test");
    expect(output).toMatch(/PASSED: branch afk\/add-a-test-for-subtraction in .* \(1 files, commit [0-9a-f]{12}\)/);
    expect(output).toContain("tests: node --test → exit 0 after 1 round(s)");
    expect(code).toBe(EXIT.ok);
    expect(execFileSync("git", ["-C", repo, "show", "afk/add-a-test-for-subtraction:test/sub.test.js"], { encoding: "utf8" })).toContain('test("sub"');
    // The checkout itself is untouched: same HEAD, clean tree, still on main.
    expect(execFileSync("git", ["-C", repo, "rev-parse", "HEAD"], { encoding: "utf8" })).toBe(headBefore);
    expect(execFileSync("git", ["-C", repo, "status", "--porcelain"], { encoding: "utf8" })).toBe("");
    expect(readFileSync(join(repo, ".git", "HEAD"), "utf8")).toBe("ref: refs/heads/main\n");
  });

  it("says exactly what is missing: the key, a test command, a readable issue file", async () => {
    const repo = checkout(FIXTURE_FILES);
    expect(await afkRun(["--repo", repo, "--task", "x"], {})).toEqual({
      code: EXIT.failed,
      output: "",
      errors: "afk: ANTHROPIC_API_KEY is not set: export it (an Anthropic API key) and run again.",
    });
    const noTest = await afkRun(["--repo", repo, "--task", "x"], { ANTHROPIC_API_KEY: KEY });
    expect(noTest.code).toBe(EXIT.usage);
    expect(noTest.errors).toContain('has no .github/afk.yml: pass the test command with --test "npm test"');
    const noFile = await afkRun(["--repo", repo, "--issue-file", join(root, "missing.md"), "--test", "true"], { ANTHROPIC_API_KEY: KEY });
    expect(noFile.errors).toMatch(/cannot read the issue file: ENOENT/);
    const notGit = await afkRun(["--repo", root, "--task", "x", "--test", "true"], { ANTHROPIC_API_KEY: KEY });
    expect(notGit.errors).toMatch(/is not a git checkout/);
    const badModel = await afkRun(["--repo", repo, "--task", "x", "--test", "true", "--model", "gpt-4"], { ANTHROPIC_API_KEY: KEY });
    expect(badModel).toMatchObject({ code: EXIT.usage, output: "" });
    expect(badModel.errors).toMatch(/no price for the model gpt-4/);
  });
});

describe("afk doctor", () => {
  it("checks the machine, the model and the App, and says what to fix", async () => {
    const github = await GitHubEmulator.start();
    model = await ModelServer.start([]);
    model.acceptedKeys.push(KEY);
    try {
      const env = {
        AFK_CACHE_DIR: join(root, "cache"),
        ANTHROPIC_API_KEY: KEY,
        ANTHROPIC_BASE_URL: model.url,
        APP_ID: String(github.appId),
        PRIVATE_KEY: testPrivateKey(),
        WEBHOOK_SECRET: "secret",
        GHE_HOST: github.host,
        GHE_PROTOCOL: "http",
      };
      const healthy = await runDoctor({ ...env, AFK_ALLOWLIST: "octo-org/*" }, root);
      expect(healthy.map((finding) => [finding.check, finding.verdict])).toEqual([
        [".env", "skip"],
        ["node", "ok"],
        ["git", "ok"],
        ["operator settings", "ok"],
        ["allowlist", "ok"],
        ["bubblewrap", "ok"],
        ["sandbox limits", "ok"],
        ["sandbox network", "ok"],
        ["cache directory", "ok"],
        ["model", "ok"],
        ["GitHub App", "ok"],
        ["App permissions", "ok"],
        ["App events", "ok"],
      ]);

      github.appPermissions = { metadata: "read", issues: "write", contents: "read" };
      github.appEvents = ["issues"];
      const sick = await runDoctor({ ...env, ANTHROPIC_API_KEY: "sk-ant-wrong-key-0000000000", AFK_MODEL: "claude-nonexistent" }, root);
      const report = formatFindings(sick);
      expect(report).toContain("✗ model: the Anthropic API refused ANTHROPIC_API_KEY (401)");
      expect(report).toMatch(
        /✗ App permissions: afk lacks pull_requests: write, contents: write, checks: write, statuses: read, actions: read\n {4}fix: grant them in the App's settings/,
      );
      expect(report).toContain("✗ App events: not subscribed to issue_comment, check_run, check_suite, pull_request, pull_request_review");
      const skipped = formatFindings(await runDoctor({ AFK_CACHE_DIR: join(root, "cache") }, root));
      expect(skipped).toContain("✗ model: ANTHROPIC_API_KEY is not set\n    fix: export ANTHROPIC_API_KEY=<your Anthropic API key>");
      expect(skipped).toContain("- GitHub App: APP_ID and PRIVATE_KEY (or PRIVATE_KEY_PATH) are not set");
    } finally {
      await github.close();
    }
  });
});
