import type { RepoConfig } from "../config/repo-config.js";
import { renderPullRequest } from "../progress/render-pull-request.js";
import { branchName } from "../run-contract/branch.js";
import type { CheckRunDetails, GateEvidence } from "../run-contract/evidence.js";
import type { JobContext, PullRequestRef, RunOutcome, Spend } from "../run-contract/executor.js";
import type { Job } from "../run-contract/job.js";
import { keepHeadAndTail } from "../text/keep-head-and-tail.js";
import type { OutOfScopeFile } from "../text/out-of-scope-files.js";
import type { ImplementResult } from "./implement-result.js";

/** What a finished agent run left, and what afk knows of the run and the repository, all read before delivery. */
export interface DeliveryFacts {
  /** A first implementation, or a follow-up (fix-ci, rework) that continues afk's branch. */
  kind: Job;
  issue: number;
  issueTitle: string;
  runId: string;
  /** Who asked for the run; named in the pull request. */
  requestedBy: string;
  model: string;
  config: Pick<RepoConfig, "mode" | "test" | "protected_paths">;
  context: Pick<JobContext, "branch" | "pullRequest" | "attempt" | "supersedes">;
  defaultBranch: string;
  /** The commit the worktree started from: in direct mode, the commit whose CI tells afk's failures from older ones. */
  baseSha: string;
  result: ImplementResult;
  spend: Spend;
  transcriptTail: string;
}

/** The commit afk makes of the agent's work (the author is afk's bot, added by whoever carries the step out). */
export interface CommitRequest {
  issue: number;
  title: string;
  summary: string;
  runId: string;
  /** False in direct mode: the commit lands on the default branch, and the issue closes once CI on it passes. */
  closesIssue: boolean;
  protectedPaths: readonly string[];
}

/** What afk does on the way, in order. A push is never forced: there is no way to ask for one. */
export type DeliveryStep =
  | { kind: "commit"; commit: CommitRequest }
  /** Pushes the commit to `branch`; GitHub rejects it when the branch has other history. */
  | { kind: "push"; branch: string }
  | { kind: "report-phase"; phase: "pull_request" }
  /** Opens the pull request, or updates the one already open for `head`. Always a draft first. */
  | { kind: "open-pull-request"; pullRequest: { head: string; base: string; title: string; body: string; draft: true } }
  /** Closes afk's pull request from an earlier run of the issue, saying what replaced it; failing to is never fatal. */
  | { kind: "close-superseded"; number: number; replacement: string };

/** What became of a step, handed back to the plan. */
export type StepAnswer =
  | { kind: "commit"; result: CommitAnswer }
  | { kind: "push"; result: { kind: "pushed"; sha: string } | { kind: "rejected"; message: string } }
  | { kind: "report-phase" }
  | { kind: "open-pull-request"; pullRequest: PullRequestRef }
  | { kind: "close-superseded" };

/**
 * What the commit step found: the change (with the new files that look outside its scope, named in
 * the pull request), nothing to commit, or afk's push policy refusing it.
 */
export type CommitAnswer =
  { kind: "committed"; changedFiles: readonly string[]; outOfScope?: readonly OutOfScopeFile[] } | { kind: "no-change" } | { kind: "refused"; reason: string };

/**
 * A delivery, step by step: it yields each step, takes back what became of it, and returns the
 * run's outcome. Driving it does the I/O (see `carryOutDelivery`); the plan itself does none and
 * reads no clock, so the same facts and answers always give the same steps and outcome.
 */
export type DeliveryPlan = Generator<DeliveryStep, RunOutcome, StepAnswer>;

/**
 * Turns the agent's result into what people see: a pull request, a draft with the work so far, or a
 * clear account of why there is none. Invariants: nothing is pushed to the default branch unless the
 * job is a first implementation that passed in `mode: direct`, or a follow-up of such a change; a
 * follow-up that does not pass pushes nothing; a rejected push is never repeated to the same branch;
 * the pull request a run opens is never the one it closes as superseded.
 */
