import { z } from "zod";

/** How far afk's clock and the issuer's may disagree when the token's times are checked. */
export const CLOCK_SKEW_SECONDS = 60;

/** The longest a token may live, from `iat` to `exp`. GitHub's Actions tokens live a few minutes. */
export const MAX_TOKEN_LIFETIME_SECONDS = 600;

/** The one event afk dispatches its jobs with. */
const DISPATCH_EVENT = "workflow_dispatch";

/** A bound on every string claim: GitHub's are short, and a log line must stay readable. */
const MAX_CLAIM_LENGTH = 1_000;

/** What a token must say to be the job afk dispatched for one run. */
export interface ExpectedJob {
  /** The OIDC issuer (GitHub's is `https://token.actions.githubusercontent.com`); `iss` must equal it. */
  issuer: string;
  /** afk's audience; `aud` (a string or a list) must contain it. */
  audience: string;
  /** The runner repository, `owner/name`; compared case-insensitively, as GitHub compares names. */
  runnerRepo: string;
  /** The workflow file in the runner repository, such as `.github/workflows/afk-job.yml`. */
  workflowPath: string;
  /** The ref the workflow file must come from (`refs/heads/<default branch>`); any ref when absent. */
  workflowRef?: string;
  /** The Actions workflow run afk dispatched for this run; `run_id` must name it. Any run when absent (a first check, before afk has looked the run up). */
  runId?: number;
}

/** A JWT NumericDate (seconds since the epoch), bounded so that it is always a valid date. */
const numericDate = z.number().nonnegative().max(253_402_300_799);

const claimString = z.string().max(MAX_CLAIM_LENGTH);

/** GitHub writes every number in its claims as a decimal string ("run_id": "123"); afk reads them as numbers. */
const decimalId = z
  .string()
  .regex(/^[1-9][0-9]{0,14}$/, 'expected a decimal id such as "123"')
  .transform(Number);

const jobClaimsSchema = z.object({
  /** The issuer. */
  iss: claimString,
  /** The audience the job asked for. */
  aud: z.union([claimString, z.array(claimString).min(1).max(10)]),
  /** Expiry, issue and not-before times, seconds since the epoch. */
  exp: numericDate,
  iat: numericDate,
  nbf: numericDate.optional(),
  /** The token's unique id, for the replay guard. */
  jti: z.string().min(1).max(256),
  /** The repository the workflow runs in, `owner/name`. */
  repository: claimString.min(1),
  /** `owner/name/<workflow path>@<ref>`: the workflow file the job runs. */
  job_workflow_ref: claimString.min(1),
  /** The event that started the workflow run. */
  event_name: claimString,
  /** The workflow run. */
  run_id: decimalId,
  /** Which attempt of the workflow run (a re-run counts up). */
  run_attempt: decimalId.optional(),
  /** The subject, such as `repo:owner/name:ref:refs/heads/main`. */
  sub: claimString.optional(),
  /** The ref and commit the workflow run was started on. */
  ref: claimString.optional(),
  sha: claimString.optional(),
  /** Who started the workflow run (afk's App, for a dispatch). */
  actor: claimString.optional(),
  /** `github-hosted` or `self-hosted`. */
  runner_environment: claimString.optional(),
});

/** The claims of a job's OIDC token, as afk reads them (ids as numbers; claims afk does not read are dropped). */
export type JobClaims = z.output<typeof jobClaimsSchema>;

/** The claims afk checks; a token without any one of them is refused. */
export const CHECKED_CLAIMS = ["iss", "aud", "exp", "iat", "jti", "repository", "job_workflow_ref", "event_name", "run_id"] as const;

/** Whether a token's claims make it the job afk dispatched; when not, why, in words a log reader understands. */
export type JobClaimsCheck = { ok: true; claims: JobClaims } | { ok: false; reason: string };

/**
 * Checks the claims of a job's OIDC token (whose signature the caller has verified) against the job
 * afk dispatched: issuer, audience, times (with {@link CLOCK_SKEW_SECONDS} of skew, and a lifetime of
 * at most {@link MAX_TOKEN_LIFETIME_SECONDS}), runner repository, workflow file and ref, dispatch
 * event and workflow run. Pure; never throws.
 */
