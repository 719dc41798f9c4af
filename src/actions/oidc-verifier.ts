import { createPublicKey, verify as verifySignature, type JsonWebKey, type KeyObject } from "node:crypto";
import { CLOCK_SKEW_SECONDS, checkJobClaims, type ExpectedJob, type JobClaimsCheck } from "./job-claims.js";

/** A token longer than this is refused before anything in it is decoded. GitHub's are about 1 KB. */
export const MAX_TOKEN_BYTES = 16 * 1024;

/** A token naming a key afk does not know makes afk read the issuer's keys again at most this often. */
export const KEY_REFRESH_INTERVAL_MS = 60_000;

/** The one signature algorithm afk accepts: what GitHub's Actions issuer signs with. */
const ALGORITHM = "RS256";
const MIN_RSA_BITS = 2048;
const MAX_DISCOVERY_BYTES = 64 * 1024;
const MAX_JWKS_BYTES = 256 * 1024;
const MAX_KEYS = 100;
const MAX_ID_LENGTH = 256;
const BASE64URL = /^[A-Za-z0-9_-]+$/;

export interface OidcVerifierOptions {
  /** The OIDC issuer whose tokens are accepted, as its tokens' `iss` and its discovery document name it (no trailing slash). */
  issuer: string;
  /** The HTTP client; the platform's `fetch` by default. */
  fetch?: typeof globalThis.fetch;
  /** The clock, for the claims' times and the refresh interval; the system's by default. */
  now?: () => Date;
  /** How long one request to the issuer may take; 10 s by default. */
  timeoutMs?: number;
}

/** Whether a token carries the issuer's signature; its claims are not checked yet (see {@link OidcVerifier.verifyJob}). */
export type TokenVerification = { ok: true; claims: Readonly<Record<string, unknown>> } | { ok: false; reason: string };

/**
 * Verifies OIDC tokens (JWTs) from one issuer, such as GitHub Actions' job tokens. A token is decoded
 * strictly (three base64url parts, a header with `alg: RS256` and a `kid`; `none`, HMAC and anything
 * else refused), and its signature checked with node:crypto against the issuer's published keys. The
 * keys come from `<issuer>/.well-known/openid-configuration` → `jwks_uri` (the document must name the
 * same issuer), are cached, and are read again at most once every {@link KEY_REFRESH_INTERVAL_MS} when a
 * token names a key afk does not hold, so a stream of made-up key ids costs the issuer one request a
 * minute. A bad token is answered `{ ok: false, reason }`, never thrown; only an issuer afk cannot read
 * throws, with a message naming the issuer, so a caller can tell "refused" from "could not check".
 */
export class OidcVerifier {
  /** The issuer whose tokens this verifier accepts. */
  readonly issuer: string;
  readonly #fetch: typeof globalThis.fetch;
  readonly #now: () => Date;
  readonly #timeoutMs: number;
  /** The issuer's keys by id, as last read; replaced whole on each read, so a key the issuer withdrew is forgotten. */
  #keys: Map<string, KeyObject> | undefined;
  /** When the keys were last asked for (whether or not that worked), in ms since the epoch. */
  #lastAttemptMs: number | undefined;
  /** Why the last read failed; cleared by a read that works. */
  #lastFailure: Error | undefined;
  /** The read under way: concurrent tokens naming unknown keys share it. */
  #reading: Promise<void> | undefined;

  constructor(options: OidcVerifierOptions) {
    this.issuer = options.issuer;
    this.#fetch = options.fetch ?? globalThis.fetch;
    this.#now = options.now ?? (() => new Date());
    this.#timeoutMs = options.timeoutMs ?? 10_000;
  }

  /**
   * Decodes a token and checks its signature against the issuer's keys. Answers the token's claims,
   * signed by the issuer but not yet checked, or why the token is refused. Throws only when the
   * issuer's keys cannot be read.
   */
  async verify(jwt: string): Promise<TokenVerification> {
    const decoded = decodeJwt(jwt);
    if (!decoded.ok) return decoded;
    const key = await this.#keyFor(decoded.kid);
    if (key === undefined)
      return { ok: false, reason: `the token names signing key ${JSON.stringify(decoded.kid)}, which the issuer ${this.issuer} does not publish` };
    if (!rs256Verifies(decoded.signingInput, decoded.signature, key))
      return { ok: false, reason: `the token's signature does not verify with the issuer's key ${JSON.stringify(decoded.kid)}` };
    return { ok: true, claims: decoded.claims };
  }

