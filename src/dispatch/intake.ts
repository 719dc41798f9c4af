import { parseCommands } from "../commands/parse-commands.js";
import { isRepositoryAllowed } from "../config/operator-settings.js";
import type { RepoConfigResult } from "../config/load-repo-config.js";
import { DEFAULT_LABELS } from "../config/repo-config.js";
import { issueTextDigest } from "../github/issue-context.js";
import { fullName, type GitHub, type RepoRef } from "../github/types.js";
import { isActive } from "../lifecycle/run-state.js";
import { triggerOf } from "../lifecycle/transitions.js";
import type { Coordinator } from "./coordinator.js";
import type { DeliveryContext } from "./delivery-context.js";
import type { CheckRunIntent, CiIntent, IssueIntent, LabelIntent, PullRequestIntent, ReviewIntent } from "./intents.js";
import { pullRequestClosed, requestRun, stopRun } from "./request-run.js";

/**
 * Turns each delivery's intent into lifecycle events: the one allowlist check, afk's own echoes
 * ignored, a context read once for the delivery. `/afk` commands are in `commands.ts`.
 */

/** The repository's trigger label: its config's, or afk's default while the config is unusable (so a refusal can say why). */
export function triggerLabel(config: RepoConfigResult): string {
  return config.kind === "ok" ? config.config.labels.trigger : DEFAULT_LABELS.trigger;
}

/** The one allowlist check of every delivery afk acts on; one outside it is only logged. Then the delivery's context. */
export function admit(coordinator: Coordinator, octokit: GitHub, intent: { repo: RepoRef; deliveryId: string }): DeliveryContext | undefined {
  if (isRepositoryAllowed(coordinator.settings, fullName(intent.repo))) return coordinator.deliveryContext(intent.repo, octokit);
  coordinator.log.info({ repo: fullName(intent.repo), deliveryId: intent.deliveryId }, "afk ignored an event: repository is not in AFK_ALLOWLIST");
  return undefined;
}

/** `issues.labeled`: the trigger label asks for a run. */
export async function handleLabel(coordinator: Coordinator, octokit: GitHub, intent: LabelIntent): Promise<void> {
  const context = admit(coordinator, octokit, intent);
  if (context === undefined) return;
  if (intent.label !== triggerLabel(await context.config()) || !intent.issue.open || intent.issue.isPullRequest) return;
  // afk adds the trigger label itself when `/afk run` queues an issue; that event is its own echo.
  if (intent.actor.login === (await context.botLogin())) return;
  await requestRun(coordinator, context, { issue: intent.issue.number, actor: intent.actor, trigger: triggerOf(intent.actor, "label", intent), react: true });
}

/**
 * `issues.unlabeled` and `issues.closed`: the trigger label removed from an issue, or the issue
 * closed, ends its queued, running or waiting work. Anyone GitHub lets change labels or close the
 * issue may do that: stopping is always safe. afk's own label removal when a run settles is its echo.
 */
export async function handleWithdrawal(coordinator: Coordinator, octokit: GitHub, intent: IssueIntent & { label?: string }): Promise<void> {
  const context = admit(coordinator, octokit, intent);
  if (context === undefined || intent.issue.isPullRequest) return;
  if (intent.actor.login === (await context.botLogin())) return;
  let why: string;
  if (intent.label === undefined) {
    why = `Stopped: @${intent.actor.login} closed the issue.`;
  } else {
    const trigger = triggerLabel(await context.config());
    if (intent.label !== trigger) return;
    why = `Stopped: @${intent.actor.login} removed the \`${trigger}\` label.`;
  }
  const state = intent.label === undefined ? await context.runs.state(intent.issue.number) : undefined;
  const log = coordinator.log.child({ repo: fullName(intent.repo), issue: intent.issue.number });
  if (state?.pullRequest !== undefined && state.status === "waiting") {
    // Merging afk's pull request closes the issue ("Closes #N") as the person who merged, and that
    // event may arrive before the pull request's own: a merge is done, never "stopped".
    const { data: pull } = await octokit.rest.pulls.get({ owner: intent.repo.owner, repo: intent.repo.repo, pull_number: state.pullRequest.number });
    if (pull.merged) {
      const by = { login: pull.merged_by?.login ?? intent.actor.login, type: pull.merged_by?.type ?? intent.actor.type };
      const outcome = await pullRequestClosed(coordinator, context, intent.issue.number, { number: pull.number, merged: true }, by);
      log.info({ outcome }, "afk: the issue closed because its pull request was merged");
      return;
    }
  }
  const outcome = await stopRun(coordinator, context, intent.issue.number, intent.actor, why);
  log.info({ outcome }, "afk: work withdrawn from an issue");
  // A step of an approved plan closed by a person counts as finished for its parent.
  if (state?.parent !== undefined) await coordinator.subIssueFinished(context, state.parent, intent.issue.number);
}

