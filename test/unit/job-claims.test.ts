import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CHECKED_CLAIMS, CLOCK_SKEW_SECONDS, MAX_TOKEN_LIFETIME_SECONDS, checkJobClaims, type ExpectedJob } from "../../src/actions/job-claims.js";

const now = new Date("2026-11-23T12:00:00.000Z");
const nowSeconds = now.getTime() / 1000;

const expected: ExpectedJob = {
  issuer: "https://token.actions.githubusercontent.com",
  audience: "https://afk.example.com",
  runnerRepo: "octo-org/afk-runner",
  workflowPath: ".github/workflows/afk-job.yml",
  workflowRef: "refs/heads/main",
  runId: 42,
};

/** The same job from a workflow file on any ref. */
const { workflowRef: _mainBranch, ...anyRef } = expected;

/** The claims GitHub documents for a job's token, as the job afk dispatched for workflow run 42 would hold them. */
function githubClaims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    jti: "2f6c2a8e-6c1a-4b5e-9a3e-5c7d0e1f2a3b",
    sub: "repo:octo-org/afk-runner:ref:refs/heads/main",
    aud: "https://afk.example.com",
    ref: "refs/heads/main",
    sha: "d6e0a3b4c5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0",
    repository: "octo-org/afk-runner",
    repository_owner: "octo-org",
    repository_owner_id: "65",
    repository_visibility: "private",
    repository_id: "74",
    actor_id: "12",
    actor: "afk[bot]",
    run_id: "42",
    run_number: "10",
    run_attempt: "1",
    runner_environment: "github-hosted",
    workflow: "afk job",
    head_ref: "",
    base_ref: "",
    event_name: "workflow_dispatch",
    ref_type: "branch",
    workflow_ref: "octo-org/afk-runner/.github/workflows/afk-job.yml@refs/heads/main",
    job_workflow_ref: "octo-org/afk-runner/.github/workflows/afk-job.yml@refs/heads/main",
    iss: "https://token.actions.githubusercontent.com",
    nbf: nowSeconds - 70,
    iat: nowSeconds - 10,
    exp: nowSeconds + 290,
    ...overrides,
  };
}

function reasonFor(claims: unknown, expectation: ExpectedJob = expected, at: Date = now): string {
  const check = checkJobClaims(claims, expectation, at);
  if (check.ok) throw new Error("the claims were accepted");
  return check.reason;
}

