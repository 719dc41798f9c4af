import { branchSha, diffHunk, fileAt } from "./git-store.js";
import { created, HttpError, installationRoute, notFound, ok, page, type Reply, type RequestContext, type RouteTable } from "./http.js";
import { actor } from "./issues.js";
import type { ReviewCommentJson, ReviewJson } from "./json.js";
import { pullJson, reviewCommentJson, reviewJson } from "./shapes.js";
import type { EmulatorStore, PullRecord, RepoState, ReviewCommentRecord, ReviewRecord } from "./store.js";
import type { PullSummary, ReviewInput } from "./types.js";
import { field, nodeId, stringField, timestamp } from "./util.js";

/**
 * Pull requests (each also an issue of the same number), review requests, reviews and their line
 * comments. A pull request follows its head branch while open, so a push shows up as its new head.
 */
export function pullRoutes(store: EmulatorStore): RouteTable {
  const api = (): string => store.hosts.api;
  const pullOf = (ctx: RequestContext): PullRecord => {
    const pull = ctx.repo().pulls.get(Number(ctx.params.pull_number));
    if (pull === undefined) throw notFound();
    return pull;
  };
  const reviewOf = (ctx: RequestContext): ReviewRecord => {
    const pull = pullOf(ctx);
    const review = ctx.repo().reviews.get(Number(ctx.params.review_id));
    if (review === undefined || review.pullNumber !== pull.number) throw notFound();
    return review;
  };
  const reviewsJson = (repo: RepoState, keep: (review: ReviewRecord) => boolean): ReviewJson[] =>
    [...repo.reviews.values()].filter(keep).map((review) => reviewJson(store, repo, review));
  const commentsJson = (repo: RepoState, comments: ReviewCommentRecord[]): ReviewCommentJson[] =>
    comments.map((comment) => reviewCommentJson(store, repo, comment));
  const read = (handle: (ctx: RequestContext) => Reply) => installationRoute("pull_requests", "read", handle);
  const write = (handle: (ctx: RequestContext) => Reply) => installationRoute("pull_requests", "write", handle);
  return [
    ["GET /repos/{owner}/{repo}/pulls", read((ctx) => listPulls(store, ctx))],
    ["POST /repos/{owner}/{repo}/pulls", write((ctx) => createPull(store, ctx))],
    ["GET /repos/{owner}/{repo}/pulls/{pull_number}", read((ctx) => ok(pullJson(store, ctx.repo(), pullOf(ctx), "full")))],
    ["PATCH /repos/{owner}/{repo}/pulls/{pull_number}", write((ctx) => updatePull(store, ctx, pullOf(ctx)))],
    ["POST /repos/{owner}/{repo}/pulls/{pull_number}/requested_reviewers", write((ctx) => requestReviewers(store, ctx, pullOf(ctx)))],
    [
      "GET /repos/{owner}/{repo}/pulls/{pull_number}/reviews",
      read((ctx) =>
        page(
          api(),
          ctx,
          reviewsJson(ctx.repo(), (r) => r.pullNumber === pullOf(ctx).number),
        ),
      ),
    ],
    ["GET /repos/{owner}/{repo}/pulls/{pull_number}/reviews/{review_id}", read((ctx) => ok(reviewJson(store, ctx.repo(), reviewOf(ctx))))],
    [
      "GET /repos/{owner}/{repo}/pulls/{pull_number}/reviews/{review_id}/comments",
      read((ctx) => {
        const review = reviewOf(ctx);
        return page(
          api(),
          ctx,
          commentsJson(
            ctx.repo(),
            [...ctx.repo().reviewComments.values()].filter((comment) => comment.reviewId === review.id),
          ),
        );
      }),
    ],
    [
      "GET /repos/{owner}/{repo}/pulls/{pull_number}/comments",
      read((ctx) => page(api(), ctx, commentsJson(ctx.repo(), listedReviewComments(ctx, pullOf(ctx))))),
    ],
    ["POST /repos/{owner}/{repo}/pulls/{pull_number}/comments/{comment_id}/replies", write((ctx) => replyToReviewComment(store, ctx, pullOf(ctx)))],
  ];
}

function listPulls(store: EmulatorStore, ctx: RequestContext): Reply {
  const repo = ctx.repo();
  const state = ctx.query.state ?? "open";
  const head = ctx.query.head?.toLowerCase();
  const pulls = [...repo.pulls.values()].filter(
    (pull) => (state === "all" || pull.state === state) && (head === undefined || `${repo.owner.login}:${pull.head}`.toLowerCase() === head),
  );
  return page(
    store.hosts.api,
    ctx,
    pulls.map((pull) => pullJson(store, repo, pull, "simple")),
  );
}

