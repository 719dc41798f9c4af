import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Octokit } from "@octokit/rest";
import nock from "nock";
import { afterEach, beforeEach } from "vitest";
import { commitToBareRepo, createBareRepo } from "../git-http-server.js";
import { GitHubEmulator } from "./emulator.js";
import { loopbackFetch } from "./loopback-fetch.js";

/** What the emulator's own tests share: one emulator per test, with `acme/widgets` on installation 11, and clients for it. */

nock.disableNetConnect();
nock.enableNetConnect("127.0.0.1");

export const INSTALLATION = 11;
export const OWNER = "acme";
export const REPO = "widgets";
export const FULL = `${OWNER}/${REPO}`;
export const MATH = "export function add(a, b) {\n  return a + b;\n}\n";

/** Octokit logs every failed request; these tests fail requests on purpose. */
export const quiet = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

type Scope = { repositories?: string[]; permissions?: Record<string, "read" | "write"> };

/**
 * Starts a fresh emulator before each test of the file (every 2xx answer also checked against the
 * description's response schema) and, after it, fails the test on any violation. Returns a getter.
 */
export function useEmulator(): () => GitHubEmulator {
  let current: GitHubEmulator | undefined;
  beforeEach(async () => {
    current = await GitHubEmulator.start({ appId: 42, appSlug: "afk" });
    current.checkResponses = true;
    current.addInstallation(INSTALLATION, OWNER);
    current.addRepo({ owner: OWNER, name: REPO, installationId: INSTALLATION, files: { ".github/afk.yml": "test: npm test\n", "README.md": "hello\n" } });
  });
  afterEach(async () => {
    const emulator = current;
    current = undefined;
    try {
      emulator?.assertNoViolations();
    } finally {
      await emulator?.close();
      for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
    }
  });
  return () => {
    if (current === undefined) throw new Error("the emulator runs only inside a test");
    return current;
  };
}

const tempDirs: string[] = [];

function base64url(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString("base64url");
}

/** An App JWT as @octokit/auth-app makes one; the emulator checks `iss` but not the signature. */
export function appJwt(emulator: GitHubEmulator, iss: number | string = emulator.appId): string {
  const now = Math.floor(Date.now() / 1000);
  return `${base64url({ alg: "RS256", typ: "JWT" })}.${base64url({ iat: now - 30, exp: now + 540, iss })}.c2lnbmF0dXJl`;
}

export function appOctokit(emulator: GitHubEmulator): Octokit {
  return new Octokit({ baseUrl: emulator.apiUrl, auth: appJwt(emulator), request: { fetch: loopbackFetch }, log: quiet });
}

export async function installationToken(emulator: GitHubEmulator, installationId = INSTALLATION, scope: Scope = {}): Promise<string> {
  const { data } = await appOctokit(emulator).rest.apps.createInstallationAccessToken({ installation_id: installationId, ...scope });
  return data.token;
}

export async function installationOctokit(emulator: GitHubEmulator, installationId = INSTALLATION, scope: Scope = {}): Promise<Octokit> {
  const auth = await installationToken(emulator, installationId, scope);
  return new Octokit({ baseUrl: emulator.apiUrl, auth, request: { fetch: loopbackFetch }, log: quiet });
}

/**
 * Puts a real bare repository behind FULL, with a `feature` branch one commit ahead of `main`
 * (`src/math.js` changed), as afk's pushes leave it.
 */
export function gitBacking(emulator: GitHubEmulator): { gitDir: string; mainSha: string; featureSha: string } {
  const root = mkdtempSync(join(tmpdir(), "emulator-test-"));
  tempDirs.push(root);
  const { path, headSha } = createBareRepo(root, FULL, { "README.md": "hello\n", "src/math.js": MATH });
  execFileSync("git", ["--git-dir", path, "branch", "feature", "main"]);
  const featureSha = commitToBareRepo(path, { "src/math.js": MATH.replace("a + b", "a + b + 0") + "export const one = 1;\n" }, "Change add", "feature");
  emulator.connectGit(FULL, { cloneUrl: `http://127.0.0.1:9/${FULL}.git`, gitDir: path });
  return { gitDir: path, mainSha: headSha, featureSha };
}

/** A pull request from a `feature` branch made with the REST git database (no git backing). */
export async function draftPullWithoutGit(emulator: GitHubEmulator, octokit: Octokit, branch = "feature"): Promise<{ number: number; nodeId: string }> {
  await octokit.rest.git.createRef({ owner: OWNER, repo: REPO, ref: `refs/heads/${branch}`, sha: emulator.ref(FULL, "heads/main") ?? "" });
  const { data } = await octokit.rest.pulls.create({ owner: OWNER, repo: REPO, head: branch, base: "main", title: "Feature", draft: true });
  return { number: data.number, nodeId: data.node_id };
}

export function statusOf(error: unknown): number | undefined {
  return typeof error === "object" && error !== null && "status" in error && typeof error.status === "number" ? error.status : undefined;
}

/** The status and message of a request expected to fail. */
export async function failure(promise: Promise<unknown>): Promise<{ status: number | undefined; message: string }> {
  try {
    await promise;
  } catch (error) {
    return { status: statusOf(error), message: error instanceof Error ? error.message : String(error) };
  }
  throw new Error("expected the request to fail");
}

/**
 * Dispatches `workflow` (a file name, `afk-job.yml` unless told) in `owner/repo` with
 * `return_run_details`, as afk does, and answers the new workflow run's id.
 */
export async function dispatchWorkflow(
  octokit: Pick<Octokit, "request">,
  input: { owner?: string; repo?: string; workflow?: string; ref?: string; inputs?: Record<string, unknown> },
): Promise<number> {
  const { data } = await octokit.request("POST /repos/{owner}/{repo}/actions/workflows/{workflow_id}/dispatches", {
    owner: input.owner ?? OWNER,
    repo: input.repo ?? REPO,
    workflow_id: input.workflow ?? "afk-job.yml",
    ref: input.ref ?? "main",
    ...(input.inputs === undefined ? {} : { inputs: input.inputs }),
    return_run_details: true,
  });
  const id: unknown = typeof data === "object" && data !== null && "workflow_run_id" in data ? data.workflow_run_id : undefined;
  if (typeof id !== "number") throw new Error(`GitHub answered the dispatch without a workflow_run_id: ${JSON.stringify(data)}`);
  return id;
}
