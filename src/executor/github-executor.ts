import type { Logger } from "probot";
import type { OperatorSettings } from "../config/operator-settings.js";
import { formatDiscussion, IssueChangedError, readIssueContext } from "../github/issue-context.js";
import { createScopedToken } from "../github/installation-token.js";
import { openPullRequest, requestReview } from "../github/pull-request.js";
import { errorMessage, fullName, type GitHub } from "../github/types.js";
import type { GateEvidence } from "../progress/render-check-run.js";
import { renderPullRequest } from "../progress/render-pull-request.js";
import { knownModels, priceOf } from "./agent/model-pricing.js";
import { commitChange } from "./commit-change.js";
import { branchName } from "./commit-message.js";
import type { Executor, RunJob, RunOutcome, RunReporter, Spend } from "./executor.js";
import type { ImplementResult } from "./implement-issue.js";
import { keepHeadAndTail } from "./keep-head-and-tail.js";
import { renderPrompt } from "./render-prompt.js";
import { readRepoInstructions } from "./repo-instructions.js";
import { runAgentInWorktree } from "./run-agent-in-worktree.js";
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
    this.#workspaces = new WorkspaceCache({ cacheDir: deps.settings.cacheDir });
  }

  async execute(job: RunJob, reporter: RunReporter): Promise<RunOutcome> {
    const apiKey = this.#deps.anthropicApiKey;
    if (apiKey === undefined || apiKey.trim() === "") {
      return { status: "failed", retryable: true, message: "ANTHROPIC_API_KEY is not set in this afk installation, so the agent cannot run. The operator must set it; then comment `/afk retry`." };
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
    // What the agent will read comes first: an issue changed since the request ends the run before any clone.
    let issue;
    try {
      issue = await readIssueContext(octokit, job.repo, job.issue, { trust: config.trusted, botLogin: await this.#deps.botLogin(), requestedAt: job.trigger.at, bodyDigest: job.trigger.bodyDigest });
    } catch (error) {
      if (error instanceof IssueChangedError) return { status: "failed", retryable: false, message: error.message };
      throw error;
    }
    const { data: repository } = await octokit.rest.repos.get({ owner: job.repo.owner, repo: job.repo.repo });
    const readToken = await this.#token(job, "read");
    const secrets = [...this.#deps.secrets, apiKey, readToken];

    await reporter.phase("workspace");
    let worktree: Worktree;
    try {
      worktree = await this.#workspaces.open({ cloneUrl: repository.clone_url, auth: { token: readToken }, ref: repository.default_branch, runId: job.runId, signal: job.signal });
    } catch (error) {
      return { status: "failed", retryable: true, message: `afk could not prepare a worktree of ${fullName(job.repo)}: ${errorMessage(error)}` };
    }
    try {
      const run = await runAgentInWorktree({
        worktree,
        home: this.#workspaces.homePath(repository.clone_url),
        config,
        model: job.model,
        price,
        task: async () =>
          renderPrompt("implement", {
            repository: fullName(job.repo),
            issue_number: String(issue.number),
            issue_title: issue.title,
            issue_body: issue.body.length > 0 ? issue.body : "(no description)",
            discussion: formatDiscussion(issue),
            repo_instructions: await readRepoInstructions(worktree.path),
          }),
        modelAccess: { apiKey, baseUrl: this.#deps.anthropicBaseUrl, maxRetries: this.#deps.settings.modelRetries },
        allowUnsandboxed: this.#deps.settings.allowUnsandboxed,
        secrets,
        hiddenPaths: this.#deps.hiddenPaths,
        signal: job.signal,
        onPhase: (phase) => reporter.phase(phase),
        onSpend: (spend) => reporter.spend(spend),
        onUnsandboxed: () => this.#deps.log.warn({ repo: fullName(job.repo) }, "afk runs agent commands WITHOUT a sandbox (AFK_ALLOW_UNSANDBOXED)"),
      });
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

    const commit = await commitChange(worktree, { issue: job.issue, title: input.issueTitle, summary, runId: job.runId, protectedPaths: job.config.protected_paths, author: await this.#identity() });
    if (commit.kind === "no-change") {
      const why = notPassing ?? "The agent ended its turn without changing any file.";
      return { status: "escalated", message: `${why} Nothing was pushed.${summary.length > 0 ? ` The agent said: ${keepHeadAndTail(summary, 1_000).text}` : ""}`, spend, evidence: evidenceOf(gate, summary) };
    }
    if (commit.kind === "refused") return { status: "escalated", message: commit.reason, spend, evidence: evidenceOf(gate, summary) };
    const changedFiles = commit.changedFiles;

    const pushToken = await this.#token(job, "write");
    const wanted = branchName(job.issue, input.issueTitle);
    let branch = wanted;
    let pushed = await worktree.push({ remoteUrl: input.cloneUrl, auth: { token: pushToken }, branch, signal: job.signal });
    if (pushed.kind === "rejected") {
      // The branch exists with other history (an earlier run, or a person's commits): never force, use a new name.
      branch = `${wanted}-${job.runId.slice(-8)}`;
      pushed = await worktree.push({ remoteUrl: input.cloneUrl, auth: { token: pushToken }, branch, signal: job.signal });
    }
    if (pushed.kind === "rejected") {
      return { status: "failed", retryable: true, message: `GitHub refused afk's push of \`${branch}\`: ${pushed.message}`, spend, evidence: evidenceOf(gate, summary) };
    }

    await reporter.phase("pull_request");
    const gateShown: GateEvidence = gate ?? { command: job.config.test, exitCode: null, output: "(the tests did not run: the agent never finished)", rounds: 0, durationMs: 0 };
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
    const pullRequest = await openPullRequest(octokit, job.repo, { head: branch, base: input.defaultBranch, title: rendered.title, body: rendered.body, draft: notPassing !== undefined });
    const products = { spend, branch, pullRequest, headSha: pushed.sha, evidence: evidenceOf(gate, summary) };
    if (notPassing !== undefined) {
      return { ...products, status: "escalated", message: `${notPassing} The work so far is on draft pull request #${pullRequest.number}, marked as not passing.` };
    }
    const review = await requestReview(octokit, job.repo, pullRequest.number, job.trigger.actor);
    if (!review.requested) this.#deps.log.info({ repo: fullName(job.repo), pull: pullRequest.number, reason: review.reason }, "afk could not request a review");
    return { ...products, status: "waiting", message: `Pull request #${pullRequest.number} is open and \`${gateShown.command}\` passes in afk's sandbox.` };
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