export function* planDelivery(facts: DeliveryFacts): DeliveryPlan {
  const { spend, config, context } = facts;
  const agent = agentVerdict(facts);
  if (agent.kind === "finished") return agent.outcome;
  const { gate, summary, notPassing } = agent;
  const evidence: CheckRunDetails = { ...(gate === undefined ? {} : { gate }), summary, transcriptTail: facts.transcriptTail };

  const followUp = facts.kind === "fix-ci" || facts.kind === "rework" ? { branch: context.branch, pullRequest: context.pullRequest } : undefined;
  const what = facts.kind === "fix-ci" ? `fix attempt ${context.attempt ?? 1}` : `rework ${context.attempt ?? 1}`;
  // Direct mode: a passing change goes straight onto the default branch, and so does each fix of it.
  const direct = followUp === undefined ? config.mode === "direct" && notPassing === undefined : followUp.branch === facts.defaultBranch;
  if (followUp !== undefined && notPassing !== undefined) {
    // A follow-up never makes the pull request worse: the branch stays as CI and the reviewers saw it.
    return {
      status: "escalated",
      message: `afk's ${what} did not pass its own gate: ${notPassing} Nothing was pushed; the branch is as it was.`,
      spend,
      evidence,
    };
  }
  const commit = yield* commitStep({
    issue: facts.issue,
    title: followUp === undefined ? facts.issueTitle : `${facts.issueTitle} (${what})`,
    summary,
    runId: facts.runId,
    closesIssue: !direct,
    protectedPaths: config.protected_paths,
  });
  if (commit.kind === "no-change") {
    const said = summary.length > 0 ? keepHeadAndTail(summary, 1_000).text : undefined;
    if (followUp !== undefined)
      return { status: "escalated", message: `The agent changed nothing in ${what}.${said === undefined ? "" : ` It said: ${said}`}`, spend, evidence };
    const why = notPassing ?? "The agent ended its turn without changing any file.";
    return { status: "escalated", message: `${why} Nothing was pushed.${said === undefined ? "" : ` The agent said: ${said}`}`, spend, evidence };
  }
  if (commit.kind === "refused") return { status: "escalated", message: commit.reason, spend, evidence };

  if (followUp?.branch !== undefined) {
    // On afk's own branch (or the default branch in direct mode), on top of what CI and the reviewers saw: a fast-forward.
    const onBranch = yield* pushStep(followUp.branch);
    if (onBranch.kind === "rejected") {
      return {
        status: "escalated",
        spend,
        evidence,
        message: `Someone else pushed to \`${followUp.branch}\` while afk worked on ${what}, so afk did not push (it never force-pushes): ${onBranch.message}`,
      };
    }
    yield* reportPhase();
    return {
      status: "waiting",
      spend,
      branch: followUp.branch,
      ...(followUp.pullRequest === undefined ? {} : { pullRequest: followUp.pullRequest }),
      headSha: onBranch.sha,
      evidence,
      message: summary.trim().length > 0 ? keepHeadAndTail(summary, 2_000).text : `${what} pushed; \`${config.test}\` passes in afk's sandbox.`,
    };
  }

  let movedOn = "";
  if (direct) {
    // A fast-forward of the default branch from the commit afk started at; if a person pushed meanwhile, a pull request instead.
    const onDefault = yield* pushStep(facts.defaultBranch);
    if (onDefault.kind === "pushed") {
      yield* closeSuperseded(facts, `${onDefault.sha.slice(0, 7)} on \`${facts.defaultBranch}\``);
      yield* reportPhase();
      return {
        status: "waiting",
        spend,
        branch: facts.defaultBranch,
        headSha: onDefault.sha,
        baseSha: facts.baseSha,
        evidence,
        message: `Pushed ${onDefault.sha.slice(0, 7)} to \`${facts.defaultBranch}\` (\`mode: direct\`); \`${config.test}\` passes in afk's sandbox. afk waits for CI on it, then closes the issue.`,
      };
    }
    movedOn = `\`${facts.defaultBranch}\` moved while afk worked (afk never force-pushes), so the change goes through a pull request instead. `;
  }

  const wanted = branchName(facts.issue, facts.issueTitle);
  let branch = wanted;
  let pushed = yield* pushStep(branch);
  if (pushed.kind === "rejected") {
    // The branch exists with other history (an earlier run, or a person's commits): a new name, never a forced push.
    branch = `${wanted}-${facts.runId.slice(-8)}`;
    pushed = yield* pushStep(branch);
  }
  if (pushed.kind === "rejected") {
    return { status: "failed", retryable: true, message: `GitHub refused afk's push of \`${branch}\`: ${pushed.message}`, spend, evidence };
  }

  yield* reportPhase();
  const gateShown: GateEvidence = gate ?? {
    command: config.test,
    exitCode: null,
    output: "(the tests did not run: the agent never finished)",
    rounds: 0,
    durationMs: 0,
  };
  const rendered = renderPullRequest({
    issue: facts.issue,
    issueTitle: facts.issueTitle,
    runId: facts.runId,
    requestedBy: facts.requestedBy,
    model: facts.model,
    summary,
    gate: gateShown,
    changedFiles: commit.changedFiles,
    outOfScope: commit.outOfScope ?? [],
    spend,
    ...(notPassing === undefined ? {} : { notPassing }),
  });
  // Always a draft first: it is marked ready for review (and the requester asked to review) once CI on it passes.
  const pullRequest = yield* openPullRequestStep({ head: branch, base: facts.defaultBranch, title: rendered.title, body: rendered.body, draft: true });
  if (context.supersedes !== pullRequest.number) yield* closeSuperseded(facts, `#${pullRequest.number}`);
  const products = { spend, branch, pullRequest, headSha: pushed.sha, evidence };
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

/** Whether the agent's run ends the delivery before any commit, and otherwise what the gate showed and why it does not pass. */
function agentVerdict(
  facts: DeliveryFacts,
): { kind: "finished"; outcome: RunOutcome } | { kind: "deliver"; gate: GateEvidence | undefined; summary: string; notPassing: string | undefined } {
  const { result, spend } = facts;
  switch (result.kind) {
    case "aborted":
      return { kind: "finished", outcome: { status: "failed", retryable: true, message: result.message, spend } };
    case "model-error":
      return {
        kind: "finished",
        outcome: { status: "failed", retryable: result.retryable, message: `The model could not be reached: ${result.message}`, spend },
      };
    case "passed":
      return { kind: "deliver", gate: result.gate, summary: result.summary, notPassing: undefined };
    case "tests-fail": {
      const { gate } = result;
      const notPassing = `\`${gate.command}\` still fails after ${gate.rounds} gate round${gate.rounds === 1 ? "" : "s"} (\`gate.max_rounds\`).`;
      return { kind: "deliver", gate, summary: result.summary, notPassing };
    }
    case "budget":
      return { kind: "deliver", gate: result.gate, summary: "", notPassing: `The agent ran out of budget: ${result.message}.` };
  }
}

// Each step yields once and checks that the answer is for that step: a driver that answers out of turn is a bug, never a guess.

function* commitStep(commit: CommitRequest): Generator<DeliveryStep, CommitAnswer, StepAnswer> {
  const answer = yield { kind: "commit", commit };
  if (answer.kind !== "commit") throw outOfTurn("commit", answer);
  return answer.result;
}

function* pushStep(branch: string): Generator<DeliveryStep, { kind: "pushed"; sha: string } | { kind: "rejected"; message: string }, StepAnswer> {
  const answer = yield { kind: "push", branch };
  if (answer.kind !== "push") throw outOfTurn("push", answer);
  return answer.result;
}

function* reportPhase(): Generator<DeliveryStep, void, StepAnswer> {
  const answer = yield { kind: "report-phase", phase: "pull_request" };
  if (answer.kind !== "report-phase") throw outOfTurn("report-phase", answer);
}

function* openPullRequestStep(pullRequest: {
  head: string;
  base: string;
  title: string;
  body: string;
  draft: true;
}): Generator<DeliveryStep, PullRequestRef, StepAnswer> {
  const answer = yield { kind: "open-pull-request", pullRequest };
  if (answer.kind !== "open-pull-request") throw outOfTurn("open-pull-request", answer);
  return answer.pullRequest;
}

/** Only when the job names an earlier pull request to supersede. */
function* closeSuperseded(facts: DeliveryFacts, replacement: string): Generator<DeliveryStep, void, StepAnswer> {
  const number = facts.context.supersedes;
  if (number === undefined) return;
  const answer = yield { kind: "close-superseded", number, replacement };
  if (answer.kind !== "close-superseded") throw outOfTurn("close-superseded", answer);
}

function outOfTurn(step: DeliveryStep["kind"], answer: StepAnswer): Error {
  return new Error(`the delivery plan asked for ${step} and was answered with ${answer.kind}`);
}
