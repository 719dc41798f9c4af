import type { Logger } from "probot";
import type { OperatorSettings } from "../config/operator-settings.js";
import { formatDiscussion, IssueChangedError, readIssueContext, type IssueContext } from "../github/issue-context.js";
import { createScopedToken } from "../github/installation-token.js";
import { errorMessage, fullName, type GitHub } from "../github/types.js";
import type { Executor, RemoteJob, RunJob, RunOutcome, RunReporter, Spend } from "../run-contract/executor.js";
import type { JobResult, TaskSpec } from "../run-contract/job-protocol.js";
import { carryOutDelivery } from "./carry-out-delivery.js";
import { planDelivery } from "./delivery-plan.js";
import { gatherTask, renderTask } from "./gather-task.js";
import { runReadOnlyJob, type AnswerSession } from "./read-only-job.js";
import { isFollowUp, preflight } from "./run-preflight.js";
import { runAgentInWorktree, type AgentRunInput } from "./run-agent-in-worktree.js";
import type { ImplementResult } from "./implement-result.js";
import { redactSecrets } from "./agent/redact-secrets.js";
import { RunLogStore } from "../github/run-log.js";
import type { GateEvidence } from "../run-contract/evidence.js";
import type { RunLogEntryData } from "../run-contract/run-log.js";
import { renderRunLog, type RunLogHeader } from "../progress/render-run-log.js";
import { ChangeBundleRefused, WorkspaceCache, type Worktree } from "./workspace.js";

/** What delivering a job's change needs from GitHub: the issue as the trusted person saw it, and the repository. */
interface IssueAndRepository {
  octokit: GitHub;
  botLogin: string;
  issue: IssueContext;
  repository: { cloneUrl: string; defaultBranch: string };
}

/** What a job's agent session did, for its run log. */
interface SessionFacts {
  entries: readonly RunLogEntryData[];
  toolCalls: number;
  spend: Spend;
  gate: GateEvidence | undefined;
  executor: RunLogHeader["executor"];
}

