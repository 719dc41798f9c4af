import type { RepoState } from "./store.js";
import type { IssuedToken, PermissionLevel } from "./types.js";
import { positiveInt, type JsonObject } from "./util.js";

/** What a route sees of a request, and what it answers: the vocabulary between server.ts and the route modules. */

export interface RequestContext {
  params: Record<string, string>;
  query: Record<string, string>;
  body: unknown;
  accept: string;
  /** Raw request path below `/api/v3`, for pagination links. */
  rawPath: string;
  token: IssuedToken | undefined;
  /** The repository of a `/repos/{owner}/{repo}/…` route, already authorised. */
  repo: () => RepoState;
}

export interface Reply {
  status: number;
  body?: unknown;
  /** Sent as `text/plain` instead of JSON. */
  text?: string;
  /** Sent as `text/html` (the web pages, never an API answer). */
  html?: string;
  headers?: Record<string, string>;
}

export interface Route {
  /** `none`: GitHub asks for no credentials (the manifest conversion, where the code is the credential). */
  auth: "app-jwt" | "installation" | "none";
  /** The installation permission the endpoint needs, as GitHub enforces it for integrations. */
  permission?: readonly [string, PermissionLevel];
  handle: (ctx: RequestContext) => Reply;
}

/** `METHOD /openapi/template` → route; each area of the API contributes its own. */
export type RouteTable = Array<[string, Route]>;

/** Shorthand for an installation route needing `permission` at `level`. */
export function installationRoute(permission: string, level: PermissionLevel, handle: Route["handle"]): Route {
  return { auth: "installation", permission: [permission, level], handle };
}

/** An answer GitHub gives instead of the resource: a route throws it, the server sends it. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly extra: JsonObject = {},
  ) {
    super(message);
  }
}

export function notFound(): HttpError {
  return new HttpError(404, "Not Found");
}

export function ok(body: unknown, headers?: Record<string, string>): Reply {
  return headers === undefined ? { status: 200, body } : { status: 200, body, headers };
}

/** A created resource: 201 with its `Location`. */
export function created(body: unknown, location?: string): Reply {
  return location === undefined ? { status: 201, body } : { status: 201, body, headers: { location } };
}

export function pageParams(query: Record<string, string>): { perPage: number; page: number } {
  const perPage = Math.min(100, Math.max(1, positiveInt(query.per_page) ?? 30));
  const page = Math.max(1, positiveInt(query.page) ?? 1);
  return { perPage, page };
}

/** The items of the requested page. */
export function pageOf<T>(query: Record<string, string>, items: T[]): T[] {
  const { perPage, page } = pageParams(query);
  return items.slice((page - 1) * perPage, page * perPage);
}

/** GitHub's `Link` header for a list of `total` items under `apiUrl`. */
export function linkHeader(apiUrl: string, ctx: Pick<RequestContext, "query" | "rawPath">, total: number): Record<string, string> {
  const { perPage, page } = pageParams(ctx.query);
  const last = Math.max(1, Math.ceil(total / perPage));
  const link = (target: number, rel: string): string => {
    const params = new URLSearchParams({ ...ctx.query, page: String(target) });
    return `<${apiUrl}${ctx.rawPath}?${params.toString()}>; rel="${rel}"`;
  };
  const links: string[] = [];
  if (page > 1) links.push(link(Math.min(page - 1, last), "prev"));
  if (page < last) links.push(link(page + 1, "next"), link(last, "last"));
  if (page > 1) links.push(link(1, "first"));
  return links.length === 0 ? {} : { link: links.join(", ") };
}

/** A list answer: the page `per_page`/`page` ask for, with GitHub's `Link` header. */
export function page(apiUrl: string, ctx: RequestContext, items: unknown[]): Reply {
  return { status: 200, body: pageOf(ctx.query, items), headers: linkHeader(apiUrl, ctx, items.length) };
}

/** A list wrapped in an object with `total_count` (check runs, suites, installation repositories). */
export function countedPage(apiUrl: string, ctx: RequestContext, key: string, items: unknown[], extra: JsonObject = {}): Reply {
  return { status: 200, body: { total_count: items.length, ...extra, [key]: pageOf(ctx.query, items) }, headers: linkHeader(apiUrl, ctx, items.length) };
}
