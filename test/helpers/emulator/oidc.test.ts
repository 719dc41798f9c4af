import { createPublicKey, verify, type JsonWebKey } from "node:crypto";
import type { Octokit } from "@octokit/rest";
import { describe, expect, it } from "vitest";
import type { GitHubEmulator } from "./emulator.js";
import { loopbackFetch } from "./loopback-fetch.js";
import { DEFAULT_PERMISSIONS } from "./store.js";
import { dispatchWorkflow, FULL, INSTALLATION, installationOctokit, OWNER, REPO, useEmulator } from "./test-kit.js";

const current = useEmulator();

const WORKFLOW = `name: afk job
on:
  workflow_dispatch:
    inputs:
      afk_run:
        required: true
jobs:
  agent:
    runs-on: ubuntu-24.04
    steps:
      - run: echo hi
`;
const AUDIENCE = "https://afk.example.com";

async function dispatchRun(emulator: GitHubEmulator): Promise<{ runId: number; octokit: Octokit }> {
  emulator.setFile(FULL, ".github/workflows/afk-job.yml", WORKFLOW);
  emulator.setInstallationPermissions(INSTALLATION, { ...DEFAULT_PERMISSIONS, actions: "write" });
  const octokit = await installationOctokit(emulator);
  return { runId: await dispatchWorkflow(octokit, { inputs: { afk_run: "afk-1" } }), octokit };
}

async function getJson(url: string, authorization?: string): Promise<{ status: number; body: unknown }> {
  const response = await loopbackFetch(url, authorization === undefined ? {} : { headers: { authorization } });
  const text = await response.text();
  return { status: response.status, body: text === "" ? undefined : JSON.parse(text) };
}

/** Asks for the run's ID token as `core.getIDToken(audience)` does; answers the JWT. */
async function requestIdToken(emulator: GitHubEmulator, runId: number, audience?: string): Promise<string> {
  const { url, token } = emulator.idTokenRequest(FULL, runId);
  const { status, body } = await getJson(audience === undefined ? url : `${url}&audience=${encodeURIComponent(audience)}`, `Bearer ${token}`);
  expect(status).toBe(200);
  const value: unknown = typeof body === "object" && body !== null && "value" in body ? body.value : undefined;
  if (typeof value !== "string") throw new Error(`no token in ${JSON.stringify(body)}`);
  return value;
}

function decodePart(part: string | undefined): Record<string, unknown> {
  const parsed: unknown = JSON.parse(Buffer.from(part ?? "", "base64url").toString("utf8"));
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new Error("not a JSON object");
  return Object.fromEntries(Object.entries(parsed));
}

/** Verifies a JWT's RS256 signature against the JWKS the issuer serves, as a relying party would (discovery first). */
async function verifiesAgainstServedJwks(emulator: GitHubEmulator, jwt: string): Promise<boolean> {
  const discovery = await getJson(`${emulator.oidc.issuer}/.well-known/openid-configuration`);
  const jwksUri = typeof discovery.body === "object" && discovery.body !== null && "jwks_uri" in discovery.body ? String(discovery.body.jwks_uri) : "";
  const jwks = await getJson(jwksUri);
  const keys: unknown = typeof jwks.body === "object" && jwks.body !== null && "keys" in jwks.body ? jwks.body.keys : [];
  const [header, payload, signature] = jwt.split(".");
  const kid = decodePart(header).kid;
  const found: unknown = (Array.isArray(keys) ? keys : []).find((key: unknown) => typeof key === "object" && key !== null && "kid" in key && key.kid === kid);
  if (typeof found !== "object" || found === null || !("n" in found) || !("e" in found)) return false;
  const jwk: JsonWebKey = { kty: "RSA", n: String(found.n), e: String(found.e) };
  const key = createPublicKey({ key: jwk, format: "jwk" });
  return verify("sha256", Buffer.from(`${header ?? ""}.${payload ?? ""}`), key, Buffer.from(signature ?? "", "base64url"));
}

