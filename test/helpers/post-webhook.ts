import { createHmac } from "node:crypto";
import { request, type Agent } from "node:http";

/**
 * Sends one webhook to an App on loopback as GitHub does: signed with the secret
 * (`x-hub-signature-256`), with the event name and delivery id headers. Resolves with the time
 * until the App answered, in milliseconds; rejects when it answers anything but 2xx.
 */
export function postWebhook(input: { port: number; secret: string; name: string; id: string; payload: object; agent?: Agent | false }): Promise<number> {
  const body = JSON.stringify(input.payload);
  const signature = `sha256=${createHmac("sha256", input.secret).update(body).digest("hex")}`;
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port: input.port,
        method: "POST",
        path: "/api/github/webhooks",
        headers: { "content-type": "application/json", "x-github-event": input.name, "x-github-delivery": input.id, "x-hub-signature-256": signature },
        agent: input.agent ?? false,
      },
      (res) => {
        res.resume();
        res.on("end", () =>
          res.statusCode !== undefined && res.statusCode < 300
            ? resolve(performance.now() - started)
            : reject(new Error(`delivery ${input.id} answered ${res.statusCode}`)),
        );
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}
