import type { Logger } from "probot";
import type { OperatorSettings } from "../config/operator-settings.js";
import { formatDiscussion, IssueChangedError, readIssueContext } from "../github/issue-context.js";
import { createScopedToken } from "../github/installation-token.js";
import { errorMessage, fullName, type GitHub } from "../github/types.js";
import type { Executor, RunJob, RunOutcome, RunReporter } from "../run-contract/executor.js";
import { knownModels, priceOf } from "./agent/model-pricing.js";
import { carryOutDelivery } from "./carry-out-delivery.js";
import { planDelivery } from "./delivery-plan.js";
import { gatherTask, renderTask } from "./gather-task.js";
import { runReadOnlyJob } from "./read-only-job.js";
import { runAgentInWorktree, type AgentRunInput } from "./run-agent-in-worktree.js";
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
    const task = await gatherTask(job, octokit, botLogin, {
      repository: fullName(job.repo),
      issue_number: String(issue.number),
      issue_title: issue.title,
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
        task: () => renderTask(task.spec, worktree.path),
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
      if (job.kind === "plan" || job.kind === "ask") return await runReadOnlyJob(job, octokit, worktree, agentInput);
      const run = await runAgentInWorktree(agentInput);
      if (run.kind === "not-started") {
        return run.retryable ? { status: "failed", retryable: true, message: run.reason } : { status: "escalated", message: run.reason };
      }
      const plan = planDelivery({
        kind: job.kind,
        issue: job.issue,
        issueTitle: issue.title,
        runId: job.runId,
        requestedBy: job.trigger.actor,
        model: job.model,
        config,
        context: job.context,
        defaultBranch: repository.default_branch,
        baseSha: worktree.baseSha,
        result: run.result,
        spend: run.spend,
        transcriptTail: run.transcriptTail,
      });
      return await carryOutDelivery(plan, {
        job,
        octokit,
        reporter,
        worktree,
        cloneUrl: repository.clone_url,
        pushToken: () => this.#token(job, "write"),
        botLogin,
        log: this.#deps.log,
      });
    } finally {
      await worktree.remove().catch((error: unknown) => this.#deps.log.warn({ err: error, runId: job.runId }, "afk could not remove a worktree"));
    }
  }

  async #token(job: RunJob, level: "read" | "write"): Promise<string> {
    const app = await this.#deps.appOctokit();
    const token = await createScopedToken(app, job.repo.installationId, job.repo.repo, { contents: level });
    return token.token;
  }
}