describe("the claims of a job's OIDC token", () => {
  it("accepts the token GitHub mints for the workflow run afk dispatched, with ids read as numbers", () => {
    const check = checkJobClaims(githubClaims(), expected, now);
    expect(check).toMatchObject({ ok: true, claims: { run_id: 42, run_attempt: 1, repository: "octo-org/afk-runner", jti: expect.any(String) } });
  });

  it("checks everything but the workflow run when no run is expected yet (afk's first check, before it looks the run up)", () => {
    const { runId: _run, ...anyRun } = expected;
    expect(checkJobClaims(githubClaims({ run_id: "7" }), anyRun, now)).toMatchObject({ ok: true, claims: { run_id: 7 } });
    expect(checkJobClaims(githubClaims({ run_id: "7", repository: "octo-org/copycat" }), anyRun, now).ok).toBe(false);
    expect(checkJobClaims(githubClaims({ run_id: "7" }), expected, now).ok).toBe(false);
  });

  it.each<[string, Record<string, unknown>, ExpectedJob]>([
    ["an audience list that contains afk's", { aud: ["https://other.example.com", "https://afk.example.com"] }, expected],
    ["the repository in another case", { repository: "Octo-Org/AFK-Runner" }, expected],
    ["the workflow's repository in another case", { job_workflow_ref: "OCTO-ORG/afk-runner/.github/workflows/afk-job.yml@refs/heads/main" }, expected],
    ["any ref when none is expected", { job_workflow_ref: "octo-org/afk-runner/.github/workflows/afk-job.yml@refs/heads/dev" }, anyRef],
    ["no nbf claim", { nbf: undefined }, expected],
    ["a token that expired within the clock skew", { iat: nowSeconds - 350, exp: nowSeconds - CLOCK_SKEW_SECONDS + 1 }, expected],
    [
      "a token issued within the clock skew ahead",
      { nbf: nowSeconds + CLOCK_SKEW_SECONDS, iat: nowSeconds + CLOCK_SKEW_SECONDS, exp: nowSeconds + 300 },
      expected,
    ],
    ["a token that lives exactly the longest afk accepts", { iat: nowSeconds, exp: nowSeconds + MAX_TOKEN_LIFETIME_SECONDS }, expected],
  ])("accepts %s", (_title, overrides, expectation) => {
    expect(checkJobClaims(githubClaims(overrides), expectation, now).ok).toBe(true);
  });

  it.each<[string, unknown, string]>([
    ["claims that are no object", "a string", "the token's claims are not a JSON object"],
    ["claims that are a list", [githubClaims()], "the token's claims are not a JSON object"],
    [
      "another issuer",
      githubClaims({ iss: "https://evil.example.com" }),
      'the token was issued by "https://evil.example.com", not by "https://token.actions.githubusercontent.com"',
    ],
    ["another audience", githubClaims({ aud: "sigstore" }), 'the token is for audience "sigstore", not "https://afk.example.com"'],
    ["an audience list without afk's", githubClaims({ aud: ["a", "b"] }), 'the token is for audience "a", "b", not "https://afk.example.com"'],
    ["an empty audience list", githubClaims({ aud: [] }), "the token's aud claim is missing or malformed"],
    [
      "an expired token",
      githubClaims({ iat: nowSeconds - 400, exp: nowSeconds - CLOCK_SKEW_SECONDS }),
      "the token expired at 2026-11-23T11:59:00.000Z (it is now 2026-11-23T12:00:00.000Z)",
    ],
    ["a token issued in the future", githubClaims({ iat: nowSeconds + CLOCK_SKEW_SECONDS + 1, exp: nowSeconds + 361 }), "the token was issued in the future"],
    ["a token not yet valid", githubClaims({ nbf: nowSeconds + CLOCK_SKEW_SECONDS + 1 }), "the token is not valid before 2026-11-23T12:01:01.000Z"],
    [
      "a token that lives an hour",
      githubClaims({ iat: nowSeconds - 10, exp: nowSeconds + 3590 }),
      "the token lives 3600 s from issue to expiry, longer than the 600 s afk accepts",
    ],
    ["a token that expires before it was issued", githubClaims({ iat: nowSeconds, exp: nowSeconds - 1 }), "no later than it was issued"],
    [
      "a token from another repository",
      githubClaims({ repository: "mallory/afk-runner" }),
      'the token is from repository "mallory/afk-runner", not from the runner repository octo-org/afk-runner',
    ],
    [
      "another repository calling the runner's workflow as a reusable workflow",
      githubClaims({ repository: "mallory/fork" }),
      'the token is from repository "mallory/fork", not from the runner repository octo-org/afk-runner',
    ],
    [
      "the runner repository's job running a reusable workflow from elsewhere",
      githubClaims({ job_workflow_ref: "mallory/tools/.github/workflows/afk-job.yml@refs/heads/main" }),
      'the token is for workflow "mallory/tools/.github/workflows/afk-job.yml@refs/heads/main", not octo-org/afk-runner/.github/workflows/afk-job.yml@refs/heads/main',
    ],
    [
      "another workflow of the runner repository",
      githubClaims({ job_workflow_ref: "octo-org/afk-runner/.github/workflows/ci.yml@refs/heads/main" }),
      "the token is for workflow",
    ],
    [
      "the workflow from another branch",
      githubClaims({ job_workflow_ref: "octo-org/afk-runner/.github/workflows/afk-job.yml@refs/heads/evil" }),
      "the token is for workflow",
    ],
    [
      "the workflow at a path that only starts the same",
      githubClaims({ job_workflow_ref: "octo-org/afk-runner/.github/workflows/afk-job.yml.bak@refs/heads/main" }),
      "the token is for workflow",
    ],
    [
      "a workflow whose path differs in case",
      githubClaims({ job_workflow_ref: "octo-org/afk-runner/.github/workflows/AFK-job.yml@refs/heads/main" }),
      "the token is for workflow",
    ],
    [
      "a workflow run started by a push",
      githubClaims({ event_name: "push" }),
      'the token is for a workflow run started by "push", not by afk\'s workflow_dispatch',
    ],
    ["another workflow run", githubClaims({ run_id: "41" }), "the token is for workflow run 41, not 42"],
    ["a run id written as a number", githubClaims({ run_id: 42 }), "the token's run_id claim is missing or malformed"],
    ["a run id with a leading zero", githubClaims({ run_id: "042" }), "the token's run_id claim is missing or malformed"],
    ["a run id with a sign", githubClaims({ run_id: "+42" }), "the token's run_id claim is missing or malformed"],
    ["a run id too long to be exact", githubClaims({ run_id: "9007199254740993" }), "the token's run_id claim is missing or malformed"],
    ["a token without a jti", githubClaims({ jti: undefined }), "the token's jti claim is missing or malformed"],
    ["an expiry that is no number", githubClaims({ exp: "1900000000" }), "the token's exp claim is missing or malformed"],
    ["an expiry past any date", githubClaims({ exp: 1e300 }), "the token's exp claim is missing or malformed"],
    ["a repository name longer than any", githubClaims({ repository: "x".repeat(1_001) }), "the token's repository claim is missing or malformed"],
  ])("refuses %s", (_title, claims, reason) => {
    expect(reasonFor(claims)).toContain(reason);
  });

  it("keeps no claim it does not read, so an unexpected claim cannot ride along", () => {
    const check = checkJobClaims(githubClaims({ admin: true }), expected, now);
    expect(check.ok && "admin" in check.claims).toBe(false);
    expect(check.ok).toBe(true);
  });
});

