import { createHash, generateKeyPairSync, randomUUID, sign, timingSafeEqual, type JsonWebKey, type KeyObject } from "node:crypto";
import type { ActionsState, IdTokenRequest, WorkflowRunRecord } from "./actions.js";
import type { Reply } from "./http.js";
import type { EmulatorStore } from "./store.js";

/**
 * GitHub Actions' OIDC provider as GitHub Enterprise Server serves it, on the emulator's own host:
 * issuer `http://<host>/_services/token` with its discovery document and JWKS (a real RSA key pair,
 * made on first use), and the per-job endpoint a job asks for its ID token at
 * (`ACTIONS_ID_TOKEN_REQUEST_URL` + `&audience=…`, bearer `ACTIONS_ID_TOKEN_REQUEST_TOKEN`).
 * Tokens carry the claims GitHub documents (string-valued where GitHub's are), RS256-signed by hand.
 *
 * Invariants: only a queued or running run's job gets a token, and only with that run's bearer; the
 * JWKS publishes the issuer's key and never the foreign one `mint` can sign with.
 */

/** The issuer's path on the emulator's host (GitHub Enterprise Server's `https://HOSTNAME/_services/token`). */
export const ISSUER_PATH = "/_services/token";
/** Where a job asks for its ID token (GitHub's lives on its pipelines service; here on the emulator). */
const ID_TOKEN_PATH = /^\/_services\/pipelines\/idtoken\/(\d+)$/;
/** How long an ID token lives, as GitHub's do: 5 minutes after issue; valid from 10 minutes before (GitHub's documented example). */
const LIFETIME_S = 300;
const NOT_BEFORE_S = 600;

/** The claims of an Actions ID token for a `workflow_dispatch` run, as GitHub issues them. */
export interface ActionsIdTokenClaims {
  jti: string;
  sub: string;
  aud: string;
  ref: string;
  sha: string;
  repository: string;
  repository_owner: string;
  repository_id: string;
  repository_owner_id: string;
  repository_visibility: "public" | "private" | "internal";
  actor: string;
  actor_id: string;
  workflow: string;
  workflow_ref: string;
  workflow_sha: string;
  job_workflow_ref: string;
  job_workflow_sha: string;
  head_ref: string;
  base_ref: string;
  event_name: string;
  ref_type: "branch" | "tag";
  ref_protected: string;
  run_id: string;
  run_number: string;
  run_attempt: string;
  runner_environment: "github-hosted" | "self-hosted";
  iss: string;
  iat: number;
  nbf: number;
  exp: number;
}

/** An ID token the issuer handed a job. */
export interface IssuedIdToken {
  runId: number;
  token: string;
  claims: ActionsIdTokenClaims;
}

export interface MintOptions {
  /** `issuer` (the default) signs with the key the JWKS publishes; `foreign` with one it does not. */
  key?: "issuer" | "foreign";
  /** Header fields over the default `{ alg: "RS256", typ: "JWT", kid: <the issuer's kid> }` (a forged `kid` or `alg`, say). */
  header?: Record<string, unknown>;
}

interface SigningKey {
  privateKey: KeyObject;
  jwk: JsonWebKey & { kid: string };
}

/** An RSA key pair and its public JWK, `kid` its RFC 7638 thumbprint. */
function makeKey(): SigningKey {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const { n, e } = publicKey.export({ format: "jwk" });
  if (n === undefined || e === undefined) throw new Error("node:crypto exported an RSA key without n or e");
  const kid = createHash("sha256")
    .update(JSON.stringify({ e, kty: "RSA", n }))
    .digest("base64url");
  return { privateKey, jwk: { kty: "RSA", alg: "RS256", use: "sig", kid, n, e } };
}

function base64urlJson(value: unknown): string {
  return Buffer.from(JSON.stringify(value), "utf8").toString("base64url");
}

