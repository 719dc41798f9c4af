import { describe, it } from "vitest";
import { join } from "node:path";
import type { RunState } from "../../src/lifecycle/run-state.js";
import { processesWorkingIn, processGroupMembers, webhookSignature } from "../helpers/app-process.js";
import { endTurn, FIXTURE_FILES, toolResultsIn, toolTurn } from "../helpers/git-scenario.js";
import type { PullSummary } from "../helpers/emulator/index.js";
import type { ScriptedTurn } from "../helpers/model-server.js";
import { checkSuiteCompletedPayload, pullRequestClosedPayload, pullRequestReviewSubmittedPayload } from "../helpers/webhook-payloads.js";
import { LEASE_SECONDS, MODEL_RETRIES, REPO, useE2EWorld, WEBHOOK_SECRET, type E2EScenario } from "./world.js";

/**
 * The real App, started with `npm start` in a child process, driven only over HTTP: webhooks signed
 * with the secret and POSTed to Probot's webhook path, GitHub's REST API served by the emulator
 * (`GHE_HOST`), git by `git http-backend`, the model by the scripted Messages API server. The
 * scenarios run at once, each in an installation of its own.
 */
const world = useE2EWorld();

const ACTIONS = { slug: "github-actions", id: 15368 };

/** The fixture project with a bug on `main`: `add` subtracts, so `node --test` fails. */
const BUGGY_FILES: Record<string, string> = { ...FIXTURE_FILES, "src/math.js": "export function add(a, b) {\n  return a - b;\n}\n" };

/** The model fixes `add`, runs the tests itself, and ends its turn. */
function fixAddTurns(summary: string): ScriptedTurn[] {
  return [
    toolTurn("str_replace_based_edit_tool", { command: "str_replace", path: "src/math.js", old_str: "return a - b;", new_str: "return a + b;" }),
    toolTurn("bash", { command: "node --test 2>&1 | tail -8" }),
    endTurn(summary),
  ];
}

/** The model appends a line to `src/math.js` (the tests keep passing) and ends its turn. */
function annotateTurns(line: string, summary: string): ScriptedTurn[] {
  return [toolTurn("bash", { command: `printf '%s\\n' ${JSON.stringify(line)} >> src/math.js && node --test 2>&1 | tail -3` }), endTurn(summary)];
}

function pullFor(scenario: E2EScenario, issue: number) {
  const pull = world.github.pulls(scenario.fullName).find((candidate) => candidate.head.startsWith(`afk/${issue}-`));
  if (pull === undefined) throw new Error(`afk opened no pull request for #${issue}`);
  return pull;
}

/**
 * GitHub Actions finishes on `pull`'s head as GitHub reports it: its check run (and, when red, the
 * failed job's log), then the signed `check_suite` completed event. afk reads the verdict from the API.
 */
async function actionsFinish(s: E2EScenario, pull: PullSummary, conclusion: "success" | "failure", log?: string): Promise<void> {
  const red = conclusion === "failure";
  const run = world.github.addForeignCheckRun(s.fullName, {
    headSha: pull.headSha,
    name: "test (node 20)",
    appSlug: ACTIONS.slug,
    conclusion,
    output: red ? { title: "Process completed with exit code 1.", summary: "1 test failed" } : { title: "Passed", summary: "all good" },
  });
  if (log !== undefined) world.github.setJobLog(s.fullName, run.id, log);
  await s.deliverOk(
    "check_suite",
    checkSuiteCompletedPayload({
      owner: s.owner,
      repo: REPO,
      installationId: s.installationId,
      headSha: pull.headSha,
      headBranch: pull.head,
      conclusion,
      app: ACTIONS,
      pullRequests: [{ number: pull.number, headRef: pull.head, headSha: pull.headSha, baseRef: "main" }],
      sender: { login: world.github.botLogin, type: "Bot" },
    }),
  );
}

/** `reviewer` requests changes on `pull` (a review with one line comment on GitHub), then the signed `pull_request_review` submitted event. */
async function requestChanges(s: E2EScenario, pull: PullSummary, reviewer: string, body: string, lineComment: string): Promise<void> {
  const submitted = world.github.submitReview(s.fullName, pull.number, {
    user: reviewer,
    state: "CHANGES_REQUESTED",
    body,
    comments: [{ path: "src/math.js", line: 1, body: lineComment }],
  });
  await s.deliverOk(
    "pull_request_review",
    pullRequestReviewSubmittedPayload({
      owner: s.owner,
      repo: REPO,
      installationId: s.installationId,
      pull: { number: pull.number, headRef: pull.head, headSha: pull.headSha, baseRef: "main", user: pull.user, draft: pull.draft },
      review: { id: submitted.review.id, state: "changes_requested", body, user: reviewer },
      sender: { login: reviewer, type: "User" },
    }),
  );
}

