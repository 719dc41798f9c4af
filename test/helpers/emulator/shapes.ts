import { createHash } from "node:crypto";
import { githubUserJson } from "../github-user-json.js";
import type * as Json from "./json.js";
import type { EmulatorStore, ForeignApp, RepoState } from "./store.js";
import type * as Records from "./store.js";
import type { CommitObject } from "./git-store.js";
import { nodeId, timestamp, type JsonObject } from "./util.js";

/**
 * THE one place the JSON of GitHub objects is built from the store's records (with its sibling
 * shapes-checks.ts for CI on a commit): REST answers and webhook payloads both come from here, so
 * they cannot disagree. Fields follow GitHub's OpenAPI
 * response schemas (and the webhook schemas, which the same objects also satisfy); URLs point at
 * the store's hosts (the emulator's own, or github.com for payloads built without one).
 */

const REACTION_CONTENTS = ["+1", "-1", "laugh", "confused", "heart", "hooray", "eyes", "rocket"] as const;

export function userJson(store: EmulatorStore, user: Records.UserState): Json.UserJson {
  const prefix = user.type === "Bot" ? "BOT" : user.type === "Organization" ? "O" : "U";
  return githubUserJson({ login: user.login, id: user.id, nodeId: nodeId(prefix, user.id), type: user.type }, store.hosts);
}

function clientId(appId: number): string {
  return `Iv1.${createHash("sha1").update(String(appId)).digest("hex").slice(0, 16)}`;
}

/** The emulator's own App (`GET /app`). */
export function appJson(store: EmulatorStore): Json.AppJson {
  return { ...appRecordJson(store, store.ownApp()), installations_count: store.installations.size };
}

/** The emulator's App or another one (GitHub Actions, a linter) by id, as check runs and suites name it. */
export function appJsonById(store: EmulatorStore, appId: number): Json.AppJson {
  const app = [...store.foreignApps.values()].find((candidate) => candidate.id === appId);
  return app === undefined || appId === store.appId ? appJson(store) : appRecordJson(store, app);
}

function appRecordJson(store: EmulatorStore, app: ForeignApp): Json.AppJson {
  return {
    id: app.id,
    slug: app.slug,
    node_id: nodeId("A", app.id),
    client_id: clientId(app.id),
    owner: userJson(store, app.owner),
    name: app.name,
    description: app.description,
    external_url: app.externalUrl,
    html_url: `${store.hosts.web}/apps/${app.slug}`,
    created_at: app.createdAt,
    updated_at: app.updatedAt,
    permissions: { ...app.permissions },
    events: [...app.events],
    installations_count: 1,
  };
}

export function installationJson(store: EmulatorStore, installation: Records.InstallationState): JsonObject {
  const { api, web } = store.hosts;
  const account = installation.account;
  return {
    id: installation.id,
    account: userJson(store, account),
    repository_selection: installation.repositorySelection,
    access_tokens_url: `${api}/app/installations/${installation.id}/access_tokens`,
    repositories_url: `${api}/installation/repositories`,
    html_url:
      account.type === "Organization"
        ? `${web}/organizations/${account.login}/settings/installations/${installation.id}`
        : `${web}/settings/installations/${installation.id}`,
    app_id: store.appId,
    client_id: clientId(store.appId),
    app_slug: store.appSlug,
    target_id: account.id,
    target_type: account.type,
    permissions: installation.permissions,
    events: [...store.appEvents],
    created_at: installation.createdAt,
    updated_at: installation.createdAt,
    single_file_name: null,
    has_multiple_single_files: false,
    single_file_paths: [],
    suspended_by: null,
    suspended_at: null,
  };
}

