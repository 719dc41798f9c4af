import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { decodeStateMarker } from "../../src/lifecycle/run-state.js";
import type { AfkInstance } from "../helpers/afk-harness.js";
import { useGitScenario, type GitScenario } from "../helpers/git-scenario.js";
import { HeldExecutor } from "../helpers/held-executor.js";
import { ciFinishes, editTurns, pullOf } from "../helpers/lifecycle-events.js";
import { runStateOf } from "../helpers/run-state-of.js";
import { FULL_NAME, INSTALLATION_ID, OWNER, REPO } from "../helpers/scenario.js";
import { waitFor } from "../helpers/wait-for.js";
import { checkRunCompletedPayload, checkSuiteCompletedPayload, statusPayload } from "../helpers/webhook-payloads.js";

// A CI app that answers within moments of a push (a linter, a status from a fast service, a re-run
// of a commit already built) reports before, while or after afk records that it waits on CI. Its
// verdict must be acted on whenever it lands, and afk must never call red CI green.

const start = useGitScenario();

/** The fast CI app: one check, `ci/lint`, reported as GitHub reports another app's check. */
const LINT = { slug: "fast-lint", check: "ci/lint" };

type Moment = "before" | "during" | "after";
type Push = "first push" | "fix-forward push" | "direct-mode push";

function git(remote: string, ...args: string[]): string {
  return execFileSync("git", ["--git-dir", remote, ...args], { encoding: "utf8" }).trim();
}

/**
 * `ci/lint` finishes on `sha`: the check run is on GitHub, then both webhooks go to `to`, as GitHub
 * sends them (the check run's names no commit message; the suite's does, which direct mode needs).
 */
async function lintFinishes(scenario: GitScenario, to: AfkInstance, conclusion: "success" | "failure", sha: string, branch: string): Promise<void> {
  const { github } = scenario;
  const run = github.addForeignCheckRun(FULL_NAME, {
    headSha: sha,
    name: LINT.check,
    appSlug: LINT.slug,
    conclusion,
    output: { title: conclusion, summary: conclusion === "failure" ? "src/math.js:1 missing semicolon" : "clean" },
  });
  const app = { id: run.app?.id ?? 0, slug: LINT.slug };
  const pulls = github
    .pulls(FULL_NAME)
    .filter((pull) => pull.head === branch && pull.headSha === sha)
    .map((pull) => ({ number: pull.number, headRef: pull.head, headSha: sha, baseRef: "main" }));
  const common = {
    owner: OWNER,
    repo: REPO,
    installationId: INSTALLATION_ID,
    headBranch: branch,
    pullRequests: pulls,
    sender: { login: `${LINT.slug}[bot]`, type: "Bot" as const },
  };
  await to.deliver("check_run", checkRunCompletedPayload({ ...common, checkRun: { id: run.id, name: LINT.check, headSha: sha, conclusion, app } }));
  await to.deliver(
    "check_suite",
    checkSuiteCompletedPayload({ ...common, headSha: sha, conclusion, app, headCommitMessage: git(scenario.remote, "log", "-1", "--format=%B", sha) }),
  );
}

/**
 * Arms the fast CI app for afk's `nth` push of `branch` (counting from 1), at the chosen moment:
 * `before`: CI reports as the push lands and afk handles its webhooks while the job still runs;
 * `during`: CI reports while afk's write of "waiting for CI" is on its way, and its webhooks go to a
 *   second replica, which reads the state before that write lands;
 * `after` is delivered by the test once the hand-off is recorded.
 */
function armFastCi(
  scenario: GitScenario,
  moment: Moment,
  conclusion: "success" | "failure",
  target: { branch: string; nth: number; replica: AfkInstance | undefined },
): () => string | undefined {
  let pushes = 0;
  let reportedOn: string | undefined;
  if (moment === "before") {
    scenario.git.onPush = ({ updates }) => {
      const update = updates.find((candidate) => candidate.ref === `refs/heads/${target.branch}` && candidate.sha !== undefined);
      if (update?.sha === undefined || ++pushes !== target.nth) return undefined;
      const sha = update.sha;
      reportedOn = sha;
      return (async () => {
        await lintFinishes(scenario, scenario.afk, conclusion, sha, target.branch);
        await scenario.afk.quiet();
      })();
    };
  }
  if (moment === "during") {
    scenario.github.holdRequest = ({ method, path, body }) => {
      if (method !== "PATCH" || !path.includes("/issues/comments/") || reportedOn !== undefined) return undefined;
      const written = decodeStateMarker(String((JSON.parse(body) as { body?: unknown }).body ?? ""));
      if (written.kind !== "state" || written.state.status !== "waiting" || written.state.phase !== "ci" || written.state.ci === undefined) return undefined;
      if (++pushes !== target.nth) return undefined;
      const sha = written.state.ci.head;
      reportedOn = sha;
      const replica = target.replica;
      if (replica === undefined) throw new Error("`during` needs a second replica");
      return (async () => {
        await lintFinishes(scenario, replica, conclusion, sha, target.branch);
        await replica.quiet();
        // That replica read the run as still running: it dropped the verdict.
        expect(runStateOf(scenario, written.state.issue)?.status).toBe("running");
      })();
    };
  }
  return () => reportedOn;
}

