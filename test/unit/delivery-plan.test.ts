import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { planDelivery, type CommitAnswer, type DeliveryFacts, type DeliveryStep, type StepAnswer } from "../../src/executor/delivery-plan.js";
import type { ImplementResult } from "../../src/executor/implement-result.js";
import type { GateEvidence } from "../../src/run-contract/evidence.js";
import type { PullRequestRef, RunOutcome } from "../../src/run-contract/executor.js";

const green: GateEvidence = { command: "npm test", exitCode: 0, output: "ok", rounds: 1, durationMs: 1200 };
const red: GateEvidence = { command: "npm test", exitCode: 1, output: "1 failing", rounds: 3, durationMs: 900 };
const spend = { usd: 0.42, turns: 7 };
const branch = "afk/7-add-a-flag";

function facts(overrides: Partial<DeliveryFacts> = {}): DeliveryFacts {
  return {
    kind: "implement",
    issue: 7,
    issueTitle: "Add a flag",
    runId: "run-0123456789abcdef",
    requestedBy: "octocat",
    model: "claude-sonnet-5-5",
    config: { mode: "pr", test: "npm test", protected_paths: [".github/**"] },
    context: {},
    defaultBranch: "main",
    baseSha: "b".repeat(40),
    result: { kind: "passed", summary: "Added --flag.", gate: green },
    spend,
    transcriptTail: "…the end",
    ...overrides,
  };
}

/** How the world answers: the commit, each push in turn (true: accepted), and the pull request GitHub gives back. */
interface World {
  commit: CommitAnswer;
  pushes: boolean[];
  pullRequest: PullRequestRef;
}

const world = (overrides: Partial<World> = {}): World => ({
  commit: { kind: "committed", changedFiles: ["src/cli.ts"] },
  pushes: [true, true, true],
  pullRequest: { number: 12, url: "https://github.com/o/r/pull/12", draft: true },
  ...overrides,
});

const shaOf = (count: number) => `${count}`.padStart(7, "c") + "d".repeat(33);

/** Drives a plan against a scripted world: the steps it asked for, in order, and the outcome it returned. */
function simulate(input: DeliveryFacts, answers: World): { steps: DeliveryStep[]; outcome: RunOutcome } {
  const plan = planDelivery(input);
  const steps: DeliveryStep[] = [];
  let pushes = 0;
  const answer = (step: DeliveryStep): StepAnswer => {
    switch (step.kind) {
      case "commit":
        return { kind: "commit", result: answers.commit };
      case "push": {
        pushes += 1;
        const accepted = answers.pushes[pushes - 1] ?? true;
        return { kind: "push", result: accepted ? { kind: "pushed", sha: shaOf(pushes) } : { kind: "rejected", message: "! [rejected] (fetch first)" } };
      }
      case "report-phase":
        return { kind: "report-phase" };
      case "open-pull-request":
        return { kind: "open-pull-request", pullRequest: answers.pullRequest };
      case "close-superseded":
        return { kind: "close-superseded" };
    }
  };
  let next = plan.next();
  while (next.done !== true) {
    steps.push(next.value);
    next = plan.next(answer(next.value));
  }
  return { steps, outcome: next.value };
}

const kinds = (steps: DeliveryStep[]) => steps.map((step) => (step.kind === "push" ? `push ${step.branch}` : step.kind));

