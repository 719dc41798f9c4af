import type { Probot } from "probot";
import type { Coordinator } from "./dispatch/coordinator.js";
import { onIssueCommentCreated } from "./handlers/issue-comment.js";
import { onIssueClosed, onIssueLabeled, onIssueUnlabeled } from "./handlers/issues.js";
import { onPullRequestClosed, onPullRequestSynchronize } from "./handlers/pull-request.js";
import { onCheckRunRequestedAction, onCheckRunRerequested } from "./handlers/check-run.js";
import { onCheckRunCompleted, onCheckSuiteCompleted, onStatus } from "./handlers/ci.js";
import { onPullRequestReviewSubmitted } from "./handlers/pull-request-review.js";

/** Maps each webhook event afk acts on to its handler. Handlers return before any slow work. */
export function registerRouter(app: Probot, coordinator: Coordinator): void {
  app.on("issues.labeled", onIssueLabeled(coordinator));
  app.on("issues.unlabeled", onIssueUnlabeled(coordinator));
  app.on("issues.closed", onIssueClosed(coordinator));
  app.on("pull_request.closed", onPullRequestClosed(coordinator));
  app.on("pull_request.synchronize", onPullRequestSynchronize(coordinator));
  app.on("check_run.requested_action", onCheckRunRequestedAction(coordinator));
  app.on("check_run.rerequested", onCheckRunRerequested(coordinator));
  app.on("issue_comment.created", onIssueCommentCreated(coordinator));
  app.on("check_suite.completed", onCheckSuiteCompleted(coordinator));
  app.on("check_run.completed", onCheckRunCompleted(coordinator));
  app.on("status", onStatus(coordinator));
  app.on("pull_request_review.submitted", onPullRequestReviewSubmitted(coordinator));
}