/** `pull_request.closed` on afk's own pull request (authored by its bot, named in the issue's state): done, or ended. */
export async function handlePullRequestClosed(coordinator: Coordinator, octokit: GitHub, intent: PullRequestIntent): Promise<void> {
  const context = admit(coordinator, octokit, intent);
  if (context === undefined || intent.pull.author !== (await context.botLogin())) return;
  const outcome = await pullRequestClosed(coordinator, context, intent.issue, intent.pull, intent.actor);
  coordinator.log.info({ repo: fullName(intent.repo), issue: intent.issue, pull: intent.pull.number, outcome }, "afk: pull request closed");
}

/**
 * `pull_request.synchronize` on afk's own pull request by someone else (afk's own pushes are its
 * echo): the run waits on CI for their head from now on, so afk never marks ready, or fixes, a
 * commit that is no longer the pull request's.
 */
export async function handlePullRequestPushed(coordinator: Coordinator, octokit: GitHub, intent: PullRequestIntent): Promise<void> {
  const context = admit(coordinator, octokit, intent);
  if (context === undefined) return;
  const botLogin = await context.botLogin();
  if (intent.pull.author !== botLogin || intent.actor.login === botLogin) return;
  const moved = await coordinator.advance(context, intent.issue, async () => ({
    kind: "pushed",
    number: intent.pull.number,
    head: intent.pull.headSha,
    by: intent.actor.login,
  }));
  coordinator.log.info(
    { repo: fullName(intent.repo), issue: intent.issue, pull: intent.pull.number, by: intent.actor.login, ignored: moved?.transition.ignored },
    "afk: someone pushed to its pull request",
  );
}

/**
 * A click on afk's own check run (its app, its id in the issue's state): Retry (or GitHub's Re-run)
 * requests a run as `/afk retry` would, through the same gate; Stop stops as `/afk stop` would.
 */
export async function handleCheckRunRequest(coordinator: Coordinator, octokit: GitHub, intent: CheckRunIntent): Promise<void> {
  const context = admit(coordinator, octokit, intent);
  if (context === undefined) return;
  if (intent.checkRun.appSlug === undefined || `${intent.checkRun.appSlug}[bot]` !== (await context.botLogin())) return;
  const state = await context.runs.state(intent.issue);
  if (state?.checkRunId !== intent.checkRun.id) return;
  if (intent.request === "stop") {
    const trust = await context.trust(intent.actor);
    if (trust.trusted) await stopRun(coordinator, context, intent.issue, intent.actor, `Stopped by @${intent.actor.login} from the afk check run.`);
    return;
  }
  const { data: issue } = await octokit.rest.issues.get({ owner: intent.repo.owner, repo: intent.repo.repo, issue_number: intent.issue });
  if (issue.state !== "open" || isActive(state)) return;
  const trigger = triggerOf(intent.actor, "command", { ...intent, bodyDigest: issueTextDigest(issue.title, issue.body) });
  await requestRun(coordinator, context, { issue: intent.issue, actor: intent.actor, trigger, react: false });
}

/** CI changed on a commit of an afk branch: the issue's run looks at CI again if it waits on that commit. */
export async function handleCiChange(coordinator: Coordinator, octokit: GitHub, intent: CiIntent): Promise<void> {
  const context = admit(coordinator, octokit, intent);
  if (context === undefined) return;
  // afk's own check run is its gate, not CI: its events are the echo of afk's own writes.
  if (intent.app !== undefined && `${intent.app}[bot]` === (await context.botLogin())) return;
  const transition = await coordinator.ciChanged(context, intent.issue, intent.sha);
  if (transition !== undefined && transition.ignored === undefined) {
    coordinator.log.info(
      { repo: fullName(intent.repo), issue: intent.issue, sha: intent.sha, status: transition.state.status, phase: transition.state.phase },
      "afk: CI moved a run",
    );
  }
}

/**
 * `pull_request_review.submitted` on afk's own pull request (its bot the author, its branch, not a
 * fork): changes requested, or a review saying `/afk fix`, by a trusted reviewer queues a rework.
 * An untrusted reviewer's review is ignored (logged), never answered.
 */
export async function handleReview(coordinator: Coordinator, octokit: GitHub, intent: ReviewIntent): Promise<void> {
  const context = admit(coordinator, octokit, intent);
  if (context === undefined || intent.pull.fromFork) return;
  const botLogin = await context.botLogin();
  if (intent.pull.author !== botLogin || intent.actor.login === botLogin) return;
  const changesRequested = intent.review.state === "changes_requested";
  const asksFix = parseCommands(intent.review.body).some((command) => command.kind === "command" && command.name === "fix");
  if (!changesRequested && !asksFix) return;
  const trust = await context.trust(intent.actor);
  const moved = await coordinator.advance(context, intent.issue, async (state) =>
    state.pullRequest?.number === intent.pull.number
      ? { kind: "review", by: intent.actor.login, trusted: trust.trusted, reviewId: intent.review.id, changesRequested, asksFix }
      : undefined,
  );
  coordinator.log.info(
    { repo: fullName(intent.repo), issue: intent.issue, reviewer: intent.actor.login, trusted: trust.trusted, ignored: moved?.transition.ignored },
    "afk: review on its pull request",
  );
}