/** Valid claims for any runner repository, workflow run and time, with the expectation they meet. */
const validCase = fc
  .record({
    owner: fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9-]{0,38}$/),
    name: fc.stringMatching(/^[A-Za-z0-9._-]{1,100}$/),
    runId: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }).filter((id) => String(id).length <= 15),
    ref: fc.constantFrom("refs/heads/main", "refs/heads/master", "refs/heads/trunk"),
    nowSeconds: fc.integer({ min: 1_600_000_000, max: 2_500_000_000 }),
    age: fc.integer({ min: -CLOCK_SKEW_SECONDS, max: 600 }),
    lifetime: fc.integer({ min: 1, max: MAX_TOKEN_LIFETIME_SECONDS }),
    jti: fc.uuid(),
  })
  .filter(({ age, lifetime }) => lifetime - age > -CLOCK_SKEW_SECONDS)
  .map(({ owner, name, runId, ref, nowSeconds: at, age, lifetime, jti }) => {
    const runnerRepo = `${owner}/${name}`;
    const expectation: ExpectedJob = { ...expected, runnerRepo, workflowRef: ref, runId };
    const iat = at - age;
    const claims: Record<string, unknown> = {
      ...githubClaims(),
      jti,
      repository: runnerRepo,
      job_workflow_ref: `${runnerRepo}/${expected.workflowPath}@${ref}`,
      run_id: String(runId),
      iat,
      nbf: iat,
      exp: iat + lifetime,
    };
    return { claims, expectation, now: new Date(at * 1000) };
  });

/** The identity claims afk compares with what it expects; time claims have a property of their own. */
const IDENTITY_CLAIMS = ["iss", "aud", "repository", "job_workflow_ref", "event_name", "run_id"] as const;
type IdentityClaim = (typeof IDENTITY_CLAIMS)[number];

/** Whether `value` says the same as the expected claim (names compared case-insensitively, an audience list containing afk's). */
function meansTheSame(claim: IdentityClaim, value: unknown, expectation: ExpectedJob): boolean {
  const repo = expectation.runnerRepo.toLowerCase();
  switch (claim) {
    case "iss":
      return value === expectation.issuer;
    case "aud":
      return value === expectation.audience || (Array.isArray(value) && value.includes(expectation.audience));
    case "repository":
      return typeof value === "string" && value.toLowerCase() === repo;
    case "job_workflow_ref":
      return (
        typeof value === "string" &&
        value.slice(0, repo.length).toLowerCase() === repo &&
        value.slice(repo.length) === `/${expectation.workflowPath}@${expectation.workflowRef ?? ""}`
      );
    case "event_name":
      return value === "workflow_dispatch";
    case "run_id":
      return value === String(expectation.runId);
  }
}

