import {
  branchSha,
  commitObject,
  deletePath,
  flatten,
  gitRun,
  isAncestor,
  lookupPath,
  resolveCommitish,
  setLeaf,
  storeBlob,
  storeObject,
  writeTree,
  type GitIdentity,
  type LeafEntry,
  type TreeEntry,
} from "./git-store.js";
import { created, HttpError, installationRoute, notFound, ok, type Reply, type RequestContext, type RouteTable } from "./http.js";
import type { CommitJson, GitIdentityJson, RefJson } from "./json.js";
import { actor } from "./issues.js";
import type { EmulatorStore, RepoState } from "./store.js";
import { field, nodeId, stringField, timestamp, type JsonObject } from "./util.js";

/**
 * The git database over REST (trees, commits, refs) and file contents. Refs are a compare-and-swap:
 * a ref is created once, moves only by fast-forward unless forced, and is deleted once; handlers run
 * synchronously, so concurrent updates from the same parent leave exactly one winner.
 */
export function gitRoutes(store: EmulatorStore): RouteTable {
  const read = (handle: (ctx: RequestContext) => Reply) => installationRoute("contents", "read", handle);
  const write = (handle: (ctx: RequestContext) => Reply) => installationRoute("contents", "write", handle);
  return [
    ["GET /repos/{owner}/{repo}/contents/{path}", read((ctx) => getContent(store, ctx))],
    ["POST /repos/{owner}/{repo}/git/blobs", write((ctx) => createBlob(store, ctx))],
    ["GET /repos/{owner}/{repo}/git/blobs/{file_sha}", read((ctx) => getBlob(store, ctx))],
    ["GET /repos/{owner}/{repo}/git/matching-refs/{ref}", read((ctx) => matchingRefs(store, ctx))],
    ["POST /repos/{owner}/{repo}/git/trees", write((ctx) => createTree(store, ctx))],
    ["GET /repos/{owner}/{repo}/git/trees/{tree_sha}", read((ctx) => getTree(store, ctx))],
    ["POST /repos/{owner}/{repo}/git/commits", write((ctx) => createCommit(store, ctx))],
    ["GET /repos/{owner}/{repo}/git/commits/{commit_sha}", read((ctx) => ok(commitJson(store, ctx.repo(), ctx.params.commit_sha ?? "")))],
    ["GET /repos/{owner}/{repo}/git/ref/{ref}", read((ctx) => getRef(store, ctx))],
    ["POST /repos/{owner}/{repo}/git/refs", write((ctx) => createRef(store, ctx))],
    ["PATCH /repos/{owner}/{repo}/git/refs/{ref}", write((ctx) => updateRef(store, ctx))],
    ["DELETE /repos/{owner}/{repo}/git/refs/{ref}", write((ctx) => deleteRef(ctx))],
  ];
}

function getContent(store: EmulatorStore, ctx: RequestContext): Reply {
  const repo = ctx.repo();
  const path = (ctx.params.path ?? "").replace(/^\/+|\/+$/g, "");
  const refName = ctx.query.ref ?? repo.defaultBranch;
  const commit = resolveCommitish(repo, refName);
  if (commit === undefined) throw new HttpError(404, `No commit found for the ref ${refName}`);
  const entry = lookupPath(repo, commit, path);
  if (entry === undefined) throw notFound();
  const object = repo.objects.get(entry.sha);
  if (object?.type === "tree") {
    return ok(object.entries.map((child) => contentEntryJson(store, repo, refName, path === "" ? child.name : `${path}/${child.name}`, child)));
  }
  if (object?.type !== "blob") throw notFound();
  if (ctx.accept.includes("raw")) return { status: 200, text: object.content.toString("utf8") };
  const base64 = object.content.toString("base64");
  const content = (base64.match(/.{1,60}/g) ?? []).join("\n") + (base64 === "" ? "" : "\n");
  return ok({ ...contentEntryJson(store, repo, refName, path, entry), content, encoding: "base64" });
}

