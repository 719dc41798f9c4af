import type { JobResult, JobSpec } from "../run-contract/job-protocol.js";
import { errorMessage } from "../github/types.js";
import type { Spend } from "../run-contract/executor.js";
import { knownModels, priceOf } from "./agent/model-pricing.js";
import { redactSecrets } from "./agent/redact-secrets.js";
import { boundRunLog, type RunLogData } from "../run-contract/run-log.js";
import { renderTask } from "./gather-task.js";
import { runAgentInWorktree } from "./run-agent-in-worktree.js";
import { WorkspaceCache, type Worktree } from "./workspace.js";

/** What the runner needs besides the spec: where its caches live and how its sandbox may be made. */
export interface JobSpecDeps {
  cacheDir: string;
  allowUnsandboxed: boolean;
  allowHostNetwork: boolean;
  modelRetries: number;
  signal: AbortSignal;
  onPhase?: (phase: "workspace" | "agent" | "gate") => void;
  onSpend?: (spend: Spend) => void;
}

/** The runner's commit inside the bundle; afk makes its own commit of the change, so neither ever reaches GitHub. */
const BUNDLE_COMMIT = { message: "afk job: the change, for afk to check and commit", author: { name: "afk job", email: "afk-job@localhost" } };

/**
 * The work of one run where the job runs (a GitHub Actions runner): the same workspace, sandbox,
 * agent loop and gate as afk's own executor, at the commit afk pinned, with the model reached
 * through afk (the job's credential in place of a key). It pushes nothing: the change comes back as
 * a git bundle of one commit on the base, which afk checks and commits itself.
 */
export async function runJobSpec(spec: JobSpec, deps: JobSpecDeps): Promise<JobResult> {
  const notStarted = (reason: string, retryable: boolean): JobResult => ({ v: 1, runId: spec.runId, outcome: { kind: "not-started", reason, retryable } });
  const price = priceOf(spec.model);
  if (price === undefined) return notStarted(`afk has no price for the model \`${spec.model}\`; use one of: ${knownModels().join(", ")}.`, false);
  deps.onPhase?.("workspace");
  const workspaces = new WorkspaceCache({
    cacheDir: deps.cacheDir,
    sandbox: { allowUnsandboxed: deps.allowUnsandboxed, allowHostNetwork: deps.allowHostNetwork, hiddenPaths: [] },
  });
  let worktree: Worktree;
  try {
    // The pinned commit itself: whatever the branch says by now, the job works where afk decided.
    worktree = await workspaces.open({
      cloneUrl: spec.repository.cloneUrl,
      auth: { token: spec.readToken },
      ref: spec.baseSha,
      runId: spec.runId,
      signal: deps.signal,
    });
  } catch (error) {
    return notStarted(`the job could not prepare a worktree of ${spec.repository.fullName} at ${spec.baseSha.slice(0, 12)}: ${errorMessage(error)}`, true);
  }
  try {
    const run = await runAgentInWorktree({
      worktree,
      packageCache: { path: workspaces.packageCachePath(spec.repository.cloneUrl), shared: spec.sharedPackageCache },
      config: spec.config,
      model: spec.model,
      price,
      task: () => renderTask(spec.task, worktree.path),
      modelAccess: { apiKey: spec.jobCredential, baseUrl: spec.modelBaseUrl, maxRetries: deps.modelRetries },
      allowUnsandboxed: deps.allowUnsandboxed,
      allowHostNetwork: deps.allowHostNetwork,
      secrets: [spec.readToken, spec.jobCredential],
      hiddenPaths: [],
      signal: deps.signal,
      onPhase: (phase) => deps.onPhase?.(phase),
      onSpend: (spend) => deps.onSpend?.(spend),
    });
    if (run.kind === "not-started") return notStarted(run.reason, run.retryable);
    const outcome: JobResult["outcome"] = { kind: "implemented", result: run.result, transcriptTail: run.transcriptTail };
    // The model's own words in the log (its text, its tool calls' input) are redacted here too, with the job's secrets.
    const secrets = [spec.readToken, spec.jobCredential];
    const runLog: RunLogData = boundRunLog({
      entries: run.runLog.map((entry) => ({ ...entry, text: redactSecrets(entry.text, secrets) })),
      toolCalls: run.toolCalls,
    });
    if (run.result.kind === "aborted") return { v: 1, runId: spec.runId, outcome, runLog };
    const bundle = await worktree.changeBundle(BUNDLE_COMMIT.message, BUNDLE_COMMIT.author);
    return { v: 1, runId: spec.runId, outcome, runLog, ...(bundle === undefined ? {} : { bundle: bundle.toString("base64") }) };
  } finally {
    await worktree.remove().catch(() => undefined);
  }
}
