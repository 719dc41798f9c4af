import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WorkspaceCache, type Worktree } from "../../src/executor/workspace.js";
import { createBareRepo } from "../helpers/git-http-server.js";

/** afk's git runs in bubblewrap, as in the App (no unsandboxed fallback). */
const SANDBOX = { allowUnsandboxed: false };
const AUTHOR = { name: "afk", email: "afk@example.invalid" };

let root: string;
let remote: string;
let runs = 0;

async function worktree(): Promise<Worktree> {
  runs += 1;
  return new WorkspaceCache({ cacheDir: join(root, `cache-${runs}`), sandbox: SANDBOX }).open({ cloneUrl: remote, ref: "main", runId: `r-${runs}` });
}

function write(tree: Worktree, files: Record<string, string>): void {
  for (const [file, content] of Object.entries(files)) {
    mkdirSync(dirname(join(tree.path, file)), { recursive: true });
    writeFileSync(join(tree.path, file), content);
  }
}

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), "afk-added-"));
  remote = createBareRepo(join(root, "remote"), "octo-org/app", {
    "README.md": "# app\n",
    "package.json": "{}\n",
    ".gitignore": "node_modules/\n",
    "src/a.js": "export const a = 1;\n",
  }).path;
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("what outOfScopeFiles judges: the files a change adds and the base commit's root", () => {
  it("lists new files (not changed, ignored or deleted ones) and the base's root files (not its folders)", async () => {
    const tree = await worktree();
    try {
      write(tree, { "src/a.js": "export const a = 2;\n", "repro.py": "print(1)\n", "src/tmp/x.js": "1\n", "node_modules/m/index.js": "1\n" });
      rmSync(join(tree.path, "README.md"));
      const { added, baseRoot } = await tree.addedFilesAndBaseRoot();
      expect(added).toEqual(["repro.py", "src/tmp/x.js"]);
      expect(baseRoot.sort()).toEqual([".gitignore", "README.md", "package.json"]);
    } finally {
      await tree.remove();
    }
  });

  it("sees the new files of a change that arrives as a bundle (staged in the index, not untracked)", async () => {
    const made = await worktree();
    const applied = await worktree();
    try {
      write(made, { "debug.log": "x\n", "src/b.js": "export const b = 2;\n" });
      const bundle = await made.changeBundle("change", AUTHOR);
      expect(bundle).toBeDefined();
      await applied.applyChangeBundle(bundle ?? Buffer.alloc(0));
      expect((await applied.addedFilesAndBaseRoot()).added).toEqual(["debug.log", "src/b.js"]);
    } finally {
      await made.remove();
      await applied.remove();
    }
  });
});