/**
 * Waits until the App has carried out everything `job` finishing asked for (lock released, labels
 * removed, the next dispatch queued): its "afk run settled" log line. The progress comment says
 * "waiting" before that, and an event that queues a follow-up in between is lost (see the report).
 */
async function settled(s: E2EScenario, job: RunState["job"]): Promise<void> {
  await s.eventually(() => s.logged("afk run settled").some((record) => record.job === job), `the ${job} job to settle`);
}

/** The distinct steps of the lock's history, oldest first (renewals repeat a holder). */
function lockSteps(s: E2EScenario): string[] {
  return s
    .lockHistory()
    .reverse()
    .map((record) => (record.state === "held" ? `held ${record.issue} ${record.runId}` : `free ${record.lastRunId ?? ""}`))
    .filter((step, index, steps) => step !== steps[index - 1]);
}

/** Ref updates the git server accepted for `branch` of the scenario's repository, in order (`ref before→after`). */
function pushesTo(s: E2EScenario, branch: string): string[] {
  return world.git.pushes
    .filter((push) => push.repo === s.fullName)
    .flatMap((push) => push.updates)
    .filter((update) => update.startsWith(`refs/heads/${branch} `));
}

describe.concurrent("the afk App as users run it (npm start), end to end over HTTP", () => {
  // Vitest runs at most 5 of these at once, in this order. The SIGKILL scenario goes first: it mostly
  // waits (its own App's build, then the lease), so started late it would be the file's longest path.
  it("SIGKILL mid-run, restart: the stale lock is taken back when its lease ends, the issue says the run was interrupted, and the queued issue runs", async (context) => {
    const { expect } = context;
    const { github } = world;
    // An App process of its own (the shared one serves the other scenarios meanwhile), acting on this owner only.
    const allowlist = "crash-org/*";
    const first = await world.startApp(allowlist, "cache-crash");
    context.onTestFinished(() => first.kill("SIGKILL"));
    const s = await world.scenario(context, "crash-org", { app: first, script: annotateTurns("// annotated", "Added a comment to src/math.js.") });
    const crashed = s.issue({ title: "Interrupted midway" });
    const next = s.issue({ title: "Annotate math" });
    const held = s.holdNext();
    await s.label(crashed, "wes-write");
    await s.within(held.arrived, "the run's first model call", 45_000);
    expect(s.lock()).toMatchObject({ state: "held", issue: crashed });
    await s.label(next, "max-maintain");
    await s.eventually(() => s.state(next)?.status === "queued", `#${next} queued`);
    expect(s.state(next)).toMatchObject({ status: "queued", queuedBehind: crashed });

    // Kill the whole App (npm, probot, git children) mid-run; nothing of it may survive.
    const killedAt = Date.now();
    await first.kill("SIGKILL");
    expect(processGroupMembers(first.pid)).toEqual([]);
    expect(processesWorkingIn(join(world.root, "cache-crash"))).toEqual([]);
    await s.within(held.abandoned, "the model call to be cut off by the kill");
    // The lock as the killed process last wrote it (a renewal may have moved its expiry since the run began).
    const stale = s.lock();
    if (stale?.state !== "held") throw new Error(`expected #${crashed}'s run to hold the lock, found ${JSON.stringify(stale)}`);
    // No process is left to say otherwise: the issue still reads "running".
    expect(s.state(crashed)).toMatchObject({ status: "running", runId: stale.runId });

    // Restart as an operator would; from here on no webhook is delivered.
    const restarted = await world.startApp(allowlist, "cache-crash");
    context.onTestFinished(() => restarted.kill("SIGKILL"));
    s.app = restarted;
    const restartMs = restarted.readyAt - killedAt;
    // The lease the killed process wrote is what has to run out (it renewed every LEASE_SECONDS / 3).
    const expiresAt = Date.parse(stale.expiresAt);
    expect(expiresAt - Date.parse(stale.acquiredAt)).toBeGreaterThanOrEqual(LEASE_SECONDS * 1000);
    expect(expiresAt).toBeLessThanOrEqual(killedAt + LEASE_SECONDS * 1000);
    await s.eventually(() => s.state(crashed)?.status === "interrupted", `#${crashed} marked interrupted`, LEASE_SECONDS * 1000 + 30_000);
    const state = s.state(crashed);
    // Never before the lease ended (a live holder would still own it): the App's own record of when it took the run back.
    const reclaimedAt = Date.parse(state?.endedAt ?? "");
    expect(reclaimedAt).toBeGreaterThanOrEqual(expiresAt);
    expect(state).toMatchObject({ status: "interrupted", runId: stale.runId, outcome: { retryable: true } });
    expect(state?.outcome?.message).toContain(`(\`${stale.replica}\`) stopped renewing the repository lock; its lease expired at ${stale.expiresAt}`);
    expect(s.progress(crashed)).toContain("### ⚠️ afk's run was interrupted");
    expect(s.progress(crashed)).toContain("Comment `/afk retry` to run again.");
    await s.eventually(() => !s.labels(crashed).includes("agent-in-progress"), `agent-in-progress removed from #${crashed}`);

    // Nothing was dropped: the issue queued behind the dead run starts on the restarted App and reaches its pull request.
    await s.eventually(() => s.state(next)?.status === "waiting", `#${next} to open its pull request`, 60_000);
    const taken = s.lockHistory().find((record) => record.state === "held" && record.issue === next);
    if (taken?.state !== "held") throw new Error(`#${next} never held the lock`);
    expect(taken.replica).not.toBe(stale.replica);
    expect(Date.parse(taken.acquiredAt)).toBeGreaterThanOrEqual(expiresAt);
    expect(github.pulls(s.fullName).map((pull) => pull.head)).toEqual([pullFor(s, next).head]);
    expect(
      world.git.pushes
        .filter((push) => push.repo === s.fullName)
        .flatMap((push) => push.updates)
        .some((update) => update.includes(`afk/${crashed}-`)),
    ).toBe(false);
    expect(s.model.remaining).toBe(0);

    console.info(
      `[e2e] SIGKILL → restarted App answering: ${(restartMs / 1000).toFixed(1)} s (npm start builds first); ` +
        `lease ${LEASE_SECONDS} s, ending ${((expiresAt - killedAt) / 1000).toFixed(1)} s after the kill; ` +
        `stale lock taken back ${((reclaimedAt - expiresAt) / 1000).toFixed(1)} s after the lease ended, ${((reclaimedAt - killedAt) / 1000).toFixed(1)} s after the kill, with no event delivered`,
    );
    github.assertNoViolations();
  }, 150_000);

  it("SIGTERM mid-run: the run past the grace period is handed back (queued again, lock released at once), the App exits 0, and a restart runs it", async (context) => {
    const { expect } = context;
    const allowlist = "drain-org/*";
    const first = await world.startApp(allowlist, "cache-drain", { AFK_SHUTDOWN_GRACE_SECONDS: "2" });
    context.onTestFinished(() => first.kill("SIGKILL"));
    const s = await world.scenario(context, "drain-org", { app: first, script: annotateTurns("// annotated", "Added a comment to src/math.js.") });
    const issue = s.issue({ title: "Handed back" });
    const held = s.holdNext();
    await s.label(issue, "wes-write");
    await s.within(held.arrived, "the run's first model call", 45_000);
    const runId = s.state(issue)?.runId;
    expect(s.lock()).toMatchObject({ state: "held", issue, runId });

    // As `docker stop` or systemd stops it: SIGTERM to the App's process only.
    const signalledAt = Date.now();
    first.signalApp("SIGTERM");
    const exit = await s.within(first.exit(), "the App to exit after its grace period", 30_000);
    const exitMs = Date.now() - signalledAt;
    expect(exit).toEqual({ code: 0, signal: null });
    expect(processGroupMembers(first.pid)).toEqual([]);
    // Handed back, not left to the lease: queued again under the same run, the lock free, the issue still in the queue.
    expect(s.state(issue)).toMatchObject({ status: "queued", runId });
    expect(s.progress(issue)).toContain("The run was interrupted: afk was shut down (SIGTERM) before the run finished. It is queued again");
    expect(s.lock()).toMatchObject({ state: "free", lastRunId: runId });
    expect(s.labels(issue)).toEqual(["ready-for-agent"]);
    expect(world.git.pushes.filter((push) => push.repo === s.fullName)).toEqual([]);

    // The next App to start picks the run up (nothing is delivered) and takes it to its pull request.
    const restarted = await world.startApp(allowlist, "cache-drain");
    context.onTestFinished(() => restarted.kill("SIGKILL"));
    s.app = restarted;
    await s.eventually(() => s.state(issue)?.status === "waiting", `#${issue} to open its pull request after the restart`, 60_000);
    expect(s.state(issue)).toMatchObject({ runId, phase: "ci" });
    expect(s.model.remaining).toBe(0);
    console.info(`[e2e] SIGTERM with AFK_SHUTDOWN_GRACE_SECONDS=2 and a run going: the App exited ${(exitMs / 1000).toFixed(1)} s later, the run handed back`);
    world.github.assertNoViolations();
  }, 150_000);

  it("label → real executor → draft PR → CI green → ready → merged → done, and the issue queued behind it then starts", async (context) => {
    const { expect } = context;
    const { github } = world;
    const s = await world.scenario(context, "octo-flow", {
      files: BUGGY_FILES,
      script: [...fixAddTurns("Fixed add(): it subtracted instead of adding."), ...fixAddTurns("add() was broken on main too; fixed so the tests pass.")],
    });
    const first = s.issue({ title: "add() subtracts", body: "add(2, 3) returns -1; it should return 5." });
    const second = s.issue({ title: "Make the test suite green", body: "`node --test` fails on main." });

    // A trusted person labels the first issue; its run's first model call is held while we look.
    const held = s.holdNext();
    await s.label(first, "wes-write");
    await s.within(held.arrived, `#${first}'s first model call`, 45_000);
    const running = s.state(first);
    expect(running).toMatchObject({ status: "running", trigger: { actor: "wes-write", source: "label" } });
    expect(s.progress(first)).toContain("### 🤖 afk picked this up");
    expect(s.progress(first)).toContain("Started by @wes-write (label)");
    expect(s.labels(first)).toEqual(expect.arrayContaining(["ready-for-agent", "agent-in-progress"]));
    expect(github.reactions(s.fullName, first).map((reaction) => reaction.content)).toEqual(["eyes"]);
    expect(s.lock()).toMatchObject({ state: "held", issue: first, runId: running?.runId });

    // A second trusted label while the repository is busy: queued behind the first.
    await s.label(second, "max-maintain");
    await s.eventually(() => s.state(second)?.status === "queued", `#${second} queued`);
    expect(s.state(second)).toMatchObject({ status: "queued", queuedBehind: first });
    expect(s.progress(second)).toContain(`Queued behind #${first}`);
    held.release();

    // The real executor: clone over smart HTTP, the agent's edit in the sandbox, afk's own gate, push, draft PR.
    await s.eventually(() => s.state(first)?.status === "waiting", `#${first} to open its pull request`, 60_000);
    const pull = pullFor(s, first);
    expect(pull).toMatchObject({ draft: true, state: "open", base: "main", user: github.botLogin });
    expect(s.fileOn(pull.head, "src/math.js")).toContain("return a + b;");
    expect(s.state(first)).toMatchObject({ status: "waiting", phase: "ci", pullRequest: { number: pull.number, draft: true }, ci: { head: pull.headSha } });
    expect(s.progress(first)).toContain(`### 🔍 afk opened #${pull.number}`);
    // The test the model ran after its edit passed (real node --test in the sandbox).
    const testOutput = toolResultsIn(s.model.requests[2]?.body ?? {})
      .map((result) => result.content)
      .join("\n");
    expect(testOutput).toMatch(/# pass 1/);
    expect(testOutput).toMatch(/# fail 0/);
    // afk's own check run on the pull request's head reports its green gate.
    await s.eventually(() => github.checkRuns(s.fullName).some((run) => run.app.slug === github.appSlug), "afk's check run");
    const ownRuns = github.checkRuns(s.fullName).filter((run) => run.app.slug === github.appSlug);
    expect(ownRuns.map((run) => ({ sha: run.head_sha, status: run.status, conclusion: run.conclusion }))).toEqual([
      { sha: pull.headSha, status: "completed", conclusion: "success" },
    ]);

    // The queued issue starts once the first released the lock, and runs to its own pull request.
    await s.eventually(() => s.state(second)?.status === "waiting", `#${second} to start and open its pull request`, 60_000);
    const secondRun = s.state(second)?.runId;
    await s.eventually(() => s.lock()?.state === "free", `the lock to be released after #${second}`);
    // Renewals repeat a holder; the distinct steps are what matter.
    expect(lockSteps(s)).toEqual([`held ${first} ${running?.runId}`, `free ${running?.runId}`, `held ${second} ${secondRun}`, `free ${secondRun}`]);
    expect(pullFor(s, second).number).not.toBe(pull.number);

    // GitHub Actions goes green on the first pull request: afk marks it ready and asks the requester to review.
    await actionsFinish(s, pull, "success");
    await s.eventually(() => s.state(first)?.phase === "review", `#${first} ready for review`);
    await s.eventually(() => !pullFor(s, first).draft && pullFor(s, first).requestedReviewers.length > 0, `#${pull.number} marked ready, review requested`);
    expect(pullFor(s, first)).toMatchObject({ draft: false, requestedReviewers: ["wes-write"] });
    expect(s.state(first)).toMatchObject({ status: "waiting", phase: "review", pullRequest: { draft: false } });

    // Merged: done, the issue closed, afk's labels gone.
    github.mergePull(s.fullName, pull.number, "ada-admin");
    await s.deliverOk(
      "pull_request",
      pullRequestClosedPayload({
        owner: s.owner,
        repo: REPO,
        installationId: s.installationId,
        pull: { number: pull.number, head: pull.head, headSha: pull.headSha, merged: true, author: { login: github.botLogin, type: "Bot" } },
        sender: { login: "ada-admin", type: "User" },
      }),
    );
    await s.eventually(() => s.state(first)?.status === "done", `#${first} done`);
    expect(s.state(first)).toMatchObject({ status: "done", phase: "merged" });
    expect(s.progress(first)).toContain("### ✅ afk is done");
    await s.eventually(() => github.issue(s.fullName, first).state === "closed" && s.labels(first).length === 0, `#${first} closed with afk's labels removed`);
    expect(s.model.remaining).toBe(0);
    github.assertNoViolations();
  }, 150_000);

  it("red CI → a fix job that sees the failing check and its log → one more commit on the same branch (fast-forward) → green → ready for review", async (context) => {
    const { expect } = context;
    const { github } = world;
    const s = await world.scenario(context, "octo-fix", {
      script: [
        ...annotateTurns("// first try", "Added a comment to src/math.js."),
        ...annotateTurns("// fixed", "The check wanted the comment at the end of the file; fixed."),
      ],
    });
    const issue = s.issue({ title: "Annotate math", body: "Add a comment to src/math.js." });
    await s.label(issue, "wes-write");
    await s.eventually(() => s.state(issue)?.status === "waiting", `#${issue} to open its pull request`, 60_000);
    const first = pullFor(s, issue);
    const runId = s.state(issue)?.runId;
    expect(first).toMatchObject({ draft: true, state: "open" });
    expect(s.state(issue)).toMatchObject({ status: "waiting", phase: "ci", job: "implement", loop: { fixAttempts: 0 }, ci: { head: first.headSha } });
    expect(s.commitsOn(first.head)).toEqual([`#${issue}: Annotate math`]);
    await settled(s, "implement");

    // GitHub Actions goes red on the head: afk reads the check's report and the failed job's log, and fixes forward.
    const log = [
      "2026-11-24T10:00:00.0000000Z > node --test",
      "2026-11-24T10:00:01.0000000Z not ok 1 - annotates math: expected the comment last",
      "2026-11-24T10:00:01.1000000Z ##[error]Process completed with exit code 1.",
    ].join("\n");
    await actionsFinish(s, first, "failure", log);
    await s.eventually(() => s.state(issue)?.status === "waiting" && s.state(issue)?.job === "fix-ci", `#${issue}'s fix to be pushed`, 60_000);
    const fixed = pullFor(s, issue);
    expect(s.state(issue)).toMatchObject({
      status: "waiting",
      phase: "ci",
      runId,
      job: "fix-ci",
      loop: { fixAttempts: 1 },
      ci: { head: fixed.headSha },
      pullRequest: { number: first.number, draft: true },
    });
    // The fix job's task names the failing check and carries the end of the job's log.
    const fixTask = JSON.stringify(s.model.requests[2]?.body.messages);
    expect(fixTask).toContain(`CI failed on afk's pull request #${first.number} for issue #${issue} of ${s.fullName}`);
    expect(fixTask).toContain(first.headSha);
    expect(fixTask).toContain("test (node 20) (check run: failure)");
    expect(fixTask).toContain("not ok 1 - annotates math: expected the comment last");
    // One more commit on the same branch and pull request, pushed as a fast-forward from the head CI judged.
    expect(fixed).toMatchObject({ number: first.number, head: first.head, draft: true, state: "open" });
    expect(s.commitsOn(fixed.head)).toEqual([`#${issue}: Annotate math (fix attempt 1)`, `#${issue}: Annotate math`]);
    expect(s.git("rev-parse", `${fixed.headSha}~1`)).toBe(first.headSha);
    expect(pushesTo(s, first.head)).toEqual([`refs/heads/${first.head} (none)→${first.headSha}`, `refs/heads/${first.head} ${first.headSha}→${fixed.headSha}`]);
    expect(s.fileOn(fixed.head, "src/math.js")).toMatch(/\/\/ first try\n\/\/ fixed\n$/);
    expect(github.pulls(s.fullName)).toHaveLength(1);
    // The fix took the repository lock like any job, as the same run, and gave it back.
    await s.eventually(() => s.lock()?.state === "free", "the lock to be released after the fix");
    expect(lockSteps(s)).toEqual([`held ${issue} ${runId}`, `free ${runId}`, `held ${issue} ${runId}`, `free ${runId}`]);
    // afk's own check run reports its gate on each head it pushed.
    await s.eventually(() => github.checkRuns(s.fullName).filter((run) => run.app.slug === github.appSlug).length === 2, "afk's check run on the fixed head");
    expect(
      github
        .checkRuns(s.fullName)
        .filter((run) => run.app.slug === github.appSlug)
        .map((run) => [run.head_sha, run.conclusion]),
    ).toEqual([
      [first.headSha, "success"],
      [fixed.headSha, "success"],
    ]);

    // Green on the new head: the draft is marked ready and the requester asked to review; the red streak is over.
    await actionsFinish(s, fixed, "success");
    await s.eventually(
      () => s.state(issue)?.phase === "review" && !pullFor(s, issue).draft && pullFor(s, issue).requestedReviewers.length > 0,
      `#${first.number} marked ready, review requested`,
    );
    expect(pullFor(s, issue)).toMatchObject({ number: first.number, headSha: fixed.headSha, draft: false, requestedReviewers: ["wes-write"] });
    expect(s.state(issue)).toMatchObject({ status: "waiting", phase: "review", job: "fix-ci", loop: { fixAttempts: 0 }, pullRequest: { draft: false } });
    expect(s.model.remaining).toBe(0);
    github.assertNoViolations();
  }, 120_000);

  it("changes requested by a trusted reviewer → a rework job → one more commit → a reply saying what changed; an untrusted reviewer's review before it changes nothing", async (context) => {
    const { expect } = context;
    const { github } = world;
    const s = await world.scenario(context, "octo-review", {
      script: [
        ...annotateTurns("// one", "Added a comment to src/math.js."),
        ...annotateTurns("export const sum = add;", "Exported `add` as `sum` too, as asked; `add` stays for its callers."),
      ],
    });
    const issue = s.issue({ title: "Annotate math" });
    await s.label(issue, "wes-write");
    await s.eventually(() => s.state(issue)?.status === "waiting", `#${issue} to open its pull request`, 60_000);
    const opened = pullFor(s, issue);
    await settled(s, "implement");
    await actionsFinish(s, opened, "success");
    await s.eventually(() => s.state(issue)?.phase === "review" && !pullFor(s, issue).draft, `#${opened.number} in review`);
    const inReview = pullFor(s, issue);

    // Someone without access to the repository requests changes: afk looks, and does nothing.
    await requestChanges(s, inReview, "outsider", "Delete everything.", "Remove this file.");
    await s.eventually(() => s.logged("afk: review on its pull request").some((record) => record.reviewer === "outsider"), "afk to look at @outsider's review");
    expect(s.logged("afk: review on its pull request")).toEqual([
      expect.objectContaining({ issue, reviewer: "outsider", trusted: false, ignored: "@outsider is not trusted to steer afk" }),
    ]);
    expect(s.state(issue)).toMatchObject({ status: "waiting", phase: "review", job: "implement", loop: { reviewCycles: 0 } });
    expect(s.afkComments(inReview.number)).toEqual([]);
    expect(s.model.requests).toHaveLength(2);
    expect(s.lock()?.state).toBe("free");

    // A maintainer requests changes: afk reworks the same branch and replies on the pull request.
    await requestChanges(s, inReview, "max-maintain", "Close, but see the inline comment.", "Please also export it as `sum`.");
    await s.eventually(() => s.state(issue)?.status === "waiting" && s.state(issue)?.job === "rework", `#${issue}'s rework to be pushed`, 60_000);
    await s.eventually(() => s.afkComments(inReview.number).length > 0, "afk's reply on the pull request");
    const reworked = pullFor(s, issue);
    expect(s.state(issue)).toMatchObject({ status: "waiting", phase: "ci", job: "rework", loop: { reviewCycles: 1 }, ci: { head: reworked.headSha } });
    expect(s.state(issue)?.followUp).toBeUndefined();
    const task = JSON.stringify(s.model.requests[2]?.body.messages);
    expect(task).toContain(`A reviewer asked for changes to afk's pull request #${inReview.number} for issue #${issue}`);
    expect(task).toContain("Close, but see the inline comment.");
    expect(task).toContain("Please also export it as `sum`.");
    expect(task).not.toContain("Delete everything.");
    expect(task).not.toContain("Remove this file.");
    expect(reworked).toMatchObject({ number: inReview.number, head: inReview.head, state: "open" });
    expect(s.commitsOn(reworked.head)).toEqual([`#${issue}: Annotate math (rework 1)`, `#${issue}: Annotate math`]);
    expect(s.git("rev-parse", `${reworked.headSha}~1`)).toBe(inReview.headSha);
    expect(s.fileOn(reworked.head, "src/math.js")).toContain("export const sum = add;");
    expect(s.afkComments(inReview.number)).toEqual([
      `afk addressed the review by @max-maintain in ${reworked.headSha.slice(0, 7)}: Exported \`add\` as \`sum\` too, as asked; \`add\` stays for its callers.`,
    ]);
    expect(github.comments(s.fullName, issue).some((comment) => comment.body?.includes("outsider") === true)).toBe(false);
    expect(github.pulls(s.fullName)).toHaveLength(1);
    expect(s.model.remaining).toBe(0);
    github.assertNoViolations();
  }, 120_000);

  it("the model answers 429 (retry-after), then 529, then drops the connection: the SDK retries the same request and the run still reaches its pull request", async (context) => {
    const { expect } = context;
    const { github } = world;
    const s = await world.scenario(context, "octo-model-faults", {
      script: [
        { kind: "error", status: 429, type: "rate_limit_error", message: "This request would exceed your organization's rate limit.", retryAfterSeconds: 1 },
        { kind: "error", status: 529, type: "overloaded_error", message: "Overloaded" },
        { kind: "drop" },
        toolTurn("bash", { command: "printf '// annotated\\n' >> src/math.js && node --test 2>&1 | grep -E '^# (pass|fail) '" }),
        endTurn("Added a comment to src/math.js."),
      ],
    });
    const issue = s.issue({ title: "Annotate math" });
    await s.label(issue, "wes-write");
    await s.eventually(() => s.state(issue)?.status === "waiting", `#${issue} to open its pull request`, 60_000);
    const pull = pullFor(s, issue);
    expect(pull).toMatchObject({ draft: true, state: "open" });
    expect(s.fileOn(pull.head, "src/math.js")).toContain("// annotated");
    expect(s.state(issue)).toMatchObject({ status: "waiting", phase: "ci", pullRequest: { number: pull.number }, spend: { turns: 2 } });

    // The first call reached the model four times (429, 529, cut off, answered): the same request sent
    // again by the SDK, never a new turn. Three failures in a row take the whole AFK_MODEL_RETRIES budget.
    const requests = s.model.requests;
    expect(requests).toHaveLength(MODEL_RETRIES + 2);
    expect(requests.map((request) => request.headers["x-stainless-retry-count"])).toEqual(["0", "1", "2", "3", "0"]);
    const firstCall = JSON.stringify(requests[0]?.body);
    expect(requests.slice(1, MODEL_RETRIES + 1).map((request) => JSON.stringify(request.body))).toEqual([firstCall, firstCall, firstCall]);
    // The next turn carries the result of the command the answered call asked for (the tests, passing).
    expect(
      toolResultsIn(requests[MODEL_RETRIES + 1]?.body ?? {})
        .map((result) => result.content)
        .join("\n"),
    ).toMatch(/# pass 1\n# fail 0/);
    expect(s.route.arrivals).toBe(MODEL_RETRIES + 2);
    // The SDK absorbed the failures: the App logged no warning or error about this repository.
    expect(s.app.logRecords().filter((record) => record.repo === s.fullName && Number(record.level) >= 40)).toEqual([]);
    expect(s.model.remaining).toBe(0);
    github.assertNoViolations();
  }, 90_000);

  it("an untrusted person's label gets one refusal, and nothing runs", async (context) => {
    const { expect } = context;
    const { github } = world;
    const s = await world.scenario(context, "octo-untrusted", { script: [] });
    const triaged = s.issue({ title: "Please rewrite everything" });
    const foreign = s.issue({ title: "Please delete the tests" });
    await s.label(triaged, "tia-triage");
    await s.label(foreign, "outsider");
    await s.eventually(() => s.state(triaged)?.status === "refused" && s.state(foreign)?.status === "refused", "both refusals");
    for (const issue of [triaged, foreign]) {
      expect(s.state(issue)).toMatchObject({ status: "refused", notice: { kind: "untrusted" } });
      expect(s.progress(issue)).toContain("### 🚫 afk did not start");
      expect(s.progress(issue)).toContain("afk only acts for people with write access to this repository");
      expect(s.afkComments(issue)).toHaveLength(1);
      expect(s.labels(issue)).toEqual(["ready-for-agent"]);
      expect(github.reactions(s.fullName, issue)).toEqual([]);
    }
    expect(s.lock()).toBeUndefined();
    expect(github.pulls(s.fullName)).toEqual([]);
    expect(world.git.requests.filter((request) => request.repo === s.fullName)).toEqual([]);
    expect(s.route.arrivals).toBe(0);
    github.assertNoViolations();
  }, 60_000);

  it("deliveries without a signature or with a wrong one are rejected and change nothing", async (context) => {
    const { expect } = context;
    const { github } = world;
    const s = await world.scenario(context, "octo-signatures", { script: [] });
    const target = s.issue({ title: "Run me (forged)" });
    const control = s.issue({ title: "A real request" });
    const payload = s.labelPayload(target, "ada-admin");
    const body = JSON.stringify(payload);
    const other = JSON.stringify({ ...payload, action: "opened" });
    const command = s.commentPayload(target, "ada-admin", "/afk run");

    const answers = {
      unsigned: await s.deliver("issues", payload, { signature: null }),
      wrongSecret: await s.deliver("issues", payload, { signature: webhookSignature("not-the-secret", body) }),
      otherBody: await s.deliver("issues", payload, { signature: webhookSignature(WEBHOOK_SECRET, other) }),
      garbage: await s.deliver("issues", payload, { signature: "sha256=not-hex" }),
      sha1Only: await s.deliver("issues", payload, { signature: `sha1=${"0".repeat(40)}` }),
      commandUnsigned: await s.deliver("issue_comment", command, { signature: null }),
      commandWrong: await s.deliver("issue_comment", command, { signature: webhookSignature("not-the-secret", JSON.stringify(command)) }),
    };
    const statuses = Object.fromEntries(Object.entries(answers).map(([name, answer]) => [name, answer.status]));
    // What Probot (@octokit/webhooks' middleware) answers: 400 for a missing header and for a signature that does not verify.
    expect(statuses).toEqual({ unsigned: 400, wrongSecret: 400, otherBody: 400, garbage: 400, sha1Only: 400, commandUnsigned: 400, commandWrong: 400 });
    expect(answers.unsigned.body).toContain("Required headers missing: x-hub-signature-256");
    expect(answers.wrongSecret.body).toContain("signature does not match event payload and secret");

    // A correctly signed delivery after them is acted on, so the App was listening all along.
    await s.comment(control, "wes-write", "/afk help");
    await s.eventually(() => s.afkComments(control).length === 1, "the reply to the signed /afk help");

    expect(s.writesAbout(target)).toEqual([]);
    expect(github.comments(s.fullName, target).map((comment) => comment.user.login)).toEqual(["ada-admin"]);
    expect(github.reactions(s.fullName, target)).toEqual([]);
    expect(s.labels(target)).toEqual(["ready-for-agent"]);
    expect(s.lock()).toBeUndefined();
    github.assertNoViolations();
  }, 60_000);

  it("/afk stop while the model is answering stops the run and releases the lock", async (context) => {
    const { expect } = context;
    const { github } = world;
    // The model never answers: the run's only model call is held until the stop has landed.
    const s = await world.scenario(context, "octo-stop", { script: [] });
    const issue = s.issue({ title: "A long job" });
    const held = s.holdNext();
    await s.label(issue, "wes-write");
    await s.within(held.arrived, "the run's first model call", 45_000);
    const runId = s.state(issue)?.runId;
    expect(s.state(issue)).toMatchObject({ status: "running" });
    expect(s.lock()).toMatchObject({ state: "held", issue, runId });

    await s.comment(issue, "max-maintain", "/afk stop");
    await s.within(held.abandoned, "the App to cancel its model call");
    await s.eventually(() => s.state(issue)?.status === "stopped", `#${issue} stopped`);
    expect(s.state(issue)).toMatchObject({ status: "stopped", runId });
    expect(s.progress(issue)).toContain("### ⏹️ afk stopped");
    // The outcome is quoted inert in the progress comment: the person who stopped it is not notified again.
    expect(s.progress(issue)).toContain("Stopped by @\u200Bmax-maintain.");
    await s.eventually(() => s.afkComments(issue).length === 2, "the reply to /afk stop");
    expect(s.afkComments(issue)).toContain("@max-maintain stopping the run; the progress comment shows when it has stopped.");
    await s.eventually(() => s.lock()?.state === "free", "the lock to be released");
    expect(s.lock()).toMatchObject({ state: "free", lastRunId: runId });
    await s.eventually(() => !s.labels(issue).includes("agent-in-progress"), "agent-in-progress to be removed");
    expect(github.pulls(s.fullName)).toEqual([]);
    expect(world.git.pushes.filter((push) => push.repo === s.fullName)).toEqual([]);
    expect(s.model.requests).toHaveLength(0);
    github.assertNoViolations();
  }, 90_000);
});
