import { parseCommands } from "../commands/parse-commands.js";
import { isRepositoryAllowed } from "../config/operator-settings.js";
import { readRepoConfig } from "../config/read-repo-config.js";
import { DEFAULT_LABELS } from "../config/repo-config.js";
import type { RepoConfigResult } from "../config/load-repo-config.js";
import { issueTextDigest } from "../github/issue-context.js";
import { isFollowUp, readQueue } from "./queue-reader.js";
import { issueOfAfkPullRequest } from "../github/pull-request.js";
import { readPlan } from "../github/comments.js";
import { awaitsApproval } from "../lifecycle/lifecycle.js";
import { planSteps } from "../run-contract/plan.js";
import { fullName, type GitHub, type RepoRef } from "../github/types.js";
import { isActive, type RunState } from "../lifecycle/run-state.js";
import { type Job } from "../run-contract/job.js";
import { triggerOf, type Trigger } from "../lifecycle/transitions.js";
import type { ProgressComment } from "../lifecycle/run-state.js";
import { renderHelp, renderRefusal, renderStatus } from "../progress/render-replies.js";
import { recentRefusals, refusalMarker, REFUSAL_QUIET_MS, type ThreadComment } from "../trust/refusal-throttle.js";
import { checkTrust, isBot, type TrustDecision } from "../trust/trust-gate.js";
import { trustLists, type Coordinator, type IssueRequest } from "./coordinator.js";
import type { CheckRunIntent, CiIntent, CommentIntent, IssueIntent, LabelIntent, PullRequestIntent, ReviewIntent } from "./intents.js";

/** The repository's trigger label: its config's, or afk's default while the config is unusable (so a refusal can say why). */
function triggerLabel(config: RepoConfigResult): string {
  return config.kind === "ok" ? config.config.labels.trigger : DEFAULT_LABELS.trigger;
}

/** `issues.labeled`: the trigger label asks for a run. */
export async function handleLabel(coordinator: Coordinator, octokit: GitHub, intent: LabelIntent): Promise<void> {
  if (!allowed(coordinator, intent)) return;
  const config = await readRepoConfig(octokit, intent.repo);
  const trigger = triggerLabel(config);
  if (intent.label !== trigger || !intent.issue.open || intent.issue.isPullRequest) return;
  // afk adds the trigger label itself when `/afk run` queues an issue; that event is its own echo.
  if (intent.actor.login === (await coordinator.botLogin())) return;
  await requestRun(coordinator, octokit, intent, config, triggerOf(intent.actor, "label", intent), { reactTo: "issue" });
}

/**
 * `issues.unlabeled` and `issues.closed`: the trigger label removed from an issue, or the issue
 * closed, ends its queued, running or waiting work. Anyone GitHub lets change labels or close the
 * issue may do that: stopping is always safe. afk's own label removal when a run settles is its echo.
 */
export async function handleWithdrawal(coordinator: Coordinator, octokit: GitHub, intent: IssueIntent & { label?: string }): Promise<void> {
  if (!allowed(coordinator, intent) || intent.issue.isPullRequest) return;
  if (intent.actor.login === (await coordinator.botLogin())) return;
  let why: string;
  if (intent.label === undefined) {
    why = `Stopped: @${intent.actor.login} closed the issue.`;
  } else {
    const config = await readRepoConfig(octokit, intent.repo);
    const trigger = triggerLabel(config);
    if (intent.label !== trigger) return;
    why = `Stopped: @${intent.actor.login} removed the \`${trigger}\` label.`;
  }
  const trigger = triggerOf(intent.actor, "label", intent);
  const progress = intent.label === undefined ? await coordinator.progressOf(octokit, intent.repo, intent.issue.number) : undefined;
  const state = progress?.kind === "state" ? progress.state : undefined;
  if (state?.pullRequest !== undefined && state.status === "waiting") {
    // Merging afk's pull request closes the issue ("Closes #N") as the person who merged, and that
    // event may arrive before the pull request's own: a merge is done, never "stopped".
    const { data: pull } = await octokit.rest.pulls.get({ owner: intent.repo.owner, repo: intent.repo.repo, pull_number: state.pullRequest.number });
    if (pull.merged) {
      const outcome = await coordinator.pullRequestClosed(
        {
          repo: intent.repo,
          octokit,
          issue: intent.issue.number,
          actor: { login: pull.merged_by?.login ?? intent.actor.login, type: pull.merged_by?.type ?? intent.actor.type },
        },
        { number: pull.number, merged: true },
      );
      coordinator.log.info({ repo: fullName(intent.repo), issue: intent.issue.number, outcome }, "afk: the issue closed because its pull request was merged");
      return;
    }
  }
  const outcome = await coordinator.stop({ repo: intent.repo, octokit, issue: intent.issue, actor: intent.actor, trigger }, why);
  coordinator.log.info({ repo: fullName(intent.repo), issue: intent.issue.number, outcome }, "afk: work withdrawn from an issue");
  // A step of an approved plan closed by a person counts as finished for its parent.
  if (state?.parent !== undefined) await coordinator.subIssueFinished(intent.repo, octokit, state.parent, intent.issue.number);
}

