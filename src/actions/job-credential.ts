import { createHmac, hkdfSync, timingSafeEqual } from "node:crypto";
import { z } from "zod";
import { REPO_FULL_NAME, RUN_ID } from "../run-contract/job-protocol.js";

/**
 * The credential afk gives a job once its OIDC token checked out: it reaches only that run's
 * endpoints on afk (heartbeat, model proxy, result), until the run's deadline. Any replica can check
 * it without asking another: it is the run's id, the workflow run's id, where the run's state lives,
 * the budget the model proxy holds it to, and the expiry, signed with
 * HMAC-SHA256 under a key every replica derives from the App's private key.
 * Format: `afkjob1.<payload, base64url JSON>.<mac, base64url>`.
 */
export interface JobCredentialClaims {
  runId: string;
  /** The workflow run afk dispatched for the run (the OIDC token's `run_id`). */
  workflowRunId: number;
  /** The target repository (`owner/name`), its installation and the issue: where the run's state lives. */
  repository: string;
  installationId: number;
  issue: number;
  /** What the model proxy holds the job to: the model, and the run's budget in dollars and turns. */
  budget: JobBudget;
  expiresAt: Date;
}

/** The run's model and budget, as the model proxy enforces them. */
export interface JobBudget {
  model: string;
  maxUsd: number;
  maxTurns: number;
}

const PREFIX = "afkjob1";
const MAX_CREDENTIAL_CHARS = 1000;
const payloadSchema = z.strictObject({
  run: z.string().regex(RUN_ID),
  wf: z.number().int().positive(),
  repo: z.string().regex(REPO_FULL_NAME).max(200),
  inst: z.number().int().positive(),
  issue: z.number().int().positive(),
  model: z.string().min(1).max(100),
  usd: z.number().nonnegative(),
  turns: z.number().int().nonnegative(),
  exp: z.number().int().positive(),
});

/** The key job credentials are signed with, derived from the App's private key (the same on every replica, never the key itself). */
export function jobCredentialKey(appPrivateKey: string): Buffer {
  return Buffer.from(hkdfSync("sha256", appPrivateKey, "afk", "afk job credential v1", 32));
}

export function mintJobCredential(claims: JobCredentialClaims, key: Buffer): string {
  const fields: z.input<typeof payloadSchema> = {
    run: claims.runId,
    wf: claims.workflowRunId,
    repo: claims.repository,
    inst: claims.installationId,
    issue: claims.issue,
    model: claims.budget.model,
    usd: claims.budget.maxUsd,
    turns: claims.budget.maxTurns,
    exp: Math.floor(claims.expiresAt.getTime() / 1000),
  };
  const payload = Buffer.from(JSON.stringify(fields)).toString("base64url");
  return `${PREFIX}.${payload}.${mac(payload, key).toString("base64url")}`;
}

/** The credential's claims if afk signed it and it has not expired; otherwise why not (for the log, never for the caller). */
export function readJobCredential(credential: string, key: Buffer, now: Date): { ok: true; claims: JobCredentialClaims } | { ok: false; reason: string } {
  if (credential.length > MAX_CREDENTIAL_CHARS) return { ok: false, reason: "the credential is too long" };
  const [prefix, payload, signature, ...rest] = credential.split(".");
  if (prefix !== PREFIX || payload === undefined || signature === undefined || rest.length > 0) return { ok: false, reason: "not an afk job credential" };
  const given = Buffer.from(signature, "base64url");
  const expected = mac(payload, key);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: "the credential's signature does not match" };
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(payload, "base64url").toString("utf8"));
  } catch {
    return { ok: false, reason: "the credential's payload is not JSON" };
  }
  const parsed = payloadSchema.safeParse(decoded);
  if (!parsed.success) return { ok: false, reason: "the credential's payload is malformed" };
  if (parsed.data.exp * 1000 <= now.getTime()) return { ok: false, reason: "the credential has expired" };
  const read = parsed.data;
  return {
    ok: true,
    claims: {
      runId: read.run,
      workflowRunId: read.wf,
      repository: read.repo,
      installationId: read.inst,
      issue: read.issue,
      budget: { model: read.model, maxUsd: read.usd, maxTurns: read.turns },
      expiresAt: new Date(read.exp * 1000),
    },
  };
}

function mac(payload: string, key: Buffer): Buffer {
  return createHmac("sha256", key).update(`${PREFIX}.${payload}`).digest();
}