  /**
   * Verifies a job's token ({@link verify}) and checks its claims against the job afk dispatched
   * ({@link checkJobClaims}, with this verifier's issuer and clock). Throws only when the issuer's
   * keys cannot be read.
   */
  async verifyJob(jwt: string, expected: Omit<ExpectedJob, "issuer">): Promise<JobClaimsCheck> {
    const verified = await this.verify(jwt);
    if (!verified.ok) return verified;
    return checkJobClaims(verified.claims, { ...expected, issuer: this.issuer }, this.#now());
  }

  /** The issuer's key with this id, reading the keys when none are held or the id is new and the last read is a minute old. */
  async #keyFor(kid: string): Promise<KeyObject | undefined> {
    const held = this.#keys?.get(kid);
    if (held !== undefined) return held;
    const nowMs = this.#now().getTime();
    const due = this.#lastAttemptMs === undefined || nowMs - this.#lastAttemptMs >= KEY_REFRESH_INTERVAL_MS;
    if (this.#reading === undefined && due) {
      this.#lastAttemptMs = nowMs;
      this.#reading = this.#readKeys().finally(() => {
        this.#reading = undefined;
      });
    }
    if (this.#reading !== undefined) await this.#reading;
    else if (this.#lastFailure !== undefined) throw this.#lastFailure;
    return this.#keys?.get(kid);
  }

  async #readKeys(): Promise<void> {
    try {
      const discoveryUrl = `${this.issuer.replace(/\/+$/, "")}/.well-known/openid-configuration`;
      const discovery = await this.#getJson(discoveryUrl, MAX_DISCOVERY_BYTES);
      if (!isJsonObject(discovery)) throw new Error(`${discoveryUrl} is not a JSON object`);
      if (discovery["issuer"] !== this.issuer) throw new Error(`its discovery document names the issuer ${JSON.stringify(discovery["issuer"])}`);
      const jwksUri = jwksUrl(discovery["jwks_uri"], this.issuer);
      this.#keys = keysOf(await this.#getJson(jwksUri, MAX_JWKS_BYTES));
      this.#lastFailure = undefined;
    } catch (error) {
      const why = error instanceof Error ? error.message : String(error);
      this.#lastFailure = new Error(`afk could not read the signing keys of the OIDC issuer ${this.issuer}: ${why}`, { cause: error });
      throw this.#lastFailure;
    }
  }

  async #getJson(url: string, maxBytes: number): Promise<unknown> {
    let response: Response;
    try {
      response = await this.#fetch(url, { headers: { accept: "application/json" }, signal: AbortSignal.timeout(this.#timeoutMs) });
    } catch (error) {
      const why = error instanceof Error && error.name === "TimeoutError" ? `no answer within ${this.#timeoutMs} ms` : errorText(error);
      throw new Error(`${url} could not be reached (${why})`, { cause: error });
    }
    if (!response.ok) {
      await response.body?.cancel();
      throw new Error(`${url} answered HTTP ${response.status}`);
    }
    const text = await boundedText(response, maxBytes, url);
    try {
      return JSON.parse(text);
    } catch {
      throw new Error(`${url} did not answer JSON`);
    }
  }
}

/** What a token's compact form decodes to, before any key is looked at. */
type DecodedJwt = { ok: true; kid: string; signingInput: string; signature: Buffer; claims: Readonly<Record<string, unknown>> } | { ok: false; reason: string };

/**
 * Decodes a JWT in compact form, strictly: at most {@link MAX_TOKEN_BYTES}, three canonical base64url
 * parts, a JSON object header with `alg: RS256`, a `kid`, no `crit` and no `typ` but `JWT`, and a JSON
 * object payload. Pure.
 */
