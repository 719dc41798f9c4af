import { execFile, execFileSync, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { createGunzip } from "node:zlib";

const run = promisify(execFile);

/** Who asks for what over git smart HTTP. */
export interface GitAccess {
  /** `owner/name` */
  repo: string;
  service: "upload-pack" | "receive-pack";
  /** The token from `Authorization: Basic x-access-token:<token>`, as GitHub accepts installation tokens. */
  token: string | undefined;
}

/** A ref update a push made, read from the repository before and after. */
export interface RecordedPush {
  repo: string;
  token: string | undefined;
  /** `refs/heads/x old→new` lines; empty when the push was refused. */
  updates: string[];
}

const GIT_HTTP_BACKEND = join(execFileSync("git", ["--exec-path"], { encoding: "utf8" }).trim(), "git-http-backend");

/**
 * Bare repositories under `root`, served over git's smart HTTP protocol by `git http-backend` (CGI),
 * on loopback. Access is decided per request by `authorize`; a refusal is a 401 with a Basic
 * challenge, so git reports an authentication failure as it would against GitHub.
 */
export class GitHttpServer {
  readonly requests: GitAccess[] = [];
  readonly pushes: RecordedPush[] = [];
  /**
   * Called once a push has updated refs, before the pusher is answered (`sha` undefined for a deleted
   * ref): a test plays a CI app that reports before the pusher has even heard back.
   */
  onPush: ((push: { repo: string; updates: Array<{ ref: string; sha: string | undefined }> }) => Promise<void> | undefined) | undefined;
  readonly #server: Server;
  readonly #root: string;
  readonly #authorize: (access: GitAccess) => boolean | Promise<boolean>;

  private constructor(server: Server, root: string, authorize: (access: GitAccess) => boolean | Promise<boolean>) {
    this.#server = server;
    this.#root = root;
    this.#authorize = authorize;
  }

  static async start(options: { root: string; authorize?: (access: GitAccess) => boolean | Promise<boolean> }): Promise<GitHttpServer> {
    let instance: GitHttpServer | undefined;
    const server = createServer((req, res) => {
      if (instance === undefined) return void res.writeHead(503).end();
      instance.#handle(req, res).catch((error: unknown) => {
        if (!res.headersSent) res.writeHead(500);
        res.end(String(error));
      });
    });
    instance = new GitHttpServer(server, options.root, options.authorize ?? (() => true));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return instance;
  }

  get origin(): string {
    const address = this.#server.address() as AddressInfo;
    return `http://127.0.0.1:${address.port}`;
  }

  cloneUrl(fullName: string): string {
    return `${this.origin}/${fullName}.git`;
  }

  close(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", this.origin);
    const match = /^\/([^/]+)\/([^/]+)\.git(\/.*)$/.exec(url.pathname);
    const service =
      url.searchParams.get("service") ??
      (url.pathname.endsWith("/git-receive-pack") ? "git-receive-pack" : url.pathname.endsWith("/git-upload-pack") ? "git-upload-pack" : undefined);
    if (match === null || (service !== "git-upload-pack" && service !== "git-receive-pack")) return void res.writeHead(404).end("not a git smart HTTP request");
    const repo = `${match[1]}/${match[2]}`;
    const access: GitAccess = { repo, service: service === "git-receive-pack" ? "receive-pack" : "upload-pack", token: basicToken(req.headers.authorization) };
    this.requests.push(access);
    if (!(await this.#authorize(access))) {
      res.writeHead(401, { "www-authenticate": 'Basic realm="GitHub"', "content-type": "text/plain" });
      return void res.end("Invalid username or token.");
    }
    const gitDir = join(this.#root, `${repo}.git`);
    const isPush = access.service === "receive-pack" && req.method === "POST";
    const before = isPush ? await refs(gitDir) : undefined;

    const body = req.headers["content-encoding"] === "gzip" ? req.pipe(createGunzip()) : req;
    const cgi = spawn(GIT_HTTP_BACKEND, [], {
      env: {
        PATH: process.env.PATH ?? "/usr/bin:/bin",
        GIT_PROJECT_ROOT: this.#root,
        GIT_HTTP_EXPORT_ALL: "1",
        PATH_INFO: `/${repo}.git${match[3] ?? ""}`,
        QUERY_STRING: url.search.slice(1),
        REQUEST_METHOD: req.method ?? "GET",
        CONTENT_TYPE: req.headers["content-type"] ?? "",
        REMOTE_USER: access.token === undefined ? "" : "x-access-token",
        REMOTE_ADDR: "127.0.0.1",
        GIT_CONFIG_COUNT: "1",
        GIT_CONFIG_KEY_0: "http.receivepack",
        GIT_CONFIG_VALUE_0: "true",
      },
      stdio: ["pipe", "pipe", "ignore"],
    });
    body.pipe(cgi.stdin);
    let buffer = Buffer.alloc(0);
    let headersDone = false;
    cgi.stdout.on("data", (chunk: Buffer) => {
      if (headersDone) return void res.write(chunk);
      buffer = Buffer.concat([buffer, chunk]);
      const end = buffer.indexOf("\r\n\r\n");
      if (end < 0) return;
      headersDone = true;
      let status = 200;
      const headers: Record<string, string> = {};
      for (const line of buffer.subarray(0, end).toString("latin1").split("\r\n")) {
        const colon = line.indexOf(":");
        if (colon < 0) continue;
        const name = line.slice(0, colon).trim();
        const value = line.slice(colon + 1).trim();
        if (name.toLowerCase() === "status") status = Number.parseInt(value, 10);
        else headers[name] = value;
      }
      res.writeHead(status, headers);
      res.write(buffer.subarray(end + 4));
    });
    await new Promise<void>((resolve) => cgi.once("close", () => resolve()));
    if (!headersDone) res.writeHead(502);
    if (before !== undefined) {
      const after = await refs(gitDir);
      const changed = [...new Set([...before.keys(), ...after.keys()])].filter((ref) => before.get(ref) !== after.get(ref));
      this.pushes.push({ repo, token: access.token, updates: changed.map((ref) => `${ref} ${before.get(ref) ?? "(none)"}→${after.get(ref) ?? "(deleted)"}`) });
      // The pusher hears back only once the hook is done, as from a server whose hooks run on receive.
      const hook = this.onPush?.({ repo, updates: changed.map((ref) => ({ ref, sha: after.get(ref) })) });
      if (hook !== undefined) await hook;
    }
    res.end();
  }
}

function basicToken(header: string | undefined): string | undefined {
  const match = /^Basic\s+(\S+)$/i.exec(header ?? "");
  if (match?.[1] === undefined) return undefined;
  const decoded = Buffer.from(match[1], "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  return colon < 0 ? undefined : decoded.slice(colon + 1);
}

async function refs(gitDir: string): Promise<Map<string, string>> {
  const { stdout } = await run("git", ["--git-dir", gitDir, "for-each-ref", "--format=%(refname) %(objectname)"]);
  return new Map(
    stdout
      .split("\n")
      .filter((line) => line.length > 0)
      .map((line) => line.split(" ") as [string, string]),
  );
}

/**
 * Creates `<root>/<owner>/<name>.git` holding `files` in one commit on `main` (or `branch`). Non-fast-forward
 * pushes are refused, as a protected GitHub branch would, so a force push shows up as a refusal.
 */
export function createBareRepo(
  root: string,
  fullName: string,
  files: Record<string, string>,
  options: { branch?: string } = {},
): { path: string; headSha: string } {
  const branch = options.branch ?? "main";
  const path = join(root, `${fullName}.git`);
  mkdirSync(dirname(path), { recursive: true });
  const work = mkdtempSync(join(tmpdir(), "afk-seed-"));
  const env = { ...gitIdentityEnv(), PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: work, GIT_CONFIG_NOSYSTEM: "1" };
  try {
    execFileSync("git", ["init", "--quiet", "--initial-branch", branch, work], { env });
    for (const [file, content] of Object.entries(files)) {
      mkdirSync(dirname(join(work, file)), { recursive: true });
      writeFileSync(join(work, file), content);
    }
    execFileSync("git", ["-C", work, "add", "--all"], { env });
    execFileSync("git", ["-C", work, "commit", "--quiet", "-m", "Initial commit"], { env });
    execFileSync("git", ["clone", "--quiet", "--bare", work, path], { env });
    execFileSync("git", ["--git-dir", path, "config", "receive.denyNonFastForwards", "true"], { env });
    execFileSync("git", ["--git-dir", path, "config", "receive.denyDeletes", "true"], { env });
    const headSha = execFileSync("git", ["--git-dir", path, "rev-parse", branch], { env, encoding: "utf8" }).trim();
    return { path, headSha };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Adds a commit changing `files` on `branch` of a bare repository (an upstream change between runs). */
export function commitToBareRepo(path: string, files: Record<string, string>, message: string, branch = "main"): string {
  const work = mkdtempSync(join(tmpdir(), "afk-upstream-"));
  const env = { ...gitIdentityEnv(), PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: work, GIT_CONFIG_NOSYSTEM: "1" };
  try {
    execFileSync("git", ["clone", "--quiet", "--branch", branch, path, work], { env });
    for (const [file, content] of Object.entries(files)) {
      mkdirSync(dirname(join(work, file)), { recursive: true });
      writeFileSync(join(work, file), content);
    }
    execFileSync("git", ["-C", work, "add", "--all"], { env });
    execFileSync("git", ["-C", work, "commit", "--quiet", "-m", message], { env });
    execFileSync("git", ["-C", work, "push", "--quiet", "origin", branch], { env });
    return execFileSync("git", ["-C", work, "rev-parse", "HEAD"], { env, encoding: "utf8" }).trim();
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

function gitIdentityEnv(): Record<string, string> {
  return { GIT_AUTHOR_NAME: "Seeder", GIT_AUTHOR_EMAIL: "seeder@example.com", GIT_COMMITTER_NAME: "Seeder", GIT_COMMITTER_EMAIL: "seeder@example.com" };
}
