// The identity chain of an Actions job, end to end against the emulated GitHub: afk dispatches the
// workflow it ships (`afk init-runner`'s) in the runner repository, the job asks Actions for its OIDC
// token as `afk job` does, and afk verifies the token against the issuer's published keys and the
// run it dispatched. Then the attacker's variants: another run, another audience, another repository
// or branch running the same workflow, a token signed by another key, a finished run.
import type { Octokit } from "@octokit/rest";
import { describe, expect, it } from "vitest";
import { requestIdToken } from "../../src/actions/id-token-request.js";
import { OidcVerifier } from "../../src/actions/oidc-verifier.js";
import { RUN_INPUT, RUNNER_WORKFLOW_FILE, RUNNER_WORKFLOW_PATH, runnerWorkflow } from "../../src/actions/runner-workflow.js";
import { AFK_VERSION } from "../helpers/afk-cli.js";
import type { GitHubEmulator } from "../helpers/emulator/index.js";
import { loopbackFetch } from "../helpers/emulator/loopback-fetch.js";
import { DEFAULT_PERMISSIONS } from "../helpers/emulator/store.js";
import { dispatchWorkflow, FULL, INSTALLATION, installationOctokit, OWNER, REPO, useEmulator } from "../helpers/emulator/test-kit.js";

const current = useEmulator();
const AFK_URL = "https://afk.example.com";
const EXPECTED = { audience: AFK_URL, runnerRepo: FULL, workflowPath: RUNNER_WORKFLOW_PATH, workflowRef: "refs/heads/main" };

/** The runner repository (the emulator's `acme/widgets`) with afk's workflow, and the App allowed to dispatch it. */
async function runnerRepository(emulator: GitHubEmulator): Promise<Octokit> {
  emulator.setFile(FULL, RUNNER_WORKFLOW_PATH, runnerWorkflow(AFK_VERSION));
  emulator.setInstallationPermissions(INSTALLATION, { ...DEFAULT_PERMISSIONS, actions: "write" });
  return installationOctokit(emulator);
}

/** afk's dispatch of one run; the workflow run id GitHub answers. */
function dispatch(octokit: Octokit, repo: { owner: string; repo: string }, afkRun: string, ref = "main"): Promise<number> {
  return dispatchWorkflow(octokit, { ...repo, workflow: RUNNER_WORKFLOW_FILE, ref, inputs: { [RUN_INPUT]: afkRun } });
}

/** The job's environment as Actions sets it for that workflow run. */
function jobEnv(emulator: GitHubEmulator, fullName: string, runId: number): NodeJS.ProcessEnv {
  const request = emulator.idTokenRequest(fullName, runId);
  return { ACTIONS_ID_TOKEN_REQUEST_URL: request.url, ACTIONS_ID_TOKEN_REQUEST_TOKEN: request.token };
}

describe("an Actions job proves to afk which run it is", () => {
  it("a job of the run afk dispatched gets a token afk verifies; the same job is refused for any other run", async () => {
    const emulator = current();
    const octokit = await runnerRepository(emulator);
    const runId = await dispatch(octokit, { owner: OWNER, repo: REPO }, "r-afk-1");
    const other = await dispatch(octokit, { owner: OWNER, repo: REPO }, "r-afk-2");
    const verifier = new OidcVerifier({ issuer: emulator.oidc.issuer, fetch: loopbackFetch });
    const token = await requestIdToken(jobEnv(emulator, FULL, runId), AFK_URL, loopbackFetch);

    const accepted = await verifier.verifyJob(token, { ...EXPECTED, runId });
    expect(accepted).toMatchObject({ ok: true, claims: { repository: FULL, run_id: runId, event_name: "workflow_dispatch" } });
    // The token of run 1 is worth nothing for run 2 (another afk run's spec, heartbeat or result).
    const refused = await verifier.verifyJob(token, { ...EXPECTED, runId: other });
    expect(refused).toEqual({ ok: false, reason: expect.stringMatching(new RegExp(`workflow run ${runId}, not ${other}`)) });
    // A token asked for another audience (a token meant for another service, replayed at afk) is refused.
    const elsewhere = await requestIdToken(jobEnv(emulator, FULL, runId), "https://other.example.com", loopbackFetch);
    expect((await verifier.verifyJob(elsewhere, { ...EXPECTED, runId })).ok).toBe(false);
  });

  it("the same workflow run from another repository or another branch is refused", async () => {
    const emulator = current();
    const octokit = await runnerRepository(emulator);
    // Someone copies afk's workflow into a repository of their own, with the same App installed.
    emulator.addRepo({ owner: OWNER, name: "copycat", installationId: INSTALLATION, files: { [RUNNER_WORKFLOW_PATH]: runnerWorkflow(AFK_VERSION) } });
    const copied = await dispatch(octokit, { owner: OWNER, repo: "copycat" }, "r-afk-1");
    const verifier = new OidcVerifier({ issuer: emulator.oidc.issuer, fetch: loopbackFetch });
    const fromCopy = await requestIdToken(jobEnv(emulator, `${OWNER}/copycat`, copied), AFK_URL, loopbackFetch);
    expect(await verifier.verifyJob(fromCopy, { ...EXPECTED, runId: copied })).toMatchObject({ ok: false, reason: expect.stringMatching(/repository/) });
    // A branch of the runner repository may hold a changed workflow: only the default branch's counts.
    await octokit.rest.git.createRef({ owner: OWNER, repo: REPO, ref: "refs/heads/changed", sha: emulator.ref(FULL, "heads/main") ?? "" });
    const onBranch = await dispatch(octokit, { owner: OWNER, repo: REPO }, "r-afk-1", "changed");
    const fromBranch = await requestIdToken(jobEnv(emulator, FULL, onBranch), AFK_URL, loopbackFetch);
    expect(await verifier.verifyJob(fromBranch, { ...EXPECTED, runId: onBranch })).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/refs\/heads\/changed/),
    });
  });

  it("a token with the right claims signed by another key is refused, and a finished run gets no token", async () => {
    const emulator = current();
    const octokit = await runnerRepository(emulator);
    const runId = await dispatch(octokit, { owner: OWNER, repo: REPO }, "r-afk-1");
    const verifier = new OidcVerifier({ issuer: emulator.oidc.issuer, fetch: loopbackFetch });
    const forged = emulator.oidc.mint(emulator.oidc.claimsFor(FULL, runId, AFK_URL), { key: "foreign" });
    expect(await verifier.verifyJob(forged, { ...EXPECTED, runId })).toMatchObject({ ok: false, reason: expect.stringMatching(/signature/) });
    emulator.setWorkflowRunStatus(FULL, runId, "completed", "success");
    await expect(requestIdToken(jobEnv(emulator, FULL, runId), AFK_URL, loopbackFetch)).rejects.toThrow(/GitHub Actions refused the OIDC token request \(401/);
  });

  it("outside a job with id-token: write, says what the workflow needs", async () => {
    await expect(requestIdToken({}, AFK_URL, loopbackFetch)).rejects.toThrow(/the workflow needs `permissions: id-token: write`/);
  });
});
