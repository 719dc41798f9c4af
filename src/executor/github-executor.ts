import type { Logger } from "probot";
import type { OperatorSettings } from "../config/operator-settings.js";
import { formatDiscussion, IssueChangedError, readIssueContext } from "../github/issue-context.js";
import { createScopedToken } from "../github/installation-token.js";
import { closeSupersededPullRequest, openPullRequest } from "../github/pull-request.js";
import { readPlan } from "../github/comments.js";
import { describeFailingChecks, describeReviewRequest, readQuestion, renderAnswerComment, renderPlanComment } from "./follow-up-context.js";
import { errorMessage, fullName, type GitHub } from "../github/types.js";
import type { GateEvidence } from "../run-contract/evidence.js";
import { renderPullRequest } from "../progress/render-pull-request.js";
import { knownModels, priceOf } from "./agent/model-pricing.js";
import { commitChange } from "./commit-change.js";
import { branchName } from "../run-contract/branch.js";
import type { Executor, RunJob, RunOutcome, RunReporter, Spend } from "../run-contract/executor.js";
import type { ImplementResult } from "./implement-issue.js";
import { keepHeadAndTail } from "../text/keep-head-and-tail.js";
import { renderPrompt } from "./render-prompt.js";
import { readRepoInstructions } from "./repo-instructions.js";
import { answerInWorktree, runAgentInWorktree, type AgentRunInput } from "./run-agent-in-worktree.js";
import { WorkspaceCache, type Worktree } from "./workspace.js";

export interface GitHubExecutorDeps {
  settings: OperatorSettings;
  /** The model key; handed to the model client only, never to a command or a file. */
  anthropicApiKey: string | undefined;
  /** The Messages API address (`ANTHROPIC_BASE_URL`); the SDK's default when undefined. */
  anthropicBaseUrl: string | undefined;
  octokitFor(installationId: number): Promise<GitHub>;
  /** The App-authenticated Octokit, which mints repository-scoped installation tokens. */
  appOctokit(): Promise<GitHub>;
  botLogin(): Promise<string>;
  /** Secrets of the App process (webhook secret, private key) that must never reach the model, even by accident. */
  secrets: readonly string[];
  /** Files the sandbox must never show (the App's private key file). */
  hiddenPaths: readonly string[];
  log: Logger;
}

/**
 * The executor of the App: a worktree of the repository at its default branch's head, the agent in
 * the sandbox, afk's own test gate, then a commit pushed with a token only afk holds and a pull
 * request. A run that cannot get the tests green keeps its work on a draft pull request and hands
 * the issue to a person.
 */
export class GitHubExecutor implements Executor {
  readonly name = "sandboxed agent";
  readonly #deps: GitHubExecutorDeps;
  readonly #workspaces: WorkspaceCache;

