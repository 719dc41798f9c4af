import { describe, it } from "vitest";
import { join } from "node:path";
import { processesWorkingIn, processGroupMembers, webhookSignature } from "../helpers/app-process.js";
import { endTurn, FIXTURE_FILES, toolResultsIn, toolTurn } from "../helpers/git-scenario.js";
import type { ScriptedTurn } from "../helpers/model-server.js";
import { checkSuiteCompletedPayload, pullRequestClosedPayload } from "../helpers/webhook-payloads.js";
import { LEASE_SECONDS, REPO, useE2EWorld, WEBHOOK_SECRET, type E2EScenario } from "./world.js";

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

describe.concurrent("the afk App as users run it (npm start), end to end over HTTP", () => {
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
    const testOutput = toolResultsIn(s.model.requests[2]?.body ?? {}).map((result) => result.content).join("\n");
    expect(testOutput).toMatch(/# pass 1/);
    expect(testOutput).toMatch(/# fail 0/);
    // afk's own check run on the pull request's head reports its green gate.
    await s.eventually(() => github.checkRuns(s.fullName).some((run) => run.app.slug === github.appSlug), "afk's check run");
    const ownRuns = github.checkRuns(s.fullName).filter((run) => run.app.slug === github.appSlug);
    expect(ownRuns.map((run) => ({ sha: run.head_sha, status: run.status, conclusion: run.conclusion }))).toEqual([{ sha: pull.headSha, status: "completed", conclusion: "success" }]);

    // The queued issue starts once the first released the lock, and runs to its own pull request.
    await s.eventually(() => s.state(second)?.status === "waiting", `#${second} to start and open its pull request`, 60_000);
    const secondRun = s.state(second)?.runId;
    await s.eventually(() => s.lock()?.state === "free", `the lock to be released after #${second}`);
    // Renewals repeat a holder; the distinct steps are what matter.
    const history = s
      .lockHistory()
      .reverse()
      .map((record) => (record.state === "held" ? `held ${record.issue} ${record.runId}` : `free ${record.lastRunId ?? ""}`))
      .filter((step, index, steps) => step !== steps[index - 1]);
    expect(history).toEqual([`held ${first} ${running?.runId}`, `free ${running?.runId}`, `held ${second} ${secondRun}`, `free ${secondRun}`]);
    expect(pullFor(s, second).number).not.toBe(pull.number);

    // GitHub Actions goes green on the first pull request: afk marks it ready and asks the requester to review.
    github.addForeignCheckRun(s.fullName, { headSha: pull.headSha, name: "test (node 20)", appSlug: ACTIONS.slug, conclusion: "success", output: { title: "Passed", summary: "all good" } });
    await s.deliverOk(
      "check_suite",
      checkSuiteCompletedPayload({
        owner: s.owner,
        repo: REPO,
        installationId: s.installationId,
        headSha: pull.headSha,
        headBranch: pull.head,
        conclusion: "success",
        app: ACTIONS,
        pullRequests: [{ number: pull.number, headRef: pull.head, headSha: pull.headSha, baseRef: "main" }],
        sender: { login: github.botLogin, type: "Bot" },
      }),
    );
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
    expect(s.progress(issue)).toContain("Stopped by @max-maintain.");
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
    expect(world.git.pushes.filter((push) => push.repo === s.fullName).flatMap((push) => push.updates).some((update) => update.includes(`afk/${crashed}-`))).toBe(false);
    expect(s.model.remaining).toBe(0);

    console.info(
      `[e2e] SIGKILL → restarted App answering: ${(restartMs / 1000).toFixed(1)} s (npm start builds first); ` +
        `lease ${LEASE_SECONDS} s, ending ${((expiresAt - killedAt) / 1000).toFixed(1)} s after the kill; ` +
        `stale lock taken back ${((reclaimedAt - expiresAt) / 1000).toFixed(1)} s after the lease ended, ${((reclaimedAt - killedAt) / 1000).toFixed(1)} s after the kill, with no event delivered`,
    );
    github.assertNoViolations();
  }, 150_000);
});