/** `pull_request.closed` on afk's own pull request (authored by its bot, named in the issue's state): done, or ended. */
export async function handlePullRequestClosed(coordinator: Coordinator, octokit: GitHub, intent: PullRequestIntent): Promise<void> {
  if (!allowed(coordinator, intent)) return;
  if (intent.pull.author !== (await coordinator.botLogin())) return;
  const outcome = await coordinator.pullRequestClosed({ repo: intent.repo, octokit, issue: intent.issue, actor: intent.actor }, intent.pull);
  coordinator.log.info({ repo: fullName(intent.repo), issue: intent.issue, pull: intent.pull.number, outcome }, "afk: pull request closed");
}

/**
 * `pull_request.synchronize` on afk's own pull request by someone else (afk's own pushes are its
 * echo): the run waits on CI for their head from now on, so afk never marks ready, or fixes, a
 * commit that is no longer the pull request's.
 */
export async function handlePullRequestPushed(coordinator: Coordinator, octokit: GitHub, intent: PullRequestIntent): Promise<void> {
  if (!allowed(coordinator, intent)) return;
  const botLogin = await coordinator.botLogin();
  if (intent.pull.author !== botLogin || intent.actor.login === botLogin) return;
  const result = await coordinator.advance(intent.repo, octokit, intent.issue, async () => ({
    kind: "pushed",
    number: intent.pull.number,
    head: intent.pull.headSha,
    by: intent.actor.login,
  }));
  coordinator.log.info(
    { repo: fullName(intent.repo), issue: intent.issue, pull: intent.pull.number, by: intent.actor.login, ignored: result?.transition.ignored },
    "afk: someone pushed to its pull request",
  );
}

/**
 * A click on afk's own check run (its app, its id in the issue's state): Retry (or GitHub's Re-run)
 * requests a run as `/afk retry` would, through the same gate; Stop stops as `/afk stop` would.
 */
export async function handleCheckRunRequest(coordinator: Coordinator, octokit: GitHub, intent: CheckRunIntent): Promise<void> {
  if (!allowed(coordinator, intent)) return;
  if (intent.checkRun.appSlug === undefined || `${intent.checkRun.appSlug}[bot]` !== (await coordinator.botLogin())) return;
  const progress = await coordinator.progressOf(octokit, intent.repo, intent.issue);
  if (progress?.kind !== "state" || progress.state.checkRunId !== intent.checkRun.id) return;
  const { data: issue } = await octokit.rest.issues.get({ owner: intent.repo.owner, repo: intent.repo.repo, issue_number: intent.issue });
  const trigger = triggerOf(intent.actor, "command", { ...intent, bodyDigest: issueTextDigest(issue.title, issue.body) });
  const request: IssueRequest = { repo: intent.repo, octokit, issue: { number: intent.issue, open: issue.state === "open" }, actor: intent.actor, trigger };
  const config = await readRepoConfig(octokit, intent.repo);
  if (intent.request === "stop") {
    const trust = await checkTrust(octokit, intent.repo, intent.actor, trustLists(config));
    if (trust.trusted) await coordinator.stop(request, `Stopped by @${intent.actor.login} from the afk check run.`);
    return;
  }
  if (!request.issue.open || isActive(progress.state)) return;
  await requestRun(coordinator, octokit, request, config, trigger, { reactTo: "none", progress: { comment: progress } });
}

