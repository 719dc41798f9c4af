import { created, HttpError, installationRoute, notFound, ok, page, type Reply, type RequestContext, type RouteTable } from "./http.js";
import { commentJson, issueJson, issueLabelsJson, reactionJson } from "./shapes.js";
import type { CommentRecord, EmulatorStore, IssueRecord, ReactionState, RepoState, UserState } from "./store.js";
import { field, isObject, stringField, timestamp } from "./util.js";

/** Issues with their sub-issues and blockers, comments, reactions and labels. */
export function issueRoutes(store: EmulatorStore): RouteTable {
  const api = (): string => store.hosts.api;
  const issueOf = (ctx: RequestContext): IssueRecord => {
    const issue = ctx.repo().issues.get(Number(ctx.params.issue_number));
    if (issue === undefined) throw notFound();
    return issue;
  };
  const commentOf = (ctx: RequestContext): CommentRecord => {
    const comment = store.comments.get(Number(ctx.params.comment_id));
    if (comment === undefined || comment.repoKey !== ctx.repo().fullName.toLowerCase()) throw notFound();
    return comment;
  };
  const issuesJson = (repo: RepoState, numbers: number[]): unknown[] =>
    numbers.flatMap((number) => {
      const issue = repo.issues.get(number);
      return issue === undefined ? [] : [issueJson(store, repo, issue)];
    });
  const read = (handle: (ctx: RequestContext) => Reply) => installationRoute("issues", "read", handle);
  const write = (handle: (ctx: RequestContext) => Reply) => installationRoute("issues", "write", handle);
  return [
    ["GET /repos/{owner}/{repo}/issues", read((ctx) => listIssues(store, ctx))],
    ["POST /repos/{owner}/{repo}/issues", write((ctx) => createIssue(store, ctx))],
    ["GET /repos/{owner}/{repo}/issues/{issue_number}", read((ctx) => ok(issueJson(store, ctx.repo(), issueOf(ctx))))],
    ["PATCH /repos/{owner}/{repo}/issues/{issue_number}", write((ctx) => updateIssue(store, ctx, issueOf(ctx)))],
    ["GET /repos/{owner}/{repo}/issues/{issue_number}/sub_issues", read((ctx) => page(api(), ctx, issuesJson(ctx.repo(), issueOf(ctx).subIssues)))],
    ["POST /repos/{owner}/{repo}/issues/{issue_number}/sub_issues", write((ctx) => addSubIssue(store, ctx, issueOf(ctx)))],
    [
      "GET /repos/{owner}/{repo}/issues/{issue_number}/dependencies/blocked_by",
      read((ctx) => page(api(), ctx, issuesJson(ctx.repo(), issueOf(ctx).blockedBy))),
    ],

    ["GET /repos/{owner}/{repo}/issues/{issue_number}/comments", read((ctx) => listComments(store, ctx, issueOf(ctx)))],
    ["POST /repos/{owner}/{repo}/issues/{issue_number}/comments", write((ctx) => createComment(store, ctx, issueOf(ctx)))],
    ["GET /repos/{owner}/{repo}/issues/comments/{comment_id}", read((ctx) => ok(commentJson(store, ctx.repo(), commentOf(ctx))))],
    ["PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}", write((ctx) => updateComment(store, ctx, commentOf(ctx)))],
    ["DELETE /repos/{owner}/{repo}/issues/comments/{comment_id}", write((ctx) => deleteComment(store, ctx.repo(), commentOf(ctx)))],

    ["GET /repos/{owner}/{repo}/issues/{issue_number}/reactions", read((ctx) => listReactions(store, ctx, issueOf(ctx).reactions))],
    ["POST /repos/{owner}/{repo}/issues/{issue_number}/reactions", write((ctx) => react(store, ctx, issueOf(ctx).reactions))],
    ["DELETE /repos/{owner}/{repo}/issues/{issue_number}/reactions/{reaction_id}", write((ctx) => unreact(ctx, issueOf(ctx).reactions))],
    ["GET /repos/{owner}/{repo}/issues/comments/{comment_id}/reactions", read((ctx) => listReactions(store, ctx, commentOf(ctx).reactions))],
    ["POST /repos/{owner}/{repo}/issues/comments/{comment_id}/reactions", write((ctx) => react(store, ctx, commentOf(ctx).reactions))],
    ["DELETE /repos/{owner}/{repo}/issues/comments/{comment_id}/reactions/{reaction_id}", write((ctx) => unreact(ctx, commentOf(ctx).reactions))],

    ["GET /repos/{owner}/{repo}/issues/{issue_number}/labels", read((ctx) => page(api(), ctx, issueLabelsJson(store, ctx.repo(), issueOf(ctx))))],
    ["POST /repos/{owner}/{repo}/issues/{issue_number}/labels", write((ctx) => addLabels(store, ctx, issueOf(ctx), false))],
    ["PUT /repos/{owner}/{repo}/issues/{issue_number}/labels", write((ctx) => addLabels(store, ctx, issueOf(ctx), true))],
    ["DELETE /repos/{owner}/{repo}/issues/{issue_number}/labels", write((ctx) => removeAllLabels(issueOf(ctx)))],
    ["DELETE /repos/{owner}/{repo}/issues/{issue_number}/labels/{name}", write((ctx) => removeLabel(store, ctx, issueOf(ctx)))],
  ];
}