function createBlob(store: EmulatorStore, ctx: RequestContext): Reply {
  const repo = ctx.repo();
  const content = stringField(ctx.body, "content");
  const encoding = stringField(ctx.body, "encoding") ?? "utf-8";
  if (content === undefined) throw new HttpError(422, 'Invalid request.\n\n"content" wasn\'t supplied.');
  if (encoding !== "utf-8" && encoding !== "base64") throw new HttpError(422, `encoding must be utf-8 or base64, not ${encoding}`);
  const sha = storeObject(repo, { type: "blob", content: Buffer.from(content, encoding === "base64" ? "base64" : "utf8") });
  const url = `${store.hosts.api}/repos/${repo.fullName}/git/blobs/${sha}`;
  return created({ sha, url }, url);
}

function getBlob(store: EmulatorStore, ctx: RequestContext): Reply {
  const repo = ctx.repo();
  const sha = ctx.params.file_sha ?? "";
  const blob = repo.objects.get(sha);
  if (blob?.type !== "blob") throw notFound();
  const content = blob.content.toString("base64");
  return ok({
    sha,
    node_id: nodeId("B", sha),
    size: blob.content.length,
    url: `${store.hosts.api}/repos/${repo.fullName}/git/blobs/${sha}`,
    content: (content.match(/.{1,60}/g) ?? []).join("\n"),
    encoding: "base64",
  });
}

/**
 * The refs whose names start with `refs/{ref}`, in name order: the emulator's own refs, and the
 * backing repository's branches for a prefix under `heads/` (as `git/ref/heads/…` reads branches there).
 */
function matchingRefs(store: EmulatorStore, ctx: RequestContext): Reply {
  const repo = ctx.repo();
  const prefix = `refs/${ctx.params.ref ?? ""}`;
  const found = new Map<string, string>();
  for (const [name, sha] of repo.refs) if (name.startsWith(prefix)) found.set(name, sha);
  if (prefix.startsWith("refs/heads/")) {
    for (const line of (gitRun(repo, ["for-each-ref", "--format=%(refname) %(objectname)", "refs/heads/"]) ?? "").split("\n")) {
      const [name = "", sha = ""] = line.split(" ");
      if (name.startsWith(prefix) && sha !== "") found.set(name, sha);
    }
  }
  return ok([...found].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([name, sha]) => refJson(store, repo, name, sha)));
}

function createTree(store: EmulatorStore, ctx: RequestContext): Reply {
  const repo = ctx.repo();
  const files = new Map<string, LeafEntry>();
  const baseTree = stringField(ctx.body, "base_tree");
  if (baseTree !== undefined) {
    if (repo.objects.get(baseTree)?.type !== "tree") throw new HttpError(422, "base_tree is not a valid tree oid");
    flatten(repo, baseTree, "", files);
  }
  const invalid = (problem: string): HttpError => new HttpError(422, "Invalid tree info", { errors: [problem] });
  const entries = field(ctx.body, "tree");
  for (const entry of Array.isArray(entries) ? entries : []) {
    const path = stringField(entry, "path");
    const mode = stringField(entry, "mode");
    const type = stringField(entry, "type");
    const sha = field(entry, "sha");
    const content = stringField(entry, "content");
    if (path === undefined || mode === undefined || (type !== "blob" && type !== "tree" && type !== "commit")) {
      throw invalid("tree.path, tree.mode and tree.type are required");
    }
    if (content !== undefined && sha !== undefined) throw invalid("tree.sha and tree.content are mutually exclusive");
    if (sha === null) {
      deletePath(files, path);
    } else if (content !== undefined) {
      if (type !== "blob") throw invalid("tree.content requires type blob");
      setLeaf(files, path, { mode, type, sha: storeBlob(repo, content) });
    } else if (typeof sha === "string") {
      const object = repo.objects.get(sha);
      if (type === "tree") {
        if (object?.type !== "tree") throw new HttpError(422, `tree.sha ${sha} is not a valid tree`);
        deletePath(files, path);
        flatten(repo, sha, `${path}/`, files);
      } else {
        if (type === "blob" && object?.type !== "blob") throw new HttpError(422, `tree.sha ${sha} is not a valid blob`);
        setLeaf(files, path, { mode, type, sha });
      }
    } else {
      throw invalid("tree.sha or tree.content is required");
    }
  }
  const sha = writeTree(repo, files);
  return created(treeJson(store, repo, sha), `${store.hosts.api}/repos/${repo.fullName}/git/trees/${sha}`);
}

