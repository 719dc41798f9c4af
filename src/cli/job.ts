import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import { tmpdir } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import { requestIdToken } from "../actions/id-token-request.js";
import { runJobSpec } from "../executor/run-job-spec.js";
import { errorMessage } from "../github/types.js";
import { JOB_PATHS, parseRunReference, type JobHeartbeat, type JobResult, type JobSpec, type RunReference } from "../run-contract/job-protocol.js";
import { jobEnvironment } from "./doctor.js";
import {
  describeJobResult,
  jobCacheDir,
  jobUrl,
  logLine,
  readHeartbeatAnswer,
  readResultAnswer,
  readStartAnswer,
  redact,
  retryDelay,
  type Exchange,
} from "./job-answers.js";
import { EXIT } from "./parse-cli-args.js";

/** The job's environment and where its lines go (stdout is the Actions log; stderr its warnings and errors). */
export interface JobIo {
  env: NodeJS.ProcessEnv;
  out: (line: string) => void;
  err: (line: string) => void;
  /** Aborted when the process is asked to end (Actions cancelling the job sends SIGINT, then SIGTERM). */
  signal: AbortSignal;
}

/** How long afk may take to answer the start (it reads the issue and mints the read token first). */
const START_TIMEOUT_MS = 60_000;
/** afk checks the change, pushes it and opens the pull request before it answers the result: up to 10 minutes. */
const RESULT_TIMEOUT_MS = 11 * 60_000;
/** The longest a heartbeat waits for its answer; beats never overlap, so a slow answer only delays the next one. */
const HEARTBEAT_TIMEOUT_MS = 30_000;
/** The most bytes of an answer from afk read (a spec carries the task's text, a few hundred KB at most). */
const MAX_ANSWER_BYTES = 16 * 1024 * 1024;
/** What the SDK retries a model call on its own before the agent loop sees a failure. */
const MODEL_RETRIES = 4;

type Phase = JobHeartbeat["phase"];

/**
 * `afk job`: the work of one afk run on a GitHub Actions runner (ADR 0008), as the runner workflow
 * runs it after `afk doctor --job`. The numbered steps are the protocol (run-contract/job-protocol.ts):
 *
 * 1. read `AFK_URL` and `AFK_RUN` (the same checks as `afk doctor --job`; a problem exits 2 with its fix);
 * 2. ask Actions for the job's OIDC token, audience afk's origin;
 * 3. present it at afk's start endpoint for the run; afk answers the job spec (retried while afk is unreachable or 5xx, never after a refusal);
 * 4. do the work (workspace, sandboxed agent, gate) with the spec, heartbeating all along;
 * 5. a heartbeat answered "stop" aborts the work, and no result is sent;
 * 6. hand the result (the change as a bundle) to afk and print its answer.
 *
 * The job holds no key: the spec's read token and job credential are afk's, for this run only, and
 * neither they nor the OIDC token are ever printed. Returns the exit code.
 */
