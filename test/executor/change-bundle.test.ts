import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ChangeBundleRefused, MAX_CHANGE_BUNDLE_BYTES, NestedRepositoryError, WorkspaceCache, type Worktree } from "../../src/executor/workspace.js";
import { commitToBareRepo, createBareRepo } from "../helpers/git-http-server.js";

/** afk's git runs in bubblewrap, as in the App (no unsandboxed fallback). */
const SANDBOX = { allowUnsandboxed: false };
const AUTHOR = { name: "afk", email: "afk@example.invalid" };

let root: string;
let remote: { path: string; headSha: string };
/** The base's parent: a commit the repository has that is not the base. */
let olderSha: string;
let runs = 0;

/** A worktree of the remote's main branch, in a cache of its own ("the runner" or "afk"). */
async function worktree(cache: string): Promise<Worktree> {
  runs += 1;
  return new WorkspaceCache({ cacheDir: join(root, cache), sandbox: SANDBOX }).open({ cloneUrl: remote.path, ref: "main", runId: `r-${runs}` });
}

/** A scratch clone of the remote where the attacker builds whatever bundle it likes with the real git. */
function attackerClone(): { dir: string; git: (...args: string[]) => string } {
  const dir = mkdtempSync(join(root, "attacker-"));
  const env = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: dir,
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_AUTHOR_NAME: "m",
    GIT_AUTHOR_EMAIL: "m@x",
    GIT_COMMITTER_NAME: "m",
    GIT_COMMITTER_EMAIL: "m@x",
  };
  execFileSync("git", ["clone", "--quiet", remote.path, dir], { env });
  return { dir, git: (...args) => execFileSync("git", ["-C", dir, ...args], { env, encoding: "utf8" }) };
}

function commitFiles(clone: ReturnType<typeof attackerClone>, files: Record<string, string>, message: string): string {
  for (const [file, content] of Object.entries(files)) {
    mkdirSync(dirname(join(clone.dir, file)), { recursive: true });
    writeFileSync(join(clone.dir, file), content);
  }
  clone.git("add", "--all");
  clone.git("commit", "--quiet", "-m", message);
  return clone.git("rev-parse", "HEAD").trim();
}

function bundleOf(clone: ReturnType<typeof attackerClone>, ...revs: string[]): Buffer {
  const file = join(clone.dir, "..", `${Math.random().toString(36).slice(2)}.bundle`);
  clone.git("bundle", "create", "--quiet", file, ...revs);
  return readFileSync(file);
}

async function refusal(work: Promise<unknown>): Promise<string> {
  const error = await work.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(ChangeBundleRefused);
  return error instanceof Error ? error.message : "";
}

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), "afk-bundle-"));
  const created = createBareRepo(join(root, "remote"), "octo-org/app", { "README.md": "# app\n", "src/a.js": "export const a = 1;\n", "old.txt": "old\n" });
  olderSha = created.headSha;
  remote = { path: created.path, headSha: commitToBareRepo(created.path, { "src/b.js": "export const b = 2;\n" }, "Add b") };
});

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