function getTree(store: EmulatorStore, ctx: RequestContext): Reply {
  const repo = ctx.repo();
  const sha = ctx.params.tree_sha ?? "";
  if (repo.objects.get(sha)?.type !== "tree") throw notFound();
  return ok(treeJson(store, repo, sha));
}

/** An author or committer from a request body; `fallback` when it names no one. */
function gitIdentity(value: unknown, fallback: GitIdentity): GitIdentity {
  const name = stringField(value, "name");
  const email = stringField(value, "email");
  if (name === undefined || email === undefined) return fallback;
  const date = stringField(value, "date");
  const time = date === undefined ? fallback.time : Math.floor(Date.parse(date) / 1000);
  return { name, email, time: Number.isFinite(time) ? time : fallback.time };
}

function createCommit(store: EmulatorStore, ctx: RequestContext): Reply {
  const repo = ctx.repo();
  const tree = stringField(ctx.body, "tree") ?? "";
  if (repo.objects.get(tree)?.type !== "tree") throw new HttpError(422, "Tree SHA does not exist");
  const parentsField = field(ctx.body, "parents");
  const parents = Array.isArray(parentsField) ? parentsField.map(String) : [];
  for (const parent of parents) {
    if (commitObject(repo, parent) === undefined) throw new HttpError(422, "Parent SHA does not exist or is not a commit object");
  }
  const user = actor(store, ctx);
  const bot = { name: user.login, email: `${user.id}+${user.login}@users.noreply.github.com`, time: Math.floor(Date.now() / 1000) };
  const author = gitIdentity(field(ctx.body, "author"), bot);
  const committer = gitIdentity(field(ctx.body, "committer"), author);
  const sha = storeObject(repo, { type: "commit", tree, parents, message: String(field(ctx.body, "message")), author, committer });
  const json = commitJson(store, repo, sha);
  return created(json, json.url);
}

function getRef(store: EmulatorStore, ctx: RequestContext): Reply {
  const repo = ctx.repo();
  const name = `refs/${ctx.params.ref ?? ""}`;
  // A branch is the real repository's when one stands behind (pushes go there), as `branches/{branch}` reads it.
  const sha = name.startsWith("refs/heads/") ? branchSha(repo, name.slice("refs/heads/".length)) : repo.refs.get(name);
  if (sha === undefined) throw notFound();
  return ok(refJson(store, repo, name, sha));
}

function createRef(store: EmulatorStore, ctx: RequestContext): Reply {
  const repo = ctx.repo();
  const name = stringField(ctx.body, "ref") ?? "";
  const sha = stringField(ctx.body, "sha") ?? "";
  if (!name.startsWith("refs/") || name.split("/").length < 3 || name.split("/").some((part) => part === "")) {
    throw new HttpError(422, "Reference name must start with 'refs/' and have at least two slashes.");
  }
  if (repo.refs.has(name)) throw new HttpError(422, "Reference already exists");
  if (!repo.objects.has(sha)) throw new HttpError(422, "Object does not exist");
  repo.refs.set(name, sha);
  const json = refJson(store, repo, name, sha);
  return created(json, json.url);
}

function updateRef(store: EmulatorStore, ctx: RequestContext): Reply {
  const repo = ctx.repo();
  const name = `refs/${ctx.params.ref ?? ""}`;
  const sha = stringField(ctx.body, "sha") ?? "";
  const current = repo.refs.get(name);
  if (current === undefined) throw new HttpError(422, "Reference does not exist");
  if (!repo.objects.has(sha)) throw new HttpError(422, "Object does not exist");
  if (field(ctx.body, "force") !== true && !isAncestor(repo, current, sha)) throw new HttpError(422, "Update is not a fast forward");
  repo.refs.set(name, sha);
  return ok(refJson(store, repo, name, sha));
}

