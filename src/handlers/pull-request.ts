import type { Context } from "probot";
import type { Coordinator } from "../dispatch/coordinator.js";
import { handlePullRequestClosed } from "../dispatch/intake.js";
import { pullRequestClosedIntent } from "../dispatch/intents.js";

/** `pull_request.closed`: afk's pull request merged (the run is done) or closed (the run ends). */
export function onPullRequestClosed(coordinator: Coordinator) {
  return async (context: Context<"pull_request.closed">): Promise<void> => {
    const intent = pullRequestClosedIntent(context.payload, context.id);
    if (intent === null) return;
    coordinator.background("pull request closed", () => handlePullRequestClosed(coordinator, context.octokit, intent));
  };
}