export async function runJob(io: JobIo): Promise<number> {
  const secrets: string[] = [io.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN ?? ""];
  const out = (line: string): void => io.out(logLine(line, secrets));
  const err = (line: string): void => io.err(logLine(`afk job: ${line}`, secrets));

  // 1. What the workflow gave the job.
  const problems = jobEnvironment(io.env).filter((finding) => finding.verdict === "fail");
  const afkUrl = io.env.AFK_URL?.trim() ?? "";
  const run = parseRunReference(io.env.AFK_RUN?.trim() ?? "");
  if (problems.length > 0 || run === undefined) {
    for (const problem of problems) err(`${problem.detail}${problem.fix === undefined ? "" : `; ${problem.fix}`}`);
    return EXIT.usage;
  }

  // 2 and 3. Who the job is, and its work.
  out(`asking afk at ${new URL(afkUrl).origin} for the job of ${io.env.AFK_RUN?.trim() ?? ""}`);
  const spec = await startJob(afkUrl, run, io, secrets, err);
  if (spec === undefined) return EXIT.failed;
  secrets.push(spec.readToken, spec.jobCredential);
  out(`afk's job: ${spec.kind} on ${spec.repository.fullName} at ${spec.baseSha.slice(0, 12)} with ${spec.model}, a heartbeat every ${spec.heartbeatSeconds}s`);

  // 4 and 5. The work, with heartbeats from now until afk has answered the result.
  const work = new AbortController();
  let phase: Phase = "workspace";
  let stopReason: string | undefined;
  const cancelled = (): void => work.abort(new Error("the job was cancelled"));
  io.signal.addEventListener("abort", cancelled, { once: true });
  const heartbeats = startHeartbeats(spec, () => phase, {
    stop: (reason) => {
      if (stopReason !== undefined || work.signal.aborted) return;
      stopReason = reason;
      out(`afk says stop: ${reason}`);
      work.abort(new Error(`stopped by afk: ${reason}`));
    },
    failed: (reason) => err(`a heartbeat did not get through (${reason}); the next one is in ${spec.heartbeatSeconds}s`),
  });
  try {
    let result: JobResult;
    try {
      result = await runJobSpec(spec, {
        cacheDir: jobCacheDir(io.env, tmpdir()),
        // Never on a runner: the sandbox is the reason afk can run the agent there at all.
        allowUnsandboxed: false,
        allowHostNetwork: false,
        modelRetries: MODEL_RETRIES,
        signal: work.signal,
        onPhase: (next) => {
          phase = next;
          out(
            next === "workspace"
              ? `workspace: ${spec.repository.fullName} at ${spec.baseSha.slice(0, 12)}`
              : next === "agent"
                ? "agent: working"
                : `gate: \`${spec.config.test}\``,
          );
        },
        onSpend: (spend) => out(`spent $${spend.usd.toFixed(4)} over ${spend.turns} turn(s)`),
      });
    } catch (error) {
      // A fault of this job's, not of the work: afk hears it now rather than when the lease runs out.
      err(`the work failed: ${errorMessage(error)}`);
      result = {
        v: 1,
        runId: spec.runId,
        outcome: { kind: "not-started", reason: `afk job failed on the runner: ${redact(errorMessage(error), secrets).slice(0, 2000)}`, retryable: true },
      };
    }
    if (stopReason !== undefined) {
      out(`stopped by afk: ${stopReason}`);
      return EXIT.ok;
    }
    if (io.signal.aborted) {
      err("cancelled before the work was done; no result sent");
      return EXIT.failed;
    }
    for (const line of describeJobResult(result)) out(line);

    // 6. The result, while the heartbeats go on (afk takes minutes to check, push and open the pull request).
    return await sendResult(spec, result, io, out, err);
  } finally {
    io.signal.removeEventListener("abort", cancelled);
    await heartbeats.end();
  }
}

/** Steps 2 and 3: the OIDC token (a fresh one each try, since afk may remember one it has seen) presented at afk's start endpoint. */
async function startJob(afkUrl: string, run: RunReference, io: JobIo, secrets: string[], err: (line: string) => void): Promise<JobSpec | undefined> {
  const url = jobUrl(afkUrl, JOB_PATHS.start);
  const audience = new URL(afkUrl).origin;
  for (let failed = 0; ;) {
    let token: string;
    try {
      token = await requestIdToken(io.env, audience);
    } catch (error) {
      err(errorMessage(error));
      return undefined;
    }
    secrets.push(token);
    const verdict = readStartAnswer(await postJson(url, token, { v: 1, run: io.env.AFK_RUN?.trim() ?? "" }, START_TIMEOUT_MS, io.signal), run);
    switch (verdict.kind) {
      case "spec":
        return verdict.spec;
      case "refused":
        err(`afk refused the job: ${verdict.message}`);
        return undefined;
      case "malformed":
        err(verdict.message);
        return undefined;
      case "retry": {
        failed += 1;
        const delay = retryDelay(failed);
        if (delay === undefined || io.signal.aborted) {
          err(`afk did not answer the start after ${failed} tries (${verdict.reason}); giving up`);
          return undefined;
        }
        err(`afk did not answer the start (${verdict.reason}); trying again in ${delay / 1000}s`);
        await pause(delay, io.signal);
      }
    }
  }
}

