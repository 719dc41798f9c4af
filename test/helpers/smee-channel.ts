import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";

/**
 * A webhook proxy channel on loopback that speaks smee.io's protocol, so Probot's own smee client
 * (`WEBHOOK_PROXY_URL`) connects to it instead of smee.io:
 * - `GET <channel>` with `accept: text/event-stream` subscribes (Server-Sent Events; a `ready`
 *   event first, as smee.io sends);
 * - `POST <channel>` is a delivery (what GitHub sends to the hook URL): it is passed to every
 *   subscriber as one `message` event whose data is the JSON object smee-client reads: the
 *   request's headers as fields, `body` (the parsed JSON), `query` and `timestamp`.
 * Only the headers a webhook receiver reads are passed on (`x-github-*`, `x-hub-signature*`,
 * `user-agent`): hop-by-hop headers would make smee-client's fetch fail.
 */
export class SmeeChannel {
  /** Deliveries posted to the channel, in order. */
  readonly deliveries: Array<{ event: string | undefined; subscribers: number }> = [];
  /** How many subscriptions were ever opened (a restarted App opens a new one). */
  subscriptionsOpened = 0;
  readonly #server: Server;
  readonly #path = `/${randomBytes(8).toString("base64url")}`;
  readonly #subscribers = new Set<ServerResponse>();
  #port = 0;

  private constructor() {
    this.#server = createServer((req, res) => {
      this.#serve(req, res).catch(() => {
        if (!res.headersSent) res.writeHead(500);
        res.end();
      });
    });
  }

  static async start(): Promise<SmeeChannel> {
    const channel = new SmeeChannel();
    await new Promise<void>((resolve, reject) => {
      channel.#server.once("error", reject);
      channel.#server.listen(0, "127.0.0.1", () => resolve());
    });
    const address = channel.#server.address();
    if (address === null || typeof address === "string") throw new Error("the smee channel did not get a TCP port");
    channel.#port = address.port;
    return channel;
  }

  /** The channel's URL: what `WEBHOOK_PROXY_URL` holds and what the App is registered with as its hook URL. */
  get url(): string {
    return `http://127.0.0.1:${this.#port}${this.#path}`;
  }

  /** Subscribers connected right now. */
  get subscribers(): number {
    return this.#subscribers.size;
  }

  async close(): Promise<void> {
    for (const subscriber of this.#subscribers) subscriber.end();
    await new Promise<void>((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
  }

  async #serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? "/", "http://channel.invalid").pathname;
    if (path !== this.#path) {
      res.writeHead(404, { "content-type": "text/plain" }).end("no such channel");
      return;
    }
    if (req.method === "GET" && (req.headers.accept ?? "").includes("text/event-stream")) {
      res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive" });
      res.write(`event: ready\ndata: {}\n\n`);
      this.#subscribers.add(res);
      this.subscriptionsOpened++;
      req.on("close", () => this.#subscribers.delete(res));
      return;
    }
    if (req.method === "POST") {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
      const message: Record<string, unknown> = {};
      for (const [key, value] of Object.entries(req.headers)) {
        if (typeof value === "string" && (key.startsWith("x-github-") || key.startsWith("x-hub-signature") || key === "user-agent")) message[key] = value;
      }
      message.body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
      message.query = {};
      message.timestamp = Date.now();
      const data = JSON.stringify(message);
      for (const subscriber of this.#subscribers) subscriber.write(`id: ${String(message.timestamp)}\ndata: ${data}\n\n`);
      const event = req.headers["x-github-event"];
      this.deliveries.push({ event: typeof event === "string" ? event : undefined, subscribers: this.#subscribers.size });
      res.writeHead(200, { "content-type": "text/plain" }).end("ok");
      return;
    }
    res.writeHead(405, { "content-type": "text/plain" }).end("method not allowed");
  }
}