/** A string a character away from `original`: one changed, dropped, added, or its case flipped. */
function nearMiss(original: string): fc.Arbitrary<string> {
  return fc.oneof(
    fc
      .tuple(fc.nat({ max: Math.max(0, original.length - 1) }), fc.string({ minLength: 1, maxLength: 1 }))
      .map(([at, c]) => original.slice(0, at) + c + original.slice(at + 1)),
    fc.nat({ max: Math.max(0, original.length - 1) }).map((at) => original.slice(0, at) + original.slice(at + 1)),
    fc.string({ minLength: 1, maxLength: 3 }).map((suffix) => original + suffix),
    fc.string({ minLength: 1, maxLength: 3 }).map((prefix) => prefix + original),
    fc.constant(original.toUpperCase()),
    fc.constant(original.toLowerCase()),
  );
}

describe("the claims check, as properties", () => {
  it("accepts every token GitHub would mint for the dispatched run, whatever the names, ids and times", () => {
    fc.assert(
      fc.property(validCase, ({ claims, expectation, now: at }) => {
        expect(checkJobClaims(claims, expectation, at)).toMatchObject({ ok: true });
      }),
    );
  });

  it("refuses any change to one checked identity claim", () => {
    const changed = validCase.chain((valid) =>
      fc.constantFrom(...IDENTITY_CLAIMS).chain((claim) => {
        const original = valid.claims[claim];
        const replacement = typeof original === "string" ? fc.oneof(nearMiss(original), fc.anything()) : fc.anything();
        return replacement.filter((value) => !meansTheSame(claim, value, valid.expectation)).map((value) => ({ ...valid, claim, value }));
      }),
    );
    fc.assert(
      fc.property(changed, ({ claims, expectation, now: at, claim, value }) => {
        expect(checkJobClaims({ ...claims, [claim]: value }, expectation, at).ok).toBe(false);
      }),
      { numRuns: 500 },
    );
  });

  it("refuses a token without any one of the checked claims", () => {
    fc.assert(
      fc.property(validCase, fc.constantFrom(...CHECKED_CLAIMS), ({ claims, expectation, now: at }, claim) => {
        const { [claim]: _dropped, ...rest } = claims;
        expect(checkJobClaims(rest, expectation, at).ok).toBe(false);
      }),
    );
  });

  it("refuses a token outside its time window by more than the clock skew", () => {
    const outOfWindow = fc.oneof(
      // Expired: `exp` a skew or more before now.
      fc.record({ iat: fc.integer({ min: -10_000, max: -CLOCK_SKEW_SECONDS - 1 }), lifetime: fc.integer({ min: 1, max: 600 }) }).map(({ iat, lifetime }) => ({
        iat,
        nbf: iat,
        exp: Math.min(iat + lifetime, -CLOCK_SKEW_SECONDS),
      })),
      // Issued, or valid only, more than a skew ahead.
      fc.integer({ min: CLOCK_SKEW_SECONDS + 1, max: 10_000 }).map((iat) => ({ iat, nbf: iat, exp: iat + 300 })),
      fc.integer({ min: CLOCK_SKEW_SECONDS + 1, max: 10_000 }).map((nbf) => ({ iat: 0, nbf, exp: 300 })),
      // Living too long, or not at all.
      fc.integer({ min: MAX_TOKEN_LIFETIME_SECONDS + 1, max: 10_000_000 }).map((lifetime) => ({ iat: 0, nbf: 0, exp: lifetime })),
      fc.integer({ min: 0, max: 600 }).map((back) => ({ iat: 0, nbf: 0, exp: -back })),
    );
    fc.assert(
      fc.property(validCase, outOfWindow, ({ claims, expectation, now: at }, times) => {
        const base = at.getTime() / 1000;
        const shifted = { ...claims, iat: base + times.iat, nbf: base + times.nbf, exp: base + times.exp };
        expect(checkJobClaims(shifted, expectation, at).ok).toBe(false);
      }),
    );
  });
});
