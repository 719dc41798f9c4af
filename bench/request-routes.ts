// Where afk's GitHub requests go: each request the emulator recorded, named by its route (method and
// the OpenAPI path template, or the GraphQL operation), counted per route. Used by bench/requests.ts
// and bench/load.ts. Pure apart from the OpenAPI description the validator reads once.
import type { RecordedRequest } from "../test/helpers/emulator/index.js";
import { validateRequest } from "../test/helpers/openapi-validator.js";

/** One route's share of a request log. */
export interface RouteCount {
  /** `GET /repos/{owner}/{repo}/issues/{issue_number}/comments`, or `POST /graphql markPullRequestReadyForReview`. */
  route: string;
  count: number;
  /** Of `count`, the answers that were 304 Not Modified (they do not count against GitHub's rate limit). */
  notModified: number;
}

const routes = new Map<string, string>();

/** The request's route: the method and the path template it matched in GitHub's description (the raw path if none did). */
export function routeOf(request: Pick<RecordedRequest, "method" | "path" | "query" | "body">): string {
  if (request.path === "/graphql") return `${request.method} /graphql ${graphqlOperationOf(request.body) ?? "(no operation)"}`;
  const key = `${request.method} ${request.path}`;
  const known = routes.get(key);
  if (known !== undefined) return known;
  const route = templateOf(request);
  routes.set(key, route);
  return route;
}

function templateOf(request: Pick<RecordedRequest, "method" | "path" | "query" | "body">): string {
  // The recorded path has its segments decoded; the validator wants them as they were sent.
  const path = request.path.split("/").map(encodeURIComponent).join("/");
  const matched = validateRequest({ method: request.method, path, query: request.query, body: request.body });
  if (matched.ok) return `${request.method} ${matched.template}`;
  const template = /\(([^,()]+), (\/[^)]+)\)/.exec(matched.error)?.[2];
  return `${request.method} ${template ?? request.path}`;
}

/** The first field a GraphQL document selects at its top level (the mutation or query it runs). */
export function graphqlOperationOf(body: unknown): string | undefined {
  if (typeof body !== "object" || body === null || !("query" in body) || typeof body.query !== "string") return undefined;
  const document = body.query.replace(/#[^\n]*/g, "");
  const open = document.indexOf("{");
  if (open < 0) return undefined;
  return /^\s*(?:\w+\s*:\s*)?(\w+)/.exec(document.slice(open + 1))?.[1];
}

/** Counts the requests per route, most first (ties by route name). */
export function countByRoute(requests: readonly Pick<RecordedRequest, "method" | "path" | "query" | "body" | "status">[]): RouteCount[] {
  const counts = new Map<string, RouteCount>();
  for (const request of requests) {
    const route = routeOf(request);
    const entry = counts.get(route) ?? { route, count: 0, notModified: 0 };
    entry.count += 1;
    if (request.status === 304) entry.notModified += 1;
    counts.set(route, entry);
  }
  return [...counts.values()].sort((a, b) => b.count - a.count || a.route.localeCompare(b.route));
}

/** The requests that count against a rate limit: every answer but 304 Not Modified. */
export function rateLimited(requests: readonly Pick<RecordedRequest, "status">[]): number {
  return requests.filter((request) => request.status !== 304).length;
}

/**
 * The requests the installation's REST budget pays for (5,000 an hour on github.com): not 304s, not
 * the App's own (JWT-signed: its bot login, an installation's permissions, tokens), and not GraphQL
 * (a budget of its own, in points).
 */
export function installationRest(requests: readonly Pick<RecordedRequest, "status" | "auth" | "path">[]): number {
  return requests.filter((request) => request.status !== 304 && request.auth === "installation" && request.path !== "/graphql").length;
}

/** The breakdown as printed lines: count, 304s when there were any, route; `limit` routes at most, the rest summed. */
export function breakdownLines(routes: readonly RouteCount[], limit = Number.POSITIVE_INFINITY, per = 1): string[] {
  const shown = routes.slice(0, limit);
  const figure = (count: number): string => (per === 1 ? String(count) : (count / per).toFixed(2));
  const lines = shown.map(
    ({ route, count, notModified }) => `  ${figure(count).padStart(7)}  ${route}${notModified > 0 ? `  (${figure(notModified)} of them 304)` : ""}`,
  );
  const rest = routes.slice(limit);
  if (rest.length > 0) lines.push(`  ${figure(rest.reduce((sum, entry) => sum + entry.count, 0)).padStart(7)}  (${rest.length} other routes)`);
  return lines;
}