function createPull(store: EmulatorStore, ctx: RequestContext): Reply {
  const repo = ctx.repo();
  const head = stringField(ctx.body, "head") ?? "";
  const base = stringField(ctx.body, "base") ?? "";
  const headSha = branchSha(repo, head.includes(":") ? (head.split(":")[1] ?? "") : head);
  const baseSha = branchSha(repo, base);
  const invalid = (name: string): HttpError => new HttpError(422, "Validation Failed", { errors: [{ resource: "PullRequest", field: name, code: "invalid" }] });
  if (headSha === undefined) throw invalid("head");
  if (baseSha === undefined) throw invalid("base");
  if ([...repo.pulls.values()].some((pull) => pull.state === "open" && pull.head === head)) {
    const message = `A pull request already exists for ${repo.owner.login}:${head}.`;
    throw new HttpError(422, "Validation Failed", { errors: [{ resource: "PullRequest", code: "custom", message }] });
  }
  const title = String(field(ctx.body, "title") ?? "");
  const body = stringField(ctx.body, "body") ?? "";
  const user = actor(store, ctx);
  const pull = openPull(store, repo, { title, body, head, headSha, base, baseSha, draft: field(ctx.body, "draft") === true, user: user.login });
  pull.maintainerCanModify = field(ctx.body, "maintainer_can_modify") === true;
  const json = pullJson(store, repo, pull, "full");
  return created(json, String(json.url));
}

/** Opens a pull request, and the issue of the same number every pull request is. */
export function openPull(
  store: EmulatorStore,
  repo: RepoState,
  input: { title: string; body: string; head: string; headSha: string; base: string; baseSha: string; draft: boolean; user: string; number?: number },
): PullRecord {
  const asIssue = store.createIssue(repo, {
    title: input.title,
    body: input.body,
    labels: [],
    user: input.user,
    viaApp: true,
    ...(input.number === undefined ? {} : { number: input.number }),
  });
  asIssue.pullRequest = true;
  const now = timestamp();
  const pull: PullRecord = {
    id: store.nextId("issue"),
    number: asIssue.number,
    title: input.title,
    body: input.body,
    head: input.head,
    headSha: input.headSha,
    base: input.base,
    baseSha: input.baseSha,
    draft: input.draft,
    state: "open",
    closedAt: null,
    merged: false,
    mergedAt: null,
    mergedBy: null,
    user: store.userByLogin(input.user),
    maintainerCanModify: false,
    requestedReviewers: [],
    createdAt: now,
    updatedAt: now,
  };
  repo.pulls.set(pull.number, pull);
  return pull;
}

function updatePull(store: EmulatorStore, ctx: RequestContext, pull: PullRecord): Reply {
  const title = stringField(ctx.body, "title");
  const body = stringField(ctx.body, "body");
  const state = stringField(ctx.body, "state");
  if (state === "open" && pull.merged) {
    const message = "state cannot be changed. The pull request cannot be reopened.";
    throw new HttpError(422, "Validation Failed", { errors: [{ resource: "PullRequest", code: "custom", field: "state", message }] });
  }
  if (title !== undefined) pull.title = title;
  if (body !== undefined) pull.body = body;
  pull.updatedAt = timestamp();
  if ((state === "open" || state === "closed") && state !== pull.state) {
    pull.state = state;
    pull.closedAt = state === "closed" ? pull.updatedAt : null;
  }
  return ok(pullJson(store, ctx.repo(), pull, "full"));
}

/** GitHub: a review request must name a collaborator, and never the pull request's author. */
function requestReviewers(store: EmulatorStore, ctx: RequestContext, pull: PullRecord): Reply {
  const repo = ctx.repo();
  const reviewers = field(ctx.body, "reviewers");
  for (const login of Array.isArray(reviewers) ? reviewers : []) {
    if (typeof login !== "string") continue;
    const user = store.users.get(login.toLowerCase());
    if (user === undefined || repo.roles.get(login.toLowerCase()) === undefined) {
      throw new HttpError(
        422,
        "Reviews may only be requested from collaborators. One or more of the users or teams you specified is not a collaborator of the " +
          `${repo.fullName} repository.`,
      );
    }
    if (user === pull.user) throw new HttpError(422, "Review cannot be requested from pull request author.");
    if (!pull.requestedReviewers.includes(user)) pull.requestedReviewers.push(user);
  }
  return created(pullJson(store, repo, pull, "simple"));
}

