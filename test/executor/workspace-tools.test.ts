import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, existsSync, realpathSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WorkspaceTools } from "../../src/executor/agent/workspace-tools.js";
import { createSandbox } from "../../src/executor/sandbox.js";

let root: string;
let worktree: string;
let outside: string;
let tools: WorkspaceTools;
const SECRET = "ghs_secret_token_for_redaction_0123456789";

beforeAll(async () => {
  root = realpathSync(mkdtempSync(join(tmpdir(), "afk-tools-")));
  worktree = join(root, "worktree");
  outside = join(root, "outside");
  mkdirSync(join(worktree, "src"), { recursive: true });
  mkdirSync(outside);
  mkdirSync(join(root, "home"));
  writeFileSync(join(worktree, ".git"), "gitdir: /somewhere\n");
  writeFileSync(join(worktree, "src", "a.txt"), "one\ntwo\nthree\n");
  writeFileSync(join(outside, "private.txt"), "outside content\n");
  symlinkSync(join(outside, "private.txt"), join(worktree, "link-to-file"));
  symlinkSync(outside, join(worktree, "link-to-dir"));
  symlinkSync("src/a.txt", join(worktree, "inside-link"));
  const sandbox = await createSandbox({ worktree, home: join(root, "home") }, { allowUnsandboxed: false });
  tools = new WorkspaceTools({ sandbox, commandTimeoutMs: 10_000, network: false, maxResultChars: 2_000, secrets: [SECRET] });
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

const edit = (input: Record<string, unknown>) => tools.execute("str_replace_based_edit_tool", input);

describe("the editor tool", () => {
  it("views files with line numbers and ranges, and directories two levels deep", async () => {
    expect((await edit({ command: "view", path: "src/a.txt" })).content).toBe("     1\tone\n     2\ttwo\n     3\tthree\n     4\t");
    expect((await edit({ command: "view", path: join(worktree, "src/a.txt"), view_range: [2, 2] })).content).toBe("     2\ttwo");
    const listing = (await edit({ command: "view", path: "." })).content;
    expect(listing).toContain(join(worktree, "src", "a.txt"));
    expect(listing).not.toContain(".git");
  });

  it("creates, replaces exactly one match, and inserts", async () => {
    expect(await edit({ command: "create", path: "new/dir/file.txt", file_text: "alpha\nbeta\n" })).toEqual({ content: `Created ${join(worktree, "new/dir/file.txt")}.`, isError: false });
    expect((await edit({ command: "str_replace", path: "new/dir/file.txt", old_str: "gamma", new_str: "x" })).content).toMatch(/was not found/);
    writeFileSync(join(worktree, "twice.txt"), "x x");
    expect((await edit({ command: "str_replace", path: "twice.txt", old_str: "x", new_str: "y" })).content).toMatch(/occurs 2 times/);
    expect((await edit({ command: "str_replace", path: "new/dir/file.txt", old_str: "beta", new_str: "$& BETA" })).isError).toBe(false);
    expect(readFileSync(join(worktree, "new/dir/file.txt"), "utf8")).toBe("alpha\n$& BETA\n");
    expect((await edit({ command: "insert", path: "new/dir/file.txt", insert_line: 1, insert_text: "inserted" })).isError).toBe(false);
    expect(readFileSync(join(worktree, "new/dir/file.txt"), "utf8")).toBe("alpha\ninserted\n$& BETA\n");
    expect((await edit({ command: "view", path: "inside-link" })).content).toContain("one");
  });

  it.each([
    ["an absolute path outside", { command: "view", path: "OUTSIDE/private.txt" }],
    ["a ../ path", { command: "view", path: "../outside/private.txt" }],
    ["/etc/passwd", { command: "view", path: "/etc/passwd" }],
    ["a symlink to a file outside", { command: "view", path: "link-to-file" }],
    ["writing through a symlink to a file outside", { command: "create", path: "link-to-file", file_text: "pwned" }],
    ["creating through a symlinked directory", { command: "create", path: "link-to-dir/new.txt", file_text: "pwned" }],
    ["replacing through a symlinked directory", { command: "str_replace", path: "link-to-dir/private.txt", old_str: "outside", new_str: "pwned" }],
    ["writing .git", { command: "create", path: ".git/config", file_text: "[core]\n\tfsmonitor = evil" }],
    ["replacing in .git", { command: "create", path: ".git", file_text: "gitdir: /evil" }],
  ])("refuses %s", async (_what, input) => {
    const result = await edit({ ...input, path: input.path.replace("OUTSIDE", outside) });
    expect(result.isError).toBe(true);
    expect(result.content).toMatch(/outside the repository|inside \.git/);
    expect(readFileSync(join(outside, "private.txt"), "utf8")).toBe("outside content\n");
    expect(existsSync(join(outside, "new.txt"))).toBe(false);
    expect(readFileSync(join(worktree, ".git"), "utf8")).toBe("gitdir: /somewhere\n");
  });

  it("answers bad input with an error the model can act on", async () => {
    expect(await edit({ command: "delete", path: "x" })).toMatchObject({ isError: true, content: expect.stringMatching(/Invalid input/) });
    expect(await tools.execute("computer", {})).toMatchObject({ isError: true, content: expect.stringMatching(/no tool named "computer"/) });
  });
});

describe("the bash tool", () => {
  it("runs in the sandbox at the worktree root and reports the exit code", async () => {
    expect(await tools.execute("bash", { command: "pwd" })).toEqual({ content: `${worktree}\n`, isError: false });
    const failed = await tools.execute("bash", { command: "echo oops; exit 4" });
    expect(failed).toEqual({ content: "oops\n\n[exit code 4]", isError: true });
    expect((await tools.execute("bash", { restart: true })).content).toMatch(/restarted/);
  });

  it("keeps the head and tail of long output and redacts secrets, also base64-encoded", async () => {
    const result = await tools.execute("bash", { command: `echo START; seq 1 5000; echo ${SECRET}; echo -n x-access-token:${SECRET} | base64 -w0; echo; echo END` });
    expect(result.content.length).toBeLessThan(2_200);
    expect(result.content.startsWith("START")).toBe(true);
    expect(result.content).toContain("END");
    expect(result.content).toContain("characters omitted");
    expect(result.content).not.toContain(SECRET);
    expect(result.content).not.toContain(Buffer.from(`x-access-token:${SECRET}`).toString("base64"));
    expect(result.content).toContain("[redacted]");
  });
});
