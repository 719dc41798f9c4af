import type { Context } from "probot";
import type { Coordinator } from "../dispatch/coordinator.js";
import { handleCheckRunRequest } from "../dispatch/intake.js";
import { checkRunIntent } from "../dispatch/intents.js";

/** `check_run.requested_action`: the Retry or Stop button on afk's check run. */
export function onCheckRunRequestedAction(coordinator: Coordinator) {
  return async (context: Context<"check_run.requested_action">): Promise<void> => {
    const intent = checkRunIntent(context.payload, "requested_action", context.id);
    if (intent === null) return;
    coordinator.background("check run action", () => handleCheckRunRequest(coordinator, context.octokit, intent), intent.repo.installationId);
  };
}

/** `check_run.rerequested`: GitHub's "Re-run" on afk's check run retries the issue. */
export function onCheckRunRerequested(coordinator: Coordinator) {
  return async (context: Context<"check_run.rerequested">): Promise<void> => {
    const intent = checkRunIntent(context.payload, "rerequested", context.id);
    if (intent === null) return;
    coordinator.background("check run re-run", () => handleCheckRunRequest(coordinator, context.octokit, intent), intent.repo.installationId);
  };
}