describe("planDelivery", () => {
  it("first delivery: commits closing the issue, pushes afk's branch, opens a draft pull request, and waits for CI", () => {
    const { steps, outcome } = simulate(facts(), world());
    expect(kinds(steps)).toEqual(["commit", `push ${branch}`, "report-phase", "open-pull-request"]);
    expect(steps[0]).toEqual({
      kind: "commit",
      commit: { issue: 7, title: "Add a flag", summary: "Added --flag.", runId: "run-0123456789abcdef", closesIssue: true, protectedPaths: [".github/**"] },
    });
    const open = steps[3];
    expect(open?.kind === "open-pull-request" ? open.pullRequest : undefined).toMatchObject({
      head: branch,
      base: "main",
      title: "Add a flag (#7)",
      draft: true,
    });
    expect(open?.kind === "open-pull-request" ? open.pullRequest.body : "").toContain("Closes #7");
    expect(outcome).toEqual({
      status: "waiting",
      spend,
      branch,
      pullRequest: world().pullRequest,
      headSha: shaOf(1),
      evidence: { gate: green, summary: "Added --flag.", transcriptTail: "…the end" },
      message: "Draft pull request #12 is open and `npm test` passes in afk's sandbox; it is marked ready for review once CI on it passes.",
    });
  });

  it("supersedes an earlier run's pull request once the new one is open, but never closes the one it just opened", () => {
    const replaced = simulate(facts({ context: { supersedes: 5 } }), world());
    expect(kinds(replaced.steps)).toEqual(["commit", `push ${branch}`, "report-phase", "open-pull-request", "close-superseded"]);
    expect(replaced.steps[4]).toEqual({ kind: "close-superseded", number: 5, replacement: "#12" });

    // The earlier pull request is on the same branch, so GitHub's answer is that very pull request, updated.
    const same = simulate(facts({ context: { supersedes: 12 } }), world());
    expect(kinds(same.steps)).toEqual(["commit", `push ${branch}`, "report-phase", "open-pull-request"]);
  });

  it("takes a new branch name when afk's branch has other history, and fails retryably when that is refused too", () => {
    const renamed = simulate(facts(), world({ pushes: [false, true] }));
    expect(kinds(renamed.steps)).toEqual(["commit", `push ${branch}`, `push ${branch}-89abcdef`, "report-phase", "open-pull-request"]);
    expect(renamed.outcome).toMatchObject({ status: "waiting", branch: `${branch}-89abcdef`, headSha: shaOf(2) });

    const refused = simulate(facts({ context: { supersedes: 5 } }), world({ pushes: [false, false] }));
    expect(kinds(refused.steps)).toEqual(["commit", `push ${branch}`, `push ${branch}-89abcdef`]);
    expect(refused.outcome).toMatchObject({
      status: "failed",
      retryable: true,
      message: `GitHub refused afk's push of \`${branch}-89abcdef\`: ! [rejected] (fetch first)`,
    });
  });

  it("red tests: the work so far goes on a draft marked not passing, and a person is asked", () => {
    const { steps, outcome } = simulate(facts({ result: { kind: "tests-fail", summary: "Tried.", gate: red } }), world());
    expect(kinds(steps)).toEqual(["commit", `push ${branch}`, "report-phase", "open-pull-request"]);
    const open = steps[3];
    expect(open?.kind === "open-pull-request" ? open.pullRequest.title : "").toBe("[not passing] Add a flag (#7)");
    expect(outcome).toMatchObject({
      status: "escalated",
      headSha: shaOf(1),
      message: "`npm test` still fails after 3 gate rounds (`gate.max_rounds`). The work so far is on draft pull request #12, marked as not passing.",
    });
  });

  it("out of budget before any gate: the draft says the tests did not run, and the evidence has no gate", () => {
    const { steps, outcome } = simulate(facts({ result: { kind: "budget", message: "max_usd reached", gate: undefined } }), world());
    const open = steps.find((step) => step.kind === "open-pull-request");
    expect(open?.kind === "open-pull-request" ? open.pullRequest.body : "").toContain("(the tests did not run: the agent never finished)");
    expect(outcome).toMatchObject({ status: "escalated", message: expect.stringContaining("The agent ran out of budget: max_usd reached.") as unknown });
    expect(outcome.evidence).toEqual({ summary: "", transcriptTail: "…the end" });
  });

  it("direct mode: a passing change is pushed to the default branch without `Closes`, supersedes the earlier pull request, and waits for CI", () => {
    const { steps, outcome } = simulate(facts({ config: { mode: "direct", test: "npm test", protected_paths: [] }, context: { supersedes: 5 } }), world());
    expect(kinds(steps)).toEqual(["commit", "push main", "close-superseded", "report-phase"]);
    expect(steps[0]).toMatchObject({ commit: { closesIssue: false } });
    expect(steps[2]).toEqual({ kind: "close-superseded", number: 5, replacement: `${shaOf(1).slice(0, 7)} on \`main\`` });
    expect(outcome).toEqual({
      status: "waiting",
      spend,
      branch: "main",
      headSha: shaOf(1),
      baseSha: "b".repeat(40),
      evidence: { gate: green, summary: "Added --flag.", transcriptTail: "…the end" },
      message: `Pushed ${shaOf(1).slice(0, 7)} to \`main\` (\`mode: direct\`); \`npm test\` passes in afk's sandbox. afk waits for CI on it, then closes the issue.`,
    });
  });

  it("direct mode, default branch moved meanwhile: a pull request instead, and the message says why", () => {
    const { steps, outcome } = simulate(facts({ config: { mode: "direct", test: "npm test", protected_paths: [] } }), world({ pushes: [false, true] }));
    expect(kinds(steps)).toEqual(["commit", "push main", `push ${branch}`, "report-phase", "open-pull-request"]);
    expect(outcome).toMatchObject({
      status: "waiting",
      branch,
      message: expect.stringMatching(/^`main` moved while afk worked \(afk never force-pushes\)/) as unknown,
    });
  });

  it("direct mode with red tests: never the default branch; a draft pull request that closes the issue", () => {
    const { steps } = simulate(
      facts({ config: { mode: "direct", test: "npm test", protected_paths: [] }, result: { kind: "tests-fail", summary: "", gate: red } }),
      world(),
    );
    expect(kinds(steps)).toEqual(["commit", `push ${branch}`, "report-phase", "open-pull-request"]);
    expect(steps[0]).toMatchObject({ commit: { closesIssue: true } });
  });

  it("follow-up: a fix is pushed onto afk's branch, fast-forward only, and the pull request stays the same", () => {
    const pullRequest = { number: 12, url: "https://github.com/o/r/pull/12", draft: false };
    const fix = facts({ kind: "fix-ci", context: { branch, pullRequest, attempt: 2, supersedes: 5 } });
    const { steps, outcome } = simulate(fix, world());
    expect(kinds(steps)).toEqual(["commit", `push ${branch}`, "report-phase"]);
    expect(steps[0]).toMatchObject({ commit: { title: "Add a flag (fix attempt 2)", closesIssue: true } });
    expect(outcome).toEqual({
      status: "waiting",
      spend,
      branch,
      pullRequest,
      headSha: shaOf(1),
      evidence: { gate: green, summary: "Added --flag.", transcriptTail: "…the end" },
      message: "Added --flag.",
    });

    const quiet = simulate({ ...fix, kind: "rework", result: { kind: "passed", summary: " ", gate: green } }, world());
    expect(quiet.outcome.message).toBe("rework 2 pushed; `npm test` passes in afk's sandbox.");
  });

  it("follow-up: someone else pushed to the branch, so nothing is forced and a person is asked", () => {
    const { steps, outcome } = simulate(
      facts({ kind: "rework", context: { branch, pullRequest: world().pullRequest, attempt: 1 } }),
      world({ pushes: [false] }),
    );
    expect(kinds(steps)).toEqual(["commit", `push ${branch}`]);
    expect(outcome).toMatchObject({
      status: "escalated",
      message: expect.stringMatching(/^Someone else pushed to `afk\/7-add-a-flag` while afk worked on rework 1/) as unknown,
    });
  });

  it("follow-up that does not pass: nothing is committed or pushed, the branch stays as CI saw it", () => {
    const { steps, outcome } = simulate(
      facts({ kind: "fix-ci", context: { branch, attempt: 3 }, result: { kind: "tests-fail", summary: "no", gate: red } }),
      world(),
    );
    expect(steps).toEqual([]);
    expect(outcome).toMatchObject({
      status: "escalated",
      message: expect.stringMatching(/^afk's fix attempt 3 did not pass its own gate: .* Nothing was pushed; the branch is as it was\.$/) as unknown,
    });
  });

  it("follow-up of a direct-mode change: the fix goes onto the default branch, without `Closes`", () => {
    const { steps, outcome } = simulate(facts({ kind: "fix-ci", context: { branch: "main", attempt: 1 } }), world());
    expect(kinds(steps)).toEqual(["commit", "push main", "report-phase"]);
    expect(steps[0]).toMatchObject({ commit: { closesIssue: false } });
    expect(outcome).toMatchObject({ status: "waiting", branch: "main" });
    expect(outcome).not.toHaveProperty("pullRequest");
  });

  it("nothing to push: no change, or a change afk's policy refuses, ends before any push", () => {
    const noChange = simulate(facts(), world({ commit: { kind: "no-change" } }));
    expect(kinds(noChange.steps)).toEqual(["commit"]);
    expect(noChange.outcome).toMatchObject({
      status: "escalated",
      message: "The agent ended its turn without changing any file. Nothing was pushed. The agent said: Added --flag.",
    });

    const budget = simulate(facts({ result: { kind: "budget", message: "max_turns", gate: undefined } }), world({ commit: { kind: "no-change" } }));
    expect(budget.outcome.message).toBe("The agent ran out of budget: max_turns. Nothing was pushed.");

    const followUp = simulate(facts({ kind: "rework", context: { branch, attempt: 2 } }), world({ commit: { kind: "no-change" } }));
    expect(followUp.outcome.message).toBe("The agent changed nothing in rework 2. It said: Added --flag.");

    const refused = simulate(facts(), world({ commit: { kind: "refused", reason: "The change touches .github/workflows/ci.yml." } }));
    expect(kinds(refused.steps)).toEqual(["commit"]);
    expect(refused.outcome).toMatchObject({ status: "escalated", message: "The change touches .github/workflows/ci.yml." });
  });

  it("an agent that was stopped or could not reach the model: no step at all", () => {
    const aborted = simulate(facts({ result: { kind: "aborted", message: "stopped by /afk stop" } }), world());
    expect(aborted).toEqual({ steps: [], outcome: { status: "failed", retryable: true, message: "stopped by /afk stop", spend } });
    const down = simulate(facts({ result: { kind: "model-error", message: "529 overloaded", retryable: true, gate: undefined } }), world());
    expect(down).toEqual({ steps: [], outcome: { status: "failed", retryable: true, message: "The model could not be reached: 529 overloaded", spend } });
  });

  it("refuses an answer for another step than the one it asked for", () => {
    const plan = planDelivery(facts());
    expect(plan.next().value).toMatchObject({ kind: "commit" });
    expect(() => plan.next({ kind: "report-phase" })).toThrow("the delivery plan asked for commit and was answered with report-phase");
  });
});

describe("planDelivery properties", () => {
  const gate = fc.constantFrom<GateEvidence | undefined>(green, red, undefined);
  const result: fc.Arbitrary<ImplementResult> = fc.oneof(
    fc.record({ kind: fc.constant("passed" as const), summary: fc.string({ maxLength: 20 }), gate: fc.constant(green) }),
    fc.record({ kind: fc.constant("tests-fail" as const), summary: fc.string({ maxLength: 20 }), gate: fc.constant(red) }),
    fc.record({ kind: fc.constant("budget" as const), message: fc.string({ maxLength: 20 }), gate }),
    fc.record({ kind: fc.constant("model-error" as const), message: fc.string({ maxLength: 20 }), retryable: fc.boolean(), gate }),
    fc.record({ kind: fc.constant("aborted" as const), message: fc.string({ maxLength: 20 }) }),
  );
  const anyFacts: fc.Arbitrary<DeliveryFacts> = fc
    .record({
      kind: fc.constantFrom("implement" as const, "fix-ci" as const, "rework" as const),
      mode: fc.constantFrom("pr" as const, "direct" as const),
      branch: fc.constantFrom(undefined, "main", branch),
      pullRequest: fc.option(fc.constant<PullRequestRef>({ number: 12, url: "https://github.com/o/r/pull/12", draft: false }), { nil: undefined }),
      // Few numbers, so the pull request GitHub answers with is often the one the job supersedes.
      supersedes: fc.option(fc.constantFrom(5, 12), { nil: undefined }),
      result,
    })
    .map(({ kind, mode, branch: onBranch, pullRequest, supersedes, result: agent }) =>
      facts({
        kind,
        config: { mode, test: "npm test", protected_paths: [] },
        context: {
          ...(kind === "implement" || onBranch === undefined ? {} : { branch: onBranch }),
          ...(pullRequest === undefined ? {} : { pullRequest }),
          ...(supersedes === undefined ? {} : { supersedes }),
        },
        result: agent,
      }),
    );
  const anyWorld: fc.Arbitrary<World> = fc.record({
    commit: fc.constantFrom<CommitAnswer>({ kind: "committed", changedFiles: ["a.ts"] }, { kind: "no-change" }, { kind: "refused", reason: "protected" }),
    pushes: fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }),
    pullRequest: fc.constantFrom(5, 12).map((number) => ({ number, url: `https://github.com/o/r/pull/${number}`, draft: true })),
  });

  it("never pushes to the default branch unless the change passed in direct mode, or follows up one that did", () => {
    fc.assert(
      fc.property(anyFacts, anyWorld, (input, answers) => {
        const { steps } = simulate(input, answers);
        const followUp = input.kind !== "implement";
        const mayPushDefault = followUp ? input.context.branch === "main" : input.config.mode === "direct" && input.result.kind === "passed";
        if (!mayPushDefault) expect(steps).not.toContainEqual({ kind: "push", branch: "main" });
      }),
    );
  });

  it("never closes the pull request it opens, closes only the one the job supersedes, and only once something is pushed", () => {
    fc.assert(
      fc.property(anyFacts, anyWorld, (input, answers) => {
        const { steps, outcome } = simulate(input, answers);
        const opened = steps.some((step) => step.kind === "open-pull-request") ? answers.pullRequest.number : undefined;
        const closed = steps.flatMap((step) => (step.kind === "close-superseded" ? [step.number] : []));
        expect(closed.length).toBeLessThanOrEqual(1);
        for (const number of closed) {
          expect(number).not.toBe(opened);
          expect(number).toBe(input.context.supersedes);
          expect(outcome.headSha).toBeDefined();
        }
      }),
    );
  });

  it("pushes each branch at most once, opens only a draft on the default branch from a branch it pushed, and says what it pushed", () => {
    fc.assert(
      fc.property(anyFacts, anyWorld, (input, answers) => {
        const { steps, outcome } = simulate(input, answers);
        const pushed = steps.flatMap((step) => (step.kind === "push" ? [step.branch] : []));
        expect(new Set(pushed).size).toBe(pushed.length);
        for (const step of steps) {
          if (step.kind !== "open-pull-request") continue;
          expect(step.pullRequest).toMatchObject({ base: "main", draft: true });
          expect(pushed).toContain(step.pullRequest.head);
          expect(step.pullRequest.head).not.toBe("main");
        }
        // A commit comes first, and only a committed change is pushed.
        if (steps.length > 0) expect(steps[0]?.kind).toBe("commit");
        if (answers.commit.kind !== "committed") expect(steps.length).toBeLessThanOrEqual(1);
        // The outcome names the last accepted push's commit and branch; the pull_request phase is reported once, after it.
        const accepted = answers.pushes.slice(0, pushed.length).lastIndexOf(true);
        if (outcome.status === "waiting") {
          expect(outcome.headSha).toBe(shaOf(accepted + 1));
          expect(outcome.branch).toBe(pushed[accepted]);
        }
        const reported = steps.filter((step) => step.kind === "report-phase").length;
        expect(reported).toBe(accepted === -1 ? 0 : 1);
        // A follow-up that did not pass, or an agent that never finished, touches nothing.
        const passed = input.result.kind === "passed";
        if ((input.kind !== "implement" && !passed) || input.result.kind === "aborted" || input.result.kind === "model-error") expect(steps).toEqual([]);
      }),
    );
  });
});