/** CI changed on a commit of an afk branch: the issue's run looks at CI again if it waits on that commit. */
export async function handleCiChange(coordinator: Coordinator, octokit: GitHub, intent: CiIntent): Promise<void> {
  if (!allowed(coordinator, intent)) return;
  const transition = await coordinator.ciChanged(intent.repo, octokit, intent.issue, intent.sha);
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
  if (!allowed(coordinator, intent) || intent.pull.fromFork) return;
  const botLogin = await coordinator.botLogin();
  if (intent.pull.author !== botLogin || intent.actor.login === botLogin) return;
  const changesRequested = intent.review.state === "changes_requested";
  const asksFix = parseCommands(intent.review.body).some((command) => command.kind === "command" && command.name === "fix");
  if (!changesRequested && !asksFix) return;
  const config = await readRepoConfig(octokit, intent.repo);
  const trust = await checkTrust(octokit, intent.repo, intent.actor, trustLists(config));
  const result = await coordinator.advance(intent.repo, octokit, intent.issue, async (state) =>
    state.pullRequest?.number === intent.pull.number
      ? { kind: "review", by: intent.actor.login, trusted: trust.trusted, reviewId: intent.review.id, changesRequested, asksFix }
      : undefined,
  );
  coordinator.log.info(
    { repo: fullName(intent.repo), issue: intent.issue, reviewer: intent.actor.login, trusted: trust.trusted, ignored: result?.transition.ignored },
    "afk: review on its pull request",
  );
}

/** `issue_comment.created`: `/afk <command>` lines from trusted people. */
export async function handleComment(coordinator: Coordinator, octokit: GitHub, intent: CommentIntent): Promise<void> {
  const command = parseCommands(intent.comment.body)[0];
  if (command === undefined) return;
  const log = coordinator.log.child({ repo: fullName(intent.repo), issue: intent.issue.number, actor: intent.actor.login });
  if (!allowed(coordinator, intent)) return;
  if (intent.actor.login === (await coordinator.botLogin())) return;

  const { repo } = intent;
  // Replies go where the command was written, even when it is about another issue (see below).
  const thread = intent.issue.number;
  const reply = (body: string) => octokit.rest.issues.createComment({ owner: repo.owner, repo: repo.repo, issue_number: thread, body });
  // The word after /afk is the commenter's text: it is echoed only when it is a plain word, never as markdown.
  const commandText = command.kind === "command" ? `/afk ${command.name}` : /^[\w-]{1,32}$/.test(command.word) ? `/afk ${command.word}` : "that /afk command";
  const config = await readRepoConfig(octokit, repo);
  const trust = await checkTrust(octokit, repo, intent.actor, trustLists(config));
  if (!trust.trusted) {
    // Bots get no reply, so afk and another bot can never answer each other in a loop.
    const replied = isBot(intent.actor)
      ? "no (a bot)"
      : await refuseOncePerHour(coordinator, octokit, repo, thread, intent.actor.login, renderRefusal(intent.actor.login, commandText, trust.reason));
    log.info({ reason: trust.reason, replied }, "afk refused a command");
    return;
  }
  await octokit.rest.reactions.createForIssueComment({ owner: repo.owner, repo: repo.repo, comment_id: intent.comment.id, content: "eyes" });
  if (intent.issue.isPullRequest) {
    // On afk's own pull request a command is about the issue it works on; the reply stays on the pull request.
    const issueNumber = await issueOfAfkPullRequest(octokit, repo, intent.issue.number, await coordinator.botLogin());
    const progress = issueNumber === undefined ? undefined : await coordinator.progressOf(octokit, repo, issueNumber);
    if (issueNumber === undefined || progress?.kind !== "state" || progress.state.pullRequest?.number !== intent.issue.number) {
      await reply(`@${intent.actor.login} afk takes commands on issues and on its own pull requests; this pull request is not one of afk's.`);
      return;
    }
    const { data: issue } = await octokit.rest.issues.get({ owner: repo.owner, repo: repo.repo, issue_number: issueNumber });
    intent = {
      ...intent,
      issue: { number: issueNumber, open: issue.state === "open", isPullRequest: false },
      bodyDigest: issueTextDigest(issue.title, issue.body),
    };
  }
  if (command.kind === "unknown") {
    await reply(renderHelp(`@${intent.actor.login} afk does not know \`${commandText}\`. These are its commands:\n`));
    return;
  }

  const trigger = triggerOf(intent.actor, "command", intent);
  const request: IssueRequest = { repo, octokit, issue: intent.issue, actor: intent.actor, trigger };
  const progressNow = () => coordinator.progressOf(octokit, repo, intent.issue.number);
  switch (command.name) {
    case "fix":
    case "approve": {
      if (command.name === "approve" && command.args.toLowerCase() === "split") {
        await approveAsSubIssues(coordinator, octokit, intent, config, reply);
        return;
      }
      const event =
        command.name === "fix"
          ? ({ kind: "fix-command", by: intent.actor.login, commentId: intent.comment.id } as const)
          : ({ kind: "approve", by: intent.actor.login } as const);
      const result = await coordinator.advance(repo, octokit, intent.issue.number, async () => event);
      const ignored = result === undefined ? "afk has no run on this issue" : result.transition.ignored;
      if (ignored !== undefined) await reply(`@${intent.actor.login} nothing to ${command.name}: ${ignored}.`);
      return;
    }
    case "plan":
    case "ask": {
      if (!intent.issue.open) {
        await reply(`@${intent.actor.login} this issue is closed; reopen it first.`);
        return;
      }
      const progress = await progressNow();
      if (progress?.kind === "state" && isActive(progress.state)) {
        await reply(
          `@${intent.actor.login} afk is busy with this issue (${progress.state.status}, run \`${progress.state.runId}\`); ask again when it is done, or \`/afk stop\` first.`,
        );
        return;
      }
      if (command.name === "ask" && command.args.trim().length === 0) {
        await reply(`@${intent.actor.login} say what to find out: \`/afk ask <question>\` (the question may go on the lines below).`);
        return;
      }
      await requestRun(coordinator, octokit, request, config, trigger, {
        reactTo: "none",
        trust,
        progress: { comment: progress },
        job: command.name,
        ...(command.name === "ask" ? { followUp: { by: intent.actor.login, commentId: intent.comment.id } } : {}),
      });
      return;
    }
    case "help":
      await reply(renderHelp());
      return;
    case "status": {
      const lock = await coordinator.lockOf(octokit, repo);
      const progress = await coordinator.progressOf(octokit, repo, intent.issue.number);
      const queue =
        config.kind === "ok"
          ? (
              await readQueue(
                octokit,
                repo,
                { trigger: config.config.labels.trigger, inProgress: config.config.labels.in_progress },
                await coordinator.botLogin(),
              )
            ).map(({ issue, state }) => ({
              number: issue.number,
              followUp: isFollowUp(state),
              blockedBy: isFollowUp(state) ? [] : (state.blockedBy ?? []),
            }))
          : [];
      await reply(renderStatus({ issue: intent.issue.number, progress, lock, queue }));
      return;
    }
    case "stop": {
      const result = await coordinator.stop(request);
      if (result === "nothing") await reply(`@${intent.actor.login} there is no queued or running afk work on this issue to stop.`);
      else if (result === "stopping") await reply(`@${intent.actor.login} stopping the run; the progress comment shows when it has stopped.`);
      return;
    }
    case "run":
    case "retry": {
      if (!intent.issue.open) {
        await reply(`@${intent.actor.login} this issue is closed; reopen it first.`);
        return;
      }
      const progress = await coordinator.progressOf(octokit, repo, intent.issue.number);
      if (progress?.kind === "state" && isActive(progress.state)) {
        const state = progress.state;
        const doing =
          state.status === "waiting"
            ? `waiting for CI and review on ${state.pullRequest === undefined ? "its pull request" : `#${state.pullRequest.number}`}; \`/afk stop\` ends that run before a new one`
            : `${state.status === "queued" ? "queued" : "working"} on this issue`;
        await reply(`@${intent.actor.login} afk is already ${doing} (run \`${state.runId}\`).`);
        return;
      }
      if (command.name === "retry" && progress === undefined) {
        await reply(`@${intent.actor.login} there is no earlier afk run on this issue to retry; use \`/afk run\`.`);
        return;
      }
      await requestRun(coordinator, octokit, request, config, trigger, { reactTo: "none", trust, progress: { comment: progress } });
      return;
    }
  }
}