/** The URL templates of a repository, each under its API URL. */
const REPO_URLS: Array<[string, string]> = [
  ["archive_url", "/{archive_format}{/ref}"],
  ["assignees_url", "/assignees{/user}"],
  ["blobs_url", "/git/blobs{/sha}"],
  ["branches_url", "/branches{/branch}"],
  ["collaborators_url", "/collaborators{/collaborator}"],
  ["comments_url", "/comments{/number}"],
  ["commits_url", "/commits{/sha}"],
  ["compare_url", "/compare/{base}...{head}"],
  ["contents_url", "/contents/{+path}"],
  ["contributors_url", "/contributors"],
  ["deployments_url", "/deployments"],
  ["downloads_url", "/downloads"],
  ["events_url", "/events"],
  ["forks_url", "/forks"],
  ["git_commits_url", "/git/commits{/sha}"],
  ["git_refs_url", "/git/refs{/sha}"],
  ["git_tags_url", "/git/tags{/sha}"],
  ["issue_comment_url", "/issues/comments{/number}"],
  ["issue_events_url", "/issues/events{/number}"],
  ["issues_url", "/issues{/number}"],
  ["keys_url", "/keys{/key_id}"],
  ["labels_url", "/labels{/name}"],
  ["languages_url", "/languages"],
  ["merges_url", "/merges"],
  ["milestones_url", "/milestones{/number}"],
  ["notifications_url", "/notifications{?since,all,participating}"],
  ["pulls_url", "/pulls{/number}"],
  ["releases_url", "/releases{/id}"],
  ["stargazers_url", "/stargazers"],
  ["statuses_url", "/statuses/{sha}"],
  ["subscribers_url", "/subscribers"],
  ["subscription_url", "/subscription"],
  ["tags_url", "/tags"],
  ["teams_url", "/teams"],
  ["trees_url", "/git/trees{/sha}"],
  ["hooks_url", "/hooks"],
];

/** A repository: `full-repository` (`GET /repos/…`) or the `repository` nested in other objects and payloads. */
export function repoJson(store: EmulatorStore, repo: RepoState, shape: "full-repository" | "repository" = "full-repository"): JsonObject {
  const api = `${store.hosts.api}/repos/${repo.fullName}`;
  const html = `${store.hosts.web}/${repo.fullName}`;
  const openIssues = [...repo.issues.values()].filter((issue) => issue.state === "open").length;
  const json: JsonObject = {
    id: repo.id,
    node_id: nodeId("R", repo.id),
    name: repo.name,
    full_name: repo.fullName,
    owner: userJson(store, repo.owner),
    private: repo.private,
    html_url: html,
    description: null,
    fork: false,
    url: api,
    ...Object.fromEntries(REPO_URLS.map(([key, suffix]) => [key, `${api}${suffix}`])),
    git_url: `git://${store.hosts.host}/${repo.fullName}.git`,
    ssh_url: `git@${store.hosts.host}:${repo.fullName}.git`,
    clone_url: repo.git?.cloneUrl ?? `${html}.git`,
    mirror_url: null,
    svn_url: html,
    homepage: null,
    language: null,
    forks_count: 0,
    forks: 0,
    stargazers_count: 0,
    watchers_count: 0,
    watchers: 0,
    size: 0,
    default_branch: repo.defaultBranch,
    open_issues_count: openIssues,
    open_issues: openIssues,
    is_template: false,
    topics: [],
    has_issues: true,
    has_projects: true,
    has_wiki: true,
    has_pages: false,
    has_downloads: true,
    has_discussions: false,
    archived: false,
    disabled: false,
    visibility: repo.private ? "private" : "public",
    pushed_at: repo.createdAt,
    created_at: repo.createdAt,
    updated_at: repo.createdAt,
    allow_forking: true,
    web_commit_signoff_required: false,
    license: null,
  };
  if (shape === "full-repository") Object.assign(json, { network_count: 0, subscribers_count: 0 });
  return json;
}

export function labelJson(store: EmulatorStore, repo: RepoState, name: string): Json.LabelJson {
  const label = repo.labels.get(name.toLowerCase()) ?? { id: 0, name, color: "ededed", description: null };
  return {
    id: label.id,
    node_id: nodeId("LA", label.id),
    url: `${store.hosts.api}/repos/${repo.fullName}/labels/${encodeURIComponent(label.name)}`,
    name: label.name,
    description: label.description,
    color: label.color,
    default: false,
  };
}

export function issueLabelsJson(store: EmulatorStore, repo: RepoState, issue: Records.IssueRecord): Json.LabelJson[] {
  return issue.labels.map((name) => labelJson(store, repo, name));
}

