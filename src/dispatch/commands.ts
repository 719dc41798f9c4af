import { parseCommands } from "../commands/parse-commands.js";
import { issueTextDigest } from "../github/issue-context.js";
import { issueOfAfkPullRequest } from "../github/pull-request.js";
import { fullName, type GitHub } from "../github/types.js";
import { isActive } from "../lifecycle/run-state.js";
import { triggerOf } from "../lifecycle/transitions.js";
import { renderHelp, renderRefusal, renderStatus } from "../progress/render-replies.js";
import { recentRefusals, refusalMarker, REFUSAL_QUIET_MS, type ThreadComment } from "../trust/refusal-throttle.js";
import { isBot } from "../trust/trust-gate.js";
import type { Coordinator } from "./coordinator.js";
import type { DeliveryContext } from "./delivery-context.js";
import { admit } from "./intake.js";
import type { CommentIntent } from "./intents.js";
import { approveAsSubIssues } from "./plan-split.js";
import { isFollowUp, readQueue } from "./queue-reader.js";
import { requestRun, stopRun } from "./request-run.js";

/** `issue_comment.created`: `/afk <command>` lines from trusted people. */
export async function handleComment(coordinator: Coordinator, octokit: GitHub, intent: CommentIntent): Promise<void> {
  const command = parseCommands(intent.comment.body)[0];
  if (command === undefined) return;
  const context = admit(coordinator, octokit, intent);
  if (context === undefined) return;
  if (intent.actor.login === (await context.botLogin())) return;
  const log = coordinator.log.child({ repo: fullName(intent.repo), issue: intent.issue.number, actor: intent.actor.login });
  const { repo } = intent;
  // Replies go where the command was written, even when it is about another issue (see below).
  const thread = intent.issue.number;
  const reply = (body: string) => octokit.rest.issues.createComment({ owner: repo.owner, repo: repo.repo, issue_number: thread, body });
  // The word after /afk is the commenter's text: it is echoed only when it is a plain word, never as markdown.
  const commandText = command.kind === "command" ? `/afk ${command.name}` : /^[\w-]{1,32}$/.test(command.word) ? `/afk ${command.word}` : "that /afk command";
  const trust = await context.trust(intent.actor);
  if (!trust.trusted) {
    // Bots get no reply, so afk and another bot can never answer each other in a loop.
    const replied = isBot(intent.actor)
      ? "no (a bot)"
      : await refuseOncePerHour(context, thread, intent.actor.login, renderRefusal(intent.actor.login, commandText, trust.reason));
    log.info({ reason: trust.reason, replied }, "afk refused a command");
    return;
  }
  await octokit.rest.reactions.createForIssueComment({ owner: repo.owner, repo: repo.repo, comment_id: intent.comment.id, content: "eyes" });
  if (intent.issue.isPullRequest) {
    // On afk's own pull request a command is about the issue it works on; the reply stays on the pull request.
    const issueNumber = await issueOfAfkPullRequest(octokit, repo, intent.issue.number, await context.botLogin());
    const state = issueNumber === undefined ? undefined : await context.runs.state(issueNumber);
    if (issueNumber === undefined || state?.pullRequest?.number !== intent.issue.number) {
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

  const issue = intent.issue.number;
  const who = `@${intent.actor.login}`;
  const trigger = triggerOf(intent.actor, "command", intent);
  switch (command.name) {
    case "fix":
    case "approve": {
      if (command.name === "approve" && command.args.toLowerCase() === "split") {
        const config = await context.config();
        const ignored =
          config.kind === "ok"
            ? await approveAsSubIssues(coordinator, context, { parent: issue, approver: intent.actor, deliveryId: intent.deliveryId, repoUrl: intent.repoUrl })
            : "afk cannot open sub-issues while .github/afk.yml is not usable; fix it and approve again";
        if (ignored !== undefined) await reply(`${who} nothing to approve as sub-issues: ${ignored}.`);
        return;
      }
      const event =
        command.name === "fix"
          ? ({ kind: "fix-command", by: intent.actor.login, commentId: intent.comment.id } as const)
          : ({ kind: "approve", by: intent.actor.login } as const);
      const moved = await coordinator.advance(context, issue, async () => event);
      const ignored = moved === undefined ? "afk has no run on this issue" : moved.transition.ignored;
      if (ignored !== undefined) await reply(`${who} nothing to ${command.name}: ${ignored}.`);
      return;
    }
    case "plan":
    case "ask": {
      if (!intent.issue.open) return void (await reply(`${who} this issue is closed; reopen it first.`));
      const state = await context.runs.state(issue);
      if (state !== undefined && isActive(state)) {
        await reply(`${who} afk is busy with this issue (${state.status}, run \`${state.runId}\`); ask again when it is done, or \`/afk stop\` first.`);
        return;
      }
      if (command.name === "ask" && command.args.trim().length === 0) {
        await reply(`${who} say what to find out: \`/afk ask <question>\` (the question may go on the lines below).`);
        return;
      }
      await requestRun(coordinator, context, {
        issue,
        actor: intent.actor,
        trigger,
        react: false,
        job: command.name,
        ...(command.name === "ask" ? { followUp: { by: intent.actor.login, commentId: intent.comment.id } } : {}),
      });
      return;
    }
    case "help":
      await reply(renderHelp());
      return;
    case "status":
      await reply(await status(context, issue));
      return;
    case "stop": {
      const result = await stopRun(coordinator, context, issue, intent.actor);
      if (result === "nothing") await reply(`${who} there is no queued or running afk work on this issue to stop.`);
      else if (result === "stopping") await reply(`${who} stopping the run; the progress comment shows when it has stopped.`);
      return;
    }
    case "run":
    case "retry": {
      if (!intent.issue.open) return void (await reply(`${who} this issue is closed; reopen it first.`));
      const progress = await context.runs.read(issue);
      if (progress?.kind === "state" && isActive(progress.state)) {
        const state = progress.state;
        const doing =
          state.status === "waiting"
            ? `waiting for CI and review on ${state.pullRequest === undefined ? "its pull request" : `#${state.pullRequest.number}`}; \`/afk stop\` ends that run before a new one`
            : `${state.status === "queued" ? "queued" : "working"} on this issue`;
        await reply(`${who} afk is already ${doing} (run \`${state.runId}\`).`);
        return;
      }
      if (command.name === "retry" && progress === undefined) {
        await reply(`${who} there is no earlier afk run on this issue to retry; use \`/afk run\`.`);
        return;
      }
      await requestRun(coordinator, context, { issue, actor: intent.actor, trigger, react: false });
      return;
    }
  }
}

/** `/afk status`: the issue's run, the lock, and the queue in the order the dispatcher takes it. */
async function status(context: DeliveryContext, issue: number): Promise<string> {
  const config = await context.config();
  const lock = await context.lock();
  const progress = await context.runs.read(issue);
  const queue =
    config.kind === "ok"
      ? (
          await readQueue(context.octokit, context.repo, { trigger: config.config.labels.trigger, inProgress: config.config.labels.in_progress }, (queued) =>
            context.runs.queuedState(queued),
          )
        ).map(({ issue: queued, state }) => ({
          number: queued.number,
          followUp: isFollowUp(state),
          blockedBy: isFollowUp(state) ? [] : (state.blockedBy ?? []),
        }))
      : [];
  return renderStatus({ issue, progress, lock, queue });
}

/** Refusals read back to decide whether to stay silent: at most this many pages of a thread's last hour. */
const REFUSAL_PAGES = 3;

/**
 * Tells an untrusted person why afk did not act, at most once an hour on a thread: afk's own earlier
 * refusal naming them there within `REFUSAL_QUIET_MS` (its hidden marker) means silence. No database:
 * GitHub's comments are the record, so every replica decides alike. Two deliveries that both found
 * none (on this replica or another) both post; then the newer one sees the older and deletes itself.
 */
async function refuseOncePerHour(context: DeliveryContext, thread: number, login: string, text: string): Promise<"yes" | "no (refused within the hour)"> {
  const { octokit, repo } = context;
  const botLogin = await context.botLogin();
  const refusals = async () =>
    recentRefusals(await threadCommentsSince(context, thread, new Date(context.now().getTime() - REFUSAL_QUIET_MS)), { botLogin, login, now: context.now() });
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
async function threadCommentsSince(context: DeliveryContext, thread: number, since: Date): Promise<ThreadComment[]> {
  const { octokit, repo } = context;
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
