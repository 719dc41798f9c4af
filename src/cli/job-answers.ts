// What `afk job` makes of afk's answers, and when it tries again. Pure: no fetch, no timers, no
// environment; job.ts does the I/O and asks these functions what each answer means.
import { join } from "node:path";
import { z } from "zod";
import { heartbeatAnswerSchema, jobSpecSchema, type JobResult, type JobSpec, type RunReference } from "../run-contract/job-protocol.js";

/**
 * The waits between tries of a request afk did not answer or answered 5xx (it may be restarting, a
 * replica behind a load balancer may be going away, or, at start, afk is still recording which
 * workflow run it dispatched, which a runner that picks the job up at once meets: hence a short first
 * wait): seven tries over about a minute, then give up.
 */
export const RETRY_DELAYS_MS: readonly number[] = [500, 1_500, 4_000, 8_000, 16_000, 30_000];

/** How long to wait after `failedTries` tries have failed, or undefined when no try is left. */
export function retryDelay(failedTries: number): number | undefined {
  return failedTries >= 1 ? RETRY_DELAYS_MS[failedTries - 1] : undefined;
}

/** One request to afk, as the job saw it: an HTTP answer, or none (refused connection, reset, timeout). */
export type Exchange = { kind: "answered"; status: number; body: string } | { kind: "unanswered"; reason: string };

/** What afk's answer to the start means. */
export type StartVerdict =
  /** afk admitted the job: here is its work. */
  | { kind: "spec"; spec: JobSpec }
  /** afk refused the job (4xx): its reason, said once; trying again would be refused again. */
  | { kind: "refused"; message: string }
  /** afk answered 200 with something that is not a job spec: afk and this job disagree on the protocol. */
  | { kind: "malformed"; message: string }
  /** No answer, or afk could not answer now (5xx, 408, 429): worth another try. */
  | { kind: "retry"; reason: string };

/** What afk's answer to a heartbeat means. */
export type HeartbeatVerdict =
  | { kind: "continue" }
  /** Stop the work now and send no result: `/afk stop`, the lease lost, or the run over (401, 403, 404, 409). */
  | { kind: "stop"; reason: string }
  /** This beat did not get through; the next one may. afk's lease outlasts a few lost beats. */
  | { kind: "failed"; reason: string };

/** What afk's answer to the result means. */
export type ResultVerdict =
  /** afk took the result: it checks the change and reports on the issue itself. */
  | { kind: "accepted"; message: string }
  /** afk refused the result (409: the run already ended; any other 4xx): said once, not sent again. */
  | { kind: "refused"; status: number; message: string }
  | { kind: "retry"; reason: string };

/** A heartbeat answered with one of these means afk no longer has this run running: the job stops. */
const RUN_OVER_STATUSES = new Set([401, 403, 404, 409]);

/** afk's refusals carry `{"error": "<message>"}`; its result answer `{"message": "..."}`. */
const errorBody = z.object({ error: z.string().min(1) });
const messageBody = z.object({ message: z.string() });

/** The most characters of an answer quoted when it is not afk's own `{"error"}` (a proxy's error page, say). */
const QUOTED_CHARS = 200;

/** Statuses that mean "not now" rather than "no": afk (or a proxy before it) may answer differently later. */
function isTransient(status: number): boolean {
  return status >= 500 || status === 408 || status === 429;
}

/** afk's own reason in a refusal, or the status with the start of whatever else answered. */
function refusalMessage(status: number, body: string): string {
  const parsed = errorBody.safeParse(parseJson(body));
  if (parsed.success) return parsed.data.error;
  const quoted = body.trim().split("\n")[0]?.slice(0, QUOTED_CHARS) ?? "";
  return `HTTP ${status}${quoted === "" ? "" : `: ${quoted}`}`;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Where each field of a schema's failure is, and what is wrong with it; never the value (it may be a token). */
function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => `${issue.path.length === 0 ? "(the body)" : issue.path.join(".")}: ${issue.message}`)
    .join("; ");
}

/** The meaning of afk's answer to `POST /afk/jobs/start` for the run `run`: a spec for another run or repository is no spec for this job. */
export function readStartAnswer(exchange: Exchange, run: RunReference): StartVerdict {
  if (exchange.kind === "unanswered") return { kind: "retry", reason: exchange.reason };
  const { status, body } = exchange;
  if (isTransient(status)) return { kind: "retry", reason: refusalMessage(status, body) };
  if (status !== 200) return { kind: "refused", message: refusalMessage(status, body) };
  const json = parseJson(body);
  if (json === undefined) return { kind: "malformed", message: "afk answered the start with 200 and a body that is not JSON" };
  const parsed = jobSpecSchema.safeParse(json);
  if (!parsed.success) return { kind: "malformed", message: `afk's job spec is not one this afk job understands: ${describeIssues(parsed.error)}` };
  const spec = parsed.data;
  if (spec.runId !== run.runId) return { kind: "malformed", message: `afk's job spec is for run ${spec.runId}, not ${run.runId}` };
  if (spec.repository.fullName.toLowerCase() !== run.repository.toLowerCase())
    return { kind: "malformed", message: `afk's job spec is for ${spec.repository.fullName}, not ${run.repository}` };
  return { kind: "spec", spec };
}

