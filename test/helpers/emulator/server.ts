import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { setTimeout as delay } from "node:timers/promises";
import { validateRequest, validateResponse } from "../openapi-validator.js";
import { authorize, identify, type Authentication } from "./auth.js";
import { LOG_PREFIX, serveLog } from "./checks.js";
import { executeGraphql } from "./graphql.js";
import { HttpError, type Reply, type Route } from "./http.js";
import { serveWebPage, type ManifestFlow } from "./manifest.js";
import type { EmulatorStore } from "./store.js";
import type { FaultReply, RecordedRequest } from "./types.js";
import { decodeSegment } from "./util.js";

/**
 * The HTTP side: GitHub's REST API under `/api/v3` (as GitHub Enterprise Server serves it), its
 * GraphQL endpoint, job log downloads and the manifest flow's web pages. Every REST request is
 * recorded, checked against GitHub's OpenAPI description (what it does not allow, and what the
 * emulator does not implement, is answered 400/501 and collected as a violation), then routed.
 *
 * Invariant: once a request's body has been read (and any latency or hold waited out), it is
 * handled synchronously, so each request's read-check-write is atomic on Node's event loop (the
 * lock's compare-and-swap on refs depends on it).
 */

export const API_PREFIX = "/api/v3";
/** Where Octokit's graphql sends queries when its baseUrl ends in `/api/v3` (GitHub Enterprise Server). */
const GRAPHQL_PATH = "/api/graphql";
const DOCS = "https://docs.github.com/rest";

/** What a test can see and steer of the server (the emulator's public fields). */
export interface ServerControls {
  readonly requests: RecordedRequest[];
  readonly violations: string[];
  /** Answers a request in GitHub's place (a fault), given its method, path and parsed JSON body; undefined lets it through. */
  onRequest: ((r: { method: string; path: string; body?: unknown }) => FaultReply | undefined) | undefined;
  holdRequest: ((r: { method: string; path: string; body: string }) => Promise<void> | undefined) | undefined;
  latencyMs: number;
  rateLimitRemaining: number;
  unimplementedStatus: number;
  checkResponses: boolean;
}

export interface ServerParts {
  controls: ServerControls;
  store: EmulatorStore;
  routes: Map<string, Route>;
  manifest: ManifestFlow;
  /** Services beside the API on the same host (the Actions OIDC issuer): a reply, or undefined for a path they do not serve. */
  services: (request: { method: string; url: URL; authorization: string | undefined }) => Reply | undefined;
}

interface Incoming {
  method: string;
  url: URL;
  text: string;
  authorization: string | undefined;
  accept: string;
  ifNoneMatch: string | undefined;
}

export class EmulatorServer {
  private readonly server: Server;
  private nextRequestId = 1;

  constructor(private readonly parts: ServerParts) {
    this.server = createServer((req, res) => {
      this.serve(req, res).catch((error: unknown) => {
        const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
        parts.controls.violations.push(`emulator crashed on ${req.method ?? "?"} ${req.url ?? "?"}: ${message}`);
        if (!res.headersSent) res.writeHead(500, { "content-type": "application/json; charset=utf-8" });
        res.end(JSON.stringify({ message: "emulator error" }));
      });
    });
  }

