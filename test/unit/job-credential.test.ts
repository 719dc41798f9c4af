import { generateKeyPairSync } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { jobCredentialKey, mintJobCredential, readJobCredential } from "../../src/actions/job-credential.js";

const pem = (): string => generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ type: "pkcs8", format: "pem" }).toString();
const APP_KEY = pem();
const KEY = jobCredentialKey(APP_KEY);
const NOW = new Date("2026-12-06T12:00:00.000Z");
const LATER = new Date("2026-12-06T13:00:00.000Z");
const CLAIMS = {
  runId: "r-mxbw6pou-a66d4273",
  workflowRunId: 4242,
  repository: "acme/widgets",
  installationId: 7,
  issue: 12,
  budget: { model: "claude-sonnet-4-5", maxUsd: 5, maxTurns: 40 },
  expiresAt: LATER,
};
/** The payload as afk signs it, for forgeries. */
const PAYLOAD = { run: CLAIMS.runId, wf: 4242, repo: "acme/widgets", inst: 7, issue: 12, model: "claude-sonnet-4-5", usd: 5, turns: 40 };

describe("a job's credential", () => {
  it("names its run and workflow run to any replica holding the App's key, until it expires", () => {
    const credential = mintJobCredential(CLAIMS, KEY);
    expect(readJobCredential(credential, jobCredentialKey(APP_KEY), NOW)).toEqual({ ok: true, claims: CLAIMS });
    expect(readJobCredential(credential, KEY, LATER)).toEqual({ ok: false, reason: "the credential has expired" });
    // The key is derived, never the App's key itself.
    expect(KEY.toString("utf8")).not.toContain("PRIVATE KEY");
  });

  it("is refused when signed under another App's key, or not afk's at all", () => {
    const credential = mintJobCredential(CLAIMS, KEY);
    expect(readJobCredential(credential, jobCredentialKey(pem()), NOW)).toMatchObject({ ok: false, reason: "the credential's signature does not match" });
    for (const other of ["", "afkjob1", "afkjob1..", "Bearer x", `${credential}.x`, "x".repeat(2000)])
      expect(readJobCredential(other, KEY, NOW).ok).toBe(false);
  });

  it("property: changing any character of it (run, repository, budget, expiry or signature) makes it worthless", () => {
    const credential = mintJobCredential(CLAIMS, KEY);
    fc.assert(
      fc.property(
        fc.nat({ max: credential.length - 1 }),
        fc.constantFrom(..."abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_."),
        (at, char) => {
          fc.pre(credential[at] !== char);
          const forged = `${credential.slice(0, at)}${char}${credential.slice(at + 1)}`;
          const read = readJobCredential(forged, KEY, NOW);
          // The one change that may still pass: in the signature's last character, bits base64url does not use (the same bytes).
          const signatureOf = (text: string) => Buffer.from(text.split(".")[2] ?? "", "base64url");
          return !read.ok || (at > credential.lastIndexOf(".") && signatureOf(forged).equals(signatureOf(credential)));
        },
      ),
      { numRuns: 500 },
    );
  });

  it("cannot be stretched: a payload re-signed by anyone without the key, for a later expiry or another run, is refused", () => {
    const [prefix, , signature] = mintJobCredential(CLAIMS, KEY).split(".");
    for (const payload of [
      { ...PAYLOAD, exp: Math.floor(LATER.getTime() / 1000) + 86_400 },
      { ...PAYLOAD, run: "r-other", exp: Math.floor(LATER.getTime() / 1000) },
      { ...PAYLOAD, wf: 1, exp: Math.floor(LATER.getTime() / 1000) },
      { ...PAYLOAD, repo: "acme/secrets", exp: Math.floor(LATER.getTime() / 1000) },
      { ...PAYLOAD, usd: 5000, exp: Math.floor(LATER.getTime() / 1000) },
    ]) {
      const forged = `${prefix}.${Buffer.from(JSON.stringify(payload)).toString("base64url")}.${signature}`;
      expect(readJobCredential(forged, KEY, NOW)).toEqual({ ok: false, reason: "the credential's signature does not match" });
    }
  });
});
