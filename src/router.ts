import type { Probot } from "probot";
import type { Coordinator } from "./dispatch/coordinator.js";
import type { GitHub } from "./github/types.js";
import { onIssueCommentCreated } from "./handlers/issue-comment.js";
import { onIssueClosed, onIssueLabeled, onIssueUnlabeled } from "./handlers/issues.js";
import { onPullRequestClosed, onPullRequestSynchronize } from "./handlers/pull-request.js";
import { onCheckRunRequestedAction, onCheckRunRerequested } from "./handlers/check-run.js";
import { onCheckRunCompleted, onCheckSuiteCompleted, onStatus } from "./handlers/ci.js";
import { onPullRequestReviewSubmitted } from "./handlers/pull-request-review.js";
import { instrumentOctokit } from "./observability/instrument-octokit.js";
import type { AfkMetrics } from "./observability/metrics.js";

/**
 * Maps each webhook event afk acts on to its handler. Handlers return before any slow work. With
 * `metrics`, every delivery is counted by event, action and outcome, and the handler's GitHub
 * client is counted like afk's own.
 */
export function registerRouter(app: Probot, coordinator: Coordinator, metrics?: AfkMetrics): void {
  const routed = new Set<string>();
  // The client a handler gets is counted like afk's own; its requests are retried by the Octokit Probot was given (`AfkOctokit`).
  const guard =
    <C extends { octokit: GitHub; name: string; payload: object }>(handler: (context: C) => Promise<void>) =>
    async (context: C) => {
      if (metrics !== undefined) instrumentOctokit(context.octokit, metrics);
      const action = actionOf(context.payload);
      try {
        await handler(context);
        metrics?.delivery(context.name, action, "handled");
      } catch (error) {
        metrics?.delivery(context.name, action, "failed");
        throw error;
      }
    };
  const on: typeof app.on = (event, callback) => {
    for (const name of Array.isArray(event) ? event : [event]) routed.add(name);
    app.on(event, callback);
  };
  on("issues.labeled", guard(onIssueLabeled(coordinator)));
  on("issues.unlabeled", guard(onIssueUnlabeled(coordinator)));
  on("issues.closed", guard(onIssueClosed(coordinator)));
  on("pull_request.closed", guard(onPullRequestClosed(coordinator)));
  on("pull_request.synchronize", guard(onPullRequestSynchronize(coordinator)));
  on("check_run.requested_action", guard(onCheckRunRequestedAction(coordinator)));
  on("check_run.rerequested", guard(onCheckRunRerequested(coordinator)));
  on("issue_comment.created", guard(onIssueCommentCreated(coordinator)));
  on("check_suite.completed", guard(onCheckSuiteCompleted(coordinator)));
  on("check_run.completed", guard(onCheckRunCompleted(coordinator)));
  on("status", guard(onStatus(coordinator)));
  on("pull_request_review.submitted", guard(onPullRequestReviewSubmitted(coordinator)));
  // Deliveries no handler above takes are counted as ignored (GitHub sends every event the App subscribes to).
  app.onAny(async (context) => {
    const action = actionOf(context.payload);
    if (!routed.has(context.name) && (action === undefined || !routed.has(`${context.name}.${action}`))) metrics?.delivery(context.name, action, "ignored");
  });
}

function actionOf(payload: object): string | undefined {
  return "action" in payload && typeof payload.action === "string" ? payload.action : undefined;
}
