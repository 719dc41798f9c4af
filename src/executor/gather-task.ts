import { readPlan } from "../github/comments.js";
import type { GitHub } from "../github/types.js";
import type { RunJob } from "../run-contract/executor.js";
import { describeFailingChecks, describeReviewRequest, readQuestion } from "./follow-up-context.js";
import type { TaskSpec } from "../run-contract/job-protocol.js";
import { renderPrompt } from "./render-prompt.js";
import { readRepoInstructions } from "./repo-instructions.js";

/** The issue's text for a prompt, read (as the trusted person saw it) before the task is gathered. */
export interface IssueSlots {
  repository: string;
  issue_number: string;
  issue_title: string;
  issue_body: string;
  discussion: string;
}

/** A job's task, or why there is none. */
export type GatheredTask = { kind: "task"; spec: TaskSpec } | { kind: "refused"; message: string };

/**
 * The task's text, once the worktree is there: the spec's slots, the repository's instructions when
 * the spec asks for them, and for an implementation the approved plan (or nothing) in its
 * `{{approved_plan}}` slot, before the closing instruction. `promptsDir` picks another prompt set
 * (see `renderPrompt`).
 */
export async function renderTask(spec: TaskSpec, worktreePath: string, promptsDir?: string): Promise<string> {
  const slots: Record<string, string> = { ...spec.slots };
  if (spec.repoInstructions) slots.repo_instructions = await readRepoInstructions(worktreePath);
  if (spec.prompt === "implement") slots.approved_plan = approvedPlanBlock(spec.approvedPlan);
  return renderPrompt(spec.prompt, slots, promptsDir);
}

/** The `{{approved_plan}}` slot: the plan a person approved, fenced as data, or nothing at all. */
export function approvedPlanBlock(plan: string | undefined): string {
  if (plan === undefined) return "";
  return `\nA person approved this plan for the issue; follow it unless the code shows it is wrong (then say why in your summary):\n\n<approved_plan>\n${plan}\n</approved_plan>\n`;
}

/** The task for the job's kind, gathered from GitHub before any clone; rendered once the worktree is there. */
export async function gatherTask(job: RunJob, octokit: GitHub, botLogin: string, issue: IssueSlots): Promise<GatheredTask> {
  const { config, context } = job;
  const onBranch = {
    repository: issue.repository,
    issue_number: issue.issue_number,
    issue_title: issue.issue_title,
    pull_number: String(context.pullRequest?.number ?? ""),
    branch: context.branch ?? "",
    test_command: config.test,
  };
  switch (job.kind) {
    case "implement": {
      const plan = context.planCommentId === undefined ? undefined : await readPlan(octokit, job.repo, context.planCommentId, botLogin);
      if (context.planCommentId !== undefined && plan === undefined)
        return {
          kind: "refused",
          message: "afk could not read back its approved plan (the comment was deleted or edited); comment `/afk plan` for a new one.",
        };
      return {
        kind: "task",
        spec: { prompt: "implement", slots: { ...issue }, repoInstructions: true, ...(plan === undefined ? {} : { approvedPlan: plan }) },
      };
    }
    case "fix-ci": {
      const head = context.ciHead;
      if (head === undefined) return { kind: "refused", message: "afk does not know which commit CI judged red; comment `/afk retry` to start over." };
      const checks = await describeFailingChecks(octokit, job.repo, head, botLogin.replace(/\[bot\]$/, ""));
      return {
        kind: "task",
        spec: {
          prompt: "fix-ci",
          slots: {
            ...onBranch,
            issue_body: issue.issue_body,
            head,
            attempt: String(context.attempt ?? 1),
            max_attempts: String(config.fix_forward.max_attempts),
            failing_checks: checks.text,
          },
          repoInstructions: true,
        },
      };
    }
    case "rework": {
      const pullNumber = context.pullRequest?.number;
      if (pullNumber === undefined) return { kind: "refused", message: "afk has no pull request to rework." };
      const review = await describeReviewRequest(octokit, job.repo, {
        pullNumber,
        reviewId: context.reviewId,
        commentId: context.commentId,
        trust: config.trusted,
        botLogin,
      });
      return {
        kind: "task",
        spec: {
          prompt: "address-review",
          slots: { ...onBranch, issue_body: issue.issue_body, cycle: String(context.attempt ?? 1), max_cycles: String(config.review.max_cycles), review },
          repoInstructions: true,
        },
      };
    }
    case "plan":
      return { kind: "task", spec: { prompt: "plan", slots: { ...issue, test_command: config.test }, repoInstructions: true } };
    case "ask": {
      const question = context.commentId === undefined ? undefined : await readQuestion(octokit, job.repo, context.commentId);
      if (question === undefined) return { kind: "refused", message: "afk could not read the question (the `/afk ask` comment was deleted or is empty)." };
      return {
        kind: "task",
        spec: {
          prompt: "ask",
          slots: {
            repository: issue.repository,
            issue_number: issue.issue_number,
            issue_title: issue.issue_title,
            asked_by: context.requestedBy ?? job.trigger.actor,
            question,
          },
          repoInstructions: false,
        },
      };
    }
  }
}