describe("GitHub Actions OIDC issuer", () => {
  it("serves the discovery document and an RS256 JWKS under the issuer, as GitHub Enterprise Server does", async () => {
    const emulator = current();
    const issuer = `http://${emulator.host}/_services/token`;
    expect(emulator.oidc.issuer).toBe(issuer);
    const discovery = await getJson(`${issuer}/.well-known/openid-configuration`);
    expect(discovery).toMatchObject({
      status: 200,
      body: { issuer, jwks_uri: `${issuer}/.well-known/jwks`, id_token_signing_alg_values_supported: ["RS256"] },
    });
    const jwks = await getJson(`${issuer}/.well-known/jwks`);
    expect(jwks.status).toBe(200);
    expect(jwks.body).toEqual({ keys: [{ kty: "RSA", alg: "RS256", use: "sig", kid: emulator.oidc.keyId, n: expect.any(String), e: "AQAB" }] });
    expect((await loopbackFetch(`${issuer}/.well-known/jwks`, { method: "POST" })).status).toBe(405);
  });

  it("answers a job's ID token request with a token the served JWKS verifies, carrying GitHub's claims for its run", async () => {
    const emulator = current();
    const { runId } = await dispatchRun(emulator);
    const { url, token } = emulator.idTokenRequest(FULL, runId);
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/.*\?api-version=2\.0$/);
    expect(token.length).toBeGreaterThanOrEqual(32);

    const before = Math.floor(Date.now() / 1000);
    const jwt = await requestIdToken(emulator, runId, AUDIENCE);
    expect(decodePart(jwt.split(".")[0])).toEqual({ alg: "RS256", typ: "JWT", kid: emulator.oidc.keyId });
    expect(await verifiesAgainstServedJwks(emulator, jwt)).toBe(true);

    const claims = decodePart(jwt.split(".")[1]);
    const head = emulator.ref(FULL, "heads/main") ?? "";
    const owner = emulator.addUser(OWNER);
    const bot = emulator.addUser(emulator.botLogin);
    const run = emulator.workflowRuns(FULL)[0];
    const workflowRef = `${FULL}/.github/workflows/afk-job.yml@refs/heads/main`;
    expect(claims).toEqual({
      jti: expect.stringMatching(/^[0-9a-f-]{36}$/),
      sub: `repo:${FULL}:ref:refs/heads/main`,
      aud: AUDIENCE,
      ref: "refs/heads/main",
      sha: head,
      repository: FULL,
      repository_owner: OWNER,
      repository_id: expect.stringMatching(/^\d+$/),
      repository_owner_id: String(owner.id),
      repository_visibility: "public",
      actor: "afk[bot]",
      actor_id: String(bot.id),
      workflow: "afk job",
      workflow_ref: workflowRef,
      workflow_sha: head,
      job_workflow_ref: workflowRef,
      job_workflow_sha: head,
      head_ref: "",
      base_ref: "",
      event_name: "workflow_dispatch",
      ref_type: "branch",
      ref_protected: "false",
      run_id: String(runId),
      run_number: String(run?.runNumber),
      run_attempt: "1",
      runner_environment: "github-hosted",
      iss: emulator.oidc.issuer,
      iat: expect.any(Number),
      nbf: expect.any(Number),
      exp: expect.any(Number),
    });
    const { iat, nbf, exp } = claims;
    if (typeof iat !== "number" || typeof nbf !== "number" || typeof exp !== "number") throw new Error("times are numbers");
    expect(iat).toBeGreaterThanOrEqual(before);
    expect(exp - iat).toBe(300);
    expect(nbf).toBeLessThan(iat);
    expect(emulator.oidc.issued.map((issued) => [issued.runId, issued.token])).toEqual([[runId, jwt]]);

    // Each token is new: another jti. Without an audience GitHub's default is the owner's URL.
    const second = decodePart((await requestIdToken(emulator, runId)).split(".")[1]);
    expect(second.jti).not.toBe(claims.jti);
    expect(second.aud).toBe(`${emulator.webUrl}/${OWNER}`);
  });

  it("refuses an ID token request without the run's bearer, with another run's bearer, or for a run that has completed (401)", async () => {
    const emulator = current();
    const { runId, octokit } = await dispatchRun(emulator);
    const otherRun = await dispatchWorkflow(octokit, { inputs: { afk_run: "afk-2" } });
    const { url, token } = emulator.idTokenRequest(FULL, runId);
    const other = emulator.idTokenRequest(FULL, otherRun);
    const asking = `${url}&audience=${encodeURIComponent(AUDIENCE)}`;

    expect((await getJson(asking)).status).toBe(401);
    expect((await getJson(asking, `Bearer ${token}x`)).status).toBe(401);
    expect((await getJson(asking, `Bearer ${other.token}`)).status).toBe(401);
    expect((await getJson(asking, `token ${token}`)).status).toBe(401);
    expect((await getJson(`${other.url}&audience=x`, `Bearer ${token}`)).status).toBe(401);
    expect((await getJson(asking, `Bearer ${token}`)).status).toBe(200);

    // A cancelled run's job gets no more tokens.
    await octokit.rest.actions.cancelWorkflowRun({ owner: OWNER, repo: REPO, run_id: runId });
    expect((await getJson(asking, `Bearer ${token}`)).status).toBe(401);
    expect((await getJson(`${other.url}&audience=x`, `Bearer ${other.token}`)).status).toBe(200);
    expect(emulator.oidc.issued.map((issued) => issued.runId)).toEqual([runId, otherRun]);
  });

  it("mints any claims with the issuer's key, or with a foreign key whose token the served JWKS does not verify", async () => {
    const emulator = current();
    const { runId } = await dispatchRun(emulator);
    const genuine = emulator.oidc.claimsFor(FULL, runId, AUDIENCE);
    expect(genuine).toMatchObject({ run_id: String(runId), aud: AUDIENCE, repository: FULL });

    const otherRepository = { ...genuine, repository: "mallory/runner", sub: "repo:mallory/runner:ref:refs/heads/main" };
    const minted = emulator.oidc.mint(otherRepository);
    expect(decodePart(minted.split(".")[1])).toEqual(otherRepository);
    expect(await verifiesAgainstServedJwks(emulator, minted)).toBe(true);

    // Signed by a key the JWKS does not publish, under the issuer's own kid: only the signature tells.
    const forged = emulator.oidc.mint(genuine, { key: "foreign" });
    expect(decodePart(forged.split(".")[0]).kid).toBe(emulator.oidc.keyId);
    expect(await verifiesAgainstServedJwks(emulator, forged)).toBe(false);
    const unknownKid = emulator.oidc.mint(genuine, { key: "foreign", header: { kid: "not-published" } });
    expect(await verifiesAgainstServedJwks(emulator, unknownKid)).toBe(false);

    // A tampered payload under a genuine signature does not verify either.
    const [header, , signature] = minted.split(".");
    const tampered = `${header ?? ""}.${Buffer.from(JSON.stringify({ ...genuine, run_id: "1" })).toString("base64url")}.${signature ?? ""}`;
    expect(await verifiesAgainstServedJwks(emulator, tampered)).toBe(false);
    expect(emulator.oidc.issued).toEqual([]);
  });
});
