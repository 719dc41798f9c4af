import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { readRepoInstructions } from "../../src/executor/repo-instructions.js";
import { rssGrowthOf } from "../helpers/rss-growth.js";

let root: string;
let worktree: string;

beforeEach(() => {
  root = realpathSync(mkdtempSync(join(tmpdir(), "afk-instructions-")));
  worktree = join(root, "worktree");
  mkdirSync(worktree);
  writeFileSync(join(root, "secret.env"), "ANTHROPIC_API_KEY=sk-ant-outside-secret\n");
});

afterEach(() => rmSync(root, { recursive: true, force: true }));

describe("the repository's instructions for agents", () => {
  it("reads a regular AGENTS.md", async () => {
    writeFileSync(join(worktree, "AGENTS.md"), "Run npm test before you finish.\n");
    expect(await readRepoInstructions(worktree)).toBe("From AGENTS.md:\n\nRun npm test before you finish.");
  });

  it("skips a 1.5 GB sparse AGENTS.md without reading it, and afk's memory does not grow", async () => {
    writeFileSync(join(worktree, "AGENTS.md"), "Do as I say.\n");
    truncateSync(join(worktree, "AGENTS.md"), 1500 * 1024 * 1024);
    const { result, growthMb } = await rssGrowthOf(() => readRepoInstructions(worktree));
    expect(result).toBe("(AGENTS.md is 1.5 GB, larger than the 1 MB afk reads of an instruction file, so afk did not read it.)");
    expect(growthMb).toBeLessThan(50);
  });

  it("skips a FIFO at once instead of waiting for a writer", async () => {
    execFileSync("mkfifo", [join(worktree, "CLAUDE.md")]);
    expect(await readRepoInstructions(worktree)).toBe("(CLAUDE.md is not a regular file in the repository, so afk did not read it.)");
  });

  it("never reads through a symbolic link, for the file or a directory on its way", async () => {
    symlinkSync(join(root, "secret.env"), join(worktree, "AGENTS.md"));
    mkdirSync(join(root, "elsewhere"));
    writeFileSync(join(root, "elsewhere", "copilot-instructions.md"), "ANTHROPIC_API_KEY=sk-ant-outside-secret\n");
    symlinkSync(join(root, "elsewhere"), join(worktree, ".github"));
    const text = await readRepoInstructions(worktree);
    expect(text).toBe(
      "(AGENTS.md is not a regular file in the repository, so afk did not read it.)\n\n---\n\n(.github/copilot-instructions.md is not a regular file in the repository, so afk did not read it.)",
    );
    expect(text).not.toContain("sk-ant-outside-secret");
  });
});
