// `afk log RUN_ID` as a person runs it: in a real clone of a repository whose remote holds afk's run
// log refs, it fetches refs/afk/runs/RUN_ID and prints run.md (or run.jsonl), terminal-safe.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { LOG_HELP, parseLogArgs, showRunLog } from "../../src/cli/log.js";

const RUN_ID = "r-mabc1234-0a1b2c3d";
const ENV = { ...process.env, GIT_AUTHOR_NAME: "afk", GIT_AUTHOR_EMAIL: "afk@example.com", GIT_COMMITTER_NAME: "afk", GIT_COMMITTER_EMAIL: "afk@example.com" };
const roots: string[] = [];

afterEach(() => {
  for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
});

function git(cwd: string, args: string[], input?: string): string {
  return execFileSync("git", args, { cwd, env: ENV, encoding: "utf8", ...(input === undefined ? {} : { input }) }).trim();
}

/** A commit holding just run.md and run.jsonl, as afk writes a run log (on `parent`, a later job's). */
function logCommit(bare: string, markdown: string, jsonl: string, parent?: string): string {
  const md = git(bare, ["hash-object", "-w", "--stdin"], markdown);
  const js = git(bare, ["hash-object", "-w", "--stdin"], jsonl);
  const tree = git(bare, ["mktree"], `100644 blob ${js}\trun.jsonl\n100644 blob ${md}\trun.md\n`);
  return git(bare, ["commit-tree", tree, "-m", "afk run log", ...(parent === undefined ? [] : ["-p", parent])]);
}

/** A bare repository with one commit on main and a clone of it; returns both. */
function repository(): { bare: string; clone: string } {
  const root = mkdtempSync(join(tmpdir(), "afk-log-"));
  roots.push(root);
  const seed = join(root, "seed");
  const bare = join(root, "origin.git");
  execFileSync("git", ["init", "-q", "-b", "main", seed], { env: ENV });
  git(seed, ["commit", "-q", "--allow-empty", "-m", "start"]);
  execFileSync("git", ["clone", "-q", "--bare", seed, bare], { env: ENV });
  const clone = join(root, "clone");
  execFileSync("git", ["clone", "-q", bare, clone], { env: ENV });
  return { bare, clone };
}

async function afkLog(clone: string, argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const args = parseLogArgs(argv);
  if (args.kind !== "log") throw new Error(`not a log command: ${JSON.stringify(args)}`);
  let out = "";
  const err: string[] = [];
  const code = await showRunLog(args, { cwd: clone, out: (text) => (out += text), err: (line) => err.push(line), env: ENV });
  return { code, out, err: err.join("\n") };
}

describe("afk log", () => {
  it("fetches refs/afk/runs/<id> from origin and prints run.md, or run.jsonl with --jsonl; each job of the run, oldest first", async () => {
    const { bare, clone } = repository();
    const first = logCommit(bare, "# afk run log: implement\n", '{"kind":"user","text":"implement"}\n');
    const second = logCommit(bare, "# afk run log: fix-ci\n", '{"kind":"user","text":"fix"}\n', first);
    git(bare, ["update-ref", `refs/afk/runs/${RUN_ID}`, second]);

    expect(await afkLog(clone, [RUN_ID])).toEqual({ code: 0, out: "# afk run log: implement\n\n# afk run log: fix-ci\n", err: "" });
    expect(await afkLog(clone, [RUN_ID, "--jsonl"])).toEqual({
      code: 0,
      out: '{"kind":"user","text":"implement"}\n{"kind":"user","text":"fix"}\n',
      err: "",
    });
  });

  it("prints the agent's text terminal-safe: no escape sequence or control character reaches the terminal", async () => {
    const { bare, clone } = repository();
    const hostile = "before \u001b]0;pwned\u0007\u001b[31mred\u001b[0m \u009b2J after\u202e\r\n";
    git(bare, ["update-ref", `refs/afk/runs/${RUN_ID}`, logCommit(bare, hostile, "{}\n")]);
    const shown = await afkLog(clone, [RUN_ID]);
    expect(shown.code).toBe(0);
    expect(shown.out).toBe("before red  after\n");
    expect(shown.out).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202e]/);
  });

  it("another remote with --remote; a run log that is not there says why it may be missing", async () => {
    const { bare, clone } = repository();
    git(clone, ["remote", "add", "upstream", bare]);
    git(bare, ["update-ref", `refs/afk/runs/${RUN_ID}`, logCommit(bare, "# upstream's\n", "{}\n")]);
    expect((await afkLog(clone, [RUN_ID, "--remote", "upstream"])).out).toBe("# upstream's\n");

    const missing = await afkLog(clone, ["r-mabc1234-ffffffff"]);
    expect(missing.code).toBe(1);
    expect(missing.err).toBe("afk log: no run log r-mabc1234-ffffffff on origin: it may have expired after AFK_RUN_LOG_DAYS, or the run had no agent session.");
    const noRemote = await afkLog(clone, [RUN_ID, "--remote", "nowhere"]);
    expect(noRemote.code).toBe(1);
    expect(noRemote.err).toMatch(/^afk log: git could not fetch refs\/afk\/runs\/r-mabc1234-0a1b2c3d from nowhere: .*nowhere/s);
  });

  it.each([
    [[], "afk log needs a run id (afk's progress comment and check run name it)"],
    [["--remote"], "--remote needs the name of a remote (such as origin)"],
    [[RUN_ID, "--remote", "--upload-pack=touch /tmp/x"], '"--upload-pack=touch /tmp/x" is not a remote\'s name'],
    [["--upload-pack=evil"], 'afk log has no option "--upload-pack=evil"'],
    [["../../heads/main"], '"../../heads/main" is not an afk run id (they look like r-m1abcd2e-1a2b3c4d)'],
    [[RUN_ID, "r-other-00000000"], `afk log takes one run id, not "${RUN_ID}" and "r-other-00000000"`],
  ])("refuses %j: %s", (argv, message) => {
    expect(parseLogArgs(argv)).toEqual({ kind: "usage-error", message });
  });

  it("parses options in any order, and --help", () => {
    expect(parseLogArgs(["--jsonl", "--remote=upstream", RUN_ID])).toEqual({ kind: "log", runId: RUN_ID, remote: "upstream", jsonl: true });
    expect(parseLogArgs([RUN_ID])).toEqual({ kind: "log", runId: RUN_ID, remote: "origin", jsonl: false });
    expect(parseLogArgs([RUN_ID, "-h"])).toEqual({ kind: "help" });
    expect(LOG_HELP).toMatch(/^Usage: afk log RUN_ID \[--remote NAME\] \[--jsonl\]/);
  });
});
