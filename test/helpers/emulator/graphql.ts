import { buildSchema, graphqlSync, GraphQLError, type ExecutionResult } from "graphql";
import { tokenSelects } from "./auth.js";
import type { Reply } from "./http.js";
import type { EmulatorStore, PullRecord, RepoState } from "./store.js";
import type { IssuedToken } from "./types.js";
import { field, isObject, nodeId, stringField, timestamp, type JsonObject } from "./util.js";

/**
 * GitHub's GraphQL API, cut down to what afk sends: the two mutations that flip a pull request's
 * draft state (REST cannot), and `node` (the root query every GitHub schema has, and a query type
 * must have a field). Queries run through graphql-js against this SDL, so anything outside it is
 * refused the way a GraphQL server refuses it; errors are then worded as GitHub words them.
 */
export const SCHEMA_SDL = /* GraphQL */ `
  "An object with an ID."
  interface Node {
    id: ID!
  }

  "An RFC 3986, RFC 3987, and RFC 6570 (level 4) compliant URI string."
  scalar URI

  "A Git object ID."
  scalar GitObjectID

  enum PullRequestState {
    OPEN
    CLOSED
    MERGED
  }

  type PullRequest implements Node {
    id: ID!
    number: Int!
    isDraft: Boolean!
    state: PullRequestState!
    title: String!
    url: URI!
    headRefName: String!
    headRefOid: GitObjectID!
    baseRefName: String!
    merged: Boolean!
    closed: Boolean!
  }

  input MarkPullRequestReadyForReviewInput {
    pullRequestId: ID!
    clientMutationId: String
  }

  type MarkPullRequestReadyForReviewPayload {
    clientMutationId: String
    pullRequest: PullRequest
  }

  input ConvertPullRequestToDraftInput {
    pullRequestId: ID!
    clientMutationId: String
  }

  type ConvertPullRequestToDraftPayload {
    clientMutationId: String
    pullRequest: PullRequest
  }

  type Query {
    "Fetches an object given its ID."
    node(id: ID!): Node
  }

  type Mutation {
    "Marks a pull request ready for review."
    markPullRequestReadyForReview(input: MarkPullRequestReadyForReviewInput!): MarkPullRequestReadyForReviewPayload
    "Converts a pull request to draft."
    convertPullRequestToDraft(input: ConvertPullRequestToDraftInput!): ConvertPullRequestToDraftPayload
  }
`;

const schema = buildSchema(SCHEMA_SDL);

/** What the emulator tells a test about a query its schema cannot answer (GitHub's full schema may). */
const EMULATOR_NOTE = "the GitHub emulator's schema has only Query.node and the mutations markPullRequestReadyForReview and convertPullRequestToDraft";

interface Context {
  store: EmulatorStore;
  token: IssuedToken;
}

/** An error GitHub reports with a `type` (NOT_FOUND, FORBIDDEN, UNPROCESSABLE) beside the message. */
function typedError(type: string, message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { type } });
}

/** The pull request a node id names, if the token's installation can see it at all. */
function pullByNodeId(context: Context, id: string): { repo: RepoState; pull: PullRecord } {
  for (const repo of context.store.repos.values()) {
    if (repo.installationId !== context.token.installationId) continue;
    for (const pull of repo.pulls.values()) if (nodeId("PR", pull.id) === id) return { repo, pull };
  }
  throw typedError("NOT_FOUND", `Could not resolve to a node with the global id of '${id}'`);
}

function pullRequestNode(store: EmulatorStore, repo: RepoState, pull: PullRecord): JsonObject {
  return {
    __typename: "PullRequest",
    id: nodeId("PR", pull.id),
    number: pull.number,
    isDraft: pull.draft,
    state: pull.merged ? "MERGED" : pull.state === "open" ? "OPEN" : "CLOSED",
    title: pull.title,
    url: `${store.hosts.web}/${repo.fullName}/pull/${pull.number}`,
    headRefName: pull.head,
    headRefOid: () => store.pullHeadSha(repo, pull),
    baseRefName: pull.base,
    merged: pull.merged,
    closed: pull.state === "closed",
  };
}

/** Both draft mutations: the token must reach the repository with pull_requests:write, and the pull request must be open. */
function setDraft(draft: boolean) {
  return (args: unknown, context: Context): JsonObject => {
    const input = field(args, "input");
    const { repo, pull } = pullByNodeId(context, stringField(input, "pullRequestId") ?? "");
    if (!tokenSelects(context.token, repo) || context.token.permissions.pull_requests !== "write") {
      throw typedError("FORBIDDEN", "Resource not accessible by integration");
    }
    if (pull.state !== "open") throw typedError("UNPROCESSABLE", `Pull request is ${pull.merged ? "merged" : "closed"}`);
    if (pull.draft !== draft) {
      pull.draft = draft;
      pull.updatedAt = timestamp();
    }
    return { clientMutationId: stringField(input, "clientMutationId") ?? null, pullRequest: pullRequestNode(context.store, repo, pull) };
  };
}