/** Refusals read back to decide whether to stay silent: at most this many pages of a thread's last hour. */
const REFUSAL_PAGES = 3;

/**
 * Tells an untrusted person why afk did not act, at most once an hour on a thread: afk's own earlier
 * refusal naming them there within `REFUSAL_QUIET_MS` (its hidden marker) means silence. No database:
 * GitHub's comments are the record, so every replica decides alike. Two deliveries that both found
 * none (on this replica or another) both post; then the newer one sees the older and deletes itself.
 */
async function refuseOncePerHour(
  coordinator: Coordinator,
  octokit: GitHub,
  repo: RepoRef,
  thread: number,
  login: string,
  text: string,
): Promise<"yes" | "no (refused within the hour)"> {
  const botLogin = await coordinator.botLogin();
  const refusals = async () =>
    recentRefusals(await threadCommentsSince(octokit, repo, thread, new Date(coordinator.now().getTime() - REFUSAL_QUIET_MS)), {
      botLogin,
      login,
      now: coordinator.now(),
    });
  if ((await refusals()).length > 0) return "no (refused within the hour)";
  const { data: posted } = await octokit.rest.issues.createComment({
    owner: repo.owner,
    repo: repo.repo,
    issue_number: thread,
    body: `${text}\n\n${refusalMarker(login)}`,
  });
  if ((await refusals()).some((earlier) => earlier.id < posted.id)) {
    await octokit.rest.issues.deleteComment({ owner: repo.owner, repo: repo.repo, comment_id: posted.id });
    return "no (refused within the hour)";
  }
  return "yes";
}

