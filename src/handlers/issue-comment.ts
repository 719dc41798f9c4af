import type { Context } from "probot";
import type { Coordinator } from "../dispatch/coordinator.js";
import { handleComment } from "../dispatch/commands.js";
import { commentIntent } from "../dispatch/intents.js";

/** `issue_comment.created`: hand `/afk` commands to intake and answer the webhook at once. */
export function onIssueCommentCreated(coordinator: Coordinator) {
  return async (context: Context<"issue_comment.created">): Promise<void> => {
    if (!/\/afk/i.test(context.payload.comment.body ?? "")) return;
    const intent = commentIntent(context.payload, context.id);
    if (intent === null) return;
    coordinator.background("command intake", () => handleComment(coordinator, context.octokit, intent), intent.repo.installationId);
  };
}
