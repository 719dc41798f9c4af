import { request as httpRequest } from "node:http";

/**
 * A `fetch` over `node:http`, for Octokit's `request.fetch` option when talking to the emulator.
 *
 * nock 15.0.0 breaks the global `fetch` for every request with a body that it lets through
 * (`enableNetConnect`): its interceptor treats the uncompressed body as empty (it checks
 * `.length` on an ArrayBuffer), rebuilds the request from the original one, and so marks the
 * original body as used; `@mswjs/interceptors` then fails with `TypeError: unusable` and Octokit
 * reports status 500. `node:http` requests pass through nock intact, so this goes that way.
 */
export async function loopbackFetch(input: string | URL | Request, init?: RequestInit): Promise<Response> {
  const first = new Request(input, init);
  let url = first.url;
  let method = first.method;
  let body = first.body === null ? undefined : Buffer.from(await first.arrayBuffer());
  const headers: Record<string, string> = {};
  first.headers.forEach((value, key) => {
    headers[key] = value;
  });
  // Follows redirects as `fetch` does (GitHub answers a job's logs with a 302 to the log's location).
  for (let hops = 0; ; hops++) {
    const response = await loopbackRequest(url, method, headers, body, first.signal);
    const location = response.headers.get("location");
    if (![301, 302, 303, 307, 308].includes(response.status) || location === null || first.redirect === "manual") return response;
    if (first.redirect === "error") throw new TypeError(`fetch failed: redirected to ${location}`);
    if (hops >= 20) throw new TypeError("fetch failed: redirect count exceeded");
    const next = new URL(location, url);
    if (next.protocol !== "http:") throw new TypeError(`fetch failed: loopbackFetch cannot follow a redirect to ${next.href}`);
    if (next.origin !== new URL(url).origin) delete headers.authorization;
    if (response.status === 303 ? method !== "HEAD" : (response.status === 301 || response.status === 302) && method === "POST") {
      method = "GET";
      body = undefined;
      for (const key of Object.keys(headers)) if (key.startsWith("content-")) delete headers[key];
    }
    url = next.href;
  }
}

function loopbackRequest(url: string, method: string, headers: Record<string, string>, body: Buffer | undefined, signal: AbortSignal): Promise<Response> {
  return new Promise<Response>((resolve, reject) => {
    const outgoing = httpRequest(url, { method, headers, signal }, (incoming) => {
      const chunks: Buffer[] = [];
      incoming.on("data", (chunk: Buffer) => chunks.push(chunk));
      incoming.on("error", reject);
      incoming.on("end", () => {
        const status = incoming.statusCode ?? 500;
        const responseHeaders = new Headers();
        for (const [key, value] of Object.entries(incoming.headers)) {
          for (const one of Array.isArray(value) ? value : value === undefined ? [] : [value]) responseHeaders.append(key, one);
        }
        const noBody = status === 204 || status === 304 || method === "HEAD";
        resolve(new Response(noBody ? null : Buffer.concat(chunks), { status, statusText: incoming.statusMessage ?? "", headers: responseHeaders }));
      });
    });
    outgoing.on("error", reject);
    outgoing.end(body);
  });
}
