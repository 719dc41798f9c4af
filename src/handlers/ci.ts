import type { Context } from "probot";
import type { Coordinator } from "../dispatch/coordinator.js";
import { handleCiChange } from "../dispatch/intake.js";
import { ciIntent } from "../dispatch/intents.js";

/** `check_suite.completed`: a CI suite (any app's) finished on a commit. */
export function onCheckSuiteCompleted(coordinator: Coordinator) {
  return async (context: Context<"check_suite.completed">): Promise<void> => {
    const suite = context.payload.check_suite;
    const intent = ciIntent(
      context.payload,
      {
        sha: suite.head_sha,
        branches: [suite.head_branch, ...suite.pull_requests.map((pull) => pull.head.ref)],
        message: suite.head_commit.message,
        app: suite.app.slug,
      },
      context.id,
    );
    if (intent === null) return;
    coordinator.background("CI suite completed", () => handleCiChange(coordinator, context.octokit, intent), intent.repo.installationId);
  };
}

/**
 * `check_run.completed`: one check (any app's) finished on a commit. Its payload has no commit
 * message, so a check on the default branch (direct mode) is seen through its suite's completion.
 */
export function onCheckRunCompleted(coordinator: Coordinator) {
  return async (context: Context<"check_run.completed">): Promise<void> => {
    const run = context.payload.check_run;
    const intent = ciIntent(
      context.payload,
      { sha: run.head_sha, branches: [run.check_suite.head_branch, ...run.pull_requests.map((pull) => pull.head.ref)], app: run.app?.slug },
      context.id,
    );
    if (intent === null) return;
    coordinator.background("CI check completed", () => handleCiChange(coordinator, context.octokit, intent), intent.repo.installationId);
  };
}

/** `status`: a commit status changed (CI services that report statuses, not check runs). */
export function onStatus(coordinator: Coordinator) {
  return async (context: Context<"status">): Promise<void> => {
    if (context.payload.state === "pending") return;
    const intent = ciIntent(
      context.payload,
      { sha: context.payload.sha, branches: context.payload.branches.map((branch) => branch.name), message: context.payload.commit.commit.message },
      context.id,
    );
    if (intent === null) return;
    coordinator.background("commit status", () => handleCiChange(coordinator, context.octokit, intent), intent.repo.installationId);
  };
}