describe("a change carried as a git bundle (a job run away from afk)", () => {
  it("arrives as the same change: files added, edited, deleted, made executable and linked, committed on the same base", async () => {
    const runner = await worktree("runner");
    writeFileSync(join(runner.path, "src/a.js"), "export const a = 42;\n");
    mkdirSync(join(runner.path, "test"));
    writeFileSync(join(runner.path, "test/a.test.js"), "// a test\n");
    writeFileSync(join(runner.path, "run.sh"), "#!/bin/sh\necho hi\n");
    chmodSync(join(runner.path, "run.sh"), 0o755);
    symlinkSync("src/a.js", join(runner.path, "a-link"));
    unlinkSync(join(runner.path, "old.txt"));
    const changed = await runner.changedFiles();
    const bundle = await runner.changeBundle("the runner's commit", AUTHOR);
    if (bundle === undefined) throw new Error("no bundle");

    const afk = await worktree("afk");
    expect(afk.baseSha).toBe(runner.baseSha);
    await afk.applyChangeBundle(bundle);
    expect(await afk.changedFiles()).toEqual(changed);
    expect(readFileSync(join(afk.path, "src/a.js"), "utf8")).toBe("export const a = 42;\n");
    expect(lstatSync(join(afk.path, "run.sh")).mode & 0o111).not.toBe(0);
    expect(readlinkSync(join(afk.path, "a-link"))).toBe("src/a.js");
    expect(existsSync(join(afk.path, "old.txt"))).toBe(false);
    // afk makes its own commit of it, on the same base.
    const sha = await afk.commitAll("afk's commit", AUTHOR);
    expect(sha).toBeDefined();
    await runner.remove();
    await afk.remove();
  });

  it("is nothing when nothing changed", async () => {
    const runner = await worktree("runner");
    expect(await runner.changeBundle("nothing", AUTHOR)).toBeUndefined();
    await runner.remove();
  });

  it("is refused unless it is one commit whose one parent is the run's base, and the worktree is left as its base", async () => {
    const attacker = attackerClone();
    const first = commitFiles(attacker, { "x.txt": "1\n" }, "one");
    commitFiles(attacker, { "y.txt": "2\n" }, "two");
    const twoCommits = bundleOf(attacker, "HEAD", `^${remote.headSha}`);
    const twoHeads = bundleOf(attacker, "HEAD", "main", `^${remote.headSha}`);
    attacker.git("checkout", "--quiet", "--detach", olderSha);
    commitFiles(attacker, { "z.txt": "3\n" }, "on an older commit");
    const offBase = bundleOf(attacker, "HEAD", `^${olderSha}`);
    const wholeHistory = bundleOf(attacker, "HEAD");
    attacker.git("tag", "-a", "-m", "a tag", "v9", first);
    const tagHead = bundleOf(attacker, "v9", `^${remote.headSha}`);

    const afk = await worktree("afk");
    expect(await refusal(afk.applyChangeBundle(Buffer.from("# v2 git bundle\nnot really\n")))).toMatch(/cannot read it as a bundle/);
    expect(await refusal(afk.applyChangeBundle(twoCommits))).toMatch(/holds 2 commits on the base, not one/);
    expect(await refusal(afk.applyChangeBundle(twoHeads))).toMatch(/has 2 heads, not one/);
    expect(await refusal(afk.applyChangeBundle(offBase))).toMatch(/not on this run's base commit|holds \d+ commits/);
    expect(await refusal(afk.applyChangeBundle(wholeHistory))).toMatch(/holds 3 commits on the base|not on this run's base/);
    expect(await refusal(afk.applyChangeBundle(tagHead))).toMatch(/its head is a tag, not a commit/);
    expect(await afk.isPristine()).toBe(true);
    await afk.remove();
  });

  it("is refused before git sees it when it is larger than afk takes", async () => {
    const afk = await worktree("afk");
    const message = await refusal(afk.applyChangeBundle(new Uint8Array(MAX_CHANGE_BUNDLE_BYTES + 1)));
    expect(message).toMatch(/over the 50 MB afk takes/);
    expect(existsSync(join(dirname(afk.path), "bundles", "incoming.bundle"))).toBe(false);
    await afk.remove();
  });

  it("carrying a nested repository (a gitlink) is checked out but never committed", async () => {
    const attacker = attackerClone();
    attacker.git("update-index", "--add", "--cacheinfo", `160000,${olderSha},vendor/lib`);
    attacker.git("commit", "--quiet", "-m", "a gitlink");
    const gitlink = bundleOf(attacker, "HEAD", `^${remote.headSha}`);
    const afk = await worktree("afk");
    await afk.applyChangeBundle(gitlink);
    await expect(afk.commitAll("afk's commit", AUTHOR)).rejects.toBeInstanceOf(NestedRepositoryError);
    await afk.remove();
  });

  it("whose tree reaches into .git is refused by git in the sandbox, and nothing of it lands in the worktree's git dir", async () => {
    const attacker = attackerClone();
    // A tree git itself would never write: `.git/hooks/post-checkout`, built object by object.
    const blob = execFileSync("git", ["-C", attacker.dir, "hash-object", "-w", "--stdin"], { input: "#!/bin/sh\ntouch /tmp/pwned\n", encoding: "utf8" }).trim();
    const hooks = execFileSync("git", ["-C", attacker.dir, "mktree"], { input: `100755 blob ${blob}\tpost-checkout\n`, encoding: "utf8" }).trim();
    const dotGit = execFileSync("git", ["-C", attacker.dir, "mktree"], { input: `040000 tree ${hooks}\thooks\n`, encoding: "utf8" }).trim();
    const base = attacker.git("ls-tree", remote.headSha).trimEnd();
    const top = execFileSync("git", ["-C", attacker.dir, "mktree", "--missing"], { input: `${base}\n040000 tree ${dotGit}\t.git\n`, encoding: "utf8" }).trim();
    const commit = attacker.git("commit-tree", top, "-p", remote.headSha, "-m", "hooks").trim();
    attacker.git("update-ref", "refs/heads/evil", commit);
    const evil = bundleOf(attacker, "evil", `^${remote.headSha}`);
    const afk = await worktree("afk");
    expect(await refusal(afk.applyChangeBundle(evil))).toMatch(/git would not check its tree out \(.*\.git/);
    expect(existsSync(join(afk.gitDir, "hooks", "post-checkout"))).toBe(false);
    expect(existsSync(join(afk.path, ".git", "hooks"))).toBe(false);
    await afk.remove();
  });
});
