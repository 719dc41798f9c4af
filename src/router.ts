import type { Probot } from "probot";
import type { Coordinator } from "./dispatch/coordinator.js";
import { onIssueCommentCreated } from "./handlers/issue-comment.js";
import { onIssueClosed, onIssueLabeled, onIssueUnlabeled } from "./handlers/issues.js";

/** Maps each webhook event afk acts on to its handler. Handlers return before any slow work. */
export function registerRouter(app: Probot, coordinator: Coordinator): void {
  app.on("issues.labeled", onIssueLabeled(coordinator));
  app.on("issues.unlabeled", onIssueUnlabeled(coordinator));
  app.on("issues.closed", onIssueClosed(coordinator));
  app.on("issue_comment.created", onIssueCommentCreated(coordinator));
}
