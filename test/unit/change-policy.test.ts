import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ciSkipMarkers, protectedChanges, pushRefusal, withoutCiSkipMarkers } from "../../src/executor/change-policy.js";
import { commitMessage } from "../../src/executor/commit-message.js";
import { branchName, issueOfAfkCommit, issueOfBranch } from "../../src/run-contract/branch.js";
import { parseRepoConfig } from "../../src/config/load-repo-config.js";
import { DEFAULT_PROTECTED_PATHS, type RepoConfig } from "../../src/config/repo-config.js";

/** The config a one-line `.github/afk.yml` gives. */
function parseRepoConfigOk(): RepoConfig {
  const result = parseRepoConfig({ test: "npm test" });
  if (result.kind !== "ok") throw new Error("a one-line config did not parse");
  return result.config;
}

describe("protected paths", () => {
  it.each([
    [".github/workflows/ci.yml", true],
    [".github/workflows/nested/deploy.yaml", true],
    [".github/actions/setup/action.yml", true],
    [".github/dependabot.yml", true],
    [".github/afk.yml", true],
    [".gitmodules", true],
    ["CODEOWNERS", true],
    ["docs/CODEOWNERS", true],
    [".github/CODEOWNERS", true],
    ["packages/api/CODEOWNERS", true],
    ["src/.github/workflows/x.yml", false],
    ["docs/workflows.md", false],
    ["CODEOWNERS.md", false],
    ["src/math.js", false],
  ])("the default protected_paths protect %s: %s", (file, expected) => {
    expect(protectedChanges([file], DEFAULT_PROTECTED_PATHS)).toEqual(expected ? [file] : []);
    expect(protectedChanges([file], parseRepoConfigOk().protected_paths)).toEqual(expected ? [file] : []);
  });

  it("a pattern of the repository's own protects only what it says", () => {
    expect(protectedChanges([".github/workflows/ci.yml", ".github/afk.yml"], [".github/workflows/**"])).toEqual([".github/workflows/ci.yml"]);
  });

  it("matches dotfiles and several patterns, and protects nothing with no patterns", () => {
    expect(protectedChanges(["secrets/.env", "src/a.ts", "infra/main.tf"], ["secrets/**", "**/*.tf"])).toEqual(["secrets/.env", "infra/main.tf"]);
    expect(protectedChanges([".github/workflows/ci.yml"], [])).toEqual([]);
  });

  it("refuses a push with a message naming the files and the setting", () => {
    const refusal = pushRefusal({ changedFiles: ["src/a.ts", ".github/workflows/ci.yml"], protectedPaths: [".github/workflows/**"], commitMessage: "#1: x\n" });
    expect(refusal).toContain("`.github/workflows/ci.yml`");
    expect(refusal).toContain("protected_paths");
    expect(refusal).toContain("nothing was pushed");
    expect(pushRefusal({ changedFiles: ["src/a.ts"], protectedPaths: [".github/workflows/**"], commitMessage: "#1: x\n" })).toBeUndefined();
  });
});

describe("large files", () => {
  it("refuses a change holding files over the limit before anything else, naming at most ten", () => {
    const largeFiles = Array.from({ length: 12 }, (_, index) => `data/${index}.bin`);
    const reason = pushRefusal({ changedFiles: [".github/workflows/ci.yml", ...largeFiles], protectedPaths: [".github/**"], commitMessage: "x", largeFiles });
    expect(reason).toContain("larger than 50 MB (`data/0.bin`, `data/1.bin`");
    expect(reason).toContain("and 2 more");
    expect(reason).not.toContain("data/11.bin");
    expect(pushRefusal({ changedFiles: ["a.txt"], protectedPaths: [], commitMessage: "x", largeFiles: [] })).toBeUndefined();
  });
});

