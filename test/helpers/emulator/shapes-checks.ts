import { branchesAt, branchSha, commitSummary, EMPTY_TREE, seederIdentity, type GitIdentity } from "./git-store.js";
import type * as Json from "./json.js";
import { appJsonById, headCommitJson, repoJson, userJson } from "./shapes.js";
import { rollUp, type EmulatorStore, type RepoState } from "./store.js";
import type * as Records from "./store.js";
import { nodeId, timestamp, type JsonObject } from "./util.js";

/**
 * The JSON of CI on a commit, built from the store's records like the rest of shapes.ts (whose
 * user, App and repository shapes these embed): check runs, check suites rolled up from their
 * newest runs, commit statuses, and the commit a `status` payload carries. REST answers and
 * webhook payloads both use these.
 */

/** The open pull requests whose head is `sha`, as `pull_requests` of check runs and suites lists them. */
export function pullsAtJson(store: EmulatorStore, repo: RepoState, sha: string): Json.PullRequestMinimalJson[] {
  const repoRef = { id: repo.id, url: `${store.hosts.api}/repos/${repo.fullName}`, name: repo.name };
  return store.openPullsAt(repo, sha).map((pull) => ({
    id: pull.id,
    number: pull.number,
    url: `${store.hosts.api}/repos/${repo.fullName}/pulls/${pull.number}`,
    head: { ref: pull.head, sha, repo: repoRef },
    base: { ref: pull.base, sha: branchSha(repo, pull.base) ?? pull.baseSha, repo: repoRef },
  }));
}

/** The branch a commit is the head of: an open pull request's, else any branch pointing at it. */
export function headBranchOf(store: EmulatorStore, repo: RepoState, sha: string): string | null {
  return store.openPullsAt(repo, sha)[0]?.head ?? branchesAt(repo, sha)[0] ?? null;
}

export function checkRunJson(store: EmulatorStore, repo: RepoState, run: Records.CheckRunRecord): Json.CheckRunJson {
  const url = `${store.hosts.api}/repos/${repo.fullName}/check-runs/${run.id}`;
  const htmlUrl = `${store.hosts.web}/${repo.fullName}/runs/${run.id}`;
  return {
    id: run.id,
    head_sha: run.headSha,
    node_id: nodeId("CR", run.id),
    external_id: run.externalId,
    url,
    html_url: htmlUrl,
    details_url: run.detailsUrl ?? htmlUrl,
    status: run.status,
    conclusion: run.conclusion,
    started_at: run.startedAt,
    completed_at: run.completedAt,
    output: { ...run.output, annotations_count: 0, annotations_url: `${url}/annotations` },
    name: run.name,
    check_suite: { id: run.suiteId },
    app: appJsonById(store, run.appId),
    pull_requests: pullsAtJson(store, repo, run.headSha),
  };
}

/** A check run as `check_run` payloads carry it: with its whole suite instead of the suite's id. */
export function checkRunWebhookJson(store: EmulatorStore, repo: RepoState, run: Records.CheckRunRecord): JsonObject {
  const suite = [...repo.checkSuites.values()].find((candidate) => candidate.id === run.suiteId);
  return { ...checkRunJson(store, repo, run), ...(suite === undefined ? {} : { check_suite: checkSuiteJson(store, repo, suite) }) };
}

export function checkSuiteJson(store: EmulatorStore, repo: RepoState, suite: Records.CheckSuiteRecord): JsonObject {
  const url = `${store.hosts.api}/repos/${repo.fullName}/check-suites/${suite.id}`;
  const runs = store.runsAt(repo, suite.headSha).filter((run) => run.suiteId === suite.id);
  const commit = knownCommit(repo, suite.headSha);
  const times = runs.flatMap((run) => [run.startedAt, run.completedAt ?? run.startedAt]).sort();
  return {
    id: suite.id,
    node_id: nodeId("CS", suite.id),
    head_branch: headBranchOf(store, repo, suite.headSha),
    head_sha: suite.headSha,
    ...rollUp(runs),
    url,
    before: commit.parents[0] ?? null,
    after: suite.headSha,
    pull_requests: pullsAtJson(store, repo, suite.headSha),
    app: appJsonById(store, suite.appId),
    repository: repoJson(store, repo, "repository"),
    created_at: suite.createdAt,
    updated_at: times.at(-1) ?? suite.createdAt,
    head_commit: headCommitJson(suite.headSha, commit),
    latest_check_runs_count: runs.length,
    check_runs_url: `${url}/check-runs`,
    rerequestable: true,
    runs_rerequestable: true,
  };
}

export function statusJson(store: EmulatorStore, repo: RepoState, status: Records.StatusRecord): Json.CommitStatusJson {
  const creator = userJson(store, status.creator);
  return {
    url: `${store.hosts.api}/repos/${repo.fullName}/statuses/${status.sha}`,
    avatar_url: creator.avatar_url,
    id: status.id,
    node_id: nodeId("SC", status.id),
    state: status.state,
    description: status.description,
    target_url: status.targetUrl,
    context: status.context,
    created_at: status.createdAt,
    updated_at: status.createdAt,
    creator,
  };
}

/**
 * A commit as CI shapes describe it: from the emulator's objects or the git backing; a commit known
 * by its sha only (CI reported on it, nothing more) is an empty one by the seeder.
 */
function knownCommit(repo: RepoState, sha: string): NonNullable<ReturnType<typeof commitSummary>> {
  return commitSummary(repo, sha) ?? { tree: EMPTY_TREE, parents: [], message: "", author: seederIdentity(), committer: seederIdentity() };
}

/** The commit a `status` payload carries (the REST `commit` shape). */
export function statusCommitJson(store: EmulatorStore, repo: RepoState, sha: string): JsonObject {
  const api = `${store.hosts.api}/repos/${repo.fullName}`;
  const html = `${store.hosts.web}/${repo.fullName}/commit`;
  const commit = knownCommit(repo, sha);
  const person = (who: GitIdentity): JsonObject => ({ name: who.name, email: who.email, date: timestamp(new Date(who.time * 1000)) });
  return {
    sha,
    node_id: nodeId("C", sha),
    commit: {
      author: person(commit.author),
      committer: person(commit.committer),
      message: commit.message,
      tree: { sha: commit.tree, url: `${api}/git/trees/${commit.tree}` },
      url: `${api}/git/commits/${sha}`,
      comment_count: 0,
      verification: { verified: false, reason: "unsigned", signature: null, payload: null, verified_at: null },
    },
    url: `${api}/commits/${sha}`,
    html_url: `${html}/${sha}`,
    comments_url: `${api}/commits/${sha}/comments`,
    author: null,
    committer: null,
    parents: commit.parents.map((parent) => ({ sha: parent, url: `${api}/commits/${parent}`, html_url: `${html}/${parent}` })),
  };
}
