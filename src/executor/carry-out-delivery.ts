import type { Logger } from "probot";
import { closeSupersededPullRequest, openPullRequest } from "../github/pull-request.js";
import type { GitHub } from "../github/types.js";
import type { RunJob, RunOutcome, RunReporter } from "../run-contract/executor.js";
import { commitChange } from "./commit-change.js";
import type { DeliveryPlan, DeliveryStep, StepAnswer } from "./delivery-plan.js";
import type { Worktree } from "./workspace.js";

/** The I/O a delivery needs, bound to one run. */
export interface DeliveryIo {
  job: RunJob;
  octokit: GitHub;
  reporter: RunReporter;
  worktree: Worktree;
  /** Where the push goes (the repository's clone URL). */
  cloneUrl: string;
  /** A token that may write the repository's contents; asked for at the first push, never before. */
  pushToken(): Promise<string>;
  /** afk's bot: the commit's author, and the only author whose pull request afk closes as superseded. */
  botLogin: string;
  log: Logger;
}

/** Carries out a delivery plan's steps in order, answering each with what happened, and returns the run's outcome. */
export async function carryOutDelivery(plan: DeliveryPlan, io: DeliveryIo): Promise<RunOutcome> {
  let pushToken: string | undefined;
  const perform = async (step: DeliveryStep): Promise<StepAnswer> => {
    switch (step.kind) {
      case "commit": {
        const author = { name: io.botLogin, email: `${io.botLogin}@users.noreply.github.com` };
        const result = await commitChange(io.worktree, { ...step.commit, author });
        return { kind: "commit", result };
      }
      case "push": {
        pushToken ??= await io.pushToken();
        const result = await io.worktree.push({ remoteUrl: io.cloneUrl, auth: { token: pushToken }, branch: step.branch, signal: io.job.signal });
        return { kind: "push", result };
      }
      case "report-phase":
        await io.reporter.phase(step.phase);
        return { kind: "report-phase" };
      case "open-pull-request":
        return { kind: "open-pull-request", pullRequest: await openPullRequest(io.octokit, io.job.repo, step.pullRequest) };
      case "close-superseded":
        try {
          const { number, replacement } = step;
          await closeSupersededPullRequest(io.octokit, io.job.repo, { number, issue: io.job.issue, replacement, botLogin: io.botLogin });
        } catch (error) {
          io.log.warn({ err: error, runId: io.job.runId, pull: step.number }, "afk could not close the pull request its new run replaces");
        }
        return { kind: "close-superseded" };
    }
  };
  let next = plan.next();
  while (next.done !== true) next = plan.next(await perform(next.value));
  return next.value;
}
