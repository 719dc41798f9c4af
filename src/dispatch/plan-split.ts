import { readPlan } from "../github/comments.js";
import { issueTextDigest } from "../github/issue-context.js";
import { fullName, type Actor } from "../github/types.js";
import { awaitsApproval, type Transition } from "../lifecycle/lifecycle.js";
import { triggerOf } from "../lifecycle/transitions.js";
import { planSteps, type PlanStep } from "../run-contract/plan.js";
import { inertText } from "../trust/inert-text.js";
import { sanitizeUntrustedText } from "../trust/sanitize-untrusted-text.js";
import type { DeliveryContext } from "./delivery-context.js";
import { newRunId } from "./run-id.js";
import type { Runtime } from "./runtime.js";

/** Who approved a plan as sub-issues, in which delivery. */
export interface SplitRequest {
  parent: number;
  approver: Actor;
  deliveryId: string;
  repoUrl: string;
}

/**
 * `/afk approve split`: the posted plan's `## Steps` become sub-issues, opened and queued in order
 * while the issue's state is read in its turn (so two approvals never split twice), and the issue
 * waits on them. Returns why nothing was approved, if nothing was.
 */
export async function approveAsSubIssues(rt: Runtime, context: DeliveryContext, request: SplitRequest): Promise<string | undefined> {
  let refusal: string | undefined;
  const moved = await rt.move(context, request.parent, async (comment) => {
    if (comment?.kind !== "state") return undefined;
    const state = comment.state;
    if (!awaitsApproval(state) || state.plan === undefined) return { kind: "approve", by: request.approver.login, subIssues: [] };
    const plan = await readPlan(context.octokit, context.repo, state.plan.commentId, await context.botLogin());
    const steps = plan === undefined ? [] : planSteps(plan);
    if (steps.length < 2) {
      refusal =
        plan === undefined
          ? "afk could not read back its plan (the comment was deleted or edited); comment `/afk plan` for a new one"
          : "the plan lists fewer than two steps under `## Steps`; `/afk approve` implements it as one";
      return undefined;
    }
    return { kind: "approve", by: request.approver.login, subIssues: await openSubIssues(rt, context, request, steps) };
  });
  return refusal ?? (moved === undefined ? "afk has no run on this issue" : moved.transition.ignored);
}

/**
 * Opens one issue per step of an approved plan, each a sub-issue of the parent on GitHub and
 * "Blocked by" the one before (so the queue takes them in order), and queues each as if the
 * approver had asked for it. The steps are model output: titles and details are sanitized and made
 * inert, and every issue says whose plan it comes from.
 */
async function openSubIssues(rt: Runtime, context: DeliveryContext, request: SplitRequest, steps: readonly PlanStep[]): Promise<number[]> {
  const { octokit, repo } = context;
  const numbers: number[] = [];
  const lock = await context.lock();
  const queuedBehind = lock.status === "held" && !lock.expired ? lock.holder.issue : undefined;
  for (const [index, step] of steps.entries()) {
    const previous = numbers.at(-1);
    const title = inertText(sanitizeUntrustedText(step.title).replace(/\s+/g, " ").trim()) || `Step ${index + 1} of #${request.parent}`;
    const body = [
      `Step ${index + 1} of ${steps.length} of #${request.parent}, from afk's plan approved by @${request.approver.login}.`,
      // afk's own "Blocked by" line orders the steps; one in the model's words would block on any issue it names.
      step.details.length > 0 ? inertText(sanitizeUntrustedText(step.details)).replace(/blocked(\s+)by/gi, "blocked\u200B$1by") : "",
      previous === undefined ? "" : `Blocked by #${previous}`,
    ]
      .filter((part) => part.length > 0)
      .join("\n\n");
    const { data: created } = await octokit.rest.issues.create({ owner: repo.owner, repo: repo.repo, title, body });
    numbers.push(created.number);
    try {
      await octokit.request("POST /repos/{owner}/{repo}/issues/{issue_number}/sub_issues", {
        owner: repo.owner,
        repo: repo.repo,
        issue_number: request.parent,
        sub_issue_id: created.id,
      });
    } catch (error) {
      // Sub-issues are GitHub's view of the link; afk's own order and parent live in the issues' bodies and states.
      context.log.warn({ err: error, repo: fullName(repo), parent: request.parent, issue: created.number }, "afk could not link a sub-issue to its parent");
    }
    const trigger = triggerOf(request.approver, "command", {
      deliveryId: `${request.deliveryId}:step-${index + 1}`,
      repoUrl: request.repoUrl,
      bodyDigest: issueTextDigest(created.title, created.body),
    });
    // A new issue has no progress comment: the step is queued as the approver's request, with nothing to read first.
    context.runs.assumeNone(created.number);
    await rt.move(context, created.number, async () => ({
      kind: "requested",
      runId: newRunId(),
      issueNumber: created.number,
      trigger,
      job: "implement",
      parent: request.parent,
      verdict: { kind: "accepted", react: false, ...(queuedBehind === undefined ? {} : { queuedBehind }) },
    }));
  }
  return numbers;
}

/** A sub-issue of `parent`'s plan finished (or was closed): the parent's run learns which of its sub-issues are still open. */
export async function subIssueFinished(rt: Runtime, context: DeliveryContext, parent: number, issue: number): Promise<Transition | undefined> {
  const { octokit, repo } = context;
  const moved = await rt.move(context, parent, async (comment) => {
    const state = comment?.kind === "state" ? comment.state : undefined;
    if (state?.split === undefined || !state.split.issues.includes(issue)) return undefined;
    const stillOpen: number[] = [];
    for (const number of state.split.issues) {
      const { data } = await octokit.rest.issues.get({ owner: repo.owner, repo: repo.repo, issue_number: number });
      if (data.state === "open") stillOpen.push(number);
    }
    return { kind: "sub-issue-closed", issue, stillOpen };
  });
  return moved?.transition;
}
