import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "probot";
import { MAX_TOKEN_BYTES } from "../actions/oidc-verifier.js";
import type { JobCredentialClaims } from "../actions/job-credential.js";
import { JOB_PATHS } from "../run-contract/job-protocol.js";
import type { JobAnswer, JobService } from "./job-service.js";

/** The most bytes afk reads of a start or heartbeat body. */
const SMALL_BODY_BYTES = 16 * 1024;
/** The most bytes afk reads of a result: a 50 MB bundle in base64 and the texts beside it. */
export const MAX_RESULT_BYTES = 72 * 1024 * 1024;

/** What serves the job's model requests (`model-proxy.ts`), once its credential is checked. */
export interface ModelRequests {
  serve(req: IncomingMessage, res: ServerResponse, claims: JobCredentialClaims, subpath: string): Promise<void>;
}

/**
 * A handler for Probot's server (`addHandler`) answering jobs on GitHub Actions under `/afk/jobs/`
 * (JOB_PATHS): `POST start` with the job's OIDC token, `POST heartbeat` and `POST result` with its
 * credential, and the model proxy below `model/`. Every request needs `Authorization: Bearer`; bodies
 * are JSON, bounded, and read only once the caller is known (a start's token is checked by the service
 * before anything else). Any other path is left to the next handler (returns false).
 */
export function jobRoutes(service: JobService, model: ModelRequests, log: Pick<Logger, "error">) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<boolean> => {
    const path = (req.url ?? "").split("?")[0] ?? "";
    if (path !== JOB_PATHS.start && path !== JOB_PATHS.heartbeat && path !== JOB_PATHS.result && !path.startsWith(`${JOB_PATHS.model}/`)) return false;
    try {
      const bearer = bearerOf(req);
      if (bearer === undefined || bearer.length > MAX_TOKEN_BYTES)
        return send(res, { status: 401, body: { error: "afk's job endpoints need Authorization: Bearer" } });
      if (path === JOB_PATHS.start) {
        if (req.method !== "POST") return send(res, { status: 405, body: { error: "use POST" } });
        const body = await readJson(req, SMALL_BODY_BYTES);
        return send(res, "answer" in body ? body.answer : await service.start(bearer, body.value));
      }
      const credential = service.credential(bearer);
      if ("refused" in credential) return send(res, credential.refused);
      if (path.startsWith(`${JOB_PATHS.model}/`)) {
        await model.serve(req, res, credential.claims, path.slice(JOB_PATHS.model.length));
        return true;
      }
      if (req.method !== "POST") return send(res, { status: 405, body: { error: "use POST" } });
      const body = await readJson(req, path === JOB_PATHS.result ? MAX_RESULT_BYTES : SMALL_BODY_BYTES);
      if ("answer" in body) return send(res, body.answer);
      return send(
        res,
        path === JOB_PATHS.heartbeat ? await service.heartbeat(credential.claims, body.value) : await service.result(credential.claims, body.value),
      );
    } catch (error) {
      // The job is told afk failed (it may try again); the details stay in afk's log.
      log.error({ err: error, path }, "afk's job endpoint failed");
      if (!res.headersSent) return send(res, { status: 500, body: { error: "afk failed to handle the request; it is logged" } });
      res.end();
      return true;
    }
  };
}

function bearerOf(req: IncomingMessage): string | undefined {
  const header = req.headers.authorization ?? "";
  const match = /^Bearer ([\x21-\x7e]+)$/.exec(header);
  return match?.[1];
}

/** The body as JSON, or the answer refusing it (too large, not JSON). */
async function readJson(req: IncomingMessage, maxBytes: number): Promise<{ value: unknown } | { answer: JobAnswer & { close?: boolean } }> {
  const declared = Number(req.headers["content-length"] ?? "0");
  if (declared > maxBytes) return { answer: { status: 413, body: { error: `the body is over the ${maxBytes} bytes afk reads` }, close: true } };
  const chunks: Buffer[] = [];
  let size = 0;
  // Leaving the loop early must not destroy the request: its connection still carries the 413.
  for await (const chunk of req.iterator({ destroyOnReturn: false })) {
    const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += bytes.byteLength;
    if (size > maxBytes) {
      // The rest is not read: the answer closes the connection, which then goes.
      req.pause();
      return { answer: { status: 413, body: { error: `the body is over the ${maxBytes} bytes afk reads` }, close: true } };
    }
    chunks.push(bytes);
  }
  try {
    return { value: JSON.parse(Buffer.concat(chunks).toString("utf8")) as unknown };
  } catch {
    return { answer: { status: 400, body: { error: "the body is not JSON" } } };
  }
}

function send(res: ServerResponse, answer: JobAnswer & { close?: boolean }): true {
  const headers = { "content-type": "application/json; charset=utf-8", "cache-control": "no-store", ...(answer.close === true ? { connection: "close" } : {}) };
  res.writeHead(answer.status, headers).end(JSON.stringify(answer.body), () => {
    if (answer.close === true) res.req.destroy();
  });
  return true;
}