function decodeJwt(jwt: string): DecodedJwt {
  if (jwt.length > MAX_TOKEN_BYTES) return { ok: false, reason: `the token is ${jwt.length} characters long, more than the ${MAX_TOKEN_BYTES} afk reads` };
  const parts = jwt.split(".");
  if (parts.length !== 3) return { ok: false, reason: `the token has ${parts.length} part(s), not the 3 of a signed JWT` };
  const [headerPart = "", payloadPart = "", signaturePart = ""] = parts;
  const header = decodePart(headerPart);
  if (header === undefined || !isJsonObject(header.json)) return { ok: false, reason: "the token's header is not a base64url JSON object" };
  const { alg, kid, typ, crit } = header.json;
  if (alg !== ALGORITHM) return { ok: false, reason: `the token is signed with alg ${JSON.stringify(alg)}; afk accepts only ${ALGORITHM}` };
  if (typeof kid !== "string" || kid.length === 0 || kid.length > MAX_ID_LENGTH) return { ok: false, reason: "the token's header names no signing key (kid)" };
  if (typ !== undefined && typ !== "JWT") return { ok: false, reason: `the token's type is ${JSON.stringify(typ)}, not JWT` };
  // RFC 7515 §4.1.11: a header extension the recipient does not understand makes the token invalid; afk understands none.
  if (crit !== undefined) return { ok: false, reason: "the token's header requires extensions (crit) afk does not implement" };
  const payload = decodePart(payloadPart);
  if (payload === undefined || !isJsonObject(payload.json)) return { ok: false, reason: "the token's claims are not a base64url JSON object" };
  const signature = base64urlBytes(signaturePart);
  if (signature === undefined) return { ok: false, reason: "the token's signature is not base64url" };
  return { ok: true, kid, signingInput: `${headerPart}.${payloadPart}`, signature, claims: payload.json };
}

function decodePart(part: string): { json: unknown } | undefined {
  const bytes = base64urlBytes(part);
  if (bytes === undefined) return undefined;
  try {
    return { json: JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes)) };
  } catch {
    return undefined;
  }
}

/** The bytes of a base64url part without padding, or `undefined` unless the part is written exactly as its bytes encode. */
function base64urlBytes(part: string): Buffer | undefined {
  if (!BASE64URL.test(part)) return undefined;
  const bytes = Buffer.from(part, "base64url");
  // Node ignores stray trailing bits; a part that does not round-trip is a second spelling of some token.
  return bytes.toString("base64url") === part ? bytes : undefined;
}

/** RSASSA-PKCS1-v1_5 with SHA-256 (RS256), the only signature afk checks. */
function rs256Verifies(signingInput: string, signature: Buffer, key: KeyObject): boolean {
  try {
    return verifySignature("sha256", Buffer.from(signingInput, "ascii"), key, signature);
  } catch {
    return false;
  }
}

/** The `jwks_uri` of a discovery document, over HTTPS unless the issuer itself is plain HTTP (a loopback issuer in tests). */
function jwksUrl(value: unknown, issuer: string): string {
  if (typeof value !== "string") throw new Error("its discovery document names no jwks_uri");
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(`its jwks_uri ${JSON.stringify(value)} is not a URL`);
  }
  const allowed = issuer.startsWith("http://") ? ["https:", "http:"] : ["https:"];
  if (!allowed.includes(url.protocol)) throw new Error(`its jwks_uri ${JSON.stringify(value)} is not an HTTPS address`);
  return url.href;
}

/**
 * The RSA signing keys of a JWKS by id: keys for another use or algorithm, of another type, shorter than
 * {@link MIN_RSA_BITS} bits, or unreadable are left out; of two keys with one id, the first is kept.
 * Throws when the set is malformed, too large, or holds no usable key.
 */
function keysOf(jwks: unknown): Map<string, KeyObject> {
  if (!isJsonObject(jwks) || !Array.isArray(jwks["keys"])) throw new Error("its JWKS has no keys list");
  const listed: unknown[] = jwks["keys"];
  if (listed.length > MAX_KEYS) throw new Error(`its JWKS lists ${listed.length} keys, more than the ${MAX_KEYS} afk reads`);
  const keys = new Map<string, KeyObject>();
  for (const jwk of listed) {
    if (!isJsonObject(jwk)) continue;
    const { kty, kid, use, alg, n, e } = jwk;
    if (kty !== "RSA" || typeof kid !== "string" || kid.length === 0 || kid.length > MAX_ID_LENGTH || keys.has(kid)) continue;
    if ((use !== undefined && use !== "sig") || (alg !== undefined && alg !== ALGORITHM) || typeof n !== "string" || typeof e !== "string") continue;
    const key = rsaPublicKey({ kty, n, e });
    if (key !== undefined) keys.set(kid, key);
  }
  if (keys.size === 0) throw new Error(`its JWKS holds no ${ALGORITHM} signing key of ${MIN_RSA_BITS} bits or more`);
  return keys;
}

