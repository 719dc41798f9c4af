import { createHmac, generateKeyPairSync, randomBytes, randomUUID } from "node:crypto";
import { HttpError, notFound, type Reply, type RequestContext, type RouteTable } from "./http.js";
import { loopbackFetch } from "./loopback-fetch.js";
import { appJson } from "./shapes.js";
import type { EmulatorStore } from "./store.js";
import type { HookDelivery, ManifestFormPost, RecordedRequest, RegisteredApp } from "./types.js";
import { decodeSegment, escapeHtml, isObject, parseJsonObject } from "./util.js";

/**
 * Registering an App from a manifest, and delivering to the registered App's hook, as GitHub does.
 * https://docs.github.com/apps/sharing-github-apps/registering-a-github-app-from-a-manifest
 * 1. A browser posts the form field `manifest` (JSON) to `/settings/apps/new` or
 *    `/organizations/<org>/settings/apps/new`. GitHub shows the App's name for the person to
 *    confirm; here that confirmation is taken as given.
 * 2. GitHub redirects to the manifest's `redirect_url` with `?code=` (and `&state=`).
 * 3. The App converts the code with `POST /app-manifests/{code}/conversions` (an API route).
 * The two web pages are not API routes and have no OpenAPI description: the manifest is checked
 * against GitHub's documented parameters instead (`manifestProblems`).
 */

/** The web form a manifest is posted to: for a personal account, or (group 1) for an organisation. */
const MANIFEST_FORM_PATH = /^(?:\/organizations\/([^/]+))?\/settings\/apps\/new$/;
/** The page GitHub sends a person to after registering an App: `html_url` + `/installations/new`. */
const INSTALL_PAGE_PATH = /^\/apps\/([^/]+)\/installations\/new$/;
/** How long a manifest code can be converted (GitHub: "within one hour"). */
const MANIFEST_CODE_TTL_MS = 60 * 60 * 1000;

/** What the manifest flow has seen and made so far. */
export class ManifestFlow {
  /** Every manifest a browser posted to the registration form, in order. */
  readonly forms: ManifestFormPost[] = [];
  /** The App registered through the flow, once its code was converted. */
  registered: RegisteredApp | undefined;
  /** Deliveries sent to the registered App's hook URL. */
  readonly hookDeliveries: HookDelivery[] = [];
  /** Codes handed out on the redirect and not yet converted (each converts once). */
  readonly codes = new Map<string, { manifest: Record<string, unknown>; expiresAt: number }>();
}

/**
 * Why GitHub would refuse a posted manifest, after its documented parameters: JSON; `url` (the
 * homepage) required; `hook_attributes.url` required when `hook_attributes` is given; permissions
 * `read` or `write`; events and callback URLs lists of strings. Unknown keys are ignored, as
 * Probot's `version` is. Empty when the manifest is acceptable.
 */
export function manifestProblems(raw: string): string[] {
  let manifest: unknown;
  try {
    manifest = JSON.parse(raw);
  } catch (error) {
    return [`not valid JSON (${error instanceof Error ? error.message : String(error)}): ${raw.slice(0, 120)}`];
  }
  if (!isObject(manifest)) return ["not a JSON object"];
  const problems: string[] = [];
  const isUrl = (value: unknown): boolean => typeof value === "string" && URL.canParse(value) && /^https?:$/.test(new URL(value).protocol);
  if (!isUrl(manifest.url)) problems.push("url (the homepage) must be an http(s) URL");
  for (const key of ["redirect_url", "setup_url"]) if (manifest[key] !== undefined && !isUrl(manifest[key])) problems.push(`${key} must be an http(s) URL`);
  if (manifest.name !== undefined && (typeof manifest.name !== "string" || manifest.name.length === 0 || manifest.name.length > 34))
    problems.push("name must be 1 to 34 characters");
  if (manifest.description !== undefined && typeof manifest.description !== "string") problems.push("description must be a string");
  if (manifest.public !== undefined && typeof manifest.public !== "boolean") problems.push("public must be a boolean");
  const hook = manifest.hook_attributes;
  if (hook !== undefined && !(isObject(hook) && isUrl(hook.url) && (hook.active === undefined || typeof hook.active === "boolean"))) {
    problems.push("hook_attributes.url must be an http(s) URL (and active a boolean)");
  }
  const permissions = manifest.default_permissions;
  if (permissions !== undefined && !(isObject(permissions) && Object.values(permissions).every((level) => level === "read" || level === "write"))) {
    problems.push("default_permissions must map each permission to read or write");
  }
  for (const key of ["default_events", "callback_urls"]) {
    const list = manifest[key];
    if (list !== undefined && !(Array.isArray(list) && list.every((item) => typeof item === "string"))) problems.push(`${key} must be a list of strings`);
  }
  return problems;
}

/** Answers the manifest flow's web pages; `undefined` for anything else (the API and the rest go on). */
export function serveWebPage(
  flow: ManifestFlow,
  log: { requests: RecordedRequest[]; violations: string[] },
  request: { method: string; url: URL; body: string },
): Reply | undefined {
  const { method, url } = request;
  const form = MANIFEST_FORM_PATH.exec(url.pathname);
  if (form !== null && method === "POST") return receiveManifestForm(flow, log, url, form[1], request.body);
  const install = INSTALL_PAGE_PATH.exec(url.pathname);
  if (install !== null && method === "GET") {
    log.requests.push({ method, path: url.pathname, query: {}, body: undefined, status: 200, auth: "none" });
    const name = escapeHtml(decodeSegment(install[1] ?? ""));
    return { status: 200, html: `<!DOCTYPE html><html><head><title>Install ${name}</title></head><body><h1>Install ${name}</h1></body></html>` };
  }
  // Browsers ask every site for its icon; none is served, and that is not the code under test.
  if (url.pathname === "/favicon.ico" && method === "GET") return { status: 404, text: "Not Found" };
  return undefined;
}