/** The meaning of afk's answer to `POST /afk/jobs/heartbeat`. */
export function readHeartbeatAnswer(exchange: Exchange): HeartbeatVerdict {
  if (exchange.kind === "unanswered") return { kind: "failed", reason: exchange.reason };
  const { status, body } = exchange;
  if (RUN_OVER_STATUSES.has(status)) return { kind: "stop", reason: `afk no longer runs this job (${refusalMessage(status, body)})` };
  if (status !== 200) return { kind: "failed", reason: refusalMessage(status, body) };
  const parsed = heartbeatAnswerSchema.safeParse(parseJson(body));
  if (!parsed.success) return { kind: "failed", reason: `afk's answer is not a heartbeat answer: ${describeIssues(parsed.error)}` };
  return parsed.data.kind === "continue" ? { kind: "continue" } : { kind: "stop", reason: parsed.data.reason };
}

/** The meaning of afk's answer to `POST /afk/jobs/result`. */
export function readResultAnswer(exchange: Exchange): ResultVerdict {
  if (exchange.kind === "unanswered") return { kind: "retry", reason: exchange.reason };
  const { status, body } = exchange;
  if (isTransient(status)) return { kind: "retry", reason: refusalMessage(status, body) };
  if (status !== 200) return { kind: "refused", status, message: refusalMessage(status, body) };
  const parsed = messageBody.safeParse(parseJson(body));
  return { kind: "accepted", message: parsed.success ? parsed.data.message : "afk took the result" };
}

/** `path` under afk's address, keeping a path afk is served under (`https://host/afk-app` + `/afk/jobs/start`). */
export function jobUrl(base: string, path: string): string {
  const url = new URL(base);
  url.pathname = `${url.pathname.replace(/\/+$/, "")}${path}`;
  url.search = "";
  url.hash = "";
  return url.href;
}

/** Where the job keeps its clones: `AFK_CACHE_DIR`, else the runner's temporary directory, else the system's. */
export function jobCacheDir(env: NodeJS.ProcessEnv, systemTemp: string): string {
  const chosen = env.AFK_CACHE_DIR?.trim() ?? "";
  if (chosen !== "") return chosen;
  const runnerTemp = env.RUNNER_TEMP?.trim() ?? "";
  return join(runnerTemp === "" ? systemTemp : runnerTemp, "afk-cache");
}

/**
 * `text` with every secret replaced by `***`, as GitHub masks secrets in a log. The job prints no
 * secret on purpose; this catches one that reaches a message it quotes (afk's answer, an error).
 */
export function redact(text: string, secrets: readonly string[]): string {
  let redacted = text;
  for (const secret of secrets) if (secret.length >= 8) redacted = redacted.split(secret).join("***");
  return redacted;
}

/**
 * How the work ended, for the job's log: the verdict, the gate's exit, and whether a change goes back.
 * Never the agent's own words (its summary, the test output): the Actions log reads lines starting
 * with `::` as workflow commands, and afk shows them on the issue anyway.
 */
export function describeJobResult(result: JobResult): string[] {
  const { outcome } = result;
  if (outcome.kind === "not-started") return [`not started${outcome.retryable ? " (afk may try again)" : ""}: ${outcome.reason}`];
  const run = outcome.result;
  const gate =
    "gate" in run && run.gate !== undefined ? `\`${run.gate.command}\` exited ${run.gate.exitCode ?? "killed"} after ${run.gate.rounds} round(s)` : undefined;
  const verdict =
    run.kind === "passed"
      ? `the tests pass (${gate ?? "no gate"})`
      : run.kind === "tests-fail"
        ? `the tests do not pass (${gate ?? "no gate"})`
        : run.kind === "budget"
          ? `the budget ran out${gate === undefined ? "" : ` (${gate})`}`
          : run.kind === "model-error"
            ? `the model could not be reached${run.retryable ? " (afk may try again)" : ""}`
            : "the work was stopped";
  const bundle =
    result.bundle === undefined
      ? "no change to hand back"
      : `the change goes back to afk as a git bundle (${Math.ceil((result.bundle.length * 3) / 4 / 1024)} KiB)`;
  return [verdict, bundle];
}

/**
 * A line for the Actions log: no line of it can start a workflow command (the runner acts on lines
 * beginning with `::`, such as `::add-mask::` or `::stop-commands::`), whoever wrote its text.
 */
export function logLine(text: string, secrets: readonly string[]): string {
  return redact(text, secrets).replace(/^(\s*)::/gm, "$1: :");
}
