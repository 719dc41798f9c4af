import type { GitHub } from "../github/types.js";
import type { RunJob, RunOutcome } from "../run-contract/executor.js";
import { renderAnswerComment, renderPlanComment } from "./follow-up-context.js";
import { answerInWorktree, type AgentRunInput, type AnswerRunResult } from "./run-agent-in-worktree.js";
import type { Worktree } from "./workspace.js";

/** What a read-only job's session did (for its run log), when the agent started. */
export type AnswerSession = Extract<AnswerRunResult, { kind: "answered" }>;

/**
 * A plan or an answer: the agent looks read-only, afk proves nothing changed, then posts what it
 * found. `onSession` is told of the agent's session once it ended (not when the agent never started).
 */
export async function runReadOnlyJob(
  job: RunJob,
  octokit: GitHub,
  worktree: Worktree,
  input: AgentRunInput,
  onSession?: (session: AnswerSession) => void,
): Promise<RunOutcome> {
  const run = await answerInWorktree(input);
  if (run.kind === "not-started") return { status: "failed", retryable: run.retryable, message: run.reason };
  onSession?.(run);
  const { spend } = run;
  if (run.result.kind === "no-answer") return { status: "failed", retryable: run.result.retryable, message: run.result.message, spend };
  if (!(await worktree.isPristine())) {
    return {
      status: "failed",
      retryable: false,
      spend,
      message:
        "The read-only job left the checkout changed, which the sandbox should have made impossible; afk posted nothing. The operator should check that bubblewrap is in use.",
    };
  }
  const answer = run.result.text.trim().length > 0 ? run.result.text : "(the agent gave no text)";
  const requestedBy = job.context.requestedBy ?? job.trigger.actor;
  if (job.kind === "plan") {
    const { data } = await octokit.rest.issues.createComment({
      owner: job.repo.owner,
      repo: job.repo.repo,
      issue_number: job.issue,
      body: renderPlanComment({ issue: job.issue, plan: answer, requestedBy }),
    });
    return {
      status: "planned",
      planCommentId: data.id,
      spend,
      message: `The plan is posted (${data.html_url}); it waits for a trusted person's \`/afk approve\`.`,
    };
  }
  const { data } = await octokit.rest.issues.createComment({
    owner: job.repo.owner,
    repo: job.repo.repo,
    issue_number: job.issue,
    body: renderAnswerComment({ askedBy: requestedBy, answer, usd: spend.usd }),
  });
  return { status: "done", spend, message: `Answered @${requestedBy}'s question (${data.html_url}); the checkout was verified unchanged.` };
}
