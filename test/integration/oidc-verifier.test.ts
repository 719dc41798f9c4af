import { createHmac, generateKeyPairSync, sign, type KeyObject } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { ExpectedJob } from "../../src/actions/job-claims.js";
import { KEY_REFRESH_INTERVAL_MS, MAX_TOKEN_BYTES, OidcVerifier, ReplayGuard } from "../../src/actions/oidc-verifier.js";

interface SigningKey {
  kid: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
}

function newKey(kid: string, modulusLength = 2048): SigningKey {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength });
  return { kid, privateKey, publicKey };
}

/** One key pair per test file is enough: RSA key generation is the slow part. */
const issuerKey = newKey("issuer-key-1");
const rotatedKey = newKey("issuer-key-2");
const attackerKey = newKey("attacker-key");

/**
 * An OIDC issuer on loopback, as GitHub's Actions issuer answers: a discovery document and a JWKS of
 * RSA keys. It counts the requests it answers and can be told to publish other keys, to name another
 * issuer, or to stop answering.
 */
class LoopbackIssuer {
  readonly requests: string[] = [];
  published: SigningKey[] = [issuerKey];
  /** The JWKS answered instead of the published keys' set, when set. */
  jwksOverride: unknown;
  namedIssuer: string | undefined;
  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(): Promise<LoopbackIssuer> {
    let issuer: LoopbackIssuer | undefined;
    const server = createServer((request, response) => {
      issuer?.requests.push(request.url ?? "");
      issuer?.answer(request.url ?? "", (status, body) => {
        response.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    issuer = new LoopbackIssuer(server, `http://127.0.0.1:${port}`);
    return issuer;
  }

  private answer(path: string, reply: (status: number, body: unknown) => void): void {
    if (path === "/.well-known/openid-configuration") reply(200, { issuer: this.namedIssuer ?? this.url, jwks_uri: `${this.url}/.well-known/jwks` });
    else if (path === "/.well-known/jwks") reply(200, this.jwksOverride ?? { keys: this.published.map(jwkOf) });
    else reply(404, { message: "Not Found" });
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve, reject) => this.server.close((error) => (error ? reject(error) : resolve())));
  }
}

function jwkOf(key: SigningKey): Record<string, unknown> {
  return { ...key.publicKey.export({ format: "jwk" }), kid: key.kid, use: "sig", alg: "RS256" };
}

const base64url = (value: string | Buffer): string => Buffer.from(value).toString("base64url");

/** A compact JWT with this header and these claims, RS256-signed with `key`. */
function signed(claims: Record<string, unknown>, key: SigningKey, header: Record<string, unknown> = { alg: "RS256", typ: "JWT", kid: key.kid }): string {
  const input = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(claims))}`;
  return `${input}.${base64url(sign("sha256", Buffer.from(input), key.privateKey))}`;
}

let issuer: LoopbackIssuer;
let clock: Date;
let verifier: OidcVerifier;

const AUDIENCE = "https://afk.example.com";
const job: Omit<ExpectedJob, "issuer"> = {
  audience: AUDIENCE,
  runnerRepo: "octo-org/afk-runner",
  workflowPath: ".github/workflows/afk-job.yml",
  workflowRef: "refs/heads/main",
  runId: 42,
};

/** The claims GitHub puts in the token of the job afk dispatched as workflow run 42. */
function jobClaims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const iat = Math.floor(clock.getTime() / 1000);
  return {
    jti: "6b0c1b8e-3c1d-4a2e-8f4b-1d2e3f4a5b6c",
    sub: "repo:octo-org/afk-runner:ref:refs/heads/main",
    aud: AUDIENCE,
    ref: "refs/heads/main",
    sha: "d6e0a3b4c5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0",
    repository: "octo-org/afk-runner",
    repository_owner: "octo-org",
    run_id: "42",
    run_number: "7",
    run_attempt: "1",
    runner_environment: "github-hosted",
    actor: "afk[bot]",
    event_name: "workflow_dispatch",
    ref_type: "branch",
    workflow_ref: "octo-org/afk-runner/.github/workflows/afk-job.yml@refs/heads/main",
    job_workflow_ref: "octo-org/afk-runner/.github/workflows/afk-job.yml@refs/heads/main",
    iss: issuer.url,
    nbf: iat - 60,
    iat,
    exp: iat + 300,
    ...overrides,
  };
}

async function refusal(jwt: string): Promise<string> {
  const verdict = await verifier.verifyJob(jwt, job);
  if (verdict.ok) throw new Error("the token was accepted");
  return verdict.reason;
}

beforeEach(async () => {
  issuer = await LoopbackIssuer.start();
  clock = new Date("2026-11-23T12:00:00.000Z");
  verifier = new OidcVerifier({ issuer: issuer.url, now: () => clock });
});

afterEach(async () => {
  await issuer.close();
});

describe("verifying a job's OIDC token against the issuer's keys", () => {
  it("accepts the token the issuer signed for the dispatched run, reading the issuer's keys once for many tokens", async () => {
    const verdict = await verifier.verifyJob(signed(jobClaims(), issuerKey), job);
    expect(verdict).toMatchObject({ ok: true, claims: { run_id: 42, repository: "octo-org/afk-runner" } });
    for (let i = 0; i < 10; i++) expect((await verifier.verify(signed(jobClaims({ jti: `t-${i}` }), issuerKey))).ok).toBe(true);
    expect(issuer.requests).toEqual(["/.well-known/openid-configuration", "/.well-known/jwks"]);
  });

  it("answers the signed claims as they are from verify, for the caller to check", async () => {
    const claims = jobClaims({ extra: "kept" });
    expect(await verifier.verify(signed(claims, issuerKey))).toEqual({ ok: true, claims });
  });

  it("picks up a rotated key when a token names it, and forgets a key the issuer withdrew", async () => {
    expect((await verifier.verify(signed(jobClaims(), issuerKey))).ok).toBe(true);
    issuer.published = [rotatedKey];
    clock = new Date(clock.getTime() + KEY_REFRESH_INTERVAL_MS);
    expect((await verifier.verifyJob(signed(jobClaims(), rotatedKey), job)).ok).toBe(true);
    expect(await verifier.verify(signed(jobClaims(), issuerKey))).toEqual({
      ok: false,
      reason: `the token names signing key "issuer-key-1", which the issuer ${issuer.url} does not publish`,
    });
  });

  it("lets many tokens naming a new key wait on one read of the keys", async () => {
    await verifier.verify(signed(jobClaims(), issuerKey));
    issuer.published = [issuerKey, rotatedKey];
    clock = new Date(clock.getTime() + KEY_REFRESH_INTERVAL_MS);
    const verdicts = await Promise.all(Array.from({ length: 20 }, () => verifier.verify(signed(jobClaims(), rotatedKey))));
    expect(verdicts.every((verdict) => verdict.ok)).toBe(true);
    expect(issuer.requests).toHaveLength(4);
  });
});

describe("an attacker's token is refused", () => {
  it("signed by another key under the issuer's key id", async () => {
    const forged = signed(jobClaims(), { ...attackerKey, kid: issuerKey.kid });
    expect(await refusal(forged)).toBe("the token's signature does not verify with the issuer's key \"issuer-key-1\"");
  });

  it("signed by another key under a key id of its own, costing the issuer at most one read a minute", async () => {
    expect((await verifier.verify(signed(jobClaims(), issuerKey))).ok).toBe(true);
    for (let i = 0; i < 50; i++) expect(await refusal(signed(jobClaims(), { ...attackerKey, kid: `made-up-${i}` }))).toContain("which the issuer");
    expect(issuer.requests).toHaveLength(2);
    clock = new Date(clock.getTime() + KEY_REFRESH_INTERVAL_MS);
    for (let i = 0; i < 50; i++) expect(await refusal(signed(jobClaims(), { ...attackerKey, kid: `made-up-${i}` }))).toContain("does not publish");
    expect(issuer.requests).toHaveLength(4);
  });

  it.each([
    ["with alg none and no signature", `${base64url(JSON.stringify({ alg: "none", kid: issuerKey.kid }))}.${base64url(JSON.stringify({ run_id: "42" }))}.`],
    ["with alg none and a signature", `${base64url(JSON.stringify({ alg: "none", kid: issuerKey.kid }))}.${base64url(JSON.stringify({ run_id: "42" }))}.AAAA`],
  ])("%s", async (_title, token) => {
    const reason = await refusal(token);
    expect(reason).toBe('the token is signed with alg "none"; afk accepts only RS256');
    expect(issuer.requests).toEqual([]);
  });

  it.each([
    ["the issuer's public key in PEM", () => issuerKey.publicKey.export({ format: "pem", type: "spki" })],
    ["the issuer's public key as a JWK", () => JSON.stringify(jwkOf(issuerKey))],
    ["the issuer's modulus", () => String(jwkOf(issuerKey)["n"])],
  ])("with HS256 keyed by %s, the old algorithm-confusion attack", async (_title, secret) => {
    const input = `${base64url(JSON.stringify({ alg: "HS256", typ: "JWT", kid: issuerKey.kid }))}.${base64url(JSON.stringify(jobClaims()))}`;
    const token = `${input}.${createHmac("sha256", secret()).update(input).digest("base64url")}`;
    expect(await refusal(token)).toBe('the token is signed with alg "HS256"; afk accepts only RS256');
  });

  it.each(["RS384", "PS256", "ES256", "rs256", undefined])("with alg %s", async (alg) => {
    const token = signed(jobClaims(), issuerKey, { alg, kid: issuerKey.kid });
    expect(await refusal(token)).toContain("afk accepts only RS256");
  });

  it("with claims changed after signing", async () => {
    const [header, , signature] = signed(jobClaims({ run_id: "41" }), issuerKey).split(".");
    const tampered = `${header}.${base64url(JSON.stringify(jobClaims()))}.${signature}`;
    expect(await refusal(tampered)).toContain("signature does not verify");
  });

  it("with its signature borrowed from another token", async () => {
    const [, , signature] = signed(jobClaims({ run_id: "41" }), issuerKey).split(".");
    const [header, payload] = signed(jobClaims(), issuerKey).split(".");
    expect(await refusal(`${header}.${payload}.${signature}`)).toContain("signature does not verify");
  });

  it.each<[string, Record<string, unknown>, string]>([
    ["expired", { iat: 1_795_435_200 - 600, exp: 1_795_435_200 - 300 }, "the token expired at 2026-11-23T11:55:00.000Z"],
    ["for another audience", { aud: "sigstore" }, 'the token is for audience "sigstore", not "https://afk.example.com"'],
    ["from another repository", { repository: "mallory/afk-runner" }, 'the token is from repository "mallory/afk-runner"'],
    [
      "from another workflow",
      { job_workflow_ref: "octo-org/afk-runner/.github/workflows/other.yml@refs/heads/main" },
      'the token is for workflow "octo-org/afk-runner/.github/workflows/other.yml@refs/heads/main"',
    ],
    [
      "from the workflow on another branch",
      { job_workflow_ref: "octo-org/afk-runner/.github/workflows/afk-job.yml@refs/heads/pr" },
      "the token is for workflow",
    ],
    ["for another workflow run", { run_id: "41" }, "the token is for workflow run 41, not 42"],
    ["from another issuer", { iss: "https://token.actions.githubusercontent.com" }, 'the token was issued by "https://token.actions.githubusercontent.com"'],
  ])("signed by the issuer but %s", async (_title, overrides, reason) => {
    expect(await refusal(signed(jobClaims(overrides), issuerKey))).toContain(reason);
  });

  it("over 16 KB, before anything in it is decoded or any key is read", async () => {
    const token = signed(jobClaims({ padding: "x".repeat(MAX_TOKEN_BYTES) }), issuerKey);
    expect(await refusal(token)).toBe(`the token is ${token.length} characters long, more than the ${MAX_TOKEN_BYTES} afk reads`);
    expect(issuer.requests).toEqual([]);
  });

  it.each<[string, () => string, string]>([
    ["two parts", () => signed(jobClaims(), issuerKey).split(".").slice(0, 2).join("."), "the token has 2 part(s), not the 3 of a signed JWT"],
    ["four parts", () => `${signed(jobClaims(), issuerKey)}.AAAA`, "the token has 4 part(s)"],
    ["an empty string", () => "", "the token has 1 part(s)"],
    ["base64 padding", () => signed(jobClaims(), issuerKey).replace(/\.([^.]*)$/, ".$1=="), "the token's signature is not base64url"],
    ["standard base64 characters", () => signed(jobClaims(), issuerKey).replace(/\.([^.]*)$/, ".+/$1"), "the token's signature is not base64url"],
    ["a header that is not JSON", () => `${base64url("{alg")}.${base64url("{}")}.AAAA`, "the token's header is not a base64url JSON object"],
    ["a header that is a list", () => `${base64url('["RS256"]')}.${base64url("{}")}.AAAA`, "the token's header is not a base64url JSON object"],
    [
      "claims that are a string",
      () => signed({}, issuerKey).replace(/^([^.]*)\.[^.]*/, `$1.${base64url('"claims"')}`),
      "the token's claims are not a base64url JSON object",
    ],
    ["no key id", () => signed(jobClaims(), issuerKey, { alg: "RS256" }), "the token's header names no signing key (kid)"],
    ["a key id that is a number", () => signed(jobClaims(), issuerKey, { alg: "RS256", kid: 1 }), "the token's header names no signing key (kid)"],
    ["critical extensions", () => signed(jobClaims(), issuerKey, { alg: "RS256", kid: issuerKey.kid, crit: ["b64"], b64: false }), "crit"],
    ["another type", () => signed(jobClaims(), issuerKey, { alg: "RS256", kid: issuerKey.kid, typ: "at+jwt" }), 'the token\'s type is "at+jwt", not JWT'],
  ])("malformed: %s", async (_title, token, reason) => {
    expect(await refusal(token())).toContain(reason);
  });

  it("spelled with stray trailing bits, a second spelling of a signed token", async () => {
    const token = signed(jobClaims(), issuerKey);
    const [header = "", payload, signature = ""] = token.split(".");
    // The last character of a 256-byte signature carries 4 spare bits; flipping one keeps the bytes Node decodes.
    const last = signature.at(-1) ?? "";
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const respelled = signature.slice(0, -1) + (alphabet[alphabet.indexOf(last) ^ 1] ?? "");
    expect(Buffer.from(respelled, "base64url")).toEqual(Buffer.from(signature, "base64url"));
    expect(await refusal(`${header}.${payload}.${respelled}`)).toBe("the token's signature is not base64url");
    expect((await verifier.verify(token)).ok).toBe(true);
  });
});

describe("the issuer's keys", () => {
  it("are read only from a discovery document that names the configured issuer", async () => {
    issuer.namedIssuer = "https://evil.example.com";
    await expect(verifier.verify(signed(jobClaims(), issuerKey))).rejects.toThrow(
      `afk could not read the signing keys of the OIDC issuer ${issuer.url}: its discovery document names the issuer "https://evil.example.com"`,
    );
  });

  it("leave out a key shorter than 2048 bits, or one for another algorithm", async () => {
    const weak = newKey("weak", 1024);
    issuer.jwksOverride = { keys: [jwkOf(weak), { ...jwkOf(attackerKey), alg: "RS512" }, { ...jwkOf(rotatedKey), use: "enc" }, jwkOf(issuerKey)] };
    expect(await refusal(signed(jobClaims(), weak))).toContain('names signing key "weak", which the issuer');
    expect(await refusal(signed(jobClaims(), attackerKey))).toContain("does not publish");
    expect(await refusal(signed(jobClaims(), rotatedKey))).toContain("does not publish");
    expect((await verifier.verifyJob(signed(jobClaims(), issuerKey), job)).ok).toBe(true);
  });

  it("must include at least one usable key", async () => {
    issuer.jwksOverride = { keys: [{ kty: "EC", kid: "ec", crv: "P-256", x: "AA", y: "AA" }] };
    await expect(verifier.verify(signed(jobClaims(), issuerKey))).rejects.toThrow("its JWKS holds no RS256 signing key of 2048 bits or more");
  });

  it("are read no further than 256 KB", async () => {
    issuer.jwksOverride = { keys: [jwkOf(issuerKey)], padding: "x".repeat(300 * 1024) };
    await expect(verifier.verify(signed(jobClaims(), issuerKey))).rejects.toThrow("more than the 262144 bytes afk reads");
  });

  it("cannot be read from an issuer that does not answer: verify throws, naming the issuer", async () => {
    await issuer.close();
    await expect(verifier.verify(signed(jobClaims(), issuerKey))).rejects.toThrow(
      `afk could not read the signing keys of the OIDC issuer ${issuer.url}: ${issuer.url}/.well-known/openid-configuration could not be reached`,
    );
    await expect(verifier.verify(signed(jobClaims(), issuerKey))).rejects.toThrow(`the OIDC issuer ${issuer.url}`);
    issuer = await LoopbackIssuer.start();
  });

  it("keep verifying the keys afk holds while the issuer is down, and a minute after a failed read afk asks again", async () => {
    let down = false;
    const flaky = new OidcVerifier({
      issuer: issuer.url,
      now: () => clock,
      fetch: (input, init) => (down ? Promise.reject(new TypeError("fetch failed")) : globalThis.fetch(input, init)),
    });
    expect((await flaky.verify(signed(jobClaims(), issuerKey))).ok).toBe(true);
    down = true;
    issuer.published = [issuerKey, rotatedKey];
    clock = new Date(clock.getTime() + KEY_REFRESH_INTERVAL_MS);
    expect((await flaky.verify(signed(jobClaims(), issuerKey))).ok).toBe(true);
    await expect(flaky.verify(signed(jobClaims(), rotatedKey))).rejects.toThrow("could not be reached (fetch failed)");
    down = false;
    await expect(flaky.verify(signed(jobClaims(), rotatedKey))).rejects.toThrow("could not be reached");
    clock = new Date(clock.getTime() + KEY_REFRESH_INTERVAL_MS);
    expect((await flaky.verify(signed(jobClaims(), rotatedKey))).ok).toBe(true);
  });
});

describe("a replayed token", () => {
  it("is accepted once per jti until it expires, then its jti is forgotten", async () => {
    const guard = new ReplayGuard({ now: () => clock });
    const verdict = await verifier.verifyJob(signed(jobClaims(), issuerKey), job);
    if (!verdict.ok) throw new Error(verdict.reason);
    expect(guard.firstUse(verdict.claims.jti, verdict.claims.exp)).toBe(true);
    const replayed = await verifier.verifyJob(signed(jobClaims(), issuerKey), job);
    if (!replayed.ok) throw new Error(replayed.reason);
    expect(guard.firstUse(replayed.claims.jti, replayed.claims.exp)).toBe(false);
    clock = new Date((verdict.claims.exp + 60) * 1000);
    expect(guard.firstUse(verdict.claims.jti, verdict.claims.exp)).toBe(false);
    expect(guard.size).toBe(0);
  });

  it("fills the guard no further than its bound, refusing rather than forgetting an unexpired id", () => {
    const guard = new ReplayGuard({ maxEntries: 3, now: () => clock });
    const exp = clock.getTime() / 1000 + 300;
    expect(["a", "b", "c"].map((jti) => guard.firstUse(jti, exp))).toEqual([true, true, true]);
    expect(guard.firstUse("d", exp)).toBe(false);
    expect(guard.firstUse("a", exp)).toBe(false);
    expect(guard.size).toBe(3);
    clock = new Date((exp + 61) * 1000);
    expect(guard.firstUse("d", exp + 300)).toBe(true);
    expect(guard.size).toBe(1);
  });

  it("forgets expired ids wherever they stand once full", () => {
    const guard = new ReplayGuard({ maxEntries: 3, now: () => clock });
    const at = clock.getTime() / 1000;
    expect([guard.firstUse("long", at + 600), guard.firstUse("short-1", at + 10), guard.firstUse("short-2", at + 10)]).toEqual([true, true, true]);
    clock = new Date((at + 100) * 1000);
    expect(guard.firstUse("new", at + 400)).toBe(true);
    expect(guard.firstUse("long", at + 600)).toBe(false);
    expect(guard.size).toBe(2);
  });

  it.each<[string, string, number]>([
    ["an empty jti", "", 1_795_435_500],
    ["a jti longer than 256 characters", "j".repeat(257), 1_795_435_500],
    ["a token already expired past the skew", "old", 1_795_435_200 - 60],
    ["an expiry that is no number", "nan", Number.NaN],
  ])("refuses %s", (_title, jti, exp) => {
    const guard = new ReplayGuard({ now: () => clock });
    expect(guard.firstUse(jti, exp)).toBe(false);
    expect(guard.size).toBe(0);
  });
});