/** A thread's comments written or edited since `since`, oldest first, at most `REFUSAL_PAGES` pages. */
async function threadCommentsSince(octokit: GitHub, repo: RepoRef, thread: number, since: Date): Promise<ThreadComment[]> {
  const comments: ThreadComment[] = [];
  let pages = 0;
  for await (const { data } of octokit.paginate.iterator(octokit.rest.issues.listComments, {
    owner: repo.owner,
    repo: repo.repo,
    issue_number: thread,
    since: since.toISOString(),
    per_page: 100,
  })) {
    for (const comment of data) comments.push({ id: comment.id, author: comment.user?.login, body: comment.body ?? "", createdAt: comment.created_at });
    if (++pages >= REFUSAL_PAGES) break;
  }
  return comments;
}

async function requestRun(
  coordinator: Coordinator,
  octokit: GitHub,
  intent: IssueIntent | IssueRequest,
  config: RepoConfigResult,
  trigger: Trigger,
  options: {
    reactTo: "issue" | "none";
    trust?: TrustDecision;
    progress?: { comment: ProgressComment | undefined };
    job?: Job;
    followUp?: RunState["followUp"];
  },
): Promise<void> {
  const request: IssueRequest = { repo: intent.repo, octokit, issue: intent.issue, actor: intent.actor, trigger };
  const { reactTo, job, followUp, ...known } = options;
  const gate = await coordinator.gate(request, { config, ...known });
  if (gate.kind === "stop") return;
  const result = await coordinator.enqueue(request, gate, {
    reactOnIssue: reactTo === "issue",
    ...(job === undefined ? {} : { job }),
    ...(followUp === undefined ? {} : { followUp }),
  });
  coordinator.log.info({ repo: fullName(intent.repo), issue: intent.issue.number, result }, "afk run requested");
}

/** The one allowlist check of every delivery afk acts on; one outside it is only logged. */
function allowed(coordinator: Coordinator, intent: { repo: RepoRef; deliveryId: string }): boolean {
  if (isRepositoryAllowed(coordinator.settings, fullName(intent.repo))) return true;
  coordinator.log.info({ repo: fullName(intent.repo), deliveryId: intent.deliveryId }, "afk ignored an event: repository is not in AFK_ALLOWLIST");
  return false;
}

/**
 * `/afk approve split`: the posted plan's `## Steps` become sub-issues, opened and queued in order
 * while the issue's state is read (so two approvals never split twice), and the issue waits on them.
 */
async function approveAsSubIssues(
  coordinator: Coordinator,
  octokit: GitHub,
  intent: CommentIntent,
  config: RepoConfigResult,
  reply: (body: string) => Promise<unknown>,
): Promise<void> {
  const { repo } = intent;
  if (config.kind !== "ok") {
    await reply(`@${intent.actor.login} afk cannot open sub-issues while .github/afk.yml is not usable; fix it and approve again.`);
    return;
  }
  let refusal: string | undefined;
  const result = await coordinator.advance(repo, octokit, intent.issue.number, async (state) => {
    if (!awaitsApproval(state) || state.plan === undefined) return { kind: "approve", by: intent.actor.login, subIssues: [] };
    const plan = await readPlan(octokit, repo, state.plan.commentId, await coordinator.botLogin());
    const steps = plan === undefined ? [] : planSteps(plan);
    if (steps.length < 2) {
      refusal =
        plan === undefined
          ? "afk could not read back its plan (the comment was deleted or edited); comment `/afk plan` for a new one"
          : "the plan lists fewer than two steps under `## Steps`; `/afk approve` implements it as one";
      return undefined;
    }
    const subIssues = await coordinator.openSubIssues(
      { repo, octokit, parent: intent.issue.number, approver: intent.actor, deliveryId: intent.deliveryId, repoUrl: intent.repoUrl },
      config.config,
      steps,
    );
    return { kind: "approve", by: intent.actor.login, subIssues };
  });
  const ignored = refusal ?? (result === undefined ? "afk has no run on this issue" : result.transition.ignored);
  if (ignored !== undefined) await reply(`@${intent.actor.login} nothing to approve as sub-issues: ${ignored}.`);
}
