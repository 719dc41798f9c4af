import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSandbox } from "../../src/executor/sandbox.js";
import { NestedRepositoryError, WorkspaceCache } from "../../src/executor/workspace.js";
import { commitToBareRepo, createBareRepo, GitHttpServer } from "../helpers/git-http-server.js";

/** afk's own git runs in bubblewrap, as in the App (no unsandboxed fallback). */
const SANDBOX = { allowUnsandboxed: false };
const TOKEN_READ = "ghs_readtoken0000000000000000000000001";
const TOKEN_WRITE = "ghs_writetoken000000000000000000000002";

let root: string;
let server: GitHttpServer;
let bare: { path: string; headSha: string };

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...filesUnder(path));
    else if (entry.isFile()) out.push(path);
  }
  return out;
}

function branchOf(path: string, branch: string): string | undefined {
  try {
    return execFileSync("git", ["--git-dir", path, "rev-parse", "--verify", "--quiet", `refs/heads/${branch}`], { encoding: "utf8" }).trim();
  } catch {
    return undefined;
  }
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), "afk-ws-"));
  bare = createBareRepo(join(root, "remote"), "octo-org/app", { "README.md": "# app\n", "src/a.js": "export const a = 1;\n", ".gitignore": "node_modules/\n" });
  server = await GitHttpServer.start({
    root: join(root, "remote"),
    authorize: ({ service, token }) => (service === "upload-pack" ? token === TOKEN_READ || token === TOKEN_WRITE : token === TOKEN_WRITE),
  });
});

afterAll(async () => {
  await server.close();
  rmSync(root, { recursive: true, force: true });
});

