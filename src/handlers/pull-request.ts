import type { Context } from "probot";
import type { Coordinator } from "../dispatch/coordinator.js";
import { handlePullRequestClosed, handlePullRequestPushed } from "../dispatch/intake.js";
import { pullRequestIntent } from "../dispatch/intents.js";

/** `pull_request.closed`: afk's pull request merged (the run is done) or closed (the run ends). */
export function onPullRequestClosed(coordinator: Coordinator) {
  return async (context: Context<"pull_request.closed">): Promise<void> => {
    const intent = pullRequestIntent(context.payload, context.id);
    if (intent === null) return;
    coordinator.background("pull request closed", () => handlePullRequestClosed(coordinator, context.octokit, intent), intent.repo.installationId);
  };
}

/** `pull_request.synchronize`: someone pushed to afk's branch; CI is awaited on their head from now on. */
export function onPullRequestSynchronize(coordinator: Coordinator) {
  return async (context: Context<"pull_request.synchronize">): Promise<void> => {
    const intent = pullRequestIntent(context.payload, context.id);
    if (intent === null) return;
    coordinator.background("pull request pushed", () => handlePullRequestPushed(coordinator, context.octokit, intent), intent.repo.installationId);
  };
}