const PUSHES: Push[] = ["first push", "fix-forward push", "direct-mode push"];
const MOMENTS: Moment[] = ["before", "during", "after"];

describe("a CI verdict is never lost, whenever it lands around afk's hand-off (through the App, real payloads)", () => {
  for (const push of PUSHES) {
    for (const moment of MOMENTS) {
      for (const conclusion of ["failure", "success"] as const) {
        it(`${push}: ${conclusion === "failure" ? "red" : "green"} CI ${moment} the hand-off is ${conclusion === "failure" ? "fixed forward" : "acted on"}`, async () => {
          const direct = push === "direct-mode push";
          const fixing = push === "fix-forward push";
          const script = [
            ...editTurns("// one", "One."),
            ...(fixing ? editTurns("// fixed", "Fixed.") : []),
            ...(conclusion === "failure" ? editTurns("// fixed again", "Fixed again.") : []),
          ];
          // A grace period longer than the test: nothing but afk's reading of CI can move the run.
          const scenario = await start({ config: `test: node --test\nci:\n  grace_minutes: 60\n${direct ? "mode: direct\n" : ""}`, script });
          const replica = moment === "during" ? (await scenario.replica({ executor: new HeldExecutor(), replicaId: "replica-b" })).afk : undefined;
          try {
            const issue = scenario.issue({ title: "Annotate math" });
            const branch = direct ? "main" : `afk/${issue}-annotate-math`;
            const reportedOn = armFastCi(scenario, moment, conclusion, { branch, nth: fixing ? 2 : 1, replica });
            await scenario.label(issue, "wes-write");
            if (fixing) {
              // The first head's CI is red, reported the ordinary way; the fix's push is the one CI races.
              await ciFinishes(scenario, "failure");
            }
            await scenario.afk.idle();
            let awaited = reportedOn();
            if (moment === "after") {
              const state = runStateOf(scenario, issue);
              expect(state).toMatchObject({ status: "waiting", phase: "ci" });
              awaited = state?.ci?.head;
              if (awaited === undefined) throw new Error("afk waits on no commit");
              await lintFinishes(scenario, scenario.afk, conclusion, awaited, branch);
              await scenario.afk.idle();
            }
            if (awaited === undefined) throw new Error(`the fast CI app never reported (${moment})`);

            const state = runStateOf(scenario, issue);
            const progress = scenario.afkComments(issue).join("\n");
            const afkCheckRuns = scenario.github.checkRuns(FULL_NAME).filter((run) => run.app?.slug === scenario.github.appSlug);
            if (conclusion === "failure") {
              // Red was read on the head afk awaited, and the fix for it ran and pushed on top.
              expect(state).toMatchObject({ job: "fix-ci", loop: { fixAttempts: fixing ? 2 : 1 }, status: "waiting", phase: "ci" });
              expect(state?.ci?.head).not.toBe(awaited);
              expect(JSON.stringify(scenario.model.requests.at(-2)?.body.messages)).toContain(LINT.check);
              expect(progress).not.toMatch(/CI green|counts as green/);
            } else if (direct) {
              expect(state).toMatchObject({ status: "done", phase: "merged", ci: { head: awaited, passed: "green" } });
              expect(scenario.github.issue(FULL_NAME, issue).state).toBe("closed");
              expect(progress).toContain(`CI green on \`${awaited.slice(0, 7)}\``);
            } else {
              expect(state).toMatchObject({ status: "waiting", phase: "review", ci: { head: awaited, passed: "green" } });
              expect(pullOf(scenario)).toMatchObject({ draft: false, requestedReviewers: ["wes-write"] });
              expect(progress).toContain(`CI green on \`${awaited.slice(0, 7)}\``);
            }
            for (const run of afkCheckRuns) expect(`${run.output.title ?? ""} ${run.output.summary ?? ""}`).not.toMatch(/CI green|counts as green/);
            expect(scenario.model.remaining).toBe(0);
          } finally {
            scenario.git.onPush = undefined;
            scenario.github.holdRequest = undefined;
          }
        });
      }
    }
  }
});