describe("workspace: mirror and worktree", () => {
  it("clones cold, fetches warm, pins the ref, and never writes the token to disk", async () => {
    const cache = new WorkspaceCache({ cacheDir: join(root, "cache-1"), sandbox: SANDBOX });
    const url = server.cloneUrl("octo-org/app");
    const first = await cache.open({ cloneUrl: url, auth: { token: TOKEN_READ }, ref: "main", runId: "r-1" });
    expect(first.baseSha).toBe(bare.headSha);
    expect(readFileSync(join(first.path, "src/a.js"), "utf8")).toContain("a = 1");

    const upstream = commitToBareRepo(bare.path, { "src/b.js": "export const b = 2;\n" }, "Add b");
    const second = await cache.open({ cloneUrl: url, auth: { token: TOKEN_READ }, ref: "main", runId: "r-2" });
    expect(second.baseSha).toBe(upstream);
    expect(existsSync(join(second.path, "src/b.js"))).toBe(true);
    expect(second.mirror).toBe(first.mirror);
    // Pinned by sha: the older commit, even though main moved.
    const third = await cache.open({ cloneUrl: url, auth: { token: TOKEN_READ }, ref: bare.headSha, runId: "r-3" });
    expect(third.baseSha).toBe(bare.headSha);

    const base64 = Buffer.from(`x-access-token:${TOKEN_READ}`).toString("base64");
    for (const file of filesUnder(join(root, "cache-1"))) {
      const content = readFileSync(file).toString("latin1");
      expect(content.includes(TOKEN_READ) || content.includes(base64), file).toBe(false);
    }
    const config = readFileSync(join(first.mirror, "config"), "utf8");
    expect(config).toContain(`url = ${url}`);
    expect(config).toContain("pushurl = no-push://push-disabled-by-afk");
    for (const worktree of [first, second, third]) await worktree.remove();
  });

  it("says clearly when the token is refused, without the token in the message", async () => {
    const cache = new WorkspaceCache({ cacheDir: join(root, "cache-2"), sandbox: SANDBOX });
    const error = await cache
      .open({ cloneUrl: server.cloneUrl("octo-org/app"), auth: { token: "ghs_wrong_token_value_1234567890" }, ref: "main", runId: "r-x" })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect(String(error)).toMatch(/could not fetch http:\/\/127\.0\.0\.1:\d+\/octo-org\/app\.git: authentication failed/);
    expect(String(error)).not.toContain("ghs_wrong_token_value_1234567890");
  });

  it("lists changes, squashes the agent's commits onto the base, pushes a new branch and never forces", async () => {
    const cache = new WorkspaceCache({ cacheDir: join(root, "cache-3"), sandbox: SANDBOX });
    const worktree = await cache.open({ cloneUrl: server.cloneUrl("octo-org/app"), auth: { token: TOKEN_READ }, ref: "main", runId: "r-push" });
    writeFileSync(join(worktree.path, "src/a.js"), "export const a = 42;\n");
    writeFileSync(join(worktree.path, "NEW.md"), "new\n");
    rmSync(join(worktree.path, "README.md"));
    mkdirSync(join(worktree.path, "node_modules"), { recursive: true });
    writeFileSync(join(worktree.path, "node_modules/ignored.js"), "x");
    // The agent commits on its own, twice.
    const env = {
      ...process.env,
      ...worktree.gitEnv,
      GIT_AUTHOR_NAME: "agent",
      GIT_AUTHOR_EMAIL: "a@x",
      GIT_COMMITTER_NAME: "agent",
      GIT_COMMITTER_EMAIL: "a@x",
    };
    execFileSync("git", ["-C", worktree.path, "add", "src/a.js"], { env });
    execFileSync("git", ["-C", worktree.path, "commit", "-qm", "wip 1"], { env });
    expect(await worktree.changedFiles()).toEqual(["NEW.md", "README.md", "src/a.js"]);
    expect(await worktree.isClean()).toBe(false);

    const sha = await worktree.commitAll("#1: change things\n\nCloses #1\n", { name: "afk[bot]", email: "afk[bot]@users.noreply.github.com" });
    expect(sha).toBeDefined();
    const parents = execFileSync("git", ["-C", worktree.path, "log", "--format=%P", "-1", sha ?? ""], { env, encoding: "utf8" }).trim();
    expect(parents).toBe(worktree.baseSha);

    expect(
      await worktree.push({ remoteUrl: server.cloneUrl("octo-org/app"), auth: { token: TOKEN_READ }, branch: "afk/1-x" }).catch((e: unknown) => String(e)),
    ).toMatch(/could not push/);
    const pushed = await worktree.push({ remoteUrl: server.cloneUrl("octo-org/app"), auth: { token: TOKEN_WRITE }, branch: "afk/1-x" });
    expect(pushed).toEqual({ kind: "pushed", sha });
    expect(branchOf(bare.path, "afk/1-x")).toBe(sha);

    // Different history on the same branch: rejected, and the remote keeps what it had.
    writeFileSync(join(worktree.path, "src/a.js"), "export const a = 43;\n");
    const other = await worktree.commitAll("other", { name: "afk[bot]", email: "x@y" });
    const rejected = await worktree.push({ remoteUrl: server.cloneUrl("octo-org/app"), auth: { token: TOKEN_WRITE }, branch: "afk/1-x" });
    expect(rejected.kind).toBe("rejected");
    expect(other).not.toBe(sha);
    expect(branchOf(bare.path, "afk/1-x")).toBe(sha);
    await worktree.remove();
    await worktree.remove();
    expect(existsSync(worktree.path)).toBe(false);
  });

  it("lets sandboxed git work with the mirror read-only, and nothing the agent plants runs in afk's git", async () => {
    const cacheDir = join(root, "cache-4");
    const cache = new WorkspaceCache({ cacheDir, sandbox: SANDBOX });
    const worktree = await cache.open({ cloneUrl: server.cloneUrl("octo-org/app"), auth: { token: TOKEN_READ }, ref: "main", runId: "r-sbx" });
    const mirrorRefsBefore = execFileSync("git", ["--git-dir", worktree.mirror, "for-each-ref"], { encoding: "utf8" });
    const sandbox = await createSandbox(
      { worktree: worktree.path, home: worktree.home, readOnly: [worktree.mirror], writable: [worktree.gitDir, worktree.objectsDir], env: worktree.gitEnv },
      { allowUnsandboxed: false },
    );
    const inside = await sandbox.run(
      [
        "echo 'export const c = 3;' > src/c.js",
        "git add src/c.js && git -c user.name=agent -c user.email=a@x commit -qm 'agent commit' && echo COMMITTED",
        "git status --short",
        "git push origin HEAD:refs/heads/evil 2>&1; echo push-exit=$?",
        "git push --force origin HEAD:main 2>&1; echo force-exit=$?",
        "touch " + join(worktree.mirror, "objects", "x") + " 2>&1; echo mirror-write=$?",
      ].join("; "),
      { timeoutMs: 20_000, network: false },
    );
    expect(inside.output).toContain("COMMITTED");
    expect(inside.output).toMatch(/push-exit=[1-9]/);
    expect(inside.output).toMatch(/force-exit=[1-9]/);
    expect(inside.output).toMatch(/Read-only file system[\s\S]*mirror-write=1/);
    expect(execFileSync("git", ["--git-dir", worktree.mirror, "for-each-ref"], { encoding: "utf8" })).toBe(mirrorRefsBefore);
    expect(server.pushes.filter((push) => push.updates.some((update) => update.includes("evil") || update.startsWith("refs/heads/main")))).toEqual([]);

    // The agent points .git at a directory it controls, with a config whose fsmonitor runs a command.
    const marker = join(root, "pwned");
    const evil = join(worktree.path, "evil-gitdir");
    mkdirSync(evil);
    writeFileSync(join(evil, "config"), `[core]\n\tfsmonitor = touch ${marker}\n\trepositoryformatversion = 0\n`);
    writeFileSync(join(worktree.path, ".git"), `gitdir: ${evil}\n`);
    writeFileSync(join(worktree.gitDir, "commondir"), `${evil}\n`);
    writeFileSync(join(worktree.gitDir, "config.worktree"), `[core]\n\tfsmonitor = touch ${marker}\n`);
    // Links through which git would write outside the run: the commit message file, the reflog, an object directory.
    const victim = join(root, "victim.txt");
    writeFileSync(victim, "untouched\n");
    const victimDir = join(root, "victim-dir");
    mkdirSync(victimDir);
    rmSync(join(worktree.gitDir, "COMMIT_EDITMSG"), { force: true });
    symlinkSync(victim, join(worktree.gitDir, "COMMIT_EDITMSG"));
    mkdirSync(join(worktree.gitDir, "logs"), { recursive: true });
    rmSync(join(worktree.gitDir, "logs", "HEAD"), { force: true });
    symlinkSync(victim, join(worktree.gitDir, "logs", "HEAD"));
    for (let byte = 0; byte < 256; byte += 1) {
      const name = byte.toString(16).padStart(2, "0");
      if (!existsSync(join(worktree.objectsDir, name))) symlinkSync(victimDir, join(worktree.objectsDir, name));
    }

    expect(await worktree.changedFiles()).toEqual(["evil-gitdir/config", "src/c.js"]);
    const sha = await worktree.commitAll("msg", { name: "afk", email: "a@b" });
    expect(sha).toBeDefined();
    expect(existsSync(marker)).toBe(false);
    expect(readFileSync(victim, "utf8")).toBe("untouched\n");
    expect(readdirSync(victimDir)).toEqual([]);
    expect(statSync(worktree.mirror).isDirectory()).toBe(true);
    await worktree.remove();
  });

  it("parks a finished run's checkout and gives the next run a pristine tree at its own commit", async () => {
    const cache = new WorkspaceCache({ cacheDir: join(root, "cache-5"), sandbox: SANDBOX });
    const url = server.cloneUrl("octo-org/app");
    const first = await cache.open({ cloneUrl: url, auth: { token: TOKEN_READ }, ref: "main", runId: "r-park-1" });
    // Everything an agent could leave behind.
    writeFileSync(join(first.path, "README.md"), "changed by the agent\n");
    writeFileSync(join(first.path, "untracked.txt"), "x");
    mkdirSync(join(first.path, "node_modules", "pkg"), { recursive: true });
    writeFileSync(join(first.path, "node_modules", "pkg", "index.js"), "ignored");
    const env = { ...process.env, ...first.gitEnv, GIT_AUTHOR_NAME: "agent", GIT_AUTHOR_EMAIL: "a@x", GIT_COMMITTER_NAME: "agent", GIT_COMMITTER_EMAIL: "a@x" };
    execFileSync("git", ["-C", first.path, "commit", "-qam", "agent commit"], { env });
    writeFileSync(join(first.path, ".git"), "gitdir: /evil\n");
    await first.remove();
    expect(existsSync(cache.sparePath(url))).toBe(true);
    expect(existsSync(first.path)).toBe(false);
    // Something lands in the parked tree between runs: the next run still gets a pristine one.
    writeFileSync(join(cache.sparePath(url), "stray.txt"), "stray");

    const upstream = commitToBareRepo(bare.path, { "README.md": "# app, upstream\n" }, "Upstream change");
    const second = await cache.open({ cloneUrl: url, auth: { token: TOKEN_READ }, ref: "main", runId: "r-park-2" });
    expect(existsSync(cache.sparePath(url))).toBe(false);
    expect(second.baseSha).toBe(upstream);
    expect(readFileSync(join(second.path, "README.md"), "utf8")).toBe("# app, upstream\n");
    expect(existsSync(join(second.path, "untracked.txt"))).toBe(false);
    expect(existsSync(join(second.path, "stray.txt"))).toBe(false);
    expect(existsSync(join(second.path, "node_modules"))).toBe(false);
    expect(readFileSync(join(second.path, ".git"), "utf8")).toBe(`gitdir: ${second.gitDir}\n`);
    expect(await second.changedFiles()).toEqual([]);
    expect(await second.isClean()).toBe(true);
    const ignored = execFileSync("git", ["-C", second.path, "status", "--porcelain", "--ignored"], {
      env: { ...process.env, ...second.gitEnv },
      encoding: "utf8",
    });
    expect(ignored).toBe("");
    await second.remove();
  });

  it("never runs a program planted in a nested repository on the host, and refuses to commit nested repositories", async () => {
    const cache = new WorkspaceCache({ cacheDir: join(root, "cache-6"), sandbox: SANDBOX });
    const worktree = await cache.open({ cloneUrl: server.cloneUrl("octo-org/app"), auth: { token: TOKEN_READ }, ref: "main", runId: "r-nested" });
    // What a hostile agent does in its sandbox: a nested repository whose own config starts a program
    // from every git command that looks into it (fsmonitor, a clean filter, a diff driver), staged as a gitlink.
    const marker = join(root, "pwned-by-nested-repo");
    const ranAnywhere = join(worktree.path, "payload-ran");
    const script = join(worktree.path, "sub", "payload.sh");
    const sandbox = await createSandbox(
      { worktree: worktree.path, home: worktree.home, readOnly: [worktree.mirror], writable: [worktree.gitDir, worktree.objectsDir], env: worktree.gitEnv },
      { allowUnsandboxed: false },
    );
    const planted = await sandbox.run(
      [
        "mkdir -p sub inner/deeper && cd sub && git init -q . && git config user.name a && git config user.email a@x",
        // The payload marks where it ran: on the host (a path only the host sees) or anywhere (the worktree).
        `printf '#!/bin/sh\\ntouch ${marker} ${ranAnywhere}\\ncat\\n' > payload.sh && chmod +x payload.sh`,
        `git config core.fsmonitor ${script} && git config filter.evil.clean ${script} && git config diff.evil.command ${script}`,
        "echo '* filter=evil diff=evil' > .gitattributes && echo data > data.txt && git add -A && git commit -qm nested && cd ..",
        "cd inner/deeper && git init -q . && echo x > x && cd ../..",
        "echo '* filter=evil diff=evil' > .gitattributes",
        "git add sub 2>&1; echo staged=$?",
      ].join(" && "),
      { timeoutMs: 20_000, network: false },
    );
    expect(planted.output).toContain("staged=0");
    // The agent's own git ran its filter while planting; from here on, only afk's git runs.
    rmSync(ranAnywhere, { force: true });

    expect(await worktree.changedFiles()).toEqual(expect.arrayContaining([".gitattributes", "sub"]));
    expect(await worktree.isClean()).toBe(false);
    const refused = await worktree.commitAll("msg", { name: "afk", email: "a@b" }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(NestedRepositoryError);
    expect((refused as NestedRepositoryError).paths).toEqual(["inner/deeper", "sub"]);
    expect(String(refused)).toContain("nothing was pushed");
    await worktree.isPristine();
    // No git command of afk's ran the planted program: not where afk lives, not even in its sandbox.
    expect(existsSync(marker)).toBe(false);
    expect(existsSync(ranAnywhere)).toBe(false);
    // Nothing was committed: HEAD is still the base.
    expect(
      execFileSync("git", ["rev-parse", "HEAD"], {
        cwd: worktree.path,
        env: { ...process.env, ...worktree.gitEnv, GIT_DIR: worktree.gitDir },
        encoding: "utf8",
      }).trim(),
    ).toBe(worktree.baseSha);
    await worktree.remove();
    expect(existsSync(marker)).toBe(false);
  });

  it("gives each run a fresh HOME and a git dir holding nothing the last run's agent left", async () => {
    const cache = new WorkspaceCache({ cacheDir: join(root, "cache-7"), sandbox: SANDBOX });
    const url = server.cloneUrl("octo-org/app");
    const first = await cache.open({ cloneUrl: url, auth: { token: TOKEN_READ }, ref: "main", runId: "r-fresh-1" });
    writeFileSync(join(first.home, ".npmrc"), "script-shell=/bin/true\n");
    writeFileSync(join(first.gitDir, "note-for-the-next-run"), "hello");
    mkdirSync(join(first.gitDir, "refs", "stash-of-the-agent"), { recursive: true });
    writeFileSync(join(first.objectsDir, "info", "alternates"), `${join(root, "remote")}\n`);
    await first.remove();
    const second = await cache.open({ cloneUrl: url, auth: { token: TOKEN_READ }, ref: "main", runId: "r-fresh-2" });
    expect(second.gitDir).toBe(first.gitDir);
    expect(readdirSync(second.home)).toEqual([]);
    expect(readdirSync(second.gitDir).sort()).toEqual(["HEAD", "commondir", "gitdir", "index"]);
    expect(existsSync(join(second.objectsDir, "info", "alternates"))).toBe(false);
    await second.remove();
  });

  it("tells the files git ignores that the agent added (deleted) from those it changed (reported)", async () => {
    const cache = new WorkspaceCache({ cacheDir: join(root, "cache-8"), sandbox: SANDBOX });
    const worktree = await cache.open({ cloneUrl: server.cloneUrl("octo-org/app"), auth: { token: TOKEN_READ }, ref: "main", runId: "r-ignored" });
    mkdirSync(join(worktree.path, "node_modules", "dep"), { recursive: true });
    writeFileSync(join(worktree.path, "node_modules", "dep", "index.js"), "module.exports = 1;\n");
    writeFileSync(join(worktree.path, "node_modules", "dep", "kept.js"), "kept\n");
    const afterSetup = await worktree.ignoredFiles();
    expect([...afterSetup.keys()].sort()).toEqual(["node_modules/dep/index.js", "node_modules/dep/kept.js"]);
    // The agent rewrites an installed file with the same size, and sets its modification time back; adds another.
    const stats = statSync(join(worktree.path, "node_modules", "dep", "index.js"));
    writeFileSync(join(worktree.path, "node_modules", "dep", "index.js"), "module.exports = 2;\n");
    utimesSync(join(worktree.path, "node_modules", "dep", "index.js"), stats.atime, stats.mtime);
    writeFileSync(join(worktree.path, "node_modules", "dep", "added.js"), "new\n");
    expect(await worktree.restoreIgnoredFiles(afterSetup)).toEqual(["node_modules/dep/index.js"]);
    expect(existsSync(join(worktree.path, "node_modules", "dep", "added.js"))).toBe(false);
    expect(existsSync(join(worktree.path, "node_modules", "dep", "kept.js"))).toBe(true);
    await worktree.remove();
  });
});