/** Who a request acts as: the App's bot for installation tokens. */
export function actor(store: EmulatorStore, ctx: RequestContext): UserState {
  if (ctx.token === undefined) throw new HttpError(401, "Requires authentication");
  return store.bot;
}

/** Label names from a request's `labels`: strings or `{ name }` objects. */
function labelNames(value: unknown): string[] {
  if (!Array.isArray(value)) return [];
  return value.flatMap((item) => {
    if (typeof item === "string") return [item];
    const name = stringField(item, "name");
    return name === undefined ? [] : [name];
  });
}

function listIssues(store: EmulatorStore, ctx: RequestContext): Reply {
  const repo = ctx.repo();
  const state = ctx.query.state ?? "open";
  const wanted = (ctx.query.labels ?? "")
    .split(",")
    .map((label) => label.trim().toLowerCase())
    .filter((label) => label !== "");
  const since = ctx.query.since === undefined ? undefined : Date.parse(ctx.query.since);
  const creator = ctx.query.creator?.toLowerCase();
  const sortKey = ctx.query.sort ?? "created";
  const direction = ctx.query.direction === "asc" ? 1 : -1;
  const key = (issue: IssueRecord): number =>
    sortKey === "updated" ? Date.parse(issue.updatedAt) : sortKey === "comments" ? issue.commentIds.length : Date.parse(issue.createdAt);
  const issues = [...repo.issues.values()]
    .filter((issue) => state === "all" || issue.state === state)
    .filter((issue) => wanted.every((label) => issue.labels.some((name) => name.toLowerCase() === label)))
    .filter((issue) => since === undefined || Date.parse(issue.updatedAt) >= since)
    .filter((issue) => creator === undefined || issue.user.toLowerCase() === creator)
    .sort((a, b) => direction * (key(a) - key(b) || a.number - b.number));
  return page(
    store.hosts.api,
    ctx,
    issues.map((issue) => issueJson(store, repo, issue)),
  );
}

function createIssue(store: EmulatorStore, ctx: RequestContext): Reply {
  const repo = ctx.repo();
  const issue = store.createIssue(repo, {
    title: String(field(ctx.body, "title")),
    body: stringField(ctx.body, "body") ?? null,
    labels: labelNames(field(ctx.body, "labels")),
    user: actor(store, ctx).login,
    viaApp: ctx.token !== undefined,
  });
  return created(issueJson(store, repo, issue));
}

function updateIssue(store: EmulatorStore, ctx: RequestContext, issue: IssueRecord): Reply {
  const repo = ctx.repo();
  const body = ctx.body;
  const title = field(body, "title");
  if (typeof title === "string" || typeof title === "number") issue.title = String(title);
  if (isObject(body) && "body" in body) issue.body = stringField(body, "body") ?? null;
  const labels = field(body, "labels");
  if (Array.isArray(labels)) issue.labels = store.ensureLabels(repo, labelNames(labels));
  const state = field(body, "state");
  const reason = stringField(body, "state_reason");
  if (state === "closed" || state === "open") {
    if (state !== issue.state) store.changeState(issue, state, reason ?? (state === "closed" ? "completed" : "reopened"), actor(store, ctx).login);
  } else if (reason !== undefined && issue.state === "closed") {
    issue.stateReason = reason;
  }
  issue.updatedAt = timestamp();
  return ok(issueJson(store, repo, issue));
}

