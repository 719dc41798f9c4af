import { issueToken, reposOfInstallation } from "./auth.js";
import { countedPage, HttpError, installationRoute, notFound, ok, page, type RequestContext, type Reply, type RouteTable } from "./http.js";
import { appJson, installationJson, repoJson, userJson } from "./shapes.js";
import type { EmulatorStore, InstallationState } from "./store.js";
import type { Role } from "./types.js";
import type { JsonObject } from "./util.js";

/** The App and its installations (tokens included), and what an installation sees of a repository: its metadata and who may do what. */
export function appRoutes(store: EmulatorStore): RouteTable {
  const installationOf = (id: number): InstallationState => {
    const installation = store.installations.get(id);
    if (installation === undefined) throw notFound();
    return installation;
  };
  return [
    ["GET /app", { auth: "app-jwt", handle: () => ok(appJson(store)) }],
    [
      "GET /app/installations",
      {
        auth: "app-jwt",
        handle: (ctx) =>
          page(
            store.hosts.api,
            ctx,
            [...store.installations.values()].map((installation) => installationJson(store, installation)),
          ),
      },
    ],
    [
      "GET /app/installations/{installation_id}",
      { auth: "app-jwt", handle: (ctx) => ok(installationJson(store, installationOf(Number(ctx.params.installation_id)))) },
    ],
    [
      "POST /app/installations/{installation_id}/access_tokens",
      { auth: "app-jwt", handle: (ctx) => createAccessToken(store, installationOf(Number(ctx.params.installation_id)), ctx) },
    ],
    ["GET /installation/repositories", { auth: "installation", handle: (ctx) => listInstallationRepos(store, ctx) }],
    ["GET /repos/{owner}/{repo}", installationRoute("metadata", "read", (ctx) => ok(repoJson(store, ctx.repo())))],
    ["GET /repos/{owner}/{repo}/installation", { auth: "app-jwt", handle: (ctx) => ok(installationJson(store, installationOf(ctx.repo().installationId))) }],
    ["GET /repos/{owner}/{repo}/collaborators/{username}/permission", installationRoute("metadata", "read", (ctx) => collaboratorPermission(store, ctx))],
  ];
}

function createAccessToken(store: EmulatorStore, installation: InstallationState, ctx: RequestContext): Reply {
  const { token, repositories } = issueToken(store, installation, ctx.body);
  const body: JsonObject = {
    token: token.token,
    expires_at: token.expiresAt,
    permissions: token.permissions,
    repository_selection: repositories === undefined ? installation.repositorySelection : "selected",
  };
  if (repositories !== undefined) body.repositories = repositories.map((repo) => repoJson(store, repo, "repository"));
  return { status: 201, body };
}

function listInstallationRepos(store: EmulatorStore, ctx: RequestContext): Reply {
  const token = ctx.token;
  if (token === undefined) throw new HttpError(401, "Bad credentials");
  const installation = store.installations.get(token.installationId);
  if (installation === undefined) throw notFound();
  const repos = reposOfInstallation(store, token.installationId).filter((repo) => token.repositories === undefined || token.repositories.includes(repo.name));
  return countedPage(
    store.hosts.api,
    ctx,
    "repositories",
    repos.map((repo) => repoJson(store, repo, "repository")),
    { repository_selection: installation.repositorySelection },
  );
}

/** The `permission` field GitHub reports for a role: maintain reads as write, triage as read. */
function legacyPermission(role: Role | undefined): "admin" | "write" | "read" | "none" {
  switch (role) {
    case "admin":
      return "admin";
    case "maintain":
    case "write":
      return "write";
    case "triage":
    case "read":
      return "read";
    case undefined:
      return "none";
  }
}

/** A user's role; on a public repository everyone can read, and a personal repository's owner is its admin. */
function collaboratorPermission(store: EmulatorStore, ctx: RequestContext): Reply {
  const repo = ctx.repo();
  const username = ctx.params.username ?? "";
  const user = store.users.get(username.toLowerCase());
  if (user === undefined) throw new HttpError(404, `${username} is not a user`);
  let role = repo.roles.get(user.login.toLowerCase());
  if (role === undefined && user === repo.owner && user.type === "User") role = "admin";
  let permission = legacyPermission(role);
  let roleName: string = role ?? "none";
  if (role === undefined && !repo.private) {
    permission = "read";
    roleName = "read";
  }
  const rank = ["none", "read", "triage", "write", "maintain", "admin"].indexOf(role ?? (repo.private ? "none" : "read"));
  const permissions = { pull: rank >= 1, triage: rank >= 2, push: rank >= 3, maintain: rank >= 4, admin: rank >= 5 };
  return ok({ permission, role_name: roleName, user: { ...userJson(store, user), permissions, role_name: roleName } });
}