export function authorAssociation(repo: RepoState, login: string): string {
  if (login.toLowerCase() === repo.owner.login.toLowerCase()) return "OWNER";
  if (repo.roles.has(login.toLowerCase())) return "COLLABORATOR";
  return "NONE";
}

function rollupJson(url: string, reactions: Records.ReactionState[]): Json.ReactionRollupJson {
  const counts = Object.fromEntries(REACTION_CONTENTS.map((content) => [content, reactions.filter((reaction) => reaction.content === content).length]));
  return {
    url,
    total_count: reactions.length,
    "+1": counts["+1"] ?? 0,
    "-1": counts["-1"] ?? 0,
    laugh: counts.laugh ?? 0,
    confused: counts.confused ?? 0,
    heart: counts.heart ?? 0,
    hooray: counts.hooray ?? 0,
    eyes: counts.eyes ?? 0,
    rocket: counts.rocket ?? 0,
  };
}

export function issueJson(store: EmulatorStore, repo: RepoState, issue: Records.IssueRecord): Json.IssueJson {
  const { api, web } = store.hosts;
  const url = `${api}/repos/${repo.fullName}/issues/${issue.number}`;
  const blocking = [...repo.issues.values()].filter((other) => other.blockedBy.includes(issue.number));
  const openBlockers = issue.blockedBy.filter((number) => repo.issues.get(number)?.state === "open");
  const pullHtml = `${web}/${repo.fullName}/pull/${issue.number}`;
  return {
    id: issue.id,
    node_id: nodeId("I", issue.id),
    url,
    repository_url: `${api}/repos/${repo.fullName}`,
    labels_url: `${url}/labels{/name}`,
    comments_url: `${url}/comments`,
    events_url: `${url}/events`,
    html_url: issue.pullRequest === true ? pullHtml : `${web}/${repo.fullName}/issues/${issue.number}`,
    ...(issue.pullRequest === true
      ? {
          pull_request: {
            url: `${api}/repos/${repo.fullName}/pulls/${issue.number}`,
            html_url: pullHtml,
            diff_url: `${pullHtml}.diff`,
            patch_url: `${pullHtml}.patch`,
            merged_at: repo.pulls.get(issue.number)?.mergedAt ?? null,
          },
        }
      : {}),
    timeline_url: `${url}/timeline`,
    number: issue.number,
    state: issue.state,
    state_reason: issue.stateReason,
    title: issue.title,
    body: issue.body,
    user: userJson(store, store.userByLogin(issue.user)),
    labels: issueLabelsJson(store, repo, issue),
    assignee: null,
    assignees: [],
    milestone: null,
    locked: false,
    active_lock_reason: null,
    comments: issue.commentIds.length,
    closed_at: issue.closedAt,
    closed_by: issue.closedBy === null ? null : userJson(store, store.userByLogin(issue.closedBy)),
    created_at: issue.createdAt,
    updated_at: issue.updatedAt,
    author_association: authorAssociation(repo, issue.user),
    performed_via_github_app: issue.viaApp ? appJson(store) : null,
    reactions: rollupJson(`${url}/reactions`, issue.reactions),
    issue_dependencies_summary: {
      blocked_by: openBlockers.length,
      blocking: blocking.filter((other) => other.state === "open").length,
      total_blocked_by: issue.blockedBy.length,
      total_blocking: blocking.length,
    },
  };
}

export function commentJson(store: EmulatorStore, repo: RepoState, comment: Records.CommentRecord): Json.CommentJson {
  const { api, web } = store.hosts;
  const url = `${api}/repos/${repo.fullName}/issues/comments/${comment.id}`;
  return {
    id: comment.id,
    node_id: nodeId("IC", comment.id),
    url,
    html_url: `${web}/${repo.fullName}/issues/${comment.issueNumber}#issuecomment-${comment.id}`,
    issue_url: `${api}/repos/${repo.fullName}/issues/${comment.issueNumber}`,
    body: comment.body,
    user: userJson(store, store.userByLogin(comment.user)),
    created_at: comment.createdAt,
    updated_at: comment.updatedAt,
    author_association: authorAssociation(repo, comment.user),
    performed_via_github_app: comment.viaApp ? appJson(store) : null,
    reactions: rollupJson(`${url}/reactions`, comment.reactions),
  };
}