/** As GitHub: the sub-issue is named by its id (not its number), may have one parent, and the answer is the parent. */
function addSubIssue(store: EmulatorStore, ctx: RequestContext, parent: IssueRecord): Reply {
  const repo = ctx.repo();
  const documentation = "https://docs.github.com/rest/issues/sub-issues#add-sub-issue";
  const id = field(ctx.body, "sub_issue_id");
  const sub = [...repo.issues.values()].find((issue) => issue.id === id);
  if (sub === undefined) return { status: 404, body: { message: "Not Found", documentation_url: documentation } };
  if ((sub.parent !== undefined && field(ctx.body, "replace_parent") !== true) || sub.number === parent.number) {
    const errors = [{ resource: "Issue", code: "custom", message: "Issue may not contain duplicate sub-issues or already have a parent" }];
    return { status: 422, body: { message: "Validation Failed", errors, documentation_url: documentation } };
  }
  if (sub.parent !== undefined) {
    const old = repo.issues.get(sub.parent);
    if (old !== undefined) old.subIssues = old.subIssues.filter((number) => number !== sub.number);
  }
  sub.parent = parent.number;
  parent.subIssues.push(sub.number);
  return created(issueJson(store, repo, parent));
}

function listComments(store: EmulatorStore, ctx: RequestContext, issue: IssueRecord): Reply {
  const repo = ctx.repo();
  const since = ctx.query.since === undefined ? undefined : Date.parse(ctx.query.since);
  const comments = store.commentsOf(issue).filter((comment) => since === undefined || Date.parse(comment.updatedAt) >= since);
  return page(
    store.hosts.api,
    ctx,
    comments.map((comment) => commentJson(store, repo, comment)),
  );
}

function createComment(store: EmulatorStore, ctx: RequestContext, issue: IssueRecord): Reply {
  const repo = ctx.repo();
  const comment = store.createComment(repo, issue, { body: String(field(ctx.body, "body")), user: actor(store, ctx).login, viaApp: ctx.token !== undefined });
  const json = commentJson(store, repo, comment);
  return created(json, json.url);
}

function updateComment(store: EmulatorStore, ctx: RequestContext, comment: CommentRecord): Reply {
  comment.body = String(field(ctx.body, "body"));
  comment.updatedAt = timestamp();
  return ok(commentJson(store, ctx.repo(), comment));
}

function deleteComment(store: EmulatorStore, repo: RepoState, comment: CommentRecord): Reply {
  store.comments.delete(comment.id);
  const issue = repo.issues.get(comment.issueNumber);
  if (issue !== undefined) issue.commentIds = issue.commentIds.filter((id) => id !== comment.id);
  return { status: 204 };
}

function listReactions(store: EmulatorStore, ctx: RequestContext, reactions: ReactionState[]): Reply {
  const content = ctx.query.content;
  return page(
    store.hosts.api,
    ctx,
    reactions.filter((reaction) => content === undefined || reaction.content === content).map((reaction) => reactionJson(store, reaction)),
  );
}

/** A reaction once per user and content: reacting again answers the existing one with 200. */
function react(store: EmulatorStore, ctx: RequestContext, reactions: ReactionState[]): Reply {
  const content = String(field(ctx.body, "content"));
  const user = actor(store, ctx).login;
  const existing = reactions.find((reaction) => reaction.user === user && reaction.content === content);
  if (existing !== undefined) return ok(reactionJson(store, existing));
  const reaction: ReactionState = { id: store.nextId("reaction"), user, content, createdAt: timestamp() };
  reactions.push(reaction);
  return created(reactionJson(store, reaction));
}

function unreact(ctx: RequestContext, reactions: ReactionState[]): Reply {
  const index = reactions.findIndex((reaction) => reaction.id === Number(ctx.params.reaction_id));
  if (index < 0) throw notFound();
  reactions.splice(index, 1);
  return { status: 204 };
}

function addLabels(store: EmulatorStore, ctx: RequestContext, issue: IssueRecord, replace: boolean): Reply {
  const repo = ctx.repo();
  const names = store.ensureLabels(repo, labelNames(field(ctx.body, "labels")));
  if (replace) issue.labels = names;
  else for (const name of names) if (!issue.labels.some((label) => label.toLowerCase() === name.toLowerCase())) issue.labels.push(name);
  issue.updatedAt = timestamp();
  return ok(issueLabelsJson(store, repo, issue));
}

function removeAllLabels(issue: IssueRecord): Reply {
  issue.labels = [];
  issue.updatedAt = timestamp();
  return { status: 204 };
}

function removeLabel(store: EmulatorStore, ctx: RequestContext, issue: IssueRecord): Reply {
  const name = (ctx.params.name ?? "").toLowerCase();
  const index = issue.labels.findIndex((label) => label.toLowerCase() === name);
  if (index < 0) throw new HttpError(404, "Label does not exist");
  issue.labels.splice(index, 1);
  issue.updatedAt = timestamp();
  return ok(issueLabelsJson(store, ctx.repo(), issue));
}