export function checkJobClaims(claims: unknown, expected: ExpectedJob, now: Date): JobClaimsCheck {
  if (typeof claims !== "object" || claims === null || Array.isArray(claims)) return refuse("the token's claims are not a JSON object");
  const parsed = jobClaimsSchema.safeParse(claims);
  if (!parsed.success) return refuse(malformed(parsed.error));
  const token = parsed.data;

  if (token.iss !== expected.issuer) return refuse(`the token was issued by ${quote(token.iss)}, not by ${quote(expected.issuer)}`);
  const audiences = typeof token.aud === "string" ? [token.aud] : token.aud;
  if (!audiences.includes(expected.audience)) return refuse(`the token is for audience ${audiences.map(quote).join(", ")}, not ${quote(expected.audience)}`);

  const timeProblem = timeWindowProblem(token, now.getTime() / 1000);
  if (timeProblem !== undefined) return refuse(timeProblem);

  if (!sameRepository(token.repository, expected.runnerRepo))
    return refuse(`the token is from repository ${quote(token.repository)}, not from the runner repository ${expected.runnerRepo}`);
  if (!isExpectedWorkflow(token.job_workflow_ref, expected)) {
    const wanted = `${expected.runnerRepo}/${expected.workflowPath}@${expected.workflowRef ?? "<any ref>"}`;
    return refuse(`the token is for workflow ${quote(token.job_workflow_ref)}, not ${wanted}`);
  }
  if (token.event_name !== DISPATCH_EVENT)
    return refuse(`the token is for a workflow run started by ${quote(token.event_name)}, not by afk's ${DISPATCH_EVENT}`);
  if (expected.runId !== undefined && token.run_id !== expected.runId) return refuse(`the token is for workflow run ${token.run_id}, not ${expected.runId}`);
  return { ok: true, claims: token };
}

/** Why the token's times put it outside its window at `nowSeconds`, or `undefined` when they do not. */
function timeWindowProblem(token: JobClaims, nowSeconds: number): string | undefined {
  const at = (seconds: number): string => new Date(seconds * 1000).toISOString();
  if (token.exp <= token.iat) return `the token expires (${at(token.exp)}) no later than it was issued (${at(token.iat)})`;
  const lifetime = token.exp - token.iat;
  if (lifetime > MAX_TOKEN_LIFETIME_SECONDS)
    return `the token lives ${lifetime} s from issue to expiry, longer than the ${MAX_TOKEN_LIFETIME_SECONDS} s afk accepts`;
  if (nowSeconds >= token.exp + CLOCK_SKEW_SECONDS) return `the token expired at ${at(token.exp)} (it is now ${at(nowSeconds)})`;
  if (token.iat > nowSeconds + CLOCK_SKEW_SECONDS) return `the token was issued in the future, at ${at(token.iat)} (it is now ${at(nowSeconds)})`;
  if (token.nbf !== undefined && token.nbf > nowSeconds + CLOCK_SKEW_SECONDS)
    return `the token is not valid before ${at(token.nbf)} (it is now ${at(nowSeconds)})`;
  return undefined;
}

/** GitHub's owner and repository names are case-insensitive. */
function sameRepository(actual: string, expected: string): boolean {
  return actual.toLowerCase() === expected.toLowerCase();
}

/** `job_workflow_ref` is `<owner>/<name>/<path>@<ref>`: the repository part compared as a name, the path and ref exactly. */
function isExpectedWorkflow(jobWorkflowRef: string, expected: ExpectedJob): boolean {
  const repository = jobWorkflowRef.slice(0, expected.runnerRepo.length);
  if (!sameRepository(repository, expected.runnerRepo)) return false;
  const rest = jobWorkflowRef.slice(expected.runnerRepo.length);
  const workflow = `/${expected.workflowPath}@`;
  if (!rest.startsWith(workflow)) return false;
  const ref = rest.slice(workflow.length);
  return expected.workflowRef === undefined ? ref.length > 0 : ref === expected.workflowRef;
}

function malformed(error: z.ZodError): string {
  const issue = error.issues[0];
  if (issue === undefined) return "the token's claims are malformed";
  const claim = issue.path.map(String).join(".");
  return `the token's ${claim} claim is missing or malformed (${issue.message})`;
}

/** A claim's value as a log line shows it: quoted, so an empty or odd value stays visible. */
function quote(value: string): string {
  return JSON.stringify(value);
}

function refuse(reason: string): JobClaimsCheck {
  return { ok: false, reason };
}