  /** Listens on a free loopback port and returns it. */
  async listen(): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(0, "127.0.0.1", () => resolve());
    });
    const address = this.server.address();
    if (address === null || typeof address === "string") throw new Error("emulator did not get a TCP port");
    return address.port;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.close((error) => (error ? reject(error) : resolve()));
      this.server.closeAllConnections();
    });
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
    const { controls } = this.parts;
    const incoming: Incoming = {
      method: (req.method ?? "GET").toUpperCase(),
      url: new URL(req.url ?? "/", "http://emulator.invalid"),
      text: Buffer.concat(chunks).toString("utf8"),
      authorization: req.headers.authorization,
      accept: req.headers.accept ?? "",
      ifNoneMatch: req.headers["if-none-match"],
    };
    if (controls.latencyMs > 0) await delay(controls.latencyMs);
    const hold = controls.holdRequest?.({ method: incoming.method, path: incoming.url.pathname.replace(API_PREFIX, ""), body: incoming.text });
    if (hold !== undefined) await hold;
    // From here on everything is synchronous: one request's state change cannot interleave with another's.
    this.send(res, this.answer(incoming));
  }

  private answer(incoming: Incoming): Reply {
    const { method, url } = incoming;
    if (url.pathname.startsWith(LOG_PREFIX) && method === "GET") return serveLog(this.parts.store, url.pathname.slice(LOG_PREFIX.length));
    const page = serveWebPage(this.parts.manifest, this.parts.controls, { method, url, body: incoming.text });
    if (page !== undefined) return page;
    const service = this.parts.services({ method, url, authorization: incoming.authorization });
    if (service !== undefined) return service;
    const query = Object.fromEntries(url.searchParams);
    const auth = identify(this.parts.store, incoming.authorization);
    if (url.pathname === GRAPHQL_PATH) {
      const record: RecordedRequest = { method, path: "/graphql", query, body: undefined, status: 0, auth: auth.kind };
      return this.recorded(record, this.graphql(record, incoming.text, auth));
    }
    const under = url.pathname.startsWith(`${API_PREFIX}/`);
    const rawPath = under ? url.pathname.slice(API_PREFIX.length) : url.pathname;
    const path = rawPath.split("/").map(decodeSegment).join("/");
    const record: RecordedRequest = { method, path, query, body: undefined, status: 0, auth: auth.kind };
    const reply = this.conditional(incoming, this.rest(record, incoming, { rawPath, under, auth }));
    // GitHub reports the rate limit on every REST answer; a fault's own headers (a 429, say) win.
    return this.recorded(record, { ...reply, headers: { ...this.rateLimitHeaders(), ...reply.headers } });
  }

  /** Records the answer's status (and JSON body) in `requests`, in the order requests arrived. */
  private recorded(record: RecordedRequest, reply: Reply): Reply {
    record.status = reply.status;
    if (reply.body !== undefined) record.response = reply.body;
    return reply;
  }

  /** What every REST answer says of the rate limit: `rateLimitRemaining` of 5,000, resetting in an hour. */
  private rateLimitHeaders(): Record<string, string> {
    const remaining = this.parts.controls.rateLimitRemaining;
    return {
      "x-ratelimit-limit": "5000",
      "x-ratelimit-remaining": String(remaining),
      "x-ratelimit-used": String(5000 - remaining),
      "x-ratelimit-reset": String(Math.ceil(Date.now() / 1000) + 3600),
      "x-ratelimit-resource": "core",
    };
  }

  private violation(record: RecordedRequest, message: string, status = 400): Reply {
    this.parts.controls.violations.push(`${record.method} ${record.path}: ${message}`);
    return { status, body: { message: `GitHub emulator: ${message}`, documentation_url: DOCS } };
  }

  private fault(record: RecordedRequest): Reply | undefined {
    const fault = this.parts.controls.onRequest?.({ method: record.method, path: record.path, body: record.body });
    if (fault === undefined) return undefined;
    return { status: fault.status, body: fault.body, ...(fault.headers === undefined ? {} : { headers: fault.headers }) };
  }

  private rest(record: RecordedRequest, incoming: Incoming, input: { rawPath: string; under: boolean; auth: Authentication }): Reply {
    const { controls, store, routes } = this.parts;
    controls.requests.push(record);
    const { method, query } = record;
    if (!input.under) return this.violation(record, `request outside ${API_PREFIX} (is Octokit's baseUrl ${store.hosts.api}?)`, 404);
    let body: unknown;
    if (incoming.text.trim() !== "") {
      try {
        body = JSON.parse(incoming.text);
      } catch {
        return this.violation(record, `Problems parsing JSON: ${incoming.text.slice(0, 200)}`);
      }
    }
    record.body = body;
    const fault = this.fault(record);
    if (fault !== undefined) return fault;

    const validation = validateRequest({ method, path: input.rawPath, query, body });
    if (!validation.ok) return this.violation(record, validation.error);
    record.operationId = validation.operationId;
    const route = routes.get(`${method} ${validation.template}`);
    if (route === undefined) {
      return this.violation(
        record,
        `${validation.operationId} (${method} ${validation.template}) is not implemented by the GitHub emulator`,
        controls.unimplementedStatus,
      );
    }
    try {
      const ctx = authorize(store, route, input.auth, { params: validation.params, query, body, accept: incoming.accept, rawPath: input.rawPath });
      const reply = route.handle(ctx);
      if (controls.checkResponses && reply.status < 300 && reply.body !== undefined) {
        const checked = validateResponse({ method, template: validation.template, status: reply.status, body: reply.body });
        if (!checked.ok) controls.violations.push(`emulator bug: ${checked.error}`);
      }
      return reply;
    } catch (error) {
      if (!(error instanceof HttpError)) throw error;
      return { status: error.status, body: { message: error.message, ...error.extra, documentation_url: DOCS, status: String(error.status) } };
    }
  }

  /**
   * Conditional requests, as GitHub answers them: a 200 GET carries an `ETag` (a digest of its
   * body); a GET whose `If-None-Match` names that tag gets `304 Not Modified` without a body.
   * GitHub does not count a 304 against the rate limit; `requests` records it with its status.
   */
  private conditional(incoming: Incoming, reply: Reply): Reply {
    if (incoming.method !== "GET" || reply.status !== 200) return reply;
    const encoded = encode(reply);
    if (encoded === undefined) return reply;
    const etag = `W/"${createHash("sha256").update(encoded.payload).digest("hex")}"`;
    const wanted = (incoming.ifNoneMatch ?? "").split(",").map((tag) => tag.trim().replace(/^W\//, ""));
    if (wanted.includes("*") || wanted.includes(etag.replace(/^W\//, ""))) return { status: 304, headers: { ...reply.headers, etag } };
    return { ...reply, headers: { ...reply.headers, etag } };
  }

  private graphql(record: RecordedRequest, text: string, auth: Authentication): Reply {
    const { controls, store } = this.parts;
    controls.requests.push(record);
    const docs = "https://docs.github.com/graphql";
    if (record.method !== "POST") {
      controls.violations.push(`${record.method} /graphql: GitHub's GraphQL API takes POST`);
      return { status: 404, body: { message: "Not Found", documentation_url: docs } };
    }
    let body: unknown;
    try {
      body = text.trim() === "" ? undefined : JSON.parse(text);
    } catch {
      controls.violations.push(`POST /graphql: Problems parsing JSON: ${text.slice(0, 200)}`);
      return { status: 400, body: { message: "Problems parsing JSON", documentation_url: docs } };
    }
    record.body = body;
    const fault = this.fault(record);
    if (fault !== undefined) return fault;
    if (auth.kind !== "installation")
      return { status: 401, body: { message: auth.kind === "none" ? auth.problem : "Bad credentials", documentation_url: docs } };
    const { reply, violation } = executeGraphql(store, body, auth.token);
    if (violation !== undefined) controls.violations.push(`POST /graphql: ${violation}`);
    return reply;
  }

  private send(res: ServerResponse, reply: Reply): void {
    const headers: Record<string, string> = {
      "x-github-request-id": `EMU:${(this.nextRequestId++).toString(16).toUpperCase()}`,
      "x-github-media-type": "github.v3; format=json",
      ...reply.headers,
    };
    const encoded = reply.status === 204 || reply.status === 304 ? undefined : encode(reply);
    if (encoded === undefined) {
      res.writeHead(reply.status, headers);
      res.end();
      return;
    }
    res.writeHead(reply.status, { "content-type": encoded.contentType, "content-length": String(encoded.payload.length), ...headers });
    res.end(encoded.payload);
  }
}

/** The bytes of an answer and their type; undefined when it has no body. */
function encode(reply: Reply): { payload: Buffer; contentType: string } | undefined {
  if (reply.html !== undefined) return { payload: Buffer.from(reply.html, "utf8"), contentType: "text/html; charset=utf-8" };
  if (reply.text !== undefined) return { payload: Buffer.from(reply.text, "utf8"), contentType: "text/plain; charset=utf-8" };
  if (reply.body === undefined) return undefined;
  return { payload: Buffer.from(JSON.stringify(reply.body), "utf8"), contentType: "application/json; charset=utf-8" };
}
