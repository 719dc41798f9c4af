import type { IncomingMessage, ServerResponse } from "node:http";
import type { AfkMetrics } from "./metrics.js";
import type { ReadinessReport } from "./readiness.js";

/** The paths afk serves on Probot's HTTP server besides the webhook path. */
export const OBSERVABILITY_PATHS = { health: "/healthz", ready: "/readyz", metrics: "/metrics" } as const;

/**
 * A handler for Probot's server (`addHandler`): `GET /healthz` answers 200 `ok` while the process
 * serves HTTP; `GET /readyz` 200 with each check's result, or 503 naming the failing checks;
 * `GET /metrics` the Prometheus text format. Any other request is left to the next handler
 * (returns false).
 */
export function observabilityHandler(deps: { metrics: AfkMetrics; readiness: () => Promise<ReadinessReport> }) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<boolean> => {
    const path = (req.url ?? "").split("?")[0];
    if (path !== OBSERVABILITY_PATHS.health && path !== OBSERVABILITY_PATHS.ready && path !== OBSERVABILITY_PATHS.metrics) return false;
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD", "content-type": "text/plain; charset=utf-8" }).end("method not allowed\n");
      return true;
    }
    const noStore = { "cache-control": "no-store" };
    switch (path) {
      case OBSERVABILITY_PATHS.health:
        res.writeHead(200, { "content-type": "text/plain; charset=utf-8", ...noStore }).end("ok\n");
        return true;
      case OBSERVABILITY_PATHS.ready: {
        const report = await deps.readiness();
        res.writeHead(report.ready ? 200 : 503, { "content-type": "application/json; charset=utf-8", ...noStore }).end(`${JSON.stringify(report)}\n`);
        return true;
      }
      default:
        res.writeHead(200, { "content-type": deps.metrics.contentType, ...noStore }).end(await deps.metrics.text());
        return true;
    }
  };
}
