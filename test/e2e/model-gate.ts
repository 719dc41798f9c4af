import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from "node:http";

/** A Messages API request held at the gate: it reaches the model only when released. */
export interface HeldRequest {
  /** Resolves when the App's request arrives at the gate. */
  readonly arrived: Promise<void>;
  /** Resolves when the App closes the connection while the request is held (a run aborted, a process killed). */
  readonly abandoned: Promise<void>;
  /** Lets the request through to the model (if the App still waits for it). */
  release(): void;
}

class Hold implements HeldRequest {
  readonly arrived: Promise<void>;
  readonly abandoned: Promise<void>;
  readonly released: Promise<void>;
  #arrive: () => void = () => undefined;
  #abandon: () => void = () => undefined;
  #release: () => void = () => undefined;

  constructor() {
    this.arrived = new Promise((resolve) => {
      this.#arrive = resolve;
    });
    this.abandoned = new Promise((resolve) => {
      this.#abandon = resolve;
    });
    this.released = new Promise((resolve) => {
      this.#release = resolve;
    });
  }

  arrive(): void {
    this.#arrive();
  }

  abandon(): void {
    this.#abandon();
  }

  release(): void {
    this.#release();
  }
}

/** The model of one repository behind the gate. */
export interface ModelRoute {
  /** Messages API requests about this repository that reached the gate. */
  readonly arrivals: number;
  /** Holds this repository's next Messages API request until `release()`. */
  holdNext(): HeldRequest;
  /** Releases every hold and stops routing (end of a test). */
  close(): void;
}

class Route implements ModelRoute {
  arrivals = 0;
  readonly armed: Hold[] = [];
  readonly #all: Hold[] = [];

  constructor(
    readonly key: string,
    readonly target: string,
    readonly onClose: (route: Route) => void,
  ) {}

  holdNext(): HeldRequest {
    const hold = new Hold();
    this.armed.push(hold);
    this.#all.push(hold);
    return hold;
  }

  close(): void {
    for (const hold of this.#all.splice(0)) hold.release();
    this.armed.splice(0);
    this.onClose(this);
  }
}

/**
 * The address every App process is given as `ANTHROPIC_BASE_URL`: a loopback proxy in front of the
 * scripted model servers, one per repository (the request names its repository in the task, as
 * afk's prompts do: "Implement this issue of owner/repo"), so tests running at once each talk to
 * their own script. A route can hold the next request until the test releases it; the model
 * server itself answers at once, and holding is what lets a test act (stop, kill) while a run is
 * inside a model call.
 */
export class ModelGate {
  /** Requests the gate could not route (a test bug, reported by the test that checks). */
  readonly violations: string[] = [];
  readonly #server: Server;
  readonly #routes = new Map<string, Route>();

  private constructor(server: Server) {
    this.#server = server;
  }

  static async start(): Promise<ModelGate> {
    let gate: ModelGate | undefined;
    const server = createServer((req, res) => {
      if (gate === undefined) return void res.writeHead(503).end();
      gate.#handle(req, res).catch((error: unknown) => {
        if (!res.headersSent) res.writeHead(502, { "content-type": "application/json" });
        res.end(JSON.stringify({ type: "error", error: { type: "api_error", message: `model gate: ${String(error)}` } }));
      });
    });
    gate = new ModelGate(server);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return gate;
  }

  get url(): string {
    const address = this.#server.address();
    if (address === null || typeof address === "string") throw new Error("the model gate is not listening on a TCP port");
    return `http://127.0.0.1:${address.port}`;
  }

  /** Sends requests whose task names `repository` (`owner/name`) to the model server at `target`. */
  route(repository: string, target: string): ModelRoute {
    if (this.#routes.has(repository)) throw new Error(`model gate: ${repository} is routed already`);
    const route = new Route(repository, target, (closed) => {
      if (this.#routes.get(closed.key) === closed) this.#routes.delete(closed.key);
    });
    this.#routes.set(repository, route);
    return route;
  }

  close(): Promise<void> {
    for (const route of [...this.#routes.values()]) route.close();
    this.#server.closeAllConnections();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }

  #routeFor(body: string): Route | undefined {
    // The longest name that appears wins, so `o/app` never captures `o/app-2`.
    const matching = [...this.#routes.values()].filter((route) => body.includes(route.key));
    return matching.sort((a, b) => b.key.length - a.key.length)[0];
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
    const body = Buffer.concat(chunks);
    const route = this.#routeFor(body.toString("utf8"));
    if (route === undefined) {
      this.violations.push(`${req.method ?? "?"} ${req.url ?? "?"} names no repository routed at the gate`);
      res.writeHead(404, { "content-type": "application/json" });
      return void res.end(JSON.stringify({ type: "error", error: { type: "not_found_error", message: "model gate: no model for this repository" } }));
    }
    if (req.method === "POST" && req.url?.split("?")[0] === "/v1/messages") {
      route.arrivals++;
      const hold = route.armed.shift();
      if (hold !== undefined) {
        let gone = false;
        res.once("close", () => {
          if (!res.writableEnded) {
            gone = true;
            hold.abandon();
          }
        });
        hold.arrive();
        await Promise.race([hold.released, hold.abandoned]);
        if (gone) return;
      }
    }
    await forward(new URL(req.url ?? "/", route.target), req, body, res);
  }
}

/**
 * Passes one request to the model server and its answer back. A model server that drops the
 * connection (a scripted `drop`) is mirrored: the gate drops the App's connection too, so the App
 * sees a connection cut off, not an answer from the gate.
 */
function forward(url: URL, req: IncomingMessage, body: Buffer, res: ServerResponse): Promise<void> {
  return new Promise((resolve, reject) => {
    // A connection of its own for each request (no keep-alive reuse), so no connection closed while idle is ever mistaken for a drop.
    const { connection: _connection, "keep-alive": _keepAlive, ...passed } = req.headers;
    const headers = { ...passed, host: url.host, "content-length": String(body.length), connection: "close" };
    const upstream = httpRequest(url, { method: req.method ?? "GET", headers, agent: false }, (answer) => {
      const { connection: _closing, "keep-alive": _kept, ...answered } = answer.headers;
      res.writeHead(answer.statusCode ?? 502, answered);
      answer.pipe(res);
      answer.once("end", () => resolve());
      answer.once("error", reject);
    });
    upstream.once("error", (error: NodeJS.ErrnoException) => {
      if (error.code !== "ECONNRESET" || res.headersSent) return reject(error);
      req.socket.destroy();
      resolve();
    });
    res.once("close", () => upstream.destroy());
    upstream.end(body);
  });
}
