import { installationMissingPermissions } from "../github/app-permissions.js";
import { fullName, type Actor } from "../github/types.js";
import { isActive, type Notice, type ProgressComment, type RunState } from "../lifecycle/run-state.js";
import type { RequestVerdict } from "../lifecycle/lifecycle.js";
import { NOTICES, type Trigger } from "../lifecycle/transitions.js";
import type { Job } from "../run-contract/job.js";
import type { DeliveryContext } from "./delivery-context.js";
import { newRunId } from "./run-id.js";
import type { Runtime } from "./runtime.js";

/** What a request to run asks for beyond "implement the issue". */
export interface RunRequest {
  issue: number;
  actor: Actor;
  trigger: Trigger;
  /** Put 👀 on the issue (a label request; a command's comment gets its own reaction). */
  react: boolean;
  job?: Job;
  followUp?: RunState["followUp"];
}

/**
 * A request to run, through the gate every request passes once intake matched the allowlist: trust,
 * kill switch, repository config, the installation's permissions. The lifecycle decides what comes of
 * it: a refusal written to the progress comment (or, while a run is active there, a reply), or a
 * queued run and a dispatch.
 */
export async function requestRun(rt: Runtime, context: DeliveryContext, request: RunRequest): Promise<"queued" | "refused" | "duplicate" | "active"> {
  let result: "queued" | "refused" | "duplicate" | "active" = "duplicate";
  const moved = await rt.move(context, request.issue, async (comment) => {
    const verdict = await judge(context, request, comment);
    if (verdict.kind === "refused") {
      context.log.info({ repo: fullName(context.repo), issue: request.issue, notice: verdict.notice.kind }, "afk refused a request");
    } else if (comment?.kind === "corrupt") {
      context.log.warn({ repo: fullName(context.repo), issue: request.issue, reason: comment.reason }, "afk progress marker is corrupt; starting over");
    }
    const earlier = comment?.kind === "state" ? comment.state : undefined;
    result =
      earlier?.deliveries.includes(request.trigger.deliveryId) === true
        ? "duplicate"
        : verdict.kind === "refused"
          ? "refused"
          : earlier !== undefined && isActive(earlier)
            ? "active"
            : "queued";
    // With `plan_approval`, an implementation starts as a plan a person approves.
    const config = await context.config();
    const job = request.job ?? (config.kind === "ok" && config.config.plan_approval ? "plan" : "implement");
    return {
      kind: "requested",
      runId: newRunId(),
      issueNumber: request.issue,
      trigger: request.trigger,
      job,
      ...(request.followUp === undefined ? {} : { followUp: request.followUp }),
      verdict,
    };
  });
  if (moved?.written === false) result = "duplicate";
  context.log.info({ repo: fullName(context.repo), issue: request.issue, result }, "afk run requested");
  return result;
}

async function judge(context: DeliveryContext, request: RunRequest, comment: ProgressComment | undefined): Promise<RequestVerdict> {
  const refused = (notice: Notice): RequestVerdict => ({ kind: "refused", notice });
  const trust = await context.trust(request.actor);
  if (!trust.trusted) return refused(NOTICES.untrusted(trust.reason));
  if (context.services.settings.killSwitch) return refused(NOTICES.paused());
  const config = await context.config();
  switch (config.kind) {
    case "missing":
      return refused(NOTICES.notConfigured());
    case "invalid":
      return refused(NOTICES.configInvalid(config.problems));
    case "unreadable":
      return refused(NOTICES.configUnreadable(config.message));
    case "ok":
      break;
  }
  // An installation can lack a permission the App asks for (an owner must accept new ones); without it the lock cannot even be taken.
  const missing = await installationMissingPermissions(await context.services.appOctokit(), context.repo);
  if (missing.length > 0) return refused(NOTICES.missingPermissions(fullName(context.repo), missing));
  const lock = await context.lock();
  const queuedBehind = lock.status === "held" && !lock.expired && lock.holder.issue !== request.issue ? lock.holder.issue : undefined;
  return {
    kind: "accepted",
    react: request.react,
    ...(queuedBehind === undefined ? {} : { queuedBehind }),
    ...(comment?.kind === "corrupt" ? { corrupt: comment.reason } : {}),
  };
}

/**
 * Stops the queued, running or waiting work on an issue; `why` says what asked for it (default:
 * "Stopped by @actor."). Returns what happened, for the reply.
 */
export async function stopRun(rt: Runtime, context: DeliveryContext, issue: number, actor: Actor, why?: string): Promise<"stopped" | "stopping" | "nothing"> {
  const reason = why ?? `Stopped by @${actor.login}.`;
  const moved = await rt.move(context, issue, async (comment) => (comment?.kind === "state" ? { kind: "stop", by: actor.login, reason } : undefined));
  if (moved === undefined || moved.transition.ignored !== undefined) return "nothing";
  return moved.abort ?? "stopped";
}

/**
 * afk's pull request for an issue was closed. Only a pull request the issue's own state names is
 * acted on. Merged: the run is done, afk's labels are cleaned and the issue is closed if GitHub has
 * not already closed it. Unmerged: the run ends. Then the repository's queue moves on.
 */
export async function pullRequestClosed(
  rt: Runtime,
  context: DeliveryContext,
  issue: number,
  pull: { number: number; merged: boolean },
  by: Actor,
): Promise<"done" | "ended" | "not-ours"> {
  const moved = await rt.move(context, issue, async (comment) =>
    comment?.kind === "state" ? { kind: "pull-request-closed", number: pull.number, merged: pull.merged, by: by.login } : undefined,
  );
  if (moved === undefined || moved.transition.ignored !== undefined) return "not-ours";
  return pull.merged ? "done" : "ended";
}
