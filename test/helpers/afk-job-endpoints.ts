// afk's side of the job protocol (run-contract/job-protocol.ts) played strictly on loopback, for the
// tests of `afk job` until they run against the App's own endpoints: every request is checked with
// the real schemas and bearer values, and what the job sent is recorded in order.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import {
  JOB_PATHS,
  jobHeartbeatSchema,
  jobResultSchema,
  jobSpecSchema,
  jobStartSchema,
  type JobHeartbeat,
  type JobResult,
  type JobSpec,
  type JobStart,
} from "../../src/run-contract/job-protocol.js";

/** An answer afk gives: a status and a JSON body (a job spec, `{"error"}`, a heartbeat answer, `{"message"}`). */
export interface PlayedAnswer {
  status: number;
  body: unknown;
}

/** What the test's afk answers each request with; each gets the request as afk would have parsed it. */
export interface PlayedAfk {
  /** The start, with the bearer the job presented (its OIDC token). A 200 answer's body must be a `JobSpec`. */
  start: (start: JobStart, bearer: string, attempt: number) => PlayedAnswer | Promise<PlayedAnswer>;
  /** A heartbeat (the `count`th, from 1); `{"kind":"continue"}` when not given. */
  heartbeat?: (beat: JobHeartbeat, count: number) => PlayedAnswer | Promise<PlayedAnswer>;
  /** The result; `{"message": "afk took the result"}` when not given. */
  result?: (result: JobResult, attempt: number) => PlayedAnswer | Promise<PlayedAnswer>;
}

/** One request the job made, as afk parsed it, in the order they came. */
export type JobRequest =
  | { kind: "start"; body: JobStart; bearer: string }
  | { kind: "heartbeat"; body: JobHeartbeat }
  | { kind: "result"; body: JobResult }
  | { kind: "id-token"; audience: string | null; token: string };

/** Actions' ID token endpoint, when the test plays that too: the bearer it takes and the tokens it hands out. */
export interface PlayedIdTokens {
  /** What Actions would put in `ACTIONS_ID_TOKEN_REQUEST_TOKEN`. */
  requestToken: string;
  /** The `n`th token handed out (from 1): a fresh one each time, as Actions gives. */
  token: (n: number) => string;
}

const ID_TOKEN_PATH = "/_services/pipelines/idtoken";

/**
 * afk's job endpoints (start, heartbeat, result) on loopback, and optionally Actions' ID token
 * endpoint. Strict as afk is: a body its schema refuses, a bearer that is not the one afk issued (the
 * spec's job credential once served), a heartbeat or result before any spec, an unknown path or
 * method: each is answered 4xx and recorded in `violations`, which a test expects empty.
 */
export class AfkJobEndpoints {
  readonly requests: JobRequest[] = [];
  readonly violations: string[] = [];
  readonly #played: PlayedAfk;
  readonly #idTokens: PlayedIdTokens | undefined;
  #server: Server | undefined;
  /** The spec last served: its job credential is the only bearer heartbeats and results may carry. */
  #spec: JobSpec | undefined;

  private constructor(played: PlayedAfk, idTokens: PlayedIdTokens | undefined) {
    this.#played = played;
    this.#idTokens = idTokens;
  }

