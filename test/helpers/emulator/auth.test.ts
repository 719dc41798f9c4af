import { Octokit } from "@octokit/rest";
import { loopbackFetch } from "./loopback-fetch.js";
import { describe, expect, it } from "vitest";
import { appJwt, appOctokit, failure, FULL, INSTALLATION, installationOctokit, OWNER, quiet, REPO, useEmulator } from "./test-kit.js";

const current = useEmulator();

describe("authentication and token scoping", () => {
  it("scopes tokens: other repositories, other installations, missing and app credentials", async () => {
    const emulator = current();
    emulator.addRepo({ owner: OWNER, name: "other", installationId: INSTALLATION });
    emulator.addInstallation(12, "elsewhere");
    emulator.addRepo({ owner: "elsewhere", name: "thing", installationId: 12 });

    const scoped = await installationOctokit(emulator, INSTALLATION, { repositories: [REPO], permissions: { issues: "read", metadata: "read" } });
    expect(emulator.tokens.at(-1)).toMatchObject({ installationId: INSTALLATION, repositories: [REPO], permissions: { issues: "read", metadata: "read" } });
    expect((await scoped.rest.repos.get({ owner: OWNER, repo: REPO })).data.full_name).toBe(FULL);
    expect((await failure(scoped.rest.repos.get({ owner: OWNER, repo: "other" }))).status).toBe(403);
    expect((await failure(scoped.rest.repos.get({ owner: "elsewhere", repo: "thing" }))).status).toBe(404);
    emulator.addIssue(FULL, { title: "Read only" });
    expect((await failure(scoped.rest.issues.createComment({ owner: OWNER, repo: REPO, issue_number: 1, body: "hi" }))).status).toBe(403);

    const anonymous = new Octokit({ baseUrl: emulator.apiUrl, request: { fetch: loopbackFetch }, log: quiet });
    expect((await failure(anonymous.rest.repos.get({ owner: OWNER, repo: REPO }))).status).toBe(401);
    const wrongApp = new Octokit({ baseUrl: emulator.apiUrl, auth: appJwt(emulator, 7), request: { fetch: loopbackFetch }, log: quiet });
    expect((await failure(wrongApp.rest.apps.getAuthenticated())).status).toBe(401);
    expect(
      (await failure(appOctokit(emulator).rest.apps.createInstallationAccessToken({ installation_id: INSTALLATION, repositories: ["thing"] }))).status,
    ).toBe(422);

    const app = await appOctokit(emulator).rest.apps.getAuthenticated();
    expect(app.data).toMatchObject({ id: 42, slug: "afk" });
    const installation = await appOctokit(emulator).rest.apps.getRepoInstallation({ owner: OWNER, repo: REPO });
    expect(installation.data.id).toBe(INSTALLATION);
    expect(emulator.requests.find((r) => r.operationId === "apps/get-authenticated" && r.status === 200)?.auth).toBe("app-jwt");
  });

  it("maps roles to GitHub's legacy permission names", async () => {
    const emulator = current();
    emulator.addUser("tria");
    emulator.addUser("maint");
    emulator.addUser("stranger");
    emulator.setPermission(FULL, "tria", "triage");
    emulator.setPermission(FULL, "maint", "maintain");
    const octokit = await installationOctokit(emulator);
    const level = async (username: string): Promise<{ permission: string; role_name: string }> => {
      const { data } = await octokit.rest.repos.getCollaboratorPermissionLevel({ owner: OWNER, repo: REPO, username });
      return { permission: data.permission, role_name: data.role_name };
    };
    expect(await level("tria")).toEqual({ permission: "read", role_name: "triage" });
    expect(await level("maint")).toEqual({ permission: "write", role_name: "maintain" });
    expect(await level("stranger")).toEqual({ permission: "read", role_name: "read" });
    const unknown = await failure(level("nobody-at-all"));
    expect(unknown.status).toBe(404);
    expect(unknown.message).toContain("nobody-at-all is not a user");

    emulator.addRepo({ owner: OWNER, name: "secret", installationId: INSTALLATION, private: true });
    const { data } = await octokit.rest.repos.getCollaboratorPermissionLevel({ owner: OWNER, repo: "secret", username: "stranger" });
    expect(data.permission).toBe("none");
  });
});
