import { graphql, GraphqlResponseError } from "@octokit/graphql";
import { ProbotOctokit } from "probot";
import { describe, expect, it } from "vitest";
import { markReadyForReview } from "../../../src/github/pull-request.js";
import type { GitHubEmulator } from "./emulator.js";
import { loopbackFetch } from "./loopback-fetch.js";
import { draftPullWithoutGit, FULL, INSTALLATION, installationOctokit, installationToken, OWNER, quiet, REPO, statusOf, useEmulator } from "./test-kit.js";

const current = useEmulator();

type GraphqlClient = typeof graphql;

async function graphqlClient(emulator: GitHubEmulator, scope: { permissions?: Record<string, "read" | "write"> } = {}): Promise<GraphqlClient> {
  const token = await installationToken(emulator, INSTALLATION, scope);
  return graphql.defaults({ baseUrl: emulator.apiUrl, headers: { authorization: `token ${token}` }, request: { fetch: loopbackFetch } });
}

/** The `errors` of a GraphQL answer expected to carry some. */
async function graphqlErrors(promise: Promise<unknown>): Promise<Array<{ type?: string; message: string; extensions?: Record<string, unknown> }>> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof GraphqlResponseError) return error.errors ?? [];
    throw error;
  }
  throw new Error("expected GraphQL errors");
}

const READY = "mutation($id: ID!) { markPullRequestReadyForReview(input: { pullRequestId: $id }) { pullRequest { isDraft } } }";