  static async start(played: PlayedAfk, options: { idTokens?: PlayedIdTokens } = {}): Promise<AfkJobEndpoints> {
    const endpoints = new AfkJobEndpoints(played, options.idTokens);
    const server = createServer((req, res) => {
      endpoints.#handle(req, res).catch((error: unknown) => {
        endpoints.violations.push(`the test's afk failed: ${String(error)}`);
        if (!res.headersSent) res.writeHead(500, { "content-type": "application/json" });
        res.end(JSON.stringify({ error: "the test's afk failed" }));
      });
    });
    endpoints.#server = server;
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return endpoints;
  }

  /** afk's public URL, as AFK_URL and a spec's `endpoint` name it. */
  get url(): string {
    const address = this.#server?.address() as AddressInfo;
    return `http://127.0.0.1:${address.port}`;
  }

  /** What Actions puts in `ACTIONS_ID_TOKEN_REQUEST_URL` when this server plays the ID token endpoint. */
  get idTokenRequestUrl(): string {
    return `${this.url}${ID_TOKEN_PATH}?api-version=2.0`;
  }

  /** The kinds of the requests so far, in order (`heartbeat:agent` with its phase). */
  get sequence(): string[] {
    return this.requests
      .filter((request) => request.kind !== "id-token")
      .map((request) => (request.kind === "heartbeat" ? `heartbeat:${request.body.phase}` : request.kind));
  }

  close(): Promise<void> {
    const server = this.#server;
    if (server === undefined) return Promise.resolve();
    server.closeAllConnections();
    return new Promise((resolve) => server.close(() => resolve()));
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", this.url);
    const bearer = /^Bearer (\S+)$/.exec(req.headers.authorization ?? "")?.[1];
    const answer = (played: PlayedAnswer): void => void res.writeHead(played.status, { "content-type": "application/json" }).end(JSON.stringify(played.body));
    const refuse = (status: number, violation: string): void => {
      this.violations.push(violation);
      answer({ status, body: { error: violation } });
    };

    if (this.#idTokens !== undefined && url.pathname === ID_TOKEN_PATH) {
      if (req.method !== "GET" || bearer !== this.#idTokens.requestToken) return refuse(401, "an ID token request without Actions' request token");
      const token = this.#idTokens.token(this.requests.filter((request) => request.kind === "id-token").length + 1);
      this.requests.push({ kind: "id-token", audience: url.searchParams.get("audience"), token });
      return answer({ status: 200, body: { count: 1, value: token } });
    }
    if (req.method !== "POST") return refuse(405, `${req.method ?? "?"} ${url.pathname}: afk's job endpoints take POST only`);
    if (req.headers["content-type"] !== "application/json") return refuse(415, `${url.pathname} without content-type: application/json`);
    const json = await readJson(req);

    if (url.pathname === JOB_PATHS.start) {
      const start = jobStartSchema.safeParse(json);
      if (!start.success) return refuse(400, `a start afk's schema refuses: ${start.error.message}`);
      if (bearer === undefined) return refuse(401, "a start without a bearer OIDC token");
      this.requests.push({ kind: "start", body: start.data, bearer });
      const played = await this.#played.start(start.data, bearer, this.requests.filter((request) => request.kind === "start").length);
      // A test may answer a spec afk would never send (the job must refuse it); only a real one is remembered.
      const served = jobSpecSchema.safeParse(played.body);
      if (played.status === 200 && served.success) this.#spec = served.data;
      return answer(played);
    }
    if (url.pathname === JOB_PATHS.heartbeat || url.pathname === JOB_PATHS.result) {
      const spec = this.#spec;
      if (spec === undefined) return refuse(401, `${url.pathname} before afk served a spec`);
      if (bearer !== spec.jobCredential) return refuse(401, `${url.pathname} without the spec's job credential`);
      if (url.pathname === JOB_PATHS.heartbeat) {
        const beat = jobHeartbeatSchema.safeParse(json);
        if (!beat.success) return refuse(400, `a heartbeat afk's schema refuses: ${beat.error.message}`);
        this.requests.push({ kind: "heartbeat", body: beat.data });
        const count = this.requests.filter((request) => request.kind === "heartbeat").length;
        return answer((await this.#played.heartbeat?.(beat.data, count)) ?? { status: 200, body: { kind: "continue" } });
      }
      const result = jobResultSchema.safeParse(json);
      if (!result.success) return refuse(400, `a result afk's schema refuses: ${result.error.message}`);
      if (result.data.runId !== spec.runId) return refuse(403, `a result for run ${result.data.runId}, not ${spec.runId}`);
      this.requests.push({ kind: "result", body: result.data });
      const attempt = this.requests.filter((request) => request.kind === "result").length;
      return answer((await this.#played.result?.(result.data, attempt)) ?? { status: 200, body: { message: "afk took the result" } });
    }
    return refuse(404, `no job endpoint at ${url.pathname}`);
  }
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch {
    return undefined;
  }
}
