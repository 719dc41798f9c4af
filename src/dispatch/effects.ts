import { fullName, errorStatus } from "../github/types.js";
import { markReadyForReview, requestReview } from "../github/pull-request.js";
import { cancelWorkflowRun } from "../github/workflow-runs.js";
import { decide, type Effect, type LabelRole, type Transition } from "../lifecycle/lifecycle.js";
import type { RunState } from "../lifecycle/run-state.js";
import { repoConfigSchema, type RepoConfig } from "../config/repo-config.js";
import { releaseLock } from "../lock/repo-lock.js";
import { publishCheckRun } from "../progress/check-run.js";
import { renderCheckRun } from "../progress/render-check-run.js";
import type { DeliveryContext } from "./delivery-context.js";
import type { EventFor, Lease, Moved, Runtime } from "./runtime.js";

/** The lifecycle's limits when `.github/afk.yml` is broken mid-run: the documented defaults. */
const FALLBACK_CONFIG: RepoConfig = repoConfigSchema.parse({ test: "true" });

/**
 * Moves an issue's run by one lifecycle event, in the issue's turn: reads the state from its progress
 * comment, lets `decide` choose, carries out what the state records (the check run), writes the new
 * state, then carries out the effects. `eventFor` sees the comment first and may return undefined when
 * the event is not about it. Across processes the lock and the state's run id decide.
 */
export function move(rt: Runtime, context: DeliveryContext, issue: number, eventFor: EventFor, options: { lease?: Lease } = {}): Promise<Moved | undefined> {
  return rt.turns.run(context.repo, issue, async () => {
    const comment = await context.runs.read(issue);
    const event = await eventFor(comment);
    if (event === undefined) return undefined;
    const before = comment?.kind === "state" ? comment.state : undefined;
    const config = await lifecyclePolicy(context);
    let transition: Transition;
    if (before !== undefined) transition = decide(before, event, config, context.now());
    else if (event.kind === "requested") transition = decide(undefined, event, config, context.now());
    else return undefined;
    const log = context.log.child({ repo: fullName(context.repo), issue, runId: transition.state.runId });
    if (transition.ignored !== undefined) log.debug({ event: event.kind, why: transition.ignored }, "afk: lifecycle event changed nothing");
    let state = transition.state;
    for (const effect of transition.before ?? []) state = await prepare(rt, context, state, effect);
    if (state !== before) {
      const written = await rt.tasks.retrying(() => context.runs.write(before, state, comment?.id));
      // Another process's comment won the race to be the issue's first: its state stands, this one's effects do not.
      if (written.state !== state) return { transition, written: false };
      const abort = await carryOut(rt, context, config, state, written.id, transition.effects, options.lease);
      return { transition: { ...transition, state }, written: true, ...(abort === undefined ? {} : { abort }) };
    }
    const abort = await carryOut(rt, context, config, state, comment?.id ?? 0, transition.effects, options.lease);
    return { transition, written: true, ...(abort === undefined ? {} : { abort }) };
  });
}

/** The repository's config for the lifecycle: `.github/afk.yml`, or its documented defaults while it is broken (a run already going must still end). */
export async function lifecyclePolicy(context: DeliveryContext): Promise<RepoConfig> {
  const read = await context.config();
  return read.kind === "ok" ? read.config : FALLBACK_CONFIG;
}

/** An effect whose result the state records; a failure is logged and the state written without it. */
async function prepare(rt: Runtime, context: DeliveryContext, state: RunState, effect: Effect): Promise<RunState> {
  if (effect.kind !== "publish-check-run") return state;
  try {
    const view = renderCheckRun(state, effect.evidence);
    const detailsUrl = state.repoUrl === undefined ? undefined : `${state.repoUrl}/issues/${state.issue}`;
    const checkRunId = await rt.tasks.retrying(() =>
      publishCheckRun(context.octokit, context.repo, { headSha: effect.head, view, ...(detailsUrl === undefined ? {} : { detailsUrl }) }),
    );
    return { ...state, checkRunId };
  } catch (error) {
    context.log.error({ err: error, repo: fullName(context.repo), issue: state.issue }, "afk could not publish its check run");
    return state;
  }
}

/**
 * Carries out a transition's effects in order. Each is tried on its own and repeated while GitHub
 * fails transiently (each is safe to repeat): one failing (GitHub down for a label) is logged and the
 * rest still happen, so the lock is always released.
 */
export async function carryOut(
  rt: Runtime,
  context: DeliveryContext,
  config: RepoConfig,
  state: RunState,
  commentId: number,
  effects: readonly Effect[],
  lease?: Lease,
): Promise<"stopping" | "stopped" | undefined> {
  let abort: "stopping" | "stopped" | undefined;
  for (const effect of effects) {
    try {
      const stopped = await rt.tasks.retrying(
        () => carryOutOne(rt, context, config, state, commentId, effect, lease),
        `carry out ${effect.kind} on ${fullName(context.repo)}#${state.issue}`,
      );
      if (stopped !== undefined) abort = stopped;
    } catch (error) {
      context.log.error({ err: error, repo: fullName(context.repo), issue: state.issue, effect: effect.kind }, "afk could not carry out a lifecycle step");
    }
  }
  return abort;
}