function sameSecret(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

export class ActionsOidcIssuer {
  /** ID tokens handed to jobs, oldest first. */
  readonly issued: IssuedIdToken[] = [];
  private issuerKey: SigningKey | undefined;
  private foreignKey: SigningKey | undefined;

  constructor(
    private readonly store: EmulatorStore,
    private readonly actions: ActionsState,
  ) {}

  /** `http://127.0.0.1:PORT/_services/token`: the `iss` of every token, and where discovery starts. */
  get issuer(): string {
    return `http://${this.store.hosts.host}${ISSUER_PATH}`;
  }

  get jwksUri(): string {
    return `${this.issuer}/.well-known/jwks`;
  }

  /** The `kid` of the key the JWKS publishes. */
  get keyId(): string {
    return this.key("issuer").jwk.kid;
  }

  /** `GET /.well-known/openid-configuration` under the issuer. */
  openidConfiguration(): Record<string, unknown> {
    return {
      issuer: this.issuer,
      jwks_uri: this.jwksUri,
      subject_types_supported: ["public", "pairwise"],
      response_types_supported: ["id_token"],
      claims_supported: [
        "sub",
        "aud",
        "exp",
        "iat",
        "iss",
        "jti",
        "nbf",
        "ref",
        "sha",
        "repository",
        "repository_id",
        "repository_owner",
        "repository_owner_id",
        "run_id",
        "run_number",
        "run_attempt",
        "actor",
        "actor_id",
        "workflow",
        "workflow_ref",
        "workflow_sha",
        "head_ref",
        "base_ref",
        "event_name",
        "ref_type",
        "ref_protected",
        "environment",
        "job_workflow_ref",
        "job_workflow_sha",
        "repository_visibility",
        "runner_environment",
      ],
      id_token_signing_alg_values_supported: ["RS256"],
      scopes_supported: ["openid"],
    };
  }

  /** `GET /.well-known/jwks` under the issuer: the issuer's public key only. */
  jwks(): { keys: JsonWebKey[] } {
    return { keys: [{ ...this.key("issuer").jwk }] };
  }

  /**
   * The claims GitHub puts in a token for a workflow run's job, with `audience` as `aud` (GitHub's
   * default, the owner's URL, when none is asked for); a fresh `jti`, issued now. An attacker's test
   * changes one and signs them with `mint`.
   */
  claimsFor(fullName: string, runId: number, audience?: string): ActionsIdTokenClaims {
    return this.claims(this.actions.run(this.store.repo(fullName), runId), audience);
  }

  private claims(run: WorkflowRunRecord, audience: string | undefined): ActionsIdTokenClaims {
    const repo = this.store.repo(run.fullName);
    const iat = Math.floor(Date.now() / 1000);
    const workflowRef = `${repo.fullName}/${run.path}@${run.ref}`;
    return {
      jti: randomUUID(),
      sub: `repo:${repo.fullName}:ref:${run.ref}`,
      aud: audience ?? `${this.store.hosts.web}/${repo.owner.login}`,
      ref: run.ref,
      sha: run.headSha,
      repository: repo.fullName,
      repository_owner: repo.owner.login,
      repository_id: String(repo.id),
      repository_owner_id: String(repo.owner.id),
      repository_visibility: repo.private ? "private" : "public",
      actor: run.actor.login,
      actor_id: String(run.actor.id),
      workflow: run.workflowName,
      workflow_ref: workflowRef,
      workflow_sha: run.headSha,
      // Not a reusable workflow: the job's workflow is the run's.
      job_workflow_ref: workflowRef,
      job_workflow_sha: run.headSha,
      head_ref: "",
      base_ref: "",
      event_name: run.event,
      ref_type: run.refType,
      ref_protected: "false",
      run_id: String(run.id),
      run_number: String(run.runNumber),
      run_attempt: String(run.runAttempt),
      runner_environment: "github-hosted",
      iss: this.issuer,
      iat,
      nbf: iat - NOT_BEFORE_S,
      exp: iat + LIFETIME_S,
    };
  }

  /** Signs any claims RS256, with the issuer's key or (`key: "foreign"`) one the JWKS does not publish; for the attacker's tests. */
  mint(claims: object, options: MintOptions = {}): string {
    const key = this.key(options.key ?? "issuer");
    // A foreign token names the issuer's kid: only the signature can tell it apart.
    const header = { alg: "RS256", typ: "JWT", kid: this.keyId, ...options.header };
    const signingInput = `${base64urlJson(header)}.${base64urlJson(claims)}`;
    return `${signingInput}.${sign("sha256", Buffer.from(signingInput), key.privateKey).toString("base64url")}`;
  }

  /** What Actions gives the run's job to ask for its token (the bearer is the run's own). */
  idTokenRequest(run: WorkflowRunRecord): IdTokenRequest {
    return { url: `http://${this.store.hosts.host}/_services/pipelines/idtoken/${run.id}?api-version=2.0`, token: run.idTokenRequestToken };
  }

  /** Answers the issuer's documents and the ID token endpoint; undefined for any other path. */
  serve(request: { method: string; url: URL; authorization: string | undefined }): Reply | undefined {
    const { method, url } = request;
    if (url.pathname === `${ISSUER_PATH}/.well-known/openid-configuration`)
      return method === "GET" ? { status: 200, body: this.openidConfiguration() } : notAllowed();
    if (url.pathname === `${ISSUER_PATH}/.well-known/jwks`) return method === "GET" ? { status: 200, body: this.jwks() } : notAllowed();
    const idToken = ID_TOKEN_PATH.exec(url.pathname);
    if (idToken === null) return undefined;
    if (method !== "GET") return notAllowed();
    const run = this.actions.runs.get(Number(idToken[1]));
    const bearer = /^bearer\s+(\S+)$/i.exec(request.authorization?.trim() ?? "")?.[1];
    // A job's runtime token is good only for its own run, and only while that run is queued or running.
    if (run === undefined || bearer === undefined || !sameSecret(bearer, run.idTokenRequestToken) || run.status === "completed") {
      return { status: 401, body: { message: "The user is not authorized to access this resource." } };
    }
    const audience = url.searchParams.get("audience");
    const claims = this.claims(run, audience === null || audience === "" ? undefined : audience);
    const token = this.mint(claims);
    this.issued.push({ runId: run.id, token, claims });
    return { status: 200, body: { value: token } };
  }

  private key(which: "issuer" | "foreign"): SigningKey {
    if (which === "foreign") return (this.foreignKey ??= makeKey());
    return (this.issuerKey ??= makeKey());
  }
}

function notAllowed(): Reply {
  return { status: 405, body: { message: "Method Not Allowed" }, headers: { allow: "GET" } };
}