/** GitHub: `direction` is ignored without `sort`; with `sort` it defaults to desc. */
function listedReviewComments(ctx: RequestContext, pull: PullRecord): ReviewCommentRecord[] {
  const since = ctx.query.since === undefined ? undefined : Date.parse(ctx.query.since);
  const key = (comment: ReviewCommentRecord): number => Date.parse(ctx.query.sort === "updated" ? comment.updatedAt : comment.createdAt);
  const direction = ctx.query.sort === undefined ? 1 : ctx.query.direction === "asc" ? 1 : -1;
  return [...ctx.repo().reviewComments.values()]
    .filter((comment) => comment.pullNumber === pull.number && (since === undefined || Date.parse(comment.updatedAt) >= since))
    .sort((a, b) => direction * (key(a) - key(b) || a.id - b.id));
}

/** A reply joins the thread of the comment's top-level comment, in a review of its own (as on GitHub). */
function replyToReviewComment(store: EmulatorStore, ctx: RequestContext, pull: PullRecord): Reply {
  const repo = ctx.repo();
  const parent = repo.reviewComments.get(Number(ctx.params.comment_id));
  if (parent === undefined || parent.pullNumber !== pull.number) throw notFound();
  const review = store.createReview(repo, pull, { user: actor(store, ctx), state: "COMMENTED", body: "", commitId: store.pullHeadSha(repo, pull) });
  const comment = store.createReviewComment(repo, review, {
    path: parent.path,
    line: parent.line,
    body: String(field(ctx.body, "body")),
    inReplyTo: parent.inReplyTo ?? parent.id,
    diffHunk: parent.diffHunk,
  });
  const json = reviewCommentJson(store, repo, comment);
  return created(json, json.url);
}

// ---------------------------------------------------------------------------
// Seeding and inspection

/**
 * A review submitted on a pull request's current head, with optional line comments. A reviewer
 * login the emulator has not seen is added as a User; approving or requesting changes on one's own
 * pull request throws, as GitHub refuses it.
 */
export function submitReview(
  store: EmulatorStore,
  repo: RepoState,
  pullNumber: number,
  input: ReviewInput & { id?: number },
): { review: ReviewJson; comments: ReviewCommentJson[] } {
  const pull = store.pull(repo, pullNumber);
  const user = store.addUser(input.user);
  if (user === pull.user && input.state !== "COMMENTED") {
    throw new Error(`submitReview: ${user.login} cannot ${input.state === "APPROVED" ? "approve" : "request changes on"} their own pull request`);
  }
  const headSha = store.pullHeadSha(repo, pull);
  for (const comment of input.comments ?? []) {
    if (fileAt(repo, headSha, comment.path) === undefined) throw new Error(`submitReview: ${comment.path} does not exist at ${headSha}`);
  }
  const review = store.createReview(repo, pull, {
    user,
    state: input.state,
    body: input.body ?? "",
    commitId: headSha,
    ...(input.id === undefined ? {} : { id: input.id }),
  });
  const comments = (input.comments ?? []).map((comment) => {
    const hunk = diffHunk(repo, pull.baseSha, headSha, comment.path, comment.line);
    const record = store.createReviewComment(repo, review, {
      path: comment.path,
      line: comment.line,
      body: comment.body,
      inReplyTo: undefined,
      diffHunk: hunk,
    });
    return reviewCommentJson(store, repo, record);
  });
  return { review: reviewJson(store, repo, review), comments };
}

/** Merges an open pull request as `mergedBy` would on GitHub (closed, merged, merged_by, merged_at). */
export function mergePull(store: EmulatorStore, repo: RepoState, number: number, mergedBy: string): void {
  const pull = store.pull(repo, number);
  if (pull.state !== "open") throw new Error(`GitHub emulator: pull request #${number} in ${repo.fullName} is not open`);
  pull.headSha = store.pullHeadSha(repo, pull);
  const now = timestamp();
  pull.state = "closed";
  pull.merged = true;
  pull.mergedAt = now;
  pull.mergedBy = store.addUser(mergedBy);
  pull.closedAt = now;
  pull.updatedAt = now;
}

/** A pull request as the emulator's `pulls()` reports it to a test. */
export function pullSummary(store: EmulatorStore, repo: RepoState, pull: PullRecord): PullSummary {
  return {
    number: pull.number,
    nodeId: nodeId("PR", pull.id),
    title: pull.title,
    body: pull.body,
    head: pull.head,
    headSha: store.pullHeadSha(repo, pull),
    base: pull.base,
    draft: pull.draft,
    state: pull.state,
    merged: pull.merged,
    user: pull.user.login,
    requestedReviewers: pull.requestedReviewers.map((user) => user.login),
  };
}
