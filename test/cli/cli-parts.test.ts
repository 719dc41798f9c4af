// The pure parts of the command line: argument parsing, the lines `afk run` prints, and the .env reading.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { describeToolCall } from "../../src/cli/describe-tool-call.js";
import { parseCliArgs } from "../../src/cli/parse-cli-args.js";
import { probotEnvironment } from "../../src/config/probot-environment.js";
import { terminalLine, terminalSafe } from "../../src/cli/terminal-text.js";

describe("parseCliArgs", () => {
  it.each([
    [
      ["run", "--task", "Fix it", "--repo", "../app", "--max-usd", "2.5", "--max-turns", "20", "--test", "npm test", "--model", "claude-haiku-4-5"],
      { kind: "run", repo: "../app", task: { text: "Fix it" }, model: "claude-haiku-4-5", test: "npm test", maxUsd: 2.5, maxTurns: 20 },
    ],
    [
      ["run", "--issue-file=issue.md"],
      { kind: "run", repo: ".", task: { file: "issue.md" }, model: undefined, test: undefined, maxUsd: undefined, maxTurns: undefined },
    ],
    [["run", "--task", "x", "--help"], { kind: "help", topic: "run" }],
    [["doctor"], { kind: "doctor", job: false }],
    [["doctor", "--job"], { kind: "doctor", job: true }],
    [["doctor", "-h"], { kind: "help", topic: "doctor" }],
    [["--version"], { kind: "version" }],
    [["help", "frob"], { kind: "error", message: 'unknown command "frob"; the commands are run, eval, log, doctor, init-runner, job, help', topic: "afk" }],
    [["run", "--task", "a", "--issue-file", "b"], { kind: "error", message: 'give exactly one of --task "TEXT" or --issue-file FILE', topic: "run" }],
    [["run", "--task", "a", "--task", "b"], { kind: "error", message: "--task is given twice; give it once", topic: "run" }],
    [["run", "--task", ""], { kind: "error", message: "--task needs a value", topic: "run" }],
    [["run", "--task", "x", "--max-turns", "2.5"], { kind: "error", message: "--max-turns must be a whole number of at least 1", topic: "run" }],
  ])("afk %j", (argv, expected) => {
    expect(parseCliArgs(argv)).toEqual(expected);
  });
});

describe("terminalSafe", () => {
  it("removes whole escape sequences and control characters, keeping the text, tabs and newlines", () => {
    expect(
      terminalSafe("\u001b[1;31mred\u001b[0m\tok\r\nnext \u001b]0;title\u0007line\u001b]8;;https://x.example\u001b\\link\u001b]8;;\u001b\\ \u009b2Jz\u0008"),
    ).toBe("red\tok\nnext linelink z");
    expect(terminalSafe("a\u202Eb\u200Bc")).toBe("abc");
  });

  it("leaves nothing a terminal acts on, whatever the input", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary" }), (text) => {
        expect(terminalSafe(text)).not.toMatch(/[\u0000-\u0008\u000B-\u001F\u007F-\u009F]/);
      }),
    );
  });

  it("terminalLine keeps one line and says how many more there were", () => {
    expect(terminalLine("npm ci\nnpm test\nnpm run lint")).toBe("npm ci (+2 more lines)");
    expect(terminalLine("x".repeat(200), 10)).toBe(`${"x".repeat(9)}…`);
  });
});

describe("describeToolCall", () => {
  const worktree = "/cache/runs/r-1/worktree";
  it.each([
    [{ name: "bash", input: { command: "npm test -- --watch=false" } }, "$ npm test -- --watch=false"],
    [{ name: "bash", input: { restart: true } }, undefined],
    [{ name: "str_replace_based_edit_tool", input: { command: "str_replace", path: "src/a.ts", old_str: "a", new_str: "b" } }, "edit src/a.ts"],
    [{ name: "str_replace_based_edit_tool", input: { command: "insert", path: `${worktree}/src/b.ts`, insert_line: 1, insert_text: "x" } }, "edit src/b.ts"],
    [{ name: "str_replace_based_edit_tool", input: { command: "create", path: "/etc/passwd", file_text: "x" } }, "create /etc/passwd"],
    [{ name: "str_replace_based_edit_tool", input: { command: "view", path: "src/a.ts" } }, undefined],
    [{ name: "str_replace_based_edit_tool", input: { command: "create" } }, undefined],
    [{ name: "web_fetch", input: { url: "https://x.example" } }, undefined],
  ])("%j → %j", (call, line) => {
    expect(describeToolCall(call, worktree)).toBe(line);
  });
});

describe("probotEnvironment", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "afk-dotenv-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("applies .env over the environment as Probot's applyEnv does, and names what it replaced", async () => {
    writeFileSync(
      join(dir, ".env"),
      'APP_ID=12\nPRIVATE_KEY=-----BEGIN RSA PRIVATE KEY-----\\nabc\\n-----END RSA PRIVATE KEY-----\n# a comment\nWEBHOOK_SECRET="quoted secret"',
    );
    const read = await probotEnvironment({ APP_ID: "1", PATH: "/bin", WEBHOOK_SECRET: "quoted secret" }, dir);
    expect(read.env).toEqual({
      APP_ID: "12",
      PATH: "/bin",
      PRIVATE_KEY: "-----BEGIN RSA PRIVATE KEY-----\\nabc\\n-----END RSA PRIVATE KEY-----",
      WEBHOOK_SECRET: "quoted secret",
    });
    expect(read.dotEnv).toEqual({ path: join(dir, ".env"), names: ["APP_ID", "PRIVATE_KEY", "WEBHOOK_SECRET"], overriding: ["APP_ID"] });
  });

  it("without a .env is the environment as it is", async () => {
    expect(await probotEnvironment({ APP_ID: "1" }, dir)).toEqual({ env: { APP_ID: "1" }, dotEnv: undefined });
  });
});