/** Step 6: the result, tried again while afk is unreachable or 5xx (it may be restarting), never after a refusal. */
async function sendResult(spec: JobSpec, result: JobResult, io: JobIo, out: (line: string) => void, err: (line: string) => void): Promise<number> {
  const url = jobUrl(spec.endpoint, JOB_PATHS.result);
  for (let failed = 0; ;) {
    const verdict = readResultAnswer(await postJson(url, spec.jobCredential, result, RESULT_TIMEOUT_MS, io.signal));
    switch (verdict.kind) {
      case "accepted":
        out(`afk: ${verdict.message}`);
        return EXIT.ok;
      case "refused":
        err(`afk refused the result (${verdict.status}): ${verdict.message}`);
        return EXIT.failed;
      case "retry": {
        failed += 1;
        const delay = retryDelay(failed);
        if (delay === undefined || io.signal.aborted) {
          err(`afk did not take the result after ${failed} tries (${verdict.reason}); giving up`);
          return EXIT.failed;
        }
        err(`afk did not take the result (${verdict.reason}); trying again in ${delay / 1000}s`);
        await pause(delay, io.signal);
      }
    }
  }
}

/**
 * Step 5: a heartbeat now and then every `spec.heartbeatSeconds` (counted from each beat's start),
 * until `end`. A beat that does not get through is reported and the next one tried; a stop ends
 * the beating. Beats never overlap.
 */
function startHeartbeats(
  spec: JobSpec,
  phase: () => Phase,
  on: { stop: (reason: string) => void; failed: (reason: string) => void },
): { end: () => Promise<void> } {
  const ended = new AbortController();
  const url = jobUrl(spec.endpoint, JOB_PATHS.heartbeat);
  const intervalMs = spec.heartbeatSeconds * 1000;
  const loop = async (): Promise<void> => {
    while (!ended.signal.aborted) {
      const started = Date.now();
      const body: JobHeartbeat = { v: 1, phase: phase() };
      const exchange = await postJson(url, spec.jobCredential, body, HEARTBEAT_TIMEOUT_MS, ended.signal);
      if (ended.signal.aborted) return;
      const verdict = readHeartbeatAnswer(exchange);
      if (verdict.kind === "stop") return on.stop(verdict.reason);
      if (verdict.kind === "failed") on.failed(verdict.reason);
      await pause(Math.max(0, intervalMs - (Date.now() - started)), ended.signal);
    }
  };
  const beating = loop();
  return {
    end: async () => {
      ended.abort();
      await beating;
    },
  };
}

/** Waits `ms`, or less when `signal` aborts; never rejects. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return sleep(ms, undefined, { signal }).catch(() => undefined);
}

/**
 * POSTs `body` as JSON with `Authorization: Bearer <bearer>` and reads the answer. Over node:http
 * rather than `fetch`, whose client gives up on an answer after 5 minutes: afk may take 10 to
 * answer a result. Never throws: no answer is an `unanswered` exchange saying why.
 */
function postJson(url: string, bearer: string, body: unknown, timeoutMs: number, cancel: AbortSignal): Promise<Exchange> {
  const payload = Buffer.from(JSON.stringify(body));
  const target = new URL(url);
  const send = target.protocol === "https:" ? httpsRequest : httpRequest;
  const signal = AbortSignal.any([cancel, AbortSignal.timeout(timeoutMs)]);
  return new Promise<Exchange>((resolve) => {
    const unanswered = (reason: string): void => resolve({ kind: "unanswered", reason });
    const request = send(
      target,
      {
        method: "POST",
        headers: { authorization: `Bearer ${bearer}`, "content-type": "application/json", "content-length": payload.length, accept: "application/json" },
        signal,
      },
      (response: IncomingMessage) => {
        const chunks: Buffer[] = [];
        let size = 0;
        response.on("data", (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_ANSWER_BYTES) return void response.destroy(new Error(`an answer over ${MAX_ANSWER_BYTES} bytes`));
          chunks.push(chunk);
        });
        response.on("error", (error) => unanswered(errorMessage(error)));
        response.on("close", () => {
          if (!response.complete) unanswered("the connection closed before the answer ended");
        });
        response.on("end", () => resolve({ kind: "answered", status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
      },
    );
    request.on("error", (error) => {
      if (cancel.aborted) return unanswered("cancelled");
      if (signal.aborted) return unanswered(`no answer within ${Math.round(timeoutMs / 1000)}s`);
      const code = typeof error === "object" && "code" in error && typeof error.code === "string" ? ` (${error.code})` : "";
      unanswered(`${errorMessage(error)}${code}`);
    });
    request.end(payload);
  });
}
