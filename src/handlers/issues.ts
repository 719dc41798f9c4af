import type { Context } from "probot";
import type { Coordinator } from "../dispatch/coordinator.js";
import { handleLabel, handleWithdrawal } from "../dispatch/intake.js";
import { issueIntent, labelIntent } from "../dispatch/intents.js";

/** `issues.labeled`: hand the label to intake and answer the webhook at once. */
export function onIssueLabeled(coordinator: Coordinator) {
  return async (context: Context<"issues.labeled">): Promise<void> => {
    const intent = labelIntent(context.payload, context.id);
    if (intent === null) return;
    coordinator.background("label intake", () => handleLabel(coordinator, context.octokit, intent), intent.repo.installationId);
  };
}

/** `issues.unlabeled`: removing the trigger label withdraws the issue from afk. */
export function onIssueUnlabeled(coordinator: Coordinator) {
  return async (context: Context<"issues.unlabeled">): Promise<void> => {
    const intent = labelIntent(context.payload, context.id);
    if (intent === null) return;
    coordinator.background("unlabel intake", () => handleWithdrawal(coordinator, context.octokit, intent), intent.repo.installationId);
  };
}

/** `issues.closed`: closing the issue ends afk's work on it. */
export function onIssueClosed(coordinator: Coordinator) {
  return async (context: Context<"issues.closed">): Promise<void> => {
    const intent = issueIntent(context.payload, context.id);
    if (intent === null) return;
    coordinator.background("close intake", () => handleWithdrawal(coordinator, context.octokit, intent), intent.repo.installationId);
  };
}