describe("CI-skip markers", () => {
  it.each(["[skip ci]", "[ci skip]", "[no ci]", "[skip actions]", "[actions skip]", "***NO_CI***", "[Skip CI]"])("finds %s", (marker) => {
    expect(ciSkipMarkers(`Fix things ${marker}`)).toHaveLength(1);
    expect(pushRefusal({ changedFiles: ["a"], protectedPaths: [], commitMessage: `x ${marker}` })).toContain("CI-skip marker");
  });

  it("finds the skip-checks trailer only as a trailer line", () => {
    expect(ciSkipMarkers("subject\n\nskip-checks: true")).toHaveLength(1);
    expect(ciSkipMarkers("the skip-checks: true trailer is documented here")).toHaveLength(0);
  });

  it("keeps them out of the commit message even when the issue title and the agent's summary carry them", () => {
    const message = commitMessage({ issue: 7, title: "Faster build [skip ci]", summary: "Done. [ci skip]\nskip-checks: true", runId: "r-1" });
    expect(ciSkipMarkers(message)).toEqual([]);
    expect(message).toBe("#7: Faster build\n\nDone.\n\nCloses #7\n\nAfk-Run: r-1\n");
  });

  it.each([
    ["[skip [skip ci]ci]", ""],
    ["Fix [ci [skip ci]skip] now", "Fix now"],
    ["[skip  ci]", ""],
    ["[sk[no ci]ip ci] done", " done"],
    ["***NO_***NO_CI***CI***", ""],
    ["x\nskip-checks: [skip ci]true", "x\n"],
    ["[skip [skip [skip [skip [skip [skip [skip [skip [skip [skip ci]ci]ci]ci]ci]ci]ci]ci]ci]ci] kept", "skip skip cici kept"],
  ])("removes markers until none is left, even ones a removal joins together: %j", (text, expected) => {
    expect(withoutCiSkipMarkers(text)).toBe(expected);
    expect(ciSkipMarkers(withoutCiSkipMarkers(text))).toEqual([]);
  });

  it("leaves text without markers as it is", () => {
    expect(withoutCiSkipMarkers("Add a [skip] flag: see ***notes*** and skip-checks docs.")).toBe("Add a [skip] flag: see ***notes*** and skip-checks docs.");
  });

  it("never leaves a marker, and a second pass changes nothing (property)", () => {
    const pieces = [
      "[",
      "]",
      "skip",
      "ci",
      "no",
      "actions",
      " ",
      "  ",
      "\t",
      "\n",
      "\r\n",
      "*",
      "***",
      "NO_CI",
      "[skip ci]",
      "[ci skip]",
      "[no ci]",
      "[skip actions]",
      "[actions skip]",
      "***NO_CI***",
      "[Skip CI]",
      "skip-checks:",
      "skip-checks: true",
      "true",
      ":",
      "x",
    ];
    const hostile = fc.array(fc.oneof(fc.constantFrom(...pieces), fc.string({ maxLength: 3 })), { maxLength: 60 }).map((parts) => parts.join(""));
    fc.assert(
      fc.property(fc.oneof(hostile, fc.string()), (text) => {
        const cleaned = withoutCiSkipMarkers(text);
        expect(ciSkipMarkers(cleaned)).toEqual([]);
        expect(withoutCiSkipMarkers(cleaned)).toBe(cleaned);
      }),
      { numRuns: 3000 },
    );
  });

  it("cleans a megabyte of nested markers without going quadratic", () => {
    const depth = 100_000;
    const nested = `${"[skip ".repeat(depth)}[skip ci]${"ci]".repeat(depth)}\n${"skip-checks:\n".repeat(depth)}skip-checks: true${"\ntrue".repeat(depth)}`;
    const started = performance.now();
    const cleaned = withoutCiSkipMarkers(nested);
    expect(ciSkipMarkers(cleaned)).toEqual([]);
    expect(withoutCiSkipMarkers(cleaned)).toBe(cleaned);
    // A pass per nesting level would take minutes here; a bounded number of linear passes takes well under one.
    expect(performance.now() - started).toBeLessThan(2_000);
  });
});

describe("commit message and branch", () => {
  it("names the issue, closes it and carries the run id as a trailer", () => {
    const message = commitMessage({ issue: 42, title: "Add a --verbose flag", summary: "Added the flag and a test.", runId: "r-abc" });
    expect(message.split("\n")[0]).toBe("#42: Add a --verbose flag");
    expect(message).toContain("\n\nCloses #42\n\nAfk-Run: r-abc\n");
  });

  it("only references the issue for the default branch (direct mode), so GitHub does not close it before CI", () => {
    const message = commitMessage({ issue: 42, title: "Add a flag", summary: "", runId: "r-abc", closesIssue: false });
    expect(message).toContain("\n\nRefs #42\n\nAfk-Run: r-abc\n");
    expect(message).not.toContain("Closes");
  });

  it("never joins a CI-skip marker out of whitespace in the title (a marker would block every push)", () => {
    for (const title of ["[skip\tci] tidy", "[skip\n ci] tidy", "[ci\u00a0skip] tidy"]) {
      const message = commitMessage({ issue: 3, title, summary: "", runId: "r-1" });
      expect(ciSkipMarkers(message)).toEqual([]);
    }
  });

  it("keeps the subject within 72 characters", () => {
    const subject = commitMessage({ issue: 1, title: "x".repeat(200), summary: "", runId: "r" }).split("\n")[0] ?? "";
    expect(subject.length).toBeLessThanOrEqual(72);
    expect(subject.endsWith("…")).toBe(true);
  });

  it.each([
    [12, "Add a --verbose flag!", "afk/12-add-a-verbose-flag"],
    [3, "Café: naïve résumé", "afk/3-cafe-naive-resume"],
    [9, "日本語のみ", "afk/9"],
    [5, "a".repeat(100), `afk/5-${"a".repeat(40)}`],
    [6, "../../etc/passwd; rm -rf /", "afk/6-etc-passwd-rm-rf"],
  ])("branch for #%i %j is %s", (issue, title, expected) => {
    expect(branchName(issue, title)).toBe(expected);
  });
});

describe("issueOfBranch", () => {
  it.each([
    ["afk/12-add-a-flag", 12],
    ["afk/7", 7],
    ["afk/7-x-r1234567", 7],
    ["afk/add-a-test", undefined],
    ["feature/afk/3-x", undefined],
    ["afk/12x", undefined],
  ])("%s names issue %s", (ref, issue) => {
    expect(issueOfBranch(ref)).toBe(issue);
  });

  it("reads back every branch afk names", () => {
    for (const issue of [1, 42, 99999]) expect(issueOfBranch(branchName(issue, "Some title"))).toBe(issue);
  });
});

describe("issueOfAfkCommit", () => {
  it("reads the issue back from every message afk writes, direct or not", () => {
    for (const closesIssue of [true, false]) {
      expect(
        issueOfAfkCommit(commitMessage({ issue: 42, title: "Add a flag (fix attempt 2)", summary: "Fixed.\n#7: not this", runId: "r-1", closesIssue })),
      ).toBe(42);
    }
  });

  it.each([
    ["#42: Add a flag\n\nNo trailer here\n", undefined],
    ["Merge pull request #42 from o/afk/42-x\n\nAfk-Run: r-1\n", undefined],
    ["Fix #42: a person's commit\n", undefined],
    ["#42: a person's commit\n\nmentions Afk-Run: in prose\n", undefined],
  ])("does not take %j for afk's", (message, issue) => {
    expect(issueOfAfkCommit(message)).toBe(issue);
  });
});