function deleteRef(ctx: RequestContext): Reply {
  if (!ctx.repo().refs.delete(`refs/${ctx.params.ref ?? ""}`)) throw new HttpError(422, "Reference does not exist");
  return { status: 204 };
}

// ---------------------------------------------------------------------------
// The JSON of the git database: REST answers only (no webhook payload carries these), so they live with their routes.

export function treeJson(store: EmulatorStore, repo: RepoState, sha: string): JsonObject {
  const tree = repo.objects.get(sha);
  const api = `${store.hosts.api}/repos/${repo.fullName}/git`;
  return {
    sha,
    url: `${api}/trees/${sha}`,
    truncated: false,
    tree: (tree?.type === "tree" ? tree.entries : []).map((entry) => {
      const object = repo.objects.get(entry.sha);
      return {
        path: entry.name,
        mode: entry.mode,
        type: entry.type,
        sha: entry.sha,
        ...(object?.type === "blob" ? { size: object.content.length } : {}),
        url: `${api}/${entry.type === "tree" ? "trees" : "blobs"}/${entry.sha}`,
      };
    }),
  };
}

export function commitJson(store: EmulatorStore, repo: RepoState, sha: string): CommitJson {
  const commit = commitObject(repo, sha);
  if (commit === undefined) throw notFound();
  const api = `${store.hosts.api}/repos/${repo.fullName}/git`;
  const html = `${store.hosts.web}/${repo.fullName}/commit`;
  const identity = (who: GitIdentity): GitIdentityJson => ({ name: who.name, email: who.email, date: timestamp(new Date(who.time * 1000)) });
  return {
    sha,
    node_id: nodeId("C", sha),
    url: `${api}/commits/${sha}`,
    html_url: `${html}/${sha}`,
    author: identity(commit.author),
    committer: identity(commit.committer),
    tree: { sha: commit.tree, url: `${api}/trees/${commit.tree}` },
    message: commit.message,
    parents: commit.parents.map((parent) => ({ sha: parent, url: `${api}/commits/${parent}`, html_url: `${html}/${parent}` })),
    verification: { verified: false, reason: "unsigned", signature: null, payload: null, verified_at: null },
  };
}

export function refJson(store: EmulatorStore, repo: RepoState, name: string, sha: string): RefJson {
  const api = `${store.hosts.api}/repos/${repo.fullName}/git`;
  const type = repo.objects.get(sha)?.type ?? "commit";
  return { ref: name, node_id: nodeId("REF", `${repo.id}:${name}`), url: `${api}/${name}`, object: { type, sha, url: `${api}/${type}s/${sha}` } };
}

/** One entry of `GET …/contents/{path}` (a file without its content, or a directory) at `refName`. */
export function contentEntryJson(store: EmulatorStore, repo: RepoState, refName: string, path: string, entry: LeafEntry | TreeEntry): JsonObject {
  const { api, web } = store.hosts;
  const stored = repo.objects.get(entry.sha);
  const isDir = entry.type === "tree";
  const htmlUrl = `${web}/${repo.fullName}/${isDir ? "tree" : "blob"}/${refName}/${path}`;
  const gitUrl = `${api}/repos/${repo.fullName}/git/${isDir ? "trees" : "blobs"}/${entry.sha}`;
  const selfUrl = `${api}/repos/${repo.fullName}/contents/${path}?ref=${encodeURIComponent(refName)}`;
  return {
    type: isDir ? "dir" : "file",
    size: stored?.type === "blob" ? stored.content.length : 0,
    name: path.split("/").pop() ?? path,
    path,
    sha: entry.sha,
    url: selfUrl,
    git_url: gitUrl,
    html_url: htmlUrl,
    download_url: isDir ? null : `${web}/${repo.fullName}/raw/${refName}/${path}`,
    _links: { self: selfUrl, git: gitUrl, html: htmlUrl },
  };
}
