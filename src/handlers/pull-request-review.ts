import type { Context } from "probot";
import type { Coordinator } from "../dispatch/coordinator.js";
import { handleReview } from "../dispatch/intake.js";
import { reviewIntent } from "../dispatch/intents.js";

/** `pull_request_review.submitted`: changes requested (or `/afk fix`) on afk's pull request → rework. */
export function onPullRequestReviewSubmitted(coordinator: Coordinator) {
  return async (context: Context<"pull_request_review.submitted">): Promise<void> => {
    const intent = reviewIntent(context.payload, context.id);
    if (intent === null) return;
    coordinator.background("review intake", () => handleReview(coordinator, context.octokit, intent), intent.repo.installationId);
  };
}
