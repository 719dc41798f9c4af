import { Octokit } from "@octokit/rest";
import { describe, expect, it } from "vitest";
import { createScopedToken } from "../../src/github/installation-token.js";
import { FULL_NAME, INSTALLATION_ID, OWNER, REPO, useScenario } from "../helpers/scenario.js";

const start = useScenario();

describe("GitHub Enterprise Server through GHE_HOST / GHE_PROTOCOL", () => {
  it("sends every call of a whole run, token requests included, to the configured host under /api/v3", async () => {
    const scenario = await start();
    const issue = scenario.issue();
    await scenario.label(issue, "wes-write");
    // nock refuses every host but loopback, so a call to api.github.com would have failed the run.
    expect(scenario.afkComments(issue)[0]).toContain("ANTHROPIC_API_KEY is not set");
    const paths = scenario.github.requests.map((request) => `${request.method} ${request.path}`);
    expect(paths).toContain(`POST /app/installations/${INSTALLATION_ID}/access_tokens`);
    expect(paths).toContain("GET /app");
    expect(paths).toContain(`GET /repos/${OWNER}/${REPO}/contents/.github/afk.yml`);
  });

  it("mints a token scoped to one repository and the asked permissions on that host (Probot's repositoryNames auth would not)", async () => {
    const scenario = await start();
    scenario.github.addRepo({ owner: OWNER, name: "other", installationId: INSTALLATION_ID, files: {} });
    const appOctokit = await scenario.afk.probot.auth();
    const scoped = await createScopedToken(appOctokit, INSTALLATION_ID, REPO, { contents: "write" });
    expect(scoped.token).toMatch(/^ghs_/);
    const issued = scenario.github.tokens.find((token) => token.token === scoped.token);
    expect(issued).toMatchObject({ installationId: INSTALLATION_ID, repositories: [REPO], permissions: { contents: "write", metadata: "read" } });
    const tokenRequest = scenario.github.requests.find(
      (request) => request.path === `/app/installations/${INSTALLATION_ID}/access_tokens` && request.auth === "app-jwt",
    );
    expect(tokenRequest?.body).toEqual({ repositories: [REPO], permissions: { contents: "write" } });

    // The token works on its repository and nowhere else.
    const client = new Octokit({ auth: scoped.token, baseUrl: scenario.github.apiUrl, log: { debug() {}, info() {}, warn() {}, error() {} } });
    expect((await client.rest.repos.get({ owner: OWNER, repo: REPO })).data.full_name).toBe(FULL_NAME);
    await expect(client.rest.repos.get({ owner: OWNER, repo: "other" })).rejects.toMatchObject({ status: 403 });
  });
});