function receiveManifestForm(
  flow: ManifestFlow,
  log: { requests: RecordedRequest[]; violations: string[] },
  url: URL,
  organization: string | undefined,
  body: string,
): Reply {
  const raw = new URLSearchParams(body).get("manifest") ?? "";
  const state = url.searchParams.get("state") ?? undefined;
  flow.forms.push({ path: url.pathname, organization: organization === undefined ? undefined : decodeSegment(organization), manifest: raw, state });
  const record: RecordedRequest = { method: "POST", path: url.pathname, query: Object.fromEntries(url.searchParams), body: raw, status: 0, auth: "none" };
  log.requests.push(record);
  const parsed = parseJsonObject(raw);
  const problems = manifestProblems(raw);
  // GitHub sends the person back to `redirect_url` with the code; without one the flow ends at GitHub.
  if (parsed !== undefined && parsed.redirect_url === undefined) problems.push("redirect_url is missing: GitHub would not send the code back to the App");
  if (problems.length > 0 || parsed === undefined) {
    // GitHub shows the person an error page; a test sees it as a violation.
    log.violations.push(`POST ${url.pathname}: the manifest was refused: ${problems.join("; ")}`);
    record.status = 422;
    const items = problems.map((p) => `<li>${escapeHtml(p)}</li>`).join("");
    return { status: 422, html: `<!DOCTYPE html><html><body><h1>Invalid GitHub App configuration</h1><ul>${items}</ul></body></html>` };
  }
  const code = randomBytes(10).toString("hex");
  flow.codes.set(code, { manifest: parsed, expiresAt: Date.now() + MANIFEST_CODE_TTL_MS });
  const redirect = new URL(String(parsed.redirect_url));
  redirect.searchParams.set("code", code);
  if (state !== undefined) redirect.searchParams.set("state", state);
  record.status = 302;
  return { status: 302, headers: { location: redirect.href } };
}

/** `POST /app-manifests/{code}/conversions`: the App's credentials, once per code. */
export function manifestRoutes(store: EmulatorStore, flow: ManifestFlow): RouteTable {
  return [["POST /app-manifests/{code}/conversions", { auth: "none", handle: (ctx) => convertManifest(store, flow, ctx) }]];
}

function convertManifest(store: EmulatorStore, flow: ManifestFlow, ctx: RequestContext): Reply {
  const code = ctx.params.code ?? "";
  const pending = flow.codes.get(code);
  flow.codes.delete(code);
  if (pending === undefined || pending.expiresAt < Date.now()) throw notFound();
  const { manifest } = pending;
  const name = String(manifest.name);
  const slug = name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-|-$/g, "");
  if (slug !== store.appSlug) {
    throw new HttpError(422, `GitHub emulator: the App registered is "${slug}", but this emulator plays "${store.appSlug}" (start it with appSlug)`);
  }
  const permissions = manifest.default_permissions;
  if (isObject(permissions)) {
    store.appPermissions = Object.fromEntries(
      Object.entries(permissions).flatMap(([key, level]) => (level === "read" || level === "write" ? [[key, level]] : [])),
    );
  }
  const events = manifest.default_events;
  if (Array.isArray(events)) store.appEvents = events.filter((event): event is string => typeof event === "string");
  const hook = manifest.hook_attributes;
  const app = appJson(store);
  flow.registered = {
    manifest,
    hookUrl: isObject(hook) && hook.active !== false && typeof hook.url === "string" ? hook.url : undefined,
    webhookSecret: randomBytes(20).toString("hex"),
    pem: generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ type: "pkcs1", format: "pem" }).toString(),
    clientId: app.client_id,
    clientSecret: randomBytes(20).toString("hex"),
  };
  const { clientSecret, webhookSecret, pem } = flow.registered;
  const description = typeof manifest.description === "string" ? manifest.description : null;
  return {
    status: 201,
    body: { ...app, name, description, external_url: String(manifest.url), client_secret: clientSecret, webhook_secret: webhookSecret, pem },
  };
}

/**
 * Delivers `event` to the registered App's hook URL as GitHub's hook service does: a JSON POST
 * signed with the webhook secret GitHub issued at registration (`x-hub-signature-256`).
 */
export async function deliverToHook(store: EmulatorStore, flow: ManifestFlow, event: string, payload: object): Promise<HookDelivery> {
  const app = flow.registered;
  if (app?.hookUrl === undefined) throw new Error("no App with a webhook was registered through the manifest flow");
  const id = randomUUID();
  const body = JSON.stringify(payload);
  const response = await loopbackFetch(app.hookUrl, {
    method: "POST",
    body,
    headers: {
      "content-type": "application/json",
      "user-agent": "GitHub-Hookshot/emulator",
      "x-github-event": event,
      "x-github-delivery": id,
      "x-github-hook-id": "1",
      "x-github-hook-installation-target-id": String(store.appId),
      "x-github-hook-installation-target-type": "integration",
      "x-hub-signature-256": `sha256=${createHmac("sha256", app.webhookSecret).update(body).digest("hex")}`,
    },
    signal: AbortSignal.timeout(10_000),
  });
  await response.arrayBuffer();
  const delivery = { id, event, status: response.status };
  flow.hookDeliveries.push(delivery);
  return delivery;
}
