import { randomBytes } from "node:crypto";
import { HttpError, notFound, type RequestContext, type Route } from "./http.js";
import type { EmulatorStore, InstallationState, RepoState } from "./store.js";
import type { IssuedToken, PermissionLevel } from "./types.js";
import { field, isObject, timestamp } from "./util.js";

/**
 * Who a request is, and what it may touch, as GitHub decides it: an App JWT (its `iss` must be the
 * App's id; the signature is not checked), or an installation token the emulator issued, limited
 * to its installation's repositories (or those it names) and to the permissions it was granted.
 */

export type Authentication = { kind: "none"; problem: string } | { kind: "app-jwt" } | { kind: "installation"; token: IssuedToken };

function decodeJwtPart(part: string): unknown {
  try {
    return JSON.parse(Buffer.from(part, "base64url").toString("utf8"));
  } catch {
    return undefined;
  }
}

/** Reads the `Authorization` header. */
export function identify(store: EmulatorStore, header: string | undefined): Authentication {
  if (header === undefined) return { kind: "none", problem: "Requires authentication" };
  const credential = /^(token|bearer)\s+(\S+)$/i.exec(header.trim())?.[2];
  if (credential === undefined) return { kind: "none", problem: "Bad credentials" };
  const parts = credential.split(".");
  if (parts.length === 3) {
    const payload = decodeJwtPart(parts[1] ?? "");
    if (!isObject(decodeJwtPart(parts[0] ?? "")) || !isObject(payload)) return { kind: "none", problem: "A JSON web token could not be decoded" };
    if (String(payload.iss) !== String(store.appId)) {
      return { kind: "none", problem: `'Issuer' claim ('iss') must be an Integer and match the App's id ${store.appId}` };
    }
    if (typeof payload.exp === "number" && payload.exp * 1000 < Date.now()) {
      return { kind: "none", problem: "'Expiration time' claim ('exp') is too far in the past" };
    }
    return { kind: "app-jwt" };
  }
  const token = store.tokensByValue.get(credential);
  if (token === undefined || Date.parse(token.expiresAt) < Date.now()) return { kind: "none", problem: "Bad credentials" };
  return { kind: "installation", token };
}

/** Whether a token names the repository (a token that names none reaches every repository of its installation). */
export function tokenSelects(token: IssuedToken, repo: RepoState): boolean {
  return token.repositories === undefined || token.repositories.some((name) => name.toLowerCase() === repo.name.toLowerCase());
}

function grants(token: IssuedToken, permission: string, level: PermissionLevel): boolean {
  const granted = token.permissions[permission];
  return granted !== undefined && (level === "read" || granted === "write");
}

/**
 * Checks a request's credentials against what the route needs and resolves its repository. A token
 * never learns about repositories outside its installation (GitHub answers 404, not 401/403); one
 * outside its selection or without the permission gets 403.
 */
export function authorize(store: EmulatorStore, route: Route, auth: Authentication, base: Omit<RequestContext, "token" | "repo">): RequestContext {
  if (route.auth === "app-jwt" && auth.kind !== "app-jwt")
    throw new HttpError(401, auth.kind === "none" ? auth.problem : "A JSON web token could not be decoded");
  if (route.auth === "installation" && auth.kind !== "installation") throw new HttpError(401, auth.kind === "none" ? auth.problem : "Bad credentials");
  const token = auth.kind === "installation" ? auth.token : undefined;
  let repo: RepoState | undefined;
  const { owner, repo: name } = base.params;
  if (owner !== undefined && name !== undefined) {
    repo = store.repos.get(`${owner}/${name}`.toLowerCase());
    if (repo === undefined || (token !== undefined && token.installationId !== repo.installationId)) throw notFound();
    if (token !== undefined && !tokenSelects(token, repo)) throw new HttpError(403, "Resource not accessible by integration");
  }
  if (token !== undefined && route.permission !== undefined && !grants(token, ...route.permission)) {
    throw new HttpError(403, "Resource not accessible by integration");
  }
  const resolved = repo;
  return {
    ...base,
    token,
    repo: () => {
      if (resolved === undefined) throw notFound();
      return resolved;
    },
  };
}

export function reposOfInstallation(store: EmulatorStore, id: number): RepoState[] {
  return [...store.repos.values()].filter((repo) => repo.installationId === id);
}

function inaccessibleRepositories(): HttpError {
  return new HttpError(422, "There is at least one repository that does not exist or is not accessible to the parent installation.");
}

/**
 * `POST /app/installations/{id}/access_tokens`: a token for an hour, narrowed to the repositories
 * (by name or id) and permissions the body asks for, never wider than the installation's.
 */
export function issueToken(
  store: EmulatorStore,
  installation: InstallationState,
  body: unknown,
): { token: IssuedToken; repositories: RepoState[] | undefined } {
  const repos = reposOfInstallation(store, installation.id);
  let selected: RepoState[] | undefined;
  const names = field(body, "repositories");
  const ids = field(body, "repository_ids");
  if (Array.isArray(names) || Array.isArray(ids)) {
    selected = [];
    for (const name of Array.isArray(names) ? names : []) {
      const repo = repos.find((r) => typeof name === "string" && r.name.toLowerCase() === name.toLowerCase());
      if (repo === undefined) throw inaccessibleRepositories();
      selected.push(repo);
    }
    for (const id of Array.isArray(ids) ? ids : []) {
      const repo = repos.find((r) => r.id === id);
      if (repo === undefined) throw inaccessibleRepositories();
      if (!selected.includes(repo)) selected.push(repo);
    }
  }
  let permissions = { ...installation.permissions };
  const requested = field(body, "permissions");
  if (isObject(requested)) {
    // GitHub always grants metadata:read, whatever a token asks for.
    permissions = { metadata: "read" };
    for (const [name, level] of Object.entries(requested)) {
      const granted = installation.permissions[name];
      if ((level !== "read" && level !== "write") || granted === undefined || (level === "write" && granted !== "write")) {
        throw new HttpError(422, "The permissions requested are not granted to this installation.");
      }
      permissions[name] = level;
    }
  }
  const token: IssuedToken = {
    token: `ghs_${randomBytes(18).toString("hex").slice(0, 36)}`,
    installationId: installation.id,
    repositories: selected?.map((repo) => repo.name),
    permissions,
    expiresAt: timestamp(new Date(Date.now() + 3600_000)),
  };
  store.tokens.push(token);
  store.tokensByValue.set(token.token, token);
  return { token, repositories: selected };
}

/**
 * Whether an installation token may read (`upload-pack`) or push to (`receive-pack`) a repository
 * over git, as GitHub decides it: a live token, selected for that repository if it names any, with
 * contents read or write.
 */
export function gitAccessAllowed(store: EmulatorStore, fullName: string, token: string | undefined, service: "upload-pack" | "receive-pack"): boolean {
  const issued = token === undefined ? undefined : store.tokensByValue.get(token);
  if (issued === undefined || Date.parse(issued.expiresAt) <= Date.now()) return false;
  const repo = store.repos.get(fullName.toLowerCase());
  if (repo === undefined || repo.installationId !== issued.installationId || !tokenSelects(issued, repo)) return false;
  return grants(issued, "contents", service === "upload-pack" ? "read" : "write");
}
