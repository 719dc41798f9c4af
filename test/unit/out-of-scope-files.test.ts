import { describe, expect, it } from "vitest";
import { renderPullRequest } from "../../src/progress/render-pull-request.js";
import { outOfScopeFiles } from "../../src/text/out-of-scope-files.js";
import { closingReferences, HOSTILE_TEXT, liveMentions, slashCommandLines } from "../helpers/live-text.js";

/** The root of a small JavaScript package at its base commit. */
const JS_ROOT = ["package.json", "package-lock.json", "README.md", "LICENSE", ".gitignore", "eslint.config.js", "Makefile"];

function whyOf(path: string, baseRoot: readonly string[] = JS_ROOT): string | undefined {
  return outOfScopeFiles([path], baseRoot)[0]?.why;
}

describe("outOfScopeFiles: the new files a pull request names for a reviewer to check", () => {
  it.each([
    ["src/math.js.orig", "a tool's or an editor's leftover"],
    ["src/math.js.rej", "a tool's or an editor's leftover"],
    ["debug.log", "a tool's or an editor's leftover"],
    ["logs/server.LOG", "a tool's or an editor's leftover"],
    ["src/cache.tmp", "a tool's or an editor's leftover"],
    ["config.json.bak", "a tool's or an editor's leftover"],
    ["src/.math.js.swp", "a tool's or an editor's leftover"],
    ["src/math.js~", "a tool's or an editor's leftover"],
    ["src/.DS_Store", "a tool's or an editor's leftover"],
    ["nohup.out", "a tool's or an editor's leftover"],
    ["scratch.js", "named as scratch"],
    ["src/scratchpad.ts", "named as scratch"],
    ["tmp.py", "named as scratch"],
    ["src/temp_2.js", "named as scratch"],
    ["tmp/out.json", "named as scratch"],
    ["src/temp/x.js", "named as scratch"],
    ["repro.py", "a debugging or reproduction script outside the tests"],
    ["src/repro_12.js", "a debugging or reproduction script outside the tests"],
    ["scripts/reproduce_issue.sh", "a debugging or reproduction script outside the tests"],
    ["reproduction.mjs", "a debugging or reproduction script outside the tests"],
    ["src/debug.js", "a debugging or reproduction script outside the tests"],
    ["debug-parser.ts", "a debugging or reproduction script outside the tests"],
    ["notes.md", "a working note"],
    ["docs/NOTES-fix.md", "a working note"],
    ["todo.txt", "a working note"],
    ["fix.py", "new at the repository's root, unlike any file there"],
    ["patch.diff", "new at the repository's root, unlike any file there"],
    [".env.local", undefined],
  ])("%s: %s", (path, why) => {
    expect(whyOf(path)).toBe(why);
  });

  it.each([
    // Ordinary new source and tests.
    "src/multiply.js",
    "test/multiply.test.js",
    // Reproductions and debugging where they belong: in the tests.
    "test/repro_issue_12.test.js",
    "tests/reproduce_overflow.py",
    "src/__tests__/debug-output.js",
    "src/parser.repro.test.ts",
    "pkg/test_repro.py",
    // Names that only start like scratch.
    "src/template.ts",
    "templates/page.html",
    "src/temperature.js",
    "src/debugger-protocol.ts",
    "src/reprocess.js",
    "notebook.md",
    // Root files the root's own conventions explain.
    "CHANGELOG.md",
    "CONTRIBUTING",
    "SECURITY.md",
    "vitest.config.js",
    "tsconfig.json",
    ".prettierrc",
  ])("%s is in scope", (path) => {
    expect(whyOf(path)).toBeUndefined();
  });

  it("judges root files by the base commit's root: a .py file is explained at a Python root, not at a JavaScript one", () => {
    expect(whyOf("conftest.py", ["pyproject.toml", "setup.py", "README.md"])).toBeUndefined();
    expect(whyOf("conftest.py", JS_ROOT)).toBe("new at the repository's root, unlike any file there");
    // A name without an extension is explained only by the same name (a second Makefile cannot exist; a Dockerfile is new).
    expect(whyOf("Dockerfile", JS_ROOT)).toBe("new at the repository's root, unlike any file there");
    expect(whyOf("Dockerfile", [...JS_ROOT, "Dockerfile"])).toBeUndefined();
    // A dotfile is explained by any dotfile at the root; with none, it is named.
    expect(whyOf(".nvmrc", ["package.json"])).toBe("new at the repository's root, unlike any file there");
  });

  it("names each path once, in the order given, and names nothing for a change without new files", () => {
    expect(outOfScopeFiles(["repro.py", "src/ok.js", "debug.log", "repro.py"], JS_ROOT)).toEqual([
      { path: "repro.py", why: "a debugging or reproduction script outside the tests" },
      { path: "debug.log", why: "a tool's or an editor's leftover" },
    ]);
    expect(outOfScopeFiles([], JS_ROOT)).toEqual([]);
  });
});

describe("the pull request's section of files to check", () => {
  const facts = {
    issue: 7,
    issueTitle: "Add multiply",
    runId: "r-1",
    requestedBy: "octocat",
    model: "m",
    summary: "Added multiply.",
    gate: { command: "npm test", exitCode: 0, output: "ok", rounds: 1, durationMs: 1 },
    changedFiles: ["src/math.js", "repro.py"],
    spend: { usd: 0, turns: 1 },
  };

  it("is there only when a file is named, each with why, the first twenty and a count of the rest", () => {
    expect(renderPullRequest({ ...facts, outOfScope: [] }).body).not.toContain("Files to check");
    expect(renderPullRequest(facts).body).not.toContain("Files to check");
    const many = Array.from({ length: 23 }, (_, index) => ({ path: `tmp/${index}.txt`, why: "named as scratch" }));
    const { body } = renderPullRequest({ ...facts, outOfScope: [{ path: "repro.py", why: "a reproduction" }, ...many] });
    expect(body).toContain("## Files to check");
    expect(body).toContain("- `repro.py`: a reproduction");
    expect(body).toContain("- `tmp/18.txt`: named as scratch");
    expect(body).not.toContain("tmp/19.txt`");
    expect(body).toContain("- …and 4 more");
  });

  it("publishes the agent's file names inert: no mention, slash command or closing reference", () => {
    const hostile = HOSTILE_TEXT.split("\n").map((line) => ({ path: line, why: "named as scratch" }));
    const { body } = renderPullRequest({ ...facts, outOfScope: [...hostile, { path: "a`b @someone/fixes #2", why: "named as scratch" }] });
    expect(closingReferences(body)).toEqual(["Closes #7"]);
    expect(liveMentions(body)).toEqual(["@octocat"]);
    expect(slashCommandLines(body)).toEqual([]);
    expect(body).not.toContain("<!--");
  });
});
