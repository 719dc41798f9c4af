import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import type { GitBacking } from "./types.js";
import { isSha } from "./util.js";

/**
 * The git side of an emulated repository: an object store whose ids are real git object ids (a
 * blob, tree or commit hashes as `git hash-object` would), refs, and optionally a real bare
 * repository behind it (`connectGit`), which pull requests and check runs read commits from.
 */

export interface GitIdentity {
  name: string;
  email: string;
  /** Unix seconds. */
  time: number;
}

export interface TreeEntry {
  name: string;
  mode: string;
  type: "blob" | "tree" | "commit";
  sha: string;
}

export type LeafEntry = Omit<TreeEntry, "name">;

export type CommitObject = { type: "commit"; tree: string; parents: string[]; message: string; author: GitIdentity; committer: GitIdentity };

export type GitObject = { type: "blob"; content: Buffer } | { type: "tree"; entries: TreeEntry[] } | CommitObject;

/** What the git functions need of a repository. */
export interface GitRepo {
  objects: Map<string, GitObject>;
  /** Full ref name (`refs/heads/main`) → object sha. */
  refs: Map<string, string>;
  git: GitBacking | undefined;
}

export const EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904";

function gitHash(type: string, content: Buffer): string {
  return createHash("sha1").update(`${type} ${content.length}\0`).update(content).digest("hex");
}

/** Git orders tree entries by name, comparing a subtree's name as if it ended in "/". */
function sortTreeEntries(entries: TreeEntry[]): TreeEntry[] {
  const key = (entry: TreeEntry): Buffer => Buffer.from(entry.type === "tree" ? `${entry.name}/` : entry.name);
  return [...entries].sort((a, b) => Buffer.compare(key(a), key(b)));
}

function identityLine(identity: GitIdentity): string {
  return `${identity.name} <${identity.email}> ${identity.time} +0000`;
}

function serialize(object: GitObject): Buffer {
  switch (object.type) {
    case "blob":
      return object.content;
    case "tree":
      return Buffer.concat(
        object.entries.map((entry) => Buffer.concat([Buffer.from(`${entry.mode.replace(/^0+/, "")} ${entry.name}\0`), Buffer.from(entry.sha, "hex")])),
      );
    case "commit": {
      const lines = [`tree ${object.tree}`, ...object.parents.map((parent) => `parent ${parent}`)];
      lines.push(`author ${identityLine(object.author)}`, `committer ${identityLine(object.committer)}`, "", object.message);
      return Buffer.from(lines.join("\n"));
    }
  }
}

/** Stores an object (once) and returns its git object id. */
export function storeObject(repo: GitRepo, object: GitObject): string {
  const sha = gitHash(object.type, serialize(object));
  if (!repo.objects.has(sha)) repo.objects.set(sha, object);
  return sha;
}

export function storeBlob(repo: GitRepo, content: string): string {
  return storeObject(repo, { type: "blob", content: Buffer.from(content, "utf8") });
}

export function commitObject(repo: GitRepo, sha: string): CommitObject | undefined {
  const object = repo.objects.get(sha);
  return object?.type === "commit" ? object : undefined;
}

/** Who the emulator's own seeding commits are by. */
export function seederIdentity(): GitIdentity {
  return { name: "Emulator Seeder", email: "seeder@example.invalid", time: Math.floor(Date.now() / 1000) };
}

/** Adds every non-tree entry below `treeSha` to `out`, keyed by its full path. */
export function flatten(repo: GitRepo, treeSha: string, prefix: string, out: Map<string, LeafEntry>): void {
  const tree = repo.objects.get(treeSha);
  if (tree?.type !== "tree") return;
  for (const entry of tree.entries) {
    if (entry.type === "tree") flatten(repo, entry.sha, `${prefix}${entry.name}/`, out);
    else out.set(`${prefix}${entry.name}`, { mode: entry.mode, type: entry.type, sha: entry.sha });
  }
}