describe("the no-CI grace period counts CI absent only when GitHub shows none, read fresh as it ends", () => {
  const GRACE = "test: node --test\nci:\n  grace_minutes: 0.02\n";

  it("an app's empty, forever-queued check suite is not CI: with nothing else, the head counts as passing, and nothing says green", async () => {
    const scenario = await start({ config: GRACE, script: editTurns("// one", "One.") });
    const issue = scenario.issue({ title: "Annotate math" });
    scenario.git.onPush = ({ updates }) => {
      // GitHub makes a suite on every push for each app with checks; this one has nothing to run.
      for (const { sha } of updates) if (sha !== undefined) scenario.github.addEmptyCheckSuite(FULL_NAME, { headSha: sha, appSlug: "idle-app" });
      return undefined;
    };
    await scenario.label(issue, "wes-write");
    await waitFor(() => runStateOf(scenario, issue)?.phase === "review", "the grace period to end");
    await scenario.afk.idle();
    const state = runStateOf(scenario, issue);
    const head = pullOf(scenario).headSha;
    expect(state).toMatchObject({ status: "waiting", phase: "review", ci: { head, passed: "no-ci" } });
    const progress = scenario.afkComments(issue).join("\n");
    expect(progress).toContain(`- [x] No CI reported on \`${head.slice(0, 7)}\` within \`ci.grace_minutes\` (counted as passing)`);
    expect(progress).not.toMatch(/green/i);
  });

  it("a commit status still pending as the grace period ends is CI running, not CI absent; its success later makes the pull request ready", async () => {
    const scenario = await start({ config: GRACE, script: editTurns("// one", "One.") });
    const issue = scenario.issue({ title: "Annotate math" });
    scenario.git.onPush = ({ updates }) => {
      for (const { sha } of updates) if (sha !== undefined) scenario.github.setCommitStatus(FULL_NAME, sha, { context: "ci/external", state: "pending" });
      return undefined;
    };
    await scenario.label(issue, "wes-write");
    const head = pullOf(scenario).headSha;
    // Well past the grace period (1.2 s), after afk looked again: still waiting, still a draft.
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    await scenario.afk.idle();
    expect(runStateOf(scenario, issue)).toMatchObject({ status: "waiting", phase: "ci", ci: { head } });
    expect(pullOf(scenario).draft).toBe(true);
    const looks = scenario.github.requests.filter((request) => request.method === "GET" && request.path.endsWith(`/commits/${head}/status`));
    expect(looks.length, "afk read CI at the hand-off and again when the grace period ended").toBeGreaterThanOrEqual(2);

    scenario.github.setCommitStatus(FULL_NAME, head, { context: "ci/external", state: "success" });
    await scenario.afk.deliver(
      "status",
      statusPayload({
        owner: OWNER,
        repo: REPO,
        installationId: INSTALLATION_ID,
        sha: head,
        state: "success",
        context: "ci/external",
        branches: [pullOf(scenario).head],
        sender: { login: "external-ci[bot]", type: "Bot" },
      }),
    );
    await scenario.afk.idle();
    expect(runStateOf(scenario, issue)).toMatchObject({ phase: "review", ci: { head, passed: "green" } });
    expect(pullOf(scenario).draft).toBe(false);
  });

  it("a check that turns red after afk counted no CI reopens the fix-forward loop on the same pull request", async () => {
    const scenario = await start({ config: GRACE, script: [...editTurns("// one", "One."), ...editTurns("// fixed", "Fixed.")] });
    const issue = scenario.issue({ title: "Annotate math" });
    await scenario.label(issue, "wes-write");
    await waitFor(() => runStateOf(scenario, issue)?.phase === "review", "the grace period to end");
    await scenario.afk.idle();
    const counted = pullOf(scenario);
    expect(runStateOf(scenario, issue)?.ci?.passed).toBe("no-ci");

    // A slow CI reports at last, red, on the head afk counted as passing.
    await lintFinishes(scenario, scenario.afk, "failure", counted.headSha, counted.head);
    await scenario.afk.idle();
    const state = runStateOf(scenario, issue);
    expect(state).toMatchObject({ job: "fix-ci", loop: { fixAttempts: 1 }, status: "waiting", phase: "ci" });
    expect(state?.ci?.head).not.toBe(counted.headSha);
    expect(pullOf(scenario).number).toBe(counted.number);
    expect(JSON.stringify(scenario.model.requests.at(-2)?.body.messages)).toContain(LINT.check);
    // The draft was marked ready when afk counted no CI; the fix goes to the same, open pull request.
    expect(pullOf(scenario)).toMatchObject({ state: "open", draft: false });
    expect(scenario.model.remaining).toBe(0);
  });
});