/** What a job needs from GitHub before any clone: that, and its task. */
interface Prepared extends IssueAndRepository {
  task: TaskSpec;
}

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
  readonly #runLogs: RunLogStore;

  constructor(deps: GitHubExecutorDeps) {
    this.#deps = deps;
    this.#runLogs = new RunLogStore({ retentionDays: deps.settings.runLogDays, log: deps.log });
    this.#workspaces = new WorkspaceCache({
      cacheDir: deps.settings.cacheDir,
      sandbox: { allowUnsandboxed: deps.settings.allowUnsandboxed, allowHostNetwork: deps.settings.allowHostNetwork, hiddenPaths: deps.hiddenPaths },
    });
  }

  async execute(job: RunJob, reporter: RunReporter): Promise<RunOutcome> {
    const apiKey = this.#deps.anthropicApiKey ?? "";
    const ready = preflight(job, apiKey);
    if ("refused" in ready) return ready.refused;
    const { price } = ready;
    const { config } = job;
    const prepared = await this.#prepare(job);
    if ("refused" in prepared) return prepared.refused;
    const { octokit, repository, task } = prepared;
    const followUp = isFollowUp(job);
    const readToken = await this.#token(job, "read");
    const secrets = [...this.#deps.secrets, apiKey, readToken];
    // Every token afk mints for this job (the push's among them), redacted from its run log with the rest.
    const minted: string[] = [];

    await reporter.phase("workspace");
    let worktree: Worktree;
    const ref = followUp ? (job.context.branch ?? repository.defaultBranch) : repository.defaultBranch;
    try {
      worktree = await this.#workspaces.open({ cloneUrl: repository.cloneUrl, auth: { token: readToken }, ref, runId: job.runId, signal: job.signal });
    } catch (error) {
      return { status: "failed", retryable: true, message: `afk could not prepare a worktree of ${fullName(job.repo)} at \`${ref}\`: ${errorMessage(error)}` };
    }
    try {
      const agentInput: AgentRunInput = {
        worktree,
        // A follow-up works on afk's own branch, which the agent wrote: its setup must not fill the shared cache.
        packageCache: { path: this.#workspaces.packageCachePath(repository.cloneUrl), shared: !followUp },
        config,
        model: job.model,
        price,
        task: () => renderTask(task, worktree.path),
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
      if (job.kind === "plan" || job.kind === "ask") {
        let session: AnswerSession | undefined;
        const outcome = await runReadOnlyJob(job, octokit, worktree, agentInput, (ended) => (session = ended));
        if (session === undefined) return outcome;
        const facts: SessionFacts = { entries: session.runLog, toolCalls: session.toolCalls, spend: session.spend, gate: undefined, executor: "local" };
        return await this.#keepRunLog(job, outcome, facts, secrets);
      }
      const run = await runAgentInWorktree(agentInput);
      if (run.kind === "not-started") {
        return run.retryable ? { status: "failed", retryable: true, message: run.reason } : { status: "escalated", message: run.reason };
      }
      const facts: SessionFacts = { entries: run.runLog, toolCalls: run.toolCalls, spend: run.spend, gate: gateOf(run.result), executor: "local" };
      let outcome: RunOutcome;
      try {
        outcome = await this.#deliver(
          job,
          prepared,
          worktree,
          reporter,
          { baseSha: worktree.baseSha, result: run.result, spend: run.spend, transcriptTail: run.transcriptTail },
          minted,
        );
      } catch (error) {
        // The run log matters most when the run went wrong: it is kept before the error goes on.
        await this.#keepRunLog(job, { status: "failed", retryable: true, message: `afk could not deliver: ${errorMessage(error)}` }, facts, [
          ...secrets,
          ...minted,
        ]);
        throw error;
      }
      return await this.#keepRunLog(job, outcome, facts, [...secrets, ...minted]);
    } finally {
      await worktree.remove().catch((error: unknown) => this.#deps.log.warn({ err: error, runId: job.runId }, "afk could not remove a worktree"));
    }
  }

  /**
   * What a job needs from GitHub before any clone: the issue as the trusted person saw it (a changed
   * issue ends the run here), the repository, and the task. Shared by a local run and a remote job's start.
   */
  async #prepare(job: RunJob): Promise<{ refused: RunOutcome } | Prepared> {
    const read = await this.#issueAndRepository(job);
    if ("refused" in read) return read;
    const { octokit, botLogin, issue } = read;
    const task = await gatherTask(job, octokit, botLogin, {
      repository: fullName(job.repo),
      issue_number: String(issue.number),
      issue_title: issue.title,
      issue_body: issue.body.length > 0 ? issue.body : "(no description)",
      discussion: formatDiscussion(issue),
    });
    if (task.kind === "refused") return { refused: { status: "failed", retryable: false, message: task.message } };
    return { ...read, task: task.spec };
  }

  /** The issue, read only if it still says what the trusted person asked about (a changed issue ends the run here), and the repository. */
  async #issueAndRepository(job: RunJob): Promise<{ refused: RunOutcome } | IssueAndRepository> {
    const octokit = await this.#deps.octokitFor(job.repo.installationId);
    const botLogin = await this.#deps.botLogin();
    let issue: IssueContext;
    try {
      // Every job of a run, follow-ups included, reads only the issue text the trusted person asked about.
      issue = await readIssueContext(octokit, job.repo, job.issue, {
        trust: job.config.trusted,
        botLogin,
        requestedAt: job.trigger.at,
        bodyDigest: job.trigger.bodyDigest,
      });
    } catch (error) {
      if (error instanceof IssueChangedError) return { refused: { status: "failed", retryable: false, message: error.message } };
      throw error;
    }
    const { data: repository } = await octokit.rest.repos.get({ owner: job.repo.owner, repo: job.repo.repo });
    return { octokit, botLogin, issue, repository: { cloneUrl: repository.clone_url, defaultBranch: repository.default_branch } };
  }

  /**
   * A remote job's task and a token to clone with (`contents: read` on the one repository), or why the
   * job cannot start (the issue changed, afk has no key or no price for the model).
   */
  async remoteTask(job: RunJob): Promise<{ refused: RunOutcome } | { task: TaskSpec; cloneUrl: string; readToken: string }> {
    const ready = preflight(job, this.#deps.anthropicApiKey);
    if ("refused" in ready) return ready;
    const prepared = await this.#prepare(job);
    if ("refused" in prepared) return prepared;
    return { task: prepared.task, cloneUrl: prepared.repository.cloneUrl, readToken: await this.#token(job, "read") };
  }

  /**
   * Delivers what a job on GitHub Actions returned (ADR 0008) as a local run's change is delivered: its
   * bundle goes into a worktree of afk's own at the base afk pinned (refused unless it is one commit on
   * that base), then through the same plan and checks (gitlinks, protected paths, CI-skip markers, inert
   * text), committed and pushed by afk with its own token. `spend` is afk's own count, from its model
   * proxy; the gate's result is the job's word (CI on the pull request judges again).
   */
  async deliverRemote(job: RunJob, remote: RemoteJob, returned: JobResult, spend: Spend, reporter: RunReporter): Promise<RunOutcome> {
    const { outcome } = returned;
    if (outcome.kind === "not-started")
      return outcome.retryable
        ? { status: "failed", retryable: true, message: outcome.reason, spend }
        : { status: "escalated", message: outcome.reason, spend };
    const minted: string[] = [];
    // The job's log (redacted of the job's own secrets where it ran) is kept, redacted again with afk's, however delivering ends.
    const keep = async (delivered: RunOutcome): Promise<RunOutcome> => {
      if (returned.runLog === undefined) return delivered;
      const { entries, toolCalls } = returned.runLog;
      const facts: SessionFacts = { entries, toolCalls, spend, gate: gateOf(implementResultOf(outcome.result)), executor: "actions" };
      return this.#keepRunLog(job, delivered, facts, [...this.#deps.secrets, this.#deps.anthropicApiKey ?? "", ...minted]);
    };
    // The task was gathered when the job started; delivering needs only the issue (still as approved) and the repository.
    const prepared = await this.#issueAndRepository(job);
    if ("refused" in prepared) return await keep({ ...prepared.refused, spend });
    const { repository } = prepared;
    const readToken = await this.#token(job, "read");
    minted.push(readToken);
    let worktree: Worktree;
    try {
      worktree = await this.#workspaces.open({
        cloneUrl: repository.cloneUrl,
        auth: { token: readToken },
        ref: remote.baseSha,
        runId: job.runId,
        signal: job.signal,
      });
    } catch (error) {
      return await keep({
        status: "failed",
        retryable: true,
        spend,
        message: `afk could not prepare a worktree of ${fullName(job.repo)} at ${remote.baseSha.slice(0, 12)}: ${errorMessage(error)}`,
      });
    }
    try {
      if (returned.bundle !== undefined) {
        try {
          await worktree.applyChangeBundle(Buffer.from(returned.bundle, "base64"));
        } catch (error) {
          if (!(error instanceof ChangeBundleRefused)) throw error;
          return await keep({ status: "escalated", spend, message: `afk refused the change the job returned: ${error.message}. Nothing was pushed.` });
        }
      }
      return await keep(
        await this.#deliver(
          job,
          prepared,
          worktree,
          reporter,
          { baseSha: remote.baseSha, result: implementResultOf(outcome.result), spend, transcriptTail: outcome.transcriptTail },
          minted,
        ),
      );
    } finally {
      await worktree.remove().catch((error: unknown) => this.#deps.log.warn({ err: error, runId: job.runId }, "afk could not remove a worktree"));
    }
  }

  /** The agent's work in `worktree`, planned (what to push where, which pull request) and carried out with afk's own write token. */
  async #deliver(
    job: RunJob,
    prepared: IssueAndRepository,
    worktree: Worktree,
    reporter: RunReporter,
    work: { baseSha: string; result: ImplementResult; spend: Spend; transcriptTail: string },
    minted: string[],
  ): Promise<RunOutcome> {
    const plan = planDelivery({
      kind: job.kind,
      issue: job.issue,
      issueTitle: prepared.issue.title,
      runId: job.runId,
      requestedBy: job.trigger.actor,
      model: job.model,
      config: job.config,
      context: job.context,
      defaultBranch: prepared.repository.defaultBranch,
      ...work,
    });
    return carryOutDelivery(plan, {
      job,
      octokit: prepared.octokit,
      reporter,
      worktree,
      cloneUrl: prepared.repository.cloneUrl,
      pushToken: async () => {
        const token = await this.#token(job, "write");
        minted.push(token);
        return token;
      },
      botLogin: prepared.botLogin,
      log: this.#deps.log,
    });
  }

  /**
   * Keeps the job's run log in its repository (`refs/afk/runs/<run id>`), redacted of every secret the
   * run held, and returns the outcome with the log's commit. Never fails the run: a log afk could not
   * write is logged, and the outcome is returned as it was.
   */
  async #keepRunLog(job: RunJob, outcome: RunOutcome, facts: SessionFacts, secrets: readonly string[]): Promise<RunOutcome> {
    if (!this.#runLogs.enabled) return outcome;
    try {
      const header: RunLogHeader = {
        repository: fullName(job.repo),
        issue: job.issue,
        runId: job.runId,
        job: job.kind,
        model: job.model,
        executor: facts.executor,
        outcome: { status: outcome.status, message: outcome.message },
        spend: facts.spend,
        toolCalls: facts.toolCalls,
        gate: facts.gate,
      };
      const files = renderRunLog(header, facts.entries, (text) => redactSecrets(text, secrets));
      const octokit = await this.#deps.octokitFor(job.repo.installationId);
      const message = `afk run log: run ${job.runId} (${job.kind}), ${outcome.status}`;
      const commit = await this.#runLogs.keep(octokit, job.repo, job.runId, files, message);
      return commit === undefined ? outcome : { ...outcome, runLog: commit };
    } catch (error) {
      this.#deps.log.warn({ err: error, runId: job.runId }, "afk could not keep the run log; the run ends as it would without it");
      return outcome;
    }
  }

  async #token(job: RunJob, level: "read" | "write"): Promise<string> {
    const app = await this.#deps.appOctokit();
    const token = await createScopedToken(app, job.repo.installationId, job.repo.repo, { contents: level });
    return token.token;
  }
}

/** afk's last run of the tests in a job, when the gate ran. */
function gateOf(result: ImplementResult): GateEvidence | undefined {
  return result.kind === "aborted" ? undefined : result.gate;
}

/** The job's account of the agent and the gate, as afk's own implement result (a gate not reached is `undefined`). */
function implementResultOf(result: Extract<JobResult["outcome"], { kind: "implemented" }>["result"]): ImplementResult {
  switch (result.kind) {
    case "budget":
    case "model-error":
      return { ...result, gate: result.gate };
    default:
      return result;
  }
}