/** Writes nested trees for a flat path → entry map and returns the root tree's sha. */
export function writeTree(repo: GitRepo, files: Map<string, LeafEntry>): string {
  const entries: TreeEntry[] = [];
  const directories = new Map<string, Map<string, LeafEntry>>();
  for (const [path, leaf] of files) {
    const slash = path.indexOf("/");
    if (slash < 0) {
      entries.push({ name: path, ...leaf });
      continue;
    }
    const directory = path.slice(0, slash);
    let children = directories.get(directory);
    if (children === undefined) {
      children = new Map();
      directories.set(directory, children);
    }
    children.set(path.slice(slash + 1), leaf);
  }
  for (const [name, children] of directories) entries.push({ name, mode: "040000", type: "tree", sha: writeTree(repo, children) });
  return storeObject(repo, { type: "tree", entries: sortTreeEntries(entries) });
}

/** Sets a file in a flat path map, replacing anything that conflicts with it as a directory or a parent. */
export function setLeaf(files: Map<string, LeafEntry>, path: string, leaf: LeafEntry): void {
  const clean = path.replace(/^\/+|\/+$/g, "");
  deletePath(files, clean);
  const parts = clean.split("/");
  for (let i = 1; i < parts.length; i++) files.delete(parts.slice(0, i).join("/"));
  files.set(clean, leaf);
}

export function deletePath(files: Map<string, LeafEntry>, path: string): void {
  const clean = path.replace(/^\/+|\/+$/g, "");
  for (const key of [...files.keys()]) if (key === clean || key.startsWith(`${clean}/`)) files.delete(key);
}

/** Commits `files` (path → content, `null` deletes) on top of `branch` as the seeder, and moves the branch. */
export function commitFiles(repo: GitRepo, branch: string, files: Record<string, string | null>, message: string): string {
  const ref = `refs/heads/${branch}`;
  const head = repo.refs.get(ref);
  const flat = new Map<string, LeafEntry>();
  const parent = head === undefined ? undefined : commitObject(repo, head);
  if (parent !== undefined) flatten(repo, parent.tree, "", flat);
  for (const [path, content] of Object.entries(files)) {
    if (content === null) deletePath(flat, path);
    else setLeaf(flat, path, { mode: "100644", type: "blob", sha: storeBlob(repo, content) });
  }
  const commit = storeObject(repo, {
    type: "commit",
    tree: writeTree(repo, flat),
    parents: head === undefined ? [] : [head],
    message,
    author: seederIdentity(),
    committer: seederIdentity(),
  });
  repo.refs.set(ref, commit);
  return commit;
}

/** A commit named by a sha, a full ref, or a branch or tag name (branches first), among the emulator's own objects. */
export function resolveCommitish(repo: GitRepo, ref: string): string | undefined {
  const candidates = isSha(ref)
    ? [ref]
    : ref.startsWith("refs/")
      ? [repo.refs.get(ref)]
      : [repo.refs.get(`refs/heads/${ref}`), repo.refs.get(`refs/tags/${ref}`)];
  return candidates.find((sha): sha is string => sha !== undefined && commitObject(repo, sha) !== undefined);
}

export function lookupPath(repo: GitRepo, commitSha: string, path: string): LeafEntry | TreeEntry | undefined {
  const commit = commitObject(repo, commitSha);
  if (commit === undefined) return undefined;
  let current: LeafEntry | TreeEntry = { mode: "040000", type: "tree", sha: commit.tree };
  for (const segment of path.split("/").filter((part) => part !== "")) {
    const tree = repo.objects.get(current.sha);
    if (tree?.type !== "tree") return undefined;
    const child = tree.entries.find((entry) => entry.name === segment);
    if (child === undefined) return undefined;
    current = child;
  }
  return current;
}

/** Whether `ancestor` is `descendant` or reachable from it through parents. */
export function isAncestor(repo: GitRepo, ancestor: string, descendant: string): boolean {
  const seen = new Set<string>();
  const queue = [descendant];
  for (let next = queue.pop(); next !== undefined; next = queue.pop()) {
    if (next === ancestor) return true;
    if (seen.has(next)) continue;
    seen.add(next);
    const commit = commitObject(repo, next);
    if (commit !== undefined) queue.push(...commit.parents);
  }
  return false;
}

// ---------------------------------------------------------------------------
// The real repository behind (when there is one)