describe("GraphQL at /api/graphql (graphql-js over the emulator's schema)", () => {
  it("flips a pull request's draft state, as on GitHub Enterprise Server, and records each request", async () => {
    const emulator = current();
    const octokit = await installationOctokit(emulator);
    const pull = await draftPullWithoutGit(emulator, octokit);
    const token = await installationToken(emulator);
    const client = graphql.defaults({ baseUrl: emulator.apiUrl, headers: { authorization: `token ${token}` }, request: { fetch: loopbackFetch } });

    const ready = await client<{ markPullRequestReadyForReview: { pullRequest: { number: number; isDraft: boolean } } }>(
      `mutation Ready($id: ID!) {
        markPullRequestReadyForReview(input: { pullRequestId: $id }) { pullRequest { number isDraft } }
      }`,
      { id: pull.nodeId },
    );
    expect(ready).toEqual({ markPullRequestReadyForReview: { pullRequest: { number: pull.number, isDraft: false } } });
    expect(emulator.pulls(FULL)[0]?.draft).toBe(false);
    expect((await octokit.rest.pulls.get({ owner: OWNER, repo: REPO, pull_number: pull.number })).data.draft).toBe(false);

    const bearer = graphql.defaults({ baseUrl: emulator.apiUrl, headers: { authorization: `bearer ${token}` }, request: { fetch: loopbackFetch } });
    const draft = await bearer<{ toDraft: { clientMutationId: string; pullRequest: { draft: boolean; __typename: string } } }>(
      `mutation { toDraft: convertPullRequestToDraft(input: { pullRequestId: "${pull.nodeId}", clientMutationId: "x1" }) { clientMutationId pullRequest { draft: isDraft __typename } } }`,
    );
    expect(draft).toEqual({ toDraft: { clientMutationId: "x1", pullRequest: { draft: true, __typename: "PullRequest" } } });
    expect(emulator.pulls(FULL)[0]?.draft).toBe(true);
    const recorded = emulator.requests.filter((r) => r.path === "/graphql");
    expect(recorded.map((r) => [r.method, r.status, r.auth])).toEqual([
      ["POST", 200, "installation"],
      ["POST", 200, "installation"],
    ]);
    expect(recorded[0]?.body).toMatchObject({ variables: { id: pull.nodeId } });
  });

  it("answers the mutation afk sends (markReadyForReview in src/github/pull-request.ts) through Probot's Octokit", async () => {
    const emulator = current();
    const pull = await draftPullWithoutGit(emulator, await installationOctokit(emulator));
    const probotOctokit = await probotClient(emulator);
    await markReadyForReview(probotOctokit, { owner: OWNER, repo: REPO, installationId: INSTALLATION }, { number: pull.number });
    expect(emulator.pulls(FULL)[0]?.draft).toBe(false);
    expect(emulator.requests.filter((r) => r.path === "/graphql").map((r) => r.status)).toEqual([200]);
  });

  it("marks a pull request ready by the node id afk kept, without reading it; a node id GitHub no longer knows is read anew", async () => {
    const emulator = current();
    const octokit = await probotClient(emulator);
    const repo = { owner: OWNER, repo: REPO, installationId: INSTALLATION };
    const kept = await draftPullWithoutGit(emulator, await installationOctokit(emulator));
    const before = emulator.requests.length;
    await markReadyForReview(octokit, repo, { number: kept.number, nodeId: kept.nodeId });
    expect(emulator.pulls(FULL).find((p) => p.number === kept.number)?.draft).toBe(false);
    expect(emulator.requests.slice(before).map((r) => `${r.method} ${r.path} ${r.status}`)).toEqual(["POST /graphql 200"]);

    const stale = await draftPullWithoutGit(emulator, await installationOctokit(emulator), "afk/8-stale");
    const from = emulator.requests.length;
    await markReadyForReview(octokit, repo, { number: stale.number, nodeId: "PR_bm9wZQ" });
    expect(emulator.pulls(FULL).find((p) => p.number === stale.number)?.draft).toBe(false);
    expect(emulator.requests.slice(from).map((r) => `${r.method} ${r.path} ${r.status}`)).toEqual([
      "POST /graphql 200",
      `GET /repos/${FULL}/pulls/${stale.number} 200`,
      "POST /graphql 200",
    ]);
  });

  it("reports what GitHub reports when the pull request is out of reach: NOT_FOUND, FORBIDDEN, UNPROCESSABLE, 401", async () => {
    const emulator = current();
    const octokit = await installationOctokit(emulator);
    const pull = await draftPullWithoutGit(emulator, octokit);
    const client = await graphqlClient(emulator);
    const missing = await graphqlErrors(client(READY, { id: "PR_bm9wZQ" }));
    expect(missing).toEqual([
      {
        type: "NOT_FOUND",
        path: ["markPullRequestReadyForReview"],
        locations: [{ line: 1, column: 22 }],
        message: "Could not resolve to a node with the global id of 'PR_bm9wZQ'",
      },
    ]);
    const readOnly = await graphqlClient(emulator, { permissions: { pull_requests: "read" } });
    expect(await graphqlErrors(readOnly(READY, { id: pull.nodeId }))).toMatchObject([{ type: "FORBIDDEN", message: "Resource not accessible by integration" }]);
    expect(emulator.pulls(FULL)[0]?.draft).toBe(true);
    await octokit.rest.pulls.update({ owner: OWNER, repo: REPO, pull_number: pull.number, state: "closed" });
    expect(await graphqlErrors(client(READY, { id: pull.nodeId }))).toMatchObject([{ type: "UNPROCESSABLE", message: "Pull request is closed" }]);
    const badToken = graphql.defaults({ baseUrl: emulator.apiUrl, headers: { authorization: "token ghs_nope" }, request: { fetch: loopbackFetch } });
    expect(statusOf(await badToken(READY, { id: pull.nodeId }).catch((error: unknown) => error))).toBe(401);
    // Answers GitHub gives are not the emulator's shortcomings.
    expect(emulator.takeViolations()).toEqual([]);
  });

  it("refuses what its schema does not have, worded as GitHub words it, and records each refusal as a violation", async () => {
    const emulator = current();
    const pull = await draftPullWithoutGit(emulator, await installationOctokit(emulator));
    const client = await graphqlClient(emulator);
    expect(await graphqlErrors(client("query { viewer { login } }"))).toMatchObject([
      { message: "Field 'viewer' doesn't exist on type 'Query'", extensions: { code: "undefinedField", typeName: "Query", fieldName: "viewer" } },
    ]);
    expect((await graphqlErrors(client(READY, {})))[0]).toMatchObject({
      message: "Variable $id of type ID! was provided invalid value",
      extensions: { value: null, problems: [{ path: [], explanation: "Expected value to not be null" }] },
    });
    const mergeable = "mutation($id: ID!) { markPullRequestReadyForReview(input: { pullRequestId: $id }) { pullRequest { mergeable } } }";
    expect((await graphqlErrors(client(mergeable, { id: pull.nodeId })))[0]?.message).toBe("Field 'mergeable' doesn't exist on type 'PullRequest'");
    expect((await graphqlErrors(client('mutation { closePullRequest(input: { pullRequestId: "x" }) { clientMutationId } }')))[0]?.message).toBe(
      "Field 'closePullRequest' doesn't exist on type 'Mutation'",
    );
    expect((await graphqlErrors(client("mutation { markPullRequestReadyForReview(input: {")))[0]?.message).toMatch(
      /^Parse error on end of file at \[1, \d+\]$/,
    );
    expect((await graphqlErrors(client("query A { __typename } query B { __typename }")))[0]?.message).toBe("An operation name is required");
    const violations = emulator.takeViolations();
    expect(violations).toHaveLength(6);
    expect(violations[0]).toMatch(/^POST \/graphql: Field 'viewer' doesn't exist on type 'Query' \(the GitHub emulator's schema has only/);
    expect(emulator.pulls(FULL)[0]?.draft).toBe(true);
  });

  it("reads a pull request by node id, with fragments, aliases and a chosen operation, as graphql-js executes them", async () => {
    const emulator = current();
    const pull = await draftPullWithoutGit(emulator, await installationOctokit(emulator));
    const client = await graphqlClient(emulator);
    const document = `
      fragment Head on PullRequest { headRefName headRefOid baseRefName }
      query Other { __typename }
      query Read($id: ID!) { pr: node(id: $id) { __typename id ... on PullRequest { number isDraft state url ...Head } } }`;
    const answer = await client<{ pr: Record<string, unknown> }>(document, { id: pull.nodeId, operationName: "Read" });
    expect(answer.pr).toEqual({
      __typename: "PullRequest",
      id: pull.nodeId,
      number: pull.number,
      isDraft: true,
      state: "OPEN",
      url: `${emulator.webUrl}/${FULL}/pull/${pull.number}`,
      headRefName: "feature",
      headRefOid: emulator.ref(FULL, "heads/feature"),
      baseRefName: "main",
    });
    const other = await client<{ __typename: string }>(document, { id: pull.nodeId, operationName: "Other" });
    expect(other).toEqual({ __typename: "Query" });
  });
});

/** An installation client as afk's: Probot's Octokit (its plugins off), over loopback. */
async function probotClient(emulator: GitHubEmulator): Promise<InstanceType<typeof ProbotOctokit>> {
  return new ProbotOctokit({
    auth: { token: await installationToken(emulator) },
    baseUrl: emulator.apiUrl,
    request: { fetch: loopbackFetch },
    throttle: { enabled: false },
    retry: { enabled: false },
    log: quiet,
  });
}