function rsaPublicKey(jwk: JsonWebKey): KeyObject | undefined {
  try {
    const key = createPublicKey({ key: jwk, format: "jwk" });
    const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
    return key.asymmetricKeyType === "rsa" && bits >= MIN_RSA_BITS ? key : undefined;
  } catch {
    return undefined;
  }
}

/** A response's body as text, read no further than `maxBytes`: an issuer cannot make afk buffer a large answer. */
async function boundedText(response: Response, maxBytes: number, url: string): Promise<string> {
  const declared = Number(response.headers.get("content-length"));
  if (declared > maxBytes) {
    await response.body?.cancel();
    throw new Error(`${url} answered ${declared} bytes, more than the ${maxBytes} afk reads`);
  }
  const reader = response.body?.getReader();
  if (reader === undefined) return "";
  const chunks: Uint8Array[] = [];
  let bytes = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    bytes += value.byteLength;
    if (bytes > maxBytes) {
      await reader.cancel();
      throw new Error(`${url} answered more than the ${maxBytes} bytes afk reads`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function errorText(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : "";
  return `${error.message}${cause}`;
}

export interface ReplayGuardOptions {
  /** The most token ids remembered at once; 10,000 by default (a token lives at most 10 minutes). */
  maxEntries?: number;
  /** The clock; the system's by default. */
  now?: () => Date;
}

/**
 * Remembers the token ids (`jti`) already used, each until its token can no longer be accepted (its
 * `exp` plus the clock skew {@link checkJobClaims} allows), so a token is accepted once. Memory is
 * bounded: when `maxEntries` ids are remembered and none has expired, a new id is refused rather than
 * an old one forgotten (failing closed: forgetting would let that token be replayed).
 */
export class ReplayGuard {
  readonly #maxEntries: number;
  readonly #now: () => Date;
  /** jti → the second after which its token is refused anyway. Insertion order is roughly expiry order. */
  readonly #seen = new Map<string, number>();

  constructor(options: ReplayGuardOptions = {}) {
    this.#maxEntries = Math.max(1, options.maxEntries ?? 10_000);
    this.#now = options.now ?? (() => new Date());
  }

  /**
   * True the first time a token id is presented before its expiry, false ever after (until the
   * token has expired and its id is forgotten). `exp` is the token's `exp` claim, in seconds since
   * the epoch. An id that is empty, longer than 256 characters, already expired, or that finds the
   * guard full is refused.
   */
  firstUse(jti: string, exp: number): boolean {
    const nowSeconds = this.#now().getTime() / 1000;
    this.#forgetExpired(nowSeconds);
    const forgetAfter = exp + CLOCK_SKEW_SECONDS;
    if (jti.length === 0 || jti.length > MAX_ID_LENGTH || !Number.isFinite(forgetAfter) || forgetAfter <= nowSeconds) return false;
    if (this.#seen.has(jti)) return false;
    if (this.#seen.size >= this.#maxEntries) return false;
    this.#seen.set(jti, forgetAfter);
    return true;
  }

  /** How many token ids are remembered. */
  get size(): number {
    return this.#seen.size;
  }

  /** Forgets expired ids from the oldest on (cheap); when full, every expired id wherever it stands. */
  #forgetExpired(nowSeconds: number): void {
    for (const [jti, forgetAfter] of this.#seen) {
      if (forgetAfter > nowSeconds) break;
      this.#seen.delete(jti);
    }
    if (this.#seen.size < this.#maxEntries) return;
    for (const [jti, forgetAfter] of this.#seen) if (forgetAfter <= nowSeconds) this.#seen.delete(jti);
  }
}