async function carryOutOne(
  rt: Runtime,
  context: DeliveryContext,
  config: RepoConfig,
  state: RunState,
  commentId: number,
  effect: Effect,
  lease: Lease | undefined,
): Promise<"stopping" | "stopped" | undefined> {
  const { octokit, repo } = context;
  const issue = { owner: repo.owner, repo: repo.repo, issue_number: state.issue };
  const labelName = (role: LabelRole) => config.labels[role];
  switch (effect.kind) {
    case "release-lock":
      // The supervisor knows the commit its lease last wrote: freed from there, without reading the lock first.
      await releaseLock(octokit, repo, state.runId, context.now(), lease?.holder.runId === state.runId ? lease.sha : undefined);
      context.log.info({ repo: fullName(repo), issue: state.issue, runId: state.runId, status: state.status }, "afk released the repository lock");
      break;
    case "enqueue":
      // The queue is the set of issues carrying the trigger label (afk's own label event is ignored as its echo).
      await octokit.rest.issues.addLabels({ ...issue, labels: [config.labels.trigger] });
      rt.dispatchLater(repo);
      break;
    case "dispatch":
      rt.dispatchLater(repo);
      break;
    case "react-on-issue":
      await octokit.rest.reactions.createForIssue({ ...issue, content: "eyes" });
      break;
    case "run-job":
      if (lease === undefined) throw new Error("a run-job effect without the lock it runs under");
      rt.runJob(context, state, commentId, lease);
      break;
    case "abort-run":
      return rt.abortRun(context, state, commentId, effect.reason);
    case "cancel-workflow-run": {
      const { runnerRepo, workflowRunId } = effect.remote;
      const result = await cancelWorkflowRun(context.services, runnerRepo, workflowRunId);
      context.log.info({ repo: fullName(repo), issue: state.issue, runnerRepo, workflowRunId, result }, "afk cancelled the run's workflow run");
      break;
    }
    case "mark-ready-for-review":
      if (state.pullRequest !== undefined) await markReadyForReview(octokit, repo, state.pullRequest);
      break;
    case "request-review":
      if (state.pullRequest !== undefined) {
        const review = await requestReview(octokit, repo, state.pullRequest.number, effect.reviewer);
        if (!review.requested) context.log.info({ repo: fullName(repo), issue: state.issue, reason: review.reason }, "afk could not request a review");
      }
      break;
    case "add-label":
      await octokit.rest.issues.addLabels({ ...issue, labels: [labelName(effect.label)] });
      break;
    case "remove-labels":
      for (const role of effect.labels) {
        // The trigger label is the queue: if another replica queued a follow-up meanwhile, it stays.
        if (role === "trigger" && (await queuedAgain(context, state))) continue;
        await removeLabel(context, state.issue, labelName(role));
      }
      break;
    case "close-issue": {
      const { data } = await octokit.rest.issues.get(issue);
      if (data.state === "open") await octokit.rest.issues.update({ ...issue, state: "closed", state_reason: "completed" });
      break;
    }
    case "comment": {
      const thread = effect.on === "pull-request" && state.pullRequest !== undefined ? state.pullRequest.number : state.issue;
      await octokit.rest.issues.createComment({ ...issue, issue_number: thread, body: effect.body });
      break;
    }
    case "report-to-parent":
      // After this turn: the parent's turn reads this issue as closed.
      rt.tasks.later("report a finished sub-issue to its parent", async () => void (await rt.subIssueFinished(context, effect.parent, state.issue)));
      break;
    case "read-ci":
      // A turn of its own, after this one: the state that waits on the head is written by then, so
      // whatever CI said before (its events were judged against the old state) is read and acted on.
      rt.tasks.later("read CI on the commit afk now waits on", async () => void (await rt.ciChanged(context, state.issue, effect.head)));
      break;
    case "recheck-ci":
      rt.recheckAt(repo, state.issue, effect.head, Date.parse(effect.at));
      break;
    case "publish-check-run":
      // Carried out before the state is written (see `move`).
      break;
  }
  return undefined;
}

/** Whether the issue's run was queued again after `state` was decided (by another process: this one serialises its turns). */
async function queuedAgain(context: DeliveryContext, state: RunState): Promise<boolean> {
  if (state.status === "queued") return false;
  const current = await context.runs.state(state.issue, { fresh: true });
  return current?.status === "queued";
}

/** Removes a label from an issue; one already gone is fine. */
export async function removeLabel(context: DeliveryContext, issue: number, name: string): Promise<void> {
  try {
    await context.octokit.rest.issues.removeLabel({ owner: context.repo.owner, repo: context.repo.repo, issue_number: issue, name });
  } catch (error) {
    if (errorStatus(error) !== 404) throw error;
  }
}
