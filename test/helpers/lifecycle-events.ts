import { endTurn, toolTurn, type GitScenario } from "./git-scenario.js";
import { FULL_NAME, INSTALLATION_ID, OWNER, REPO } from "./scenario.js";
import { checkSuiteCompletedPayload } from "./webhook-payloads.js";

// What happens on GitHub after afk opened its pull request, delivered as GitHub sends it: the
// lifecycle scenarios and the attacks on follow-up jobs drive afk with these.

/** GitHub Actions as an app, as its check suites name it. */
export const ACTIONS = { slug: "github-actions", id: 15368 };

/** One model run: edit `src/math.js` by appending `line`, then end the turn with `summary`. */
export function editTurns(line: string, summary: string) {
  return [toolTurn("bash", { command: `printf '%s\\n' ${JSON.stringify(line)} >> src/math.js && node --test 2>&1 | tail -3` }), endTurn(summary)];
}

/** afk's one pull request in the scenario's repository. */
export function pullOf(scenario: GitScenario) {
  const [pull] = scenario.github.pulls(FULL_NAME);
  if (pull === undefined) throw new Error("afk opened no pull request");
  return pull;
}

/**
 * GitHub Actions finishes on a commit: a check run (with a job log when red), then the suite event, as GitHub sends it.
 * The suite event is described (webhook-payloads.ts), not built from the world's emulator: GitHub keeps the branch a
 * suite was pushed to, while the emulator names a commit's branch from where branches point at delivery, so a late
 * report about a replaced head would carry no branch and afk would drop it before it compares the commit with the head.
 */
export async function actionsFinish(
  scenario: GitScenario,
  conclusion: "success" | "failure",
  on: { sha: string; branch: string; pull?: { number: number; head: string }; message?: string; log?: string },
): Promise<void> {
  const run = scenario.github.addForeignCheckRun(FULL_NAME, {
    headSha: on.sha,
    name: "test (node 20)",
    appSlug: ACTIONS.slug,
    conclusion,
    output: {
      title: conclusion === "failure" ? "Process completed with exit code 1." : "Passed",
      summary: conclusion === "failure" ? "1 test failed" : "all good",
    },
  });
  if (on.log !== undefined) scenario.github.setJobLog(FULL_NAME, run.id, on.log);
  await scenario.afk.deliver(
    "check_suite",
    checkSuiteCompletedPayload({
      owner: OWNER,
      repo: REPO,
      installationId: INSTALLATION_ID,
      headSha: on.sha,
      headBranch: on.branch,
      ...(on.message === undefined ? {} : { headCommitMessage: on.message }),
      conclusion,
      app: ACTIONS,
      pullRequests: on.pull === undefined ? [] : [{ number: on.pull.number, headRef: on.pull.head, headSha: on.sha, baseRef: "main" }],
      sender: { login: scenario.github.botLogin, type: "Bot" },
    }),
  );
  await scenario.afk.idle();
}

/** CI finishes on afk's pull request (its head unless `sha` says otherwise; a `branch` without the pull request when given). */
export async function ciFinishes(
  scenario: GitScenario,
  conclusion: "success" | "failure",
  options: { log?: string; sha?: string; branch?: string } = {},
): Promise<void> {
  const pull = pullOf(scenario);
  await actionsFinish(scenario, conclusion, {
    sha: options.sha ?? pull.headSha,
    branch: options.branch ?? pull.head,
    ...(options.branch === undefined ? { pull } : {}),
    ...(options.log === undefined ? {} : { log: options.log }),
  });
}

/** A review delivered on afk's pull request; by default with one line comment on `src/math.js`. */
export async function review(
  scenario: GitScenario,
  reviewer: string,
  state: "changes_requested" | "approved" | "commented",
  body: string,
  comments: Array<{ path: string; line: number; body: string }> = [{ path: "src/math.js", line: 1, body: "Please name the export `sum`, not `add`." }],
): Promise<void> {
  const pull = pullOf(scenario);
  const submitted = scenario.github.submitReview(FULL_NAME, pull.number, {
    user: reviewer,
    state: state === "changes_requested" ? "CHANGES_REQUESTED" : state === "approved" ? "APPROVED" : "COMMENTED",
    body,
    comments,
  });
  const delivery = scenario.github.webhook("pull_request_review", "submitted", { repo: FULL_NAME, pull: pull.number, review: submitted.review.id });
  await scenario.afk.deliver(delivery.name, delivery.payload);
  await scenario.afk.idle();
}