const rootValue = {
  node: (args: unknown, context: Context): JsonObject => {
    const { repo, pull } = pullByNodeId(context, stringField(args, "id") ?? "");
    if (!tokenSelects(context.token, repo) || context.token.permissions.pull_requests === undefined) {
      throw typedError("FORBIDDEN", "Resource not accessible by integration");
    }
    return pullRequestNode(context.store, repo, pull);
  },
  markPullRequestReadyForReview: setDraft(false),
  convertPullRequestToDraft: setDraft(true),
};

/** graphql-js's wording of request errors, reworded as GitHub (graphql-ruby) words them, with its `extensions`. */
function githubWording(error: GraphQLError): { message: string; extensions?: JsonObject } {
  const message = error.message;
  const syntax = /^Syntax Error: .*found (.+)\.$/.exec(message);
  if (syntax !== null) {
    const location = error.locations?.[0];
    const found = syntax[1] === "<EOF>" ? "end of file" : (syntax[1] ?? "?");
    return { message: `Parse error on ${found} at [${location?.line ?? 0}, ${location?.column ?? 0}]` };
  }
  const unknownField = /^Cannot query field "([^"]+)" on type "([^"]+)"\./.exec(message);
  if (unknownField !== null) {
    const [, fieldName = "", typeName = ""] = unknownField;
    return { message: `Field '${fieldName}' doesn't exist on type '${typeName}'`, extensions: { code: "undefinedField", typeName, fieldName } };
  }
  const variable = /^Variable "\$([^"]+)" of required type "([^"]+)" was not provided\.$/.exec(message);
  if (variable !== null) {
    return {
      message: `Variable $${variable[1] ?? ""} of type ${variable[2] ?? ""} was provided invalid value`,
      extensions: { value: null, problems: [{ path: [], explanation: "Expected value to not be null" }] },
    };
  }
  if (message.startsWith("Must provide operation name")) return { message: "An operation name is required" };
  const unknown = /^Unknown operation named "([^"]+)"\.$/.exec(message);
  if (unknown !== null) return { message: `No operation named "${unknown[1] ?? ""}"` };
  return { message };
}

/** One error of `errors`, as GitHub sends it: `type` beside the message for errors while resolving. */
function errorJson(error: GraphQLError): JsonObject {
  const type = error.extensions.type;
  const reworded = typeof type === "string" ? { message: error.message } : githubWording(error);
  return {
    ...(typeof type === "string" ? { type } : {}),
    ...(error.path === undefined ? {} : { path: error.path }),
    ...(reworded.extensions === undefined ? {} : { extensions: reworded.extensions }),
    locations: error.locations ?? [],
    message: reworded.message,
  };
}

/**
 * Runs one GraphQL request (its JSON body) for an installation token. Synchronous, like every
 * route, so a mutation cannot interleave with a REST request. A request the schema refuses (a
 * parse error, an unknown field, a missing variable) is also returned as `violation`: afk sent
 * something this emulator cannot answer.
 */
export function executeGraphql(store: EmulatorStore, body: unknown, token: IssuedToken): { reply: Reply; violation?: string } {
  const query = stringField(body, "query");
  if (query === undefined) {
    const message = "A query attribute must be specified and must be a string.";
    return { reply: { status: 200, body: { errors: [{ message }] } }, violation: message };
  }
  const variables = field(body, "variables");
  const operationName = stringField(body, "operationName");
  const result: ExecutionResult = graphqlSync({
    schema,
    source: query,
    rootValue,
    contextValue: { store, token } satisfies Context,
    variableValues: isObject(variables) ? variables : null,
    operationName: operationName === undefined || operationName === "" ? null : operationName,
  });
  const errors = (result.errors ?? []).map(errorJson);
  const answer: JsonObject = {};
  if (result.data !== undefined) answer.data = result.data;
  if (errors.length > 0) answer.errors = errors;
  const refused = result.data === undefined ? errors.map((error) => String(error.message)) : [];
  return { reply: { status: 200, body: answer }, ...(refused.length === 0 ? {} : { violation: `${refused.join("; ")} (${EMULATOR_NOTE})` }) };
}
