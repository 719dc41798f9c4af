import type { Probot } from "probot";
import type { Coordinator } from "./dispatch/coordinator.js";
import { withTransientRetries } from "./github/transient.js";
import type { GitHub } from "./github/types.js";
import { onIssueCommentCreated } from "./handlers/issue-comment.js";
import { onIssueClosed, onIssueLabeled, onIssueUnlabeled } from "./handlers/issues.js";
import { onPullRequestClosed, onPullRequestSynchronize } from "./handlers/pull-request.js";
import { onCheckRunRequestedAction, onCheckRunRerequested } from "./handlers/check-run.js";
import { onCheckRunCompleted, onCheckSuiteCompleted, onStatus } from "./handlers/ci.js";
import { onPullRequestReviewSubmitted } from "./handlers/pull-request-review.js";

/** Maps each webhook event afk acts on to its handler. Handlers return before any slow work. */
export function registerRouter(app: Probot, coordinator: Coordinator): void {
  // The client a handler gets retries GitHub's transient failures request by request, as afk's own clients do.
  const guard = <C extends { octokit: GitHub }>(handler: (context: C) => Promise<void>) => (context: C) => {
    withTransientRetries(context.octokit, coordinator.retryPolicy);
    return handler(context);
  };
  app.on("issues.labeled", guard(onIssueLabeled(coordinator)));
  app.on("issues.unlabeled", guard(onIssueUnlabeled(coordinator)));
  app.on("issues.closed", guard(onIssueClosed(coordinator)));
  app.on("pull_request.closed", guard(onPullRequestClosed(coordinator)));
  app.on("pull_request.synchronize", guard(onPullRequestSynchronize(coordinator)));
  app.on("check_run.requested_action", guard(onCheckRunRequestedAction(coordinator)));
  app.on("check_run.rerequested", guard(onCheckRunRerequested(coordinator)));
  app.on("issue_comment.created", guard(onIssueCommentCreated(coordinator)));
  app.on("check_suite.completed", guard(onCheckSuiteCompleted(coordinator)));
  app.on("check_run.completed", guard(onCheckRunCompleted(coordinator)));
  app.on("status", guard(onStatus(coordinator)));
  app.on("pull_request_review.submitted", guard(onPullRequestReviewSubmitted(coordinator)));
}
