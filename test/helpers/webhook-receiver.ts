import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { SlackMessage } from "../../src/notify/notification.js";

/** One request as the receiver saw it. */
export interface Received {
  at: number;
  path: string;
  contentType: string | undefined;
  body: string;
}

export type Answer = (request: Received, res: ServerResponse) => void;

/** `200 ok`, as Slack answers a message it took. */
export const answerOk: Answer = (_request, res) => res.writeHead(200, { "content-type": "text/plain" }).end("ok");

/** An answer with this status (and headers), with a body like Slack's errors. */
export const answerStatus =
  (code: number, headers: Record<string, string> = {}): Answer =>
  (_request, res) =>
    res.writeHead(code, { "content-type": "text/plain", ...headers }).end(code >= 500 ? "internal_error" : "invalid_payload");

/** Never answers: the connection stays open until the receiver stops. */
export const answerHang: Answer = () => undefined;

/** A Slack-like incoming webhook on 127.0.0.1 that records every request and answers as scripted. */
export class WebhookReceiver {
  readonly received: Received[] = [];
  readonly #server: Server;
  readonly #answers: Answer[] = [];

  constructor() {
    this.#server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on("data", (chunk: Buffer) => chunks.push(chunk));
      req.on("end", () => {
        const request = { at: Date.now(), path: req.url ?? "", contentType: req.headers["content-type"], body: Buffer.concat(chunks).toString("utf8") };
        this.received.push(request);
        const answer = this.#answers.shift() ?? answerOk;
        answer(request, res);
      });
    });
  }

  /** Scripts the next answers, in order; after them every request gets `200 ok`. */
  answer(...answers: Answer[]): void {
    this.#answers.push(...answers);
  }

  /** Listens on a free loopback port; returns the address to configure, with a secret-looking path. */
  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.#server.listen(0, "127.0.0.1", resolve));
    const { port } = this.#server.address() as AddressInfo;
    return `http://127.0.0.1:${port}/services/T000/B000/secret-token`;
  }

  async stop(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  /** The bodies received, parsed. */
  messages(): SlackMessage[] {
    return this.received.map((request) => JSON.parse(request.body) as SlackMessage);
  }
}