/** Runs git in the backing repository; undefined when there is none or git fails. */
export function gitRun(repo: GitRepo, args: string[]): string | undefined {
  if (repo.git === undefined) return undefined;
  try {
    return execFileSync("git", ["--git-dir", repo.git.gitDir, ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  } catch {
    return undefined;
  }
}

/** Whether a commit exists, in the emulator's objects or the backing repository. */
export function hasCommit(repo: GitRepo, sha: string): boolean {
  return commitObject(repo, sha) !== undefined || (isSha(sha) && gitRun(repo, ["cat-file", "-e", `${sha}^{commit}`]) !== undefined);
}

/** A branch's head: the backing repository's when it has the branch, else the emulator's ref. */
export function branchSha(repo: GitRepo, branch: string): string | undefined {
  if (!/^[A-Za-z0-9._/-]+$/.test(branch)) return undefined;
  return gitRun(repo, ["rev-parse", "--verify", "--quiet", `refs/heads/${branch}^{commit}`]) || repo.refs.get(`refs/heads/${branch}`);
}

export function tagSha(repo: GitRepo, tag: string): string | undefined {
  return (
    repo.refs.get(`refs/tags/${tag}`) ??
    (/^[A-Za-z0-9._/-]+$/.test(tag) ? gitRun(repo, ["rev-parse", "--verify", "--quiet", `refs/tags/${tag}^{commit}`]) : undefined)
  );
}

/** A file's text at a commit, from the emulator's own objects or the backing repository. */
export function fileAt(repo: GitRepo, sha: string, path: string): string | undefined {
  const entry = lookupPath(repo, sha, path);
  const blob = entry === undefined ? undefined : repo.objects.get(entry.sha);
  if (blob?.type === "blob") return blob.content.toString("utf8");
  if (!isSha(sha) || path.startsWith("-")) return undefined;
  return gitRun(repo, ["show", `${sha}:${path}`]);
}

/** A commit's tree, parents, message and people, from the emulator's objects or the backing repository. */
export function commitSummary(repo: GitRepo, sha: string): Omit<CommitObject, "type"> | undefined {
  const commit = commitObject(repo, sha);
  if (commit !== undefined) return commit;
  if (!isSha(sha)) return undefined;
  const raw = gitRun(repo, ["show", "-s", "--format=%T%x00%P%x00%an%x00%ae%x00%at%x00%cn%x00%ce%x00%ct%x00%B", sha]);
  if (raw === undefined) return undefined;
  const [tree = "", parents = "", an = "", ae = "", at = "0", cn = "", ce = "", ct = "0", ...message] = raw.split("\0");
  return {
    tree,
    parents: parents.split(" ").filter((parent) => parent !== ""),
    message: message.join("\0").trim(),
    author: { name: an, email: ae, time: Number(at) },
    committer: { name: cn, email: ce, time: Number(ct) },
  };
}

/** The branches of the backing repository whose head is `sha`. */
export function branchesAt(repo: GitRepo, sha: string): string[] {
  const own = [...repo.refs].flatMap(([name, target]) => (target === sha && name.startsWith("refs/heads/") ? [name.slice("refs/heads/".length)] : []));
  const fromGit = isSha(sha) ? gitRun(repo, ["for-each-ref", "--points-at", sha, "--format=%(refname:short)", "refs/heads"]) : undefined;
  const backed = fromGit === undefined || fromGit === "" ? [] : fromGit.split("\n");
  return [...new Set([...own, ...backed])];
}

/**
 * The diff hunk GitHub shows above a line comment: the hunk of the diff `base...head` holding the
 * line, up to that line. A line outside the diff gets a one-line hunk of its own.
 */
export function diffHunk(repo: GitRepo, baseSha: string, headSha: string, path: string, line: number): string {
  const diff = isSha(baseSha) && isSha(headSha) ? gitRun(repo, ["diff", "--no-color", "--unified=3", `${baseSha}...${headSha}`, "--", path]) : undefined;
  let hunk: string[] = [];
  let next = 0;
  for (const text of (diff ?? "").split("\n")) {
    const header = /^@@ -\d+(?:,\d+)? \+(\d+)(?:,\d+)? @@/.exec(text);
    if (header !== null) {
      hunk = [text];
      next = Number(header[1]);
      continue;
    }
    if (hunk.length === 0 || text.startsWith("\\")) continue;
    hunk.push(text);
    if (text.startsWith("-")) continue;
    if (next === line) return hunk.join("\n");
    next++;
  }
  const content = fileAt(repo, headSha, path)?.split("\n")[line - 1] ?? "";
  return `@@ -${line},1 +${line},1 @@\n ${content}`;
}