export function reactionJson(store: EmulatorStore, reaction: Records.ReactionState): Json.ReactionJson {
  return {
    id: reaction.id,
    node_id: nodeId("REA", reaction.id),
    user: userJson(store, store.userByLogin(reaction.user)),
    content: reaction.content,
    created_at: reaction.createdAt,
  };
}

// ---------------------------------------------------------------------------
// Pull requests and reviews

/** A pull request: `simple` (lists) or `full` (`GET`, `POST`, `PATCH` and webhook payloads). */
export function pullJson(store: EmulatorStore, repo: RepoState, pull: Records.PullRecord, shape: "simple" | "full"): JsonObject {
  const api = `${store.hosts.api}/repos/${repo.fullName}`;
  const html = `${store.hosts.web}/${repo.fullName}/pull/${pull.number}`;
  const url = `${api}/pulls/${pull.number}`;
  const issueUrl = `${api}/issues/${pull.number}`;
  const headSha = store.pullHeadSha(repo, pull);
  const side = (ref: string, sha: string, on: RepoState): JsonObject => ({
    label: `${on.owner.login}:${ref}`,
    ref,
    sha,
    user: userJson(store, on.owner),
    repo: repoJson(store, on, "repository"),
  });
  const headRepo = pull.headRepo === undefined ? repo : (store.repos.get(pull.headRepo) ?? repo);
  const links = {
    self: url,
    html,
    issue: issueUrl,
    comments: `${issueUrl}/comments`,
    review_comments: `${url}/comments`,
    review_comment: `${api}/pulls/comments{/number}`,
    commits: `${url}/commits`,
    statuses: `${api}/statuses/${headSha}`,
  };
  const json: JsonObject = {
    url,
    id: pull.id,
    node_id: nodeId("PR", pull.id),
    html_url: html,
    diff_url: `${html}.diff`,
    patch_url: `${html}.patch`,
    issue_url: issueUrl,
    commits_url: links.commits,
    review_comments_url: links.review_comments,
    review_comment_url: links.review_comment,
    comments_url: links.comments,
    statuses_url: links.statuses,
    number: pull.number,
    state: pull.state,
    locked: false,
    title: pull.title,
    user: userJson(store, pull.user),
    body: pull.body,
    labels: (repo.issues.get(pull.number)?.labels ?? []).map((name) => labelJson(store, repo, name)),
    milestone: null,
    active_lock_reason: null,
    created_at: pull.createdAt,
    updated_at: pull.updatedAt,
    closed_at: pull.closedAt,
    merged_at: pull.mergedAt,
    // A merged pull request's merge commit; the emulator merges by fast-forward, so it is the head.
    merge_commit_sha: pull.merged ? headSha : null,
    assignee: null,
    assignees: [],
    requested_reviewers: pull.requestedReviewers.map((user) => userJson(store, user)),
    requested_teams: [],
    head: side(pull.head, headSha, headRepo),
    base: side(pull.base, pull.baseSha, repo),
    _links: Object.fromEntries(Object.entries(links).map(([key, href]) => [key, { href }])),
    author_association: "NONE",
    auto_merge: null,
    draft: pull.draft,
  };
  if (shape === "simple") return json;
  return Object.assign(json, {
    merged: pull.merged,
    mergeable: null,
    rebaseable: null,
    mergeable_state: "unknown",
    merged_by: pull.mergedBy === null ? null : userJson(store, pull.mergedBy),
    comments: repo.issues.get(pull.number)?.commentIds.length ?? 0,
    review_comments: [...repo.reviewComments.values()].filter((comment) => comment.pullNumber === pull.number).length,
    maintainer_can_modify: pull.maintainerCanModify,
    commits: 1,
    additions: 0,
    deletions: 0,
    changed_files: 0,
  });
}