  constructor(deps: GitHubExecutorDeps) {
    this.#deps = deps;
    this.#workspaces = new WorkspaceCache({
      cacheDir: deps.settings.cacheDir,
      sandbox: { allowUnsandboxed: deps.settings.allowUnsandboxed, allowHostNetwork: deps.settings.allowHostNetwork, hiddenPaths: deps.hiddenPaths },
    });
  }

  async execute(job: RunJob, reporter: RunReporter): Promise<RunOutcome> {
    const apiKey = this.#deps.anthropicApiKey;
    if (apiKey === undefined || apiKey.trim() === "") {
      return {
        status: "failed",
        retryable: true,
        message: "ANTHROPIC_API_KEY is not set in this afk installation, so the agent cannot run. The operator must set it; then comment `/afk retry`.",
      };
    }
    const price = priceOf(job.model);
    if (price === undefined) {
      return {
        status: "failed",
        retryable: false,
        message: `afk has no price for the model \`${job.model}\`, so it cannot hold the run to \`budget.max_usd\`. Use one of: ${knownModels().join(", ")} (\`model\` in .github/afk.yml or AFK_MODEL).`,
      };
    }
    const { config } = job;
    const octokit = await this.#deps.octokitFor(job.repo.installationId);
    const botLogin = await this.#deps.botLogin();
    const followUp = job.kind === "fix-ci" || job.kind === "rework";
    // A fix continues afk's branch (or, in direct mode, the default branch); a rework needs afk's pull request.
    if (followUp && (job.context.branch === undefined || (job.kind === "rework" && job.context.pullRequest === undefined))) {
      return {
        status: "failed",
        retryable: false,
        message: `afk has no branch${job.kind === "rework" ? " or pull request" : ""} to continue for this ${job.kind} job; comment \`/afk retry\` to start over.`,
      };
    }
    // What the agent will read comes first: an issue changed since the request ends the run before any clone.
    let issue;
    try {
      // Every job of a run, follow-ups included, reads only the issue text the trusted person asked about.
      issue = await readIssueContext(octokit, job.repo, job.issue, {
        trust: config.trusted,
        botLogin,
        requestedAt: job.trigger.at,
        bodyDigest: job.trigger.bodyDigest,
      });
    } catch (error) {
      if (error instanceof IssueChangedError) return { status: "failed", retryable: false, message: error.message };
      throw error;
    }
    const { data: repository } = await octokit.rest.repos.get({ owner: job.repo.owner, repo: job.repo.repo });
    const issueSlots = {
      repository: fullName(job.repo),
      issue_number: String(issue.number),
      issue_title: issue.title,
    };
    const task = await this.#taskFor(job, octokit, botLogin, {
      ...issueSlots,
      issue_body: issue.body.length > 0 ? issue.body : "(no description)",
      discussion: formatDiscussion(issue),
    });
    if (task.kind === "refused") return { status: "failed", retryable: false, message: task.message };
    const readToken = await this.#token(job, "read");
    const secrets = [...this.#deps.secrets, apiKey, readToken];

    await reporter.phase("workspace");
    let worktree: Worktree;
    const ref = followUp ? (job.context.branch ?? repository.default_branch) : repository.default_branch;
    try {
      worktree = await this.#workspaces.open({ cloneUrl: repository.clone_url, auth: { token: readToken }, ref, runId: job.runId, signal: job.signal });
    } catch (error) {
      return { status: "failed", retryable: true, message: `afk could not prepare a worktree of ${fullName(job.repo)} at \`${ref}\`: ${errorMessage(error)}` };
    }
    try {
      const agentInput: AgentRunInput = {
        worktree,
        // A follow-up works on afk's own branch, which the agent wrote: its setup must not fill the shared cache.
        packageCache: { path: this.#workspaces.packageCachePath(repository.clone_url), shared: !followUp },
        config,
        model: job.model,
        price,
        task: () => task.render(worktree.path),
        modelAccess: { apiKey, baseUrl: this.#deps.anthropicBaseUrl, maxRetries: this.#deps.settings.modelRetries },
        allowUnsandboxed: this.#deps.settings.allowUnsandboxed,
        allowHostNetwork: this.#deps.settings.allowHostNetwork,
        secrets,
        hiddenPaths: this.#deps.hiddenPaths,
        signal: job.signal,
        onPhase: (phase) => reporter.phase(phase),
        onSpend: (spend) => reporter.spend(spend),
        onUnsandboxed: () => this.#deps.log.warn({ repo: fullName(job.repo) }, "afk runs agent commands WITHOUT a sandbox (AFK_ALLOW_UNSANDBOXED)"),
      };
      if (job.kind === "plan" || job.kind === "ask") return await this.#answer(job, octokit, worktree, agentInput);
      const run = await runAgentInWorktree(agentInput);
      if (run.kind === "not-started") {
        return run.retryable ? { status: "failed", retryable: true, message: run.reason } : { status: "escalated", message: run.reason };
      }
      return await this.#deliver(job, octokit, reporter, {
        worktree,
        result: run.result,
        spend: run.spend,
        transcriptTail: run.transcriptTail,
        issueTitle: issue.title,
        defaultBranch: repository.default_branch,
        cloneUrl: repository.clone_url,
      });
    } finally {
      await worktree.remove().catch((error: unknown) => this.#deps.log.warn({ err: error, runId: job.runId }, "afk could not remove a worktree"));
    }
  }

  /** The task for the job's kind, gathered from GitHub before any clone; rendered once the worktree is there. */
  async #taskFor(
    job: RunJob,
    octokit: GitHub,
    botLogin: string,
    issue: { repository: string; issue_number: string; issue_title: string; issue_body: string; discussion: string },
  ): Promise<{ kind: "task"; render: (worktreePath: string) => Promise<string> } | { kind: "refused"; message: string }> {
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
          render: async (path) => {
            const text = await renderPrompt("implement", { ...issue, repo_instructions: await readRepoInstructions(path) });
            return plan === undefined
              ? text
              : `${text}\n\nA person approved this plan for the issue; follow it unless the code shows it is wrong (then say why in your summary):\n\n<approved_plan>\n${plan}\n</approved_plan>`;
          },
        };
      }
      case "fix-ci": {
        const head = context.ciHead;
        if (head === undefined) return { kind: "refused", message: "afk does not know which commit CI judged red; comment `/afk retry` to start over." };
        const checks = await describeFailingChecks(octokit, job.repo, head, botLogin.replace(/\[bot\]$/, ""));
        return {
          kind: "task",
          render: async () =>
            renderPrompt("fix-ci", {
              ...onBranch,
              head,
              attempt: String(context.attempt ?? 1),
              max_attempts: String(config.fix_forward.max_attempts),
              failing_checks: checks.text,
            }),
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
          render: async () =>
            renderPrompt("address-review", { ...onBranch, cycle: String(context.attempt ?? 1), max_cycles: String(config.review.max_cycles), review }),
        };
      }
      case "plan":
        return {
          kind: "task",
          render: async (path) => renderPrompt("plan", { ...issue, repo_instructions: await readRepoInstructions(path), test_command: config.test }),
        };
      case "ask": {
        const question = context.commentId === undefined ? undefined : await readQuestion(octokit, job.repo, context.commentId);
        if (question === undefined) return { kind: "refused", message: "afk could not read the question (the `/afk ask` comment was deleted or is empty)." };
        return {
          kind: "task",
          render: async () =>
            renderPrompt("ask", {
              repository: issue.repository,
              issue_number: issue.issue_number,
              issue_title: issue.issue_title,
              asked_by: context.requestedBy ?? job.trigger.actor,
              question,
            }),
        };
      }
    }
  }

  /** A plan or an answer: the agent looks read-only, afk proves nothing changed, then posts what it found. */
  async #answer(job: RunJob, octokit: GitHub, worktree: Worktree, input: AgentRunInput): Promise<RunOutcome> {
    const run = await answerInWorktree(input);
    if (run.kind === "not-started") return { status: "failed", retryable: run.retryable, message: run.reason };
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

  /** Turns the agent's result into what people see: a pull request, a draft with the work so far, or a clear account of why there is none. */
  async #deliver(
    job: RunJob,
    octokit: GitHub,
    reporter: RunReporter,
    input: { worktree: Worktree; result: ImplementResult; spend: Spend; transcriptTail: string; issueTitle: string; defaultBranch: string; cloneUrl: string },
  ): Promise<RunOutcome> {
    const { result, spend, worktree } = input;
    const evidenceOf = (gate: GateEvidence | undefined, summary?: string) => ({
      ...(gate === undefined ? {} : { gate }),
      ...(summary === undefined ? {} : { summary }),
      transcriptTail: input.transcriptTail,
    });
    let notPassing: string | undefined;
    let gate: GateEvidence | undefined;
    let summary = "";
    switch (result.kind) {
      case "aborted":
        return { status: "failed", retryable: true, message: result.message, spend };
      case "model-error":
        return { status: "failed", retryable: result.retryable, message: `The model could not be reached: ${result.message}`, spend };
      case "passed":
        gate = result.gate;
        summary = result.summary;
        break;
      case "tests-fail":
        gate = result.gate;
        summary = result.summary;
        notPassing = `\`${gate.command}\` still fails after ${gate.rounds} gate round${gate.rounds === 1 ? "" : "s"} (\`gate.max_rounds\`).`;
        break;
      case "budget":
        gate = result.gate;
        notPassing = `The agent ran out of budget: ${result.message}.`;
        break;
    }

    const followUp = job.kind === "fix-ci" || job.kind === "rework" ? { branch: job.context.branch, pullRequest: job.context.pullRequest } : undefined;
    const what = job.kind === "fix-ci" ? `fix attempt ${job.context.attempt ?? 1}` : `rework ${job.context.attempt ?? 1}`;
    // Direct mode: a passing change goes straight onto the default branch, and so does each fix of it.
    const direct = followUp === undefined ? job.config.mode === "direct" && notPassing === undefined : followUp.branch === input.defaultBranch;
    if (followUp !== undefined && notPassing !== undefined) {
      // A follow-up never makes the pull request worse: the branch stays as CI and the reviewers saw it.
      return {
        status: "escalated",
        message: `afk's ${what} did not pass its own gate: ${notPassing} Nothing was pushed; the branch is as it was.`,
        spend,
        evidence: evidenceOf(gate, summary),
      };
    }
    const title = followUp === undefined ? input.issueTitle : `${input.issueTitle} (${what})`;
    const commit = await commitChange(worktree, {
      issue: job.issue,
      title,
      summary,
      runId: job.runId,
      closesIssue: !direct,
      protectedPaths: job.config.protected_paths,
      author: await this.#identity(),
    });
    if (commit.kind === "no-change") {
      if (followUp !== undefined) {
        return {
          status: "escalated",
          message: `The agent changed nothing in ${what}.${summary.length > 0 ? ` It said: ${keepHeadAndTail(summary, 1_000).text}` : ""}`,
          spend,
          evidence: evidenceOf(gate, summary),
        };
      }
      const why = notPassing ?? "The agent ended its turn without changing any file.";
      return {
        status: "escalated",
        message: `${why} Nothing was pushed.${summary.length > 0 ? ` The agent said: ${keepHeadAndTail(summary, 1_000).text}` : ""}`,
        spend,
        evidence: evidenceOf(gate, summary),
      };
    }
    if (commit.kind === "refused") return { status: "escalated", message: commit.reason, spend, evidence: evidenceOf(gate, summary) };
    const changedFiles = commit.changedFiles;

    const pushToken = await this.#token(job, "write");
    if (followUp?.branch !== undefined) {
      // On afk's own branch (or the default branch in direct mode), on top of what CI and the reviewers saw: a fast-forward, never forced.
      const onBranch = await worktree.push({ remoteUrl: input.cloneUrl, auth: { token: pushToken }, branch: followUp.branch, signal: job.signal });
      if (onBranch.kind === "rejected") {
        return {
          status: "escalated",
          spend,
          evidence: evidenceOf(gate, summary),
          message: `Someone else pushed to \`${followUp.branch}\` while afk worked on ${what}, so afk did not push (it never force-pushes): ${onBranch.message}`,
        };
      }
      await reporter.phase("pull_request");
      return {
        status: "waiting",
        spend,
        branch: followUp.branch,
        ...(followUp.pullRequest === undefined ? {} : { pullRequest: followUp.pullRequest }),
        headSha: onBranch.sha,
        evidence: evidenceOf(gate, summary),
        message: summary.trim().length > 0 ? keepHeadAndTail(summary, 2_000).text : `${what} pushed; \`${job.config.test}\` passes in afk's sandbox.`,
      };
    }
    let movedOn = "";
    if (direct) {
      // A fast-forward of the default branch from the commit afk started at; if a person pushed meanwhile, a pull request instead.
      const onDefault = await worktree.push({ remoteUrl: input.cloneUrl, auth: { token: pushToken }, branch: input.defaultBranch, signal: job.signal });
      if (onDefault.kind === "pushed") {
        await this.#supersede(job, octokit, `${onDefault.sha.slice(0, 7)} on \`${input.defaultBranch}\``);
        await reporter.phase("pull_request");
        return {
          status: "waiting",
          spend,
          branch: input.defaultBranch,
          headSha: onDefault.sha,
          baseSha: worktree.baseSha,
          evidence: evidenceOf(gate, summary),
          message: `Pushed ${onDefault.sha.slice(0, 7)} to \`${input.defaultBranch}\` (\`mode: direct\`); \`${job.config.test}\` passes in afk's sandbox. afk waits for CI on it, then closes the issue.`,
        };
      }
      movedOn = `\`${input.defaultBranch}\` moved while afk worked (afk never force-pushes), so the change goes through a pull request instead. `;
    }
    const wanted = branchName(job.issue, input.issueTitle);
    let branch = wanted;
    let pushed = await worktree.push({ remoteUrl: input.cloneUrl, auth: { token: pushToken }, branch, signal: job.signal });
    if (pushed.kind === "rejected") {
      // The branch exists with other history (an earlier run, or a person's commits): never force, use a new name.
      branch = `${wanted}-${job.runId.slice(-8)}`;
      pushed = await worktree.push({ remoteUrl: input.cloneUrl, auth: { token: pushToken }, branch, signal: job.signal });
    }
    if (pushed.kind === "rejected") {
      return {
        status: "failed",
        retryable: true,
        message: `GitHub refused afk's push of \`${branch}\`: ${pushed.message}`,
        spend,
        evidence: evidenceOf(gate, summary),
      };
    }

    await reporter.phase("pull_request");
    const gateShown: GateEvidence = gate ?? {
      command: job.config.test,
      exitCode: null,
      output: "(the tests did not run: the agent never finished)",
      rounds: 0,
      durationMs: 0,
    };
    const rendered = renderPullRequest({
      issue: job.issue,
      issueTitle: input.issueTitle,
      runId: job.runId,
      requestedBy: job.trigger.actor,
      model: job.model,
      summary,
      gate: gateShown,
      changedFiles,
      spend,
      ...(notPassing === undefined ? {} : { notPassing }),
    });
    // Always a draft first: it is marked ready for review (and the requester asked to review) once CI on it passes.
    const pullRequest = await openPullRequest(octokit, job.repo, {
      head: branch,
      base: input.defaultBranch,
      title: rendered.title,
      body: rendered.body,
      draft: true,
    });
    if (job.context.supersedes !== pullRequest.number) await this.#supersede(job, octokit, `#${pullRequest.number}`);
    const products = { spend, branch, pullRequest, headSha: pushed.sha, evidence: evidenceOf(gate, summary) };
    if (notPassing !== undefined) {
      return {
        ...products,
        status: "escalated",
        message: `${notPassing} The work so far is on draft pull request #${pullRequest.number}, marked as not passing.`,
      };
    }
    return {
      ...products,
      status: "waiting",
      message: `${movedOn}Draft pull request #${pullRequest.number} is open and \`${gateShown.command}\` passes in afk's sandbox; it is marked ready for review once CI on it passes.`,
    };
  }

  /** An earlier run's pull request for the issue is closed once this run delivered its replacement; failing to is logged, never fatal. */
  async #supersede(job: RunJob, octokit: GitHub, replacement: string): Promise<void> {
    const number = job.context.supersedes;
    if (number === undefined) return;
    try {
      await closeSupersededPullRequest(octokit, job.repo, { number, issue: job.issue, replacement, botLogin: await this.#deps.botLogin() });
    } catch (error) {
      this.#deps.log.warn({ err: error, runId: job.runId, pull: number }, "afk could not close the pull request its new run replaces");
    }
  }

  async #token(job: RunJob, level: "read" | "write"): Promise<string> {
    const app = await this.#deps.appOctokit();
    const token = await createScopedToken(app, job.repo.installationId, job.repo.repo, { contents: level });
    return token.token;
  }

  async #identity(): Promise<{ name: string; email: string }> {
    const login = await this.#deps.botLogin();
    return { name: login, email: `${login}@users.noreply.github.com` };
  }
}
