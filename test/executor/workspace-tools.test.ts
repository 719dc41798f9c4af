import { execFileSync, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, truncateSync, writeFileSync, existsSync, realpathSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WorkspaceTools } from "../../src/executor/agent/workspace-tools.js";
import { createSandbox } from "../../src/executor/sandbox.js";
import { rssGrowthOf } from "../helpers/rss-growth.js";

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
    expect(await edit({ command: "create", path: "new/dir/file.txt", file_text: "alpha\nbeta\n" })).toEqual({
      content: `Created ${join(worktree, "new/dir/file.txt")}.`,
      isError: false,
    });
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

describe("the editor tool against a hostile agent's files", () => {
  const SPARSE_BYTES = 1500 * 1024 * 1024;
  const OUTSIDE_SECRET = "ANTHROPIC_API_KEY=sk-ant-outside-secret\n";
  let hostile: string;

  beforeAll(() => {
    hostile = join(worktree, "hostile");
    mkdirSync(hostile);
    // `printf ... > big.log && truncate -s 1500M big.log`: three lines, then 1.5 GB of zeros on no disk.
    writeFileSync(join(hostile, "big.log"), "first\nsecond\nthird\n");
    truncateSync(join(hostile, "big.log"), SPARSE_BYTES);
    execFileSync("mkfifo", [join(hostile, "pipe")]);
    writeFileSync(join(outside, "secret.env"), OUTSIDE_SECRET);
  });

  it("refuses to view a 1.5 GB sparse file whole, saying what to do instead, and afk's memory does not grow", async () => {
    const { result, growthMb } = await rssGrowthOf(() => edit({ command: "view", path: "hostile/big.log" }));
    expect(result).toEqual({
      isError: true,
      content: `${join(hostile, "big.log")} is 1.5 GB; view reads whole files of at most 4 MB. Use view_range to read some of its lines, or bash (head, sed -n, grep) instead.`,
    });
    expect(growthMb).toBeLessThan(50);
  });

  it.each([
    ["str_replace", { old_str: "first", new_str: "x" }],
    ["insert", { insert_line: 1, insert_text: "x" }],
  ])("refuses %s in a 1.5 GB sparse file, pointing at bash, and afk's memory does not grow", async (command, input) => {
    const { result, growthMb } = await rssGrowthOf(() => edit({ command, path: "hostile/big.log", ...input }));
    expect(result.isError).toBe(true);
    expect(result.content).toBe(`${join(hostile, "big.log")} is 1.5 GB; ${command} edits files of at most 4 MB. Use bash instead (sed -i, or a script).`);
    expect(growthMb).toBeLessThan(50);
    expect(statSync(join(hostile, "big.log")).size).toBe(SPARSE_BYTES);
  });

  it("views a range of lines at the start of the 1.5 GB file, reading only as far as the range", async () => {
    const { result, growthMb } = await rssGrowthOf(() => edit({ command: "view", path: "hostile/big.log", view_range: [2, 3] }));
    expect(result).toEqual({ isError: false, content: "     2\tsecond\n     3\tthird" });
    expect(growthMb).toBeLessThan(50);
  });

  it("views a range deep inside a file too large to view whole", async () => {
    const path = join(hostile, "long.txt");
    const lineText = (n: number): string => `line ${n} ${"é".repeat(n % 7)}`;
    writeFileSync(path, `${Array.from({ length: 800_000 }, (_, index) => lineText(index + 1)).join("\n")}\n`);
    expect(statSync(path).size).toBeGreaterThan(8 * 1024 * 1024);
    expect((await edit({ command: "view", path: "hostile/long.txt" })).content).toMatch(/long\.txt is 1[0-9] MB; view reads whole files of at most 4 MB/);
    const { result, growthMb } = await rssGrowthOf(() => edit({ command: "view", path: "hostile/long.txt", view_range: [700_000, 700_002] }));
    expect(result).toEqual({ isError: false, content: `700000\t${lineText(700_000)}\n700001\t${lineText(700_001)}\n700002\t${lineText(700_002)}` });
    expect(growthMb).toBeLessThan(50);
    expect((await edit({ command: "view", path: "hostile/long.txt", view_range: [800_000, -1] })).content).toBe(`800000\t${lineText(800_000)}\n800001\t`);
    expect((await edit({ command: "view", path: "hostile/long.txt", view_range: [800_003, 800_004] })).content).toBe(
      `view_range [800003, 800004] is outside ${path} (800001 lines).`,
    );
  });

  it("windows a wide range of a file too large to view whole, saying which lines of the range it left out", async () => {
    const path = join(hostile, "wide.txt");
    writeFileSync(path, `${Array.from({ length: 500_000 }, (_, index) => `row ${index + 1}`).join("\n")}\n`);
    expect(statSync(path).size).toBeGreaterThan(4 * 1024 * 1024);
    const { result, growthMb } = await rssGrowthOf(() => edit({ command: "view", path: "hostile/wide.txt", view_range: [10, 50_000] }));
    const shown = result.content.split("\n").filter((line) => /^ *\d+\t/.test(line));
    const last = 9 + shown.length;
    expect(shown.at(-1)).toBe(`${String(last).padStart(6)}\trow ${last}`);
    // The file's line count is not known without reading it all: the note says what is left of the range.
    expect(result.content).toContain(
      `[afk: lines 10–${last} of ${path} are shown (a view shows at most 1000 characters); lines ${last + 1}–50000 (${50_000 - last} lines) are not. See them with view_range [${last + 1}, 50000]`,
    );
    expect(growthMb).toBeLessThan(50);
  });

  it("shows the head of a line as long as the file, and says how to read the rest of it", async () => {
    const { result, growthMb } = await rssGrowthOf(() => edit({ command: "view", path: "hostile/big.log", view_range: [4, 4] }));
    expect(result.isError).toBe(false);
    // The tools here keep 2,000 characters of any result: a view keeps 1,000 of them (the window and its note), and is cut once.
    const path = join(hostile, "big.log");
    expect(result.content).toBe(
      `     4\t${"\u0000".repeat(393)}\n[afk: line 4 of ${path} is longer than a view shows: its first 393 characters are shown, the rest of it not. ` +
        `Read it in pieces with bash: sed -n '4p' ${path} | cut -c 394-786.]`,
    );
    expect(growthMb).toBeLessThan(50);
  });

  it("refuses a range that lies beyond how far a view reads, pointing at bash, within a bound", async () => {
    const started = performance.now();
    const { result, growthMb } = await rssGrowthOf(() => edit({ command: "view", path: "hostile/big.log", view_range: [10, 20] }));
    expect(result).toEqual({
      isError: true,
      content: `${join(hostile, "big.log")} is 1.5 GB; view_range reads at most its first 64 MB (3 lines there), and line 20 lies beyond. Use bash instead: sed -n '10,20p' or tail -n.`,
    });
    expect(growthMb).toBeLessThan(50);
    expect(performance.now() - started).toBeLessThan(5_000);
  });

  it.each([
    ["view", { command: "view" }],
    ["view with a range", { command: "view", view_range: [1, 2] }],
    ["str_replace", { command: "str_replace", old_str: "a", new_str: "b" }],
    ["insert", { command: "insert", insert_line: 0, insert_text: "x" }],
    ["create over it", { command: "create", file_text: "x" }],
  ])("refuses a FIFO at once (%s), never blocking afk", async (_what, input) => {
    const result = await edit({ ...input, path: "hostile/pipe" });
    expect(result).toEqual({ isError: true, content: expect.stringMatching(/hostile\/pipe is not a regular file/) });
    expect(statSync(join(hostile, "pipe")).isFIFO()).toBe(true);
  });

  /**
   * The agent's background process, played by a child process: swaps `name` in the worktree between
   * a regular file (or directory) and a symbolic link to a file (or directory) outside, as fast as it can.
   */
  function startSwapping(kind: "file" | "directory", name: string, linkTo: string): () => void {
    // A fresh name each time: a swapper killed mid-swap leaves its temporary names behind.
    const script = `
      const fs = require("node:fs");
      const [kind, dir, name, linkTo] = process.argv.slice(1);
      process.chdir(dir);
      for (;;) {
        try {
          if (kind === "file") {
            fs.symlinkSync(linkTo, name + ".link"); fs.renameSync(name + ".link", name);
            fs.writeFileSync(name + ".file", "regular\\n"); fs.renameSync(name + ".file", name);
          } else {
            fs.renameSync(name, name + ".away"); fs.symlinkSync(linkTo, name);
            fs.unlinkSync(name); fs.renameSync(name + ".away", name);
          }
        } catch {}
      }`;
    const child = spawn(process.execPath, ["-e", script, kind, hostile, name, linkTo], { stdio: "ignore" });
    return () => child.kill("SIGKILL");
  }

  async function hammer(input: Record<string, unknown>, forMs: number): Promise<Array<{ content: string; isError: boolean }>> {
    const results: Array<{ content: string; isError: boolean }> = [];
    const until = performance.now() + forMs;
    while (performance.now() < until) results.push(await edit(input));
    return results;
  }

  it.each([
    ["view", { command: "view" }],
    ["view with a range", { command: "view", view_range: [1, 1] }],
    ["str_replace", { command: "str_replace", old_str: "regular", new_str: "edited" }],
    ["insert", { command: "insert", insert_line: 0, insert_text: "inserted" }],
    ["create", { command: "create", file_text: "created\n" }],
  ])("%s never follows a symbolic link swapped in for the file while afk works on it", async (what, input) => {
    const name = `swapped-${what.replaceAll(" ", "-")}`;
    writeFileSync(join(hostile, name), "regular\n");
    const stop = startSwapping("file", name, join(outside, "secret.env"));
    let results: Array<{ content: string; isError: boolean }>;
    try {
      results = await hammer({ ...input, path: `hostile/${name}` }, 1_500);
    } finally {
      stop();
    }
    expect(results.filter((result) => !result.isError).length).toBeGreaterThan(0);
    expect(results.filter((result) => result.isError).length).toBeGreaterThan(0);
    for (const result of results) expect(result.content).not.toContain("sk-ant-outside-secret");
    expect(readFileSync(join(outside, "secret.env"), "utf8")).toBe(OUTSIDE_SECRET);
  });

  it.each([
    ["view", { command: "view", path: "secret.env" }],
    ["view of the directory", { command: "view", path: "." }],
    ["create", { command: "create", path: "secret.env", file_text: "pwned\n" }],
    ["create in a new directory", { command: "create", path: "new/secret.env", file_text: "pwned\n" }],
  ])("%s never leaves the worktree through a directory swapped for a symbolic link", async (what, input) => {
    const name = `swapdir-${what.replaceAll(" ", "-")}`;
    mkdirSync(join(hostile, name));
    writeFileSync(join(hostile, name, "secret.env"), "inside\n");
    writeFileSync(join(hostile, name, "listed-inside"), "");
    writeFileSync(join(outside, "listed-outside"), "");
    const stop = startSwapping("directory", name, outside);
    let results: Array<{ content: string; isError: boolean }>;
    try {
      results = await hammer({ ...input, path: join("hostile", name, input.path) }, 1_500);
    } finally {
      stop();
    }
    expect(results.filter((result) => !result.isError).length).toBeGreaterThan(0);
    for (const result of results) {
      expect(result.content).not.toContain("sk-ant-outside-secret");
      expect(result.content).not.toContain("listed-outside");
    }
    expect(readFileSync(join(outside, "secret.env"), "utf8")).toBe(OUTSIDE_SECRET);
    expect(existsSync(join(outside, "new"))).toBe(false);
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
    const result = await tools.execute("bash", {
      command: `echo START; seq 1 5000; echo ${SECRET}; echo -n x-access-token:${SECRET} | base64 -w0; echo; echo END`,
    });
    expect(result.content.length).toBeLessThan(2_200);
    expect(result.content.startsWith("START")).toBe(true);
    expect(result.content).toContain("END");
    expect(result.content).toMatch(
      /\[afk: \d+ bytes of output were left out here \(the head and the tail are shown\)\. To see them, run the command again with its output in a file/,
    );
    expect(result.content).not.toContain(SECRET);
    expect(result.content).not.toContain(Buffer.from(`x-access-token:${SECRET}`).toString("base64"));
    expect(result.content).toContain("[redacted]");
  });
});

describe("a long result, cut once where it is made, saying exactly what was left out", () => {
  /** The tools as a run configures them: 31,500 characters a result (run-agent-in-worktree's TOOL_RESULT_CHARS). */
  let runTools: WorkspaceTools;
  const LONG = "long/three-hundred-kb.ts";
  let lines: string[];

  beforeAll(async () => {
    const sandbox = await createSandbox({ worktree, home: join(root, "home") }, { allowUnsandboxed: false });
    runTools = new WorkspaceTools({ sandbox, commandTimeoutMs: 10_000, network: false, maxResultChars: 31_500, secrets: [] });
    lines = Array.from({ length: 6_000 }, (_, index) => `export const value${index + 1} = ${JSON.stringify("x".repeat(index % 60))};`);
    mkdirSync(join(worktree, "long"), { recursive: true });
    writeFileSync(join(worktree, LONG), `${lines.join("\n")}\n`);
  });

  const view = (input: Record<string, unknown>) => runTools.execute("str_replace_based_edit_tool", { command: "view", path: LONG, ...input });
  const shownLines = (content: string) => content.split("\n").filter((line) => /^ *\d+\t/.test(line));
  const notes = (content: string) => content.match(/\[afk: /g)?.length ?? 0;

  it("views a 300 kB file as a window of its first lines, with its line count and the view_range that shows the rest", async () => {
    const text = readFileSync(join(worktree, LONG), "utf8");
    expect(text.length).toBeGreaterThan(300_000);
    const path = join(worktree, LONG);
    const { content, isError } = await view({});
    expect(isError).toBe(false);
    expect(content.length).toBeLessThanOrEqual(30_000);
    expect(notes(content)).toBe(1);
    const shown = shownLines(content);
    const last = shown.length;
    expect(shown.at(-1)).toBe(`${String(last).padStart(6)}\t${lines[last - 1]}`);
    // `view` numbers the empty line after the final newline too: 6,001 lines.
    const total = lines.length + 1;
    const leftChars = text.length - lines.slice(0, last).reduce((sum, line) => sum + line.length + 1, 0);
    expect(content).toContain(
      `[afk: lines 1–${last} of ${total} of ${path} are shown (a view shows at most 30000 characters); lines ${last + 1}–${total} (${total - last} lines, ${leftChars} characters) are not. ` +
        `See them with view_range [${last + 1}, ${total}] (a window at a time), or find what you need first with bash: grep -n 'pattern' ${path}.]`,
    );
  });

  it("windows a view_range longer than a view the same way, and the windows add up to the file", async () => {
    const seen: string[] = [];
    let next: [number, number] | undefined = [1, -1];
    while (next !== undefined) {
      const { content }: { content: string } = await view({ view_range: next });
      expect(content.length).toBeLessThanOrEqual(30_000);
      expect(notes(content)).toBeLessThanOrEqual(1);
      seen.push(...shownLines(content).map((line) => line.replace(/^ *\d+\t/, "")));
      const hint = /See them with view_range \[(\d+), (-?\d+)\]/.exec(content);
      next = hint === null ? undefined : [Number(hint[1]), Number(hint[2])];
    }
    expect(seen).toEqual([...lines, ""]);
  });

  it("cuts a command's output once, and the bytes it says it left out are the bytes missing", async () => {
    const full = `${Array.from({ length: 100_000 }, (_, index) => String(index + 1)).join("\n")}\n`;
    const { content } = await runTools.execute("bash", { command: "seq 1 100000" });
    expect(content.length).toBeLessThanOrEqual(31_500);
    const marker = /\n\n\[afk: (\d+) bytes of output were left out here \(the head and the tail are shown\)\. [^\n]*~\/out\.txt[^\n]*\]\n\n/.exec(content);
    expect(marker).not.toBeNull();
    expect(notes(content)).toBe(1);
    const head = content.slice(0, marker?.index);
    const tail = content.slice((marker?.index ?? 0) + (marker?.[0].length ?? 0));
    expect(full.startsWith(head)).toBe(true);
    expect(full.endsWith(tail)).toBe(true);
    expect(head.length + Number(marker?.[1]) + tail.length).toBe(full.length);
  });

  it("lists a directory too large for a view as its first entries, saying how many were left out", async () => {
    mkdirSync(join(worktree, "many"));
    for (let index = 0; index < 3_000; index += 1) writeFileSync(join(worktree, "many", `file-number-${String(index).padStart(5, "0")}.txt`), "");
    const { content } = await runTools.execute("str_replace_based_edit_tool", { command: "view", path: "many" });
    expect(content.length).toBeLessThanOrEqual(30_000);
    const listed = content.split("\n").filter((line) => line.startsWith(join(worktree, "many")));
    expect(content).toContain(
      `[afk: ${listed.length} of the 3000 entries two levels under ${join(worktree, "many")} are shown; the other ${3_000 - listed.length} are not.`,
    );
  });
});