export function reviewJson(store: EmulatorStore, repo: RepoState, review: Records.ReviewRecord): Json.ReviewJson {
  const html = `${store.hosts.web}/${repo.fullName}/pull/${review.pullNumber}#pullrequestreview-${review.id}`;
  const pullUrl = `${store.hosts.api}/repos/${repo.fullName}/pulls/${review.pullNumber}`;
  return {
    id: review.id,
    node_id: nodeId("PRR", review.id),
    user: userJson(store, review.user),
    body: review.body,
    state: review.state,
    html_url: html,
    pull_request_url: pullUrl,
    _links: { html: { href: html }, pull_request: { href: pullUrl } },
    submitted_at: review.submittedAt,
    commit_id: review.commitId,
    author_association: authorAssociation(repo, review.user.login),
  };
}

/** A review as `pull_request_review` payloads carry it: GitHub writes the state in lower case there. */
export function reviewWebhookJson(store: EmulatorStore, repo: RepoState, review: Records.ReviewRecord): JsonObject {
  return { ...reviewJson(store, repo, review), state: review.state.toLowerCase() };
}

export function reviewCommentJson(store: EmulatorStore, repo: RepoState, comment: Records.ReviewCommentRecord): Json.ReviewCommentJson {
  const url = `${store.hosts.api}/repos/${repo.fullName}/pulls/comments/${comment.id}`;
  const html = `${store.hosts.web}/${repo.fullName}/pull/${comment.pullNumber}#discussion_r${comment.id}`;
  const pullUrl = `${store.hosts.api}/repos/${repo.fullName}/pulls/${comment.pullNumber}`;
  // The line's position in the hunk: lines after the `@@` header.
  const position = Math.max(1, comment.diffHunk.split("\n").length - 1);
  return {
    url,
    pull_request_review_id: comment.reviewId,
    id: comment.id,
    node_id: nodeId("PRRC", comment.id),
    diff_hunk: comment.diffHunk,
    path: comment.path,
    position,
    original_position: position,
    commit_id: comment.commitId,
    original_commit_id: comment.commitId,
    ...(comment.inReplyTo === undefined ? {} : { in_reply_to_id: comment.inReplyTo }),
    user: userJson(store, comment.user),
    body: comment.body,
    created_at: comment.createdAt,
    updated_at: comment.updatedAt,
    html_url: html,
    pull_request_url: pullUrl,
    author_association: authorAssociation(repo, comment.user.login),
    _links: { self: { href: url }, html: { href: html }, pull_request: { href: pullUrl } },
    start_line: null,
    original_start_line: null,
    start_side: null,
    line: comment.line,
    original_line: comment.line,
    side: "RIGHT",
    subject_type: "line",
    reactions: rollupJson(`${url}/reactions`, []),
  };
}

// ---------------------------------------------------------------------------
// What only webhook payloads carry

/** The installation a payload names (`simple-installation`). */
export function installationLiteJson(id: number): JsonObject {
  return { id, node_id: Buffer.from(`023:IntegrationInstallation${id}`).toString("base64") };
}

/** The organisation owning the repository, as payloads name it (`organization-simple-webhooks`). */
export function organizationJson(store: EmulatorStore, organization: Records.UserState): JsonObject {
  const api = `${store.hosts.api}/orgs/${organization.login}`;
  return {
    login: organization.login,
    id: organization.id,
    node_id: nodeId("O", organization.id),
    url: api,
    repos_url: `${api}/repos`,
    events_url: `${api}/events`,
    hooks_url: `${api}/hooks`,
    issues_url: `${api}/issues`,
    members_url: `${api}/members{/member}`,
    public_members_url: `${api}/public_members{/member}`,
    avatar_url: `${store.hosts.avatars}/u/${organization.id}?v=4`,
    description: null,
  };
}

/** A commit as webhook payloads and workflow runs show it (`head_commit`). */
export function headCommitJson(sha: string, commit: Omit<CommitObject, "type">): JsonObject {
  return {
    id: sha,
    tree_id: commit.tree,
    message: commit.message,
    timestamp: timestamp(new Date(commit.committer.time * 1000)),
    author: { name: commit.author.name, email: commit.author.email },
    committer: { name: commit.committer.name, email: commit.committer.email },
  };
}
