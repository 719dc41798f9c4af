import type { RunJob, RunOutcome } from "../run-contract/executor.js";
import { knownModels, priceOf, type ModelPrice } from "./agent/model-pricing.js";

/**
 * What any executor checks before it spends anything on a job: afk has a model key, knows the
 * model's price (the budget is in dollars), and a follow-up has the branch (and, for a rework, the
 * pull request) it continues. Answers the run's outcome when the job cannot start, or the model's price.
 */
export function preflight(job: RunJob, apiKey: string | undefined): { refused: RunOutcome } | { price: ModelPrice } {
  if (apiKey === undefined || apiKey.trim() === "") {
    return {
      refused: {
        status: "failed",
        retryable: true,
        message: "ANTHROPIC_API_KEY is not set in this afk installation, so the agent cannot run. The operator must set it; then comment `/afk retry`.",
      },
    };
  }
  const price = priceOf(job.model);
  if (price === undefined) {
    return {
      refused: {
        status: "failed",
        retryable: false,
        message: `afk has no price for the model \`${job.model}\`, so it cannot hold the run to \`budget.max_usd\`. Use one of: ${knownModels().join(", ")} (\`model\` in .github/afk.yml or AFK_MODEL).`,
      },
    };
  }
  // A fix continues afk's branch (or, in direct mode, the default branch); a rework needs afk's pull request.
  if (isFollowUp(job) && (job.context.branch === undefined || (job.kind === "rework" && job.context.pullRequest === undefined))) {
    return {
      refused: {
        status: "failed",
        retryable: false,
        message: `afk has no branch${job.kind === "rework" ? " or pull request" : ""} to continue for this ${job.kind} job; comment \`/afk retry\` to start over.`,
      },
    };
  }
  return { price };
}

/** A job that continues afk's earlier work (fixing red CI, reworking after review) on its branch. */
export function isFollowUp(job: Pick<RunJob, "kind">): boolean {
  return job.kind === "fix-ci" || job.kind === "rework";
}
