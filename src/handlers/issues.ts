import type { Context } from "probot";
import type { Coordinator } from "../dispatch/coordinator.js";
import { handleLabel } from "../dispatch/intake.js";
import { labelIntent } from "../dispatch/intents.js";

/** `issues.labeled`: hand the label to intake and answer the webhook at once. */
export function onIssueLabeled(coordinator: Coordinator) {
  return async (context: Context<"issues.labeled">): Promise<void> => {
    const intent = labelIntent(context.payload, context.id);
    if (intent === null) return;
    coordinator.background("label intake", () => handleLabel(coordinator, context.octokit, intent));
  };
}
