// npm run bench (requests): the GitHub requests one run costs. One issue, labeled by a maintainer, run
// by afk in process against the emulated GitHub with the real executor (sandboxed agent, scripted model,
// real git over HTTP); the repository has no CI, so afk counts the head as passing once the no-CI grace
// period ends and marks its draft pull request ready for review. Counted from the label delivery until
// afk is idle again with the pull request ready, every request the emulator received, by route, and by
// the run state afk had last written when it was sent. Merged into bench/results.json:
//
//   github_requests_per_run               every request of that run (target ≤ 25)
//   github_requests_per_run_rate_limited  of those, the ones GitHub counts against the rate limit (not 304s)
//   github_requests_per_run_installation_rest  of those, the ones the installation's REST budget pays for
//                                         (not the App's own JWT requests, not GraphQL, which has its own)
//   github_requests_per_run_echoes        what afk then spends on the webhooks its own writes cause on GitHub
//                                         (the emulator sends none, so they are delivered here, after the run)
//   github_requests_per_run_warm          a second issue in the same repository and process: the lock ref
//                                         exists, the bot login, the installation token and the lock tree are cached
//
// `REQUESTS_LOG=1 npx tsx bench/requests.ts` also prints every request in order.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { decodeStateMarker } from "../src/lifecycle/run-state.js";
import { endTurn, FIXTURE_FILES, toolTurn } from "../test/helpers/git-scenario.js";
import { buildWorld } from "../test/helpers/world/build-world.js";
import type { RecordedRequest } from "../test/helpers/emulator/index.js";
import {
  checkRunCompletedPayload,
  checkSuiteCompletedPayload,
  issueCommentCreatedPayload,
  issuesLabeledPayload,
  issuesUnlabeledPayload,
} from "../test/helpers/webhook-payloads.js";
import { breakdownLines, countByRoute, installationRest, rateLimited, routeOf } from "./request-routes.js";

const OWNER = "bench-org";
const REPO = "app";
const FULL_NAME = `${OWNER}/${REPO}`;
const INSTALLATION_ID = 77;
const TRIGGER = "ready-for-agent";
const IN_PROGRESS = "agent-in-progress";
/** afk waits this long for CI to appear before counting the head as passing: short, but long enough that its first look finds the grace period still on, as it does with the default 2 minutes. */
const GRACE_MINUTES = 0.05;
const DEADLINE_MS = 120_000;

/** The run state a request wrote, when it created or edited afk's progress comment. */
function stateWritten(request: RecordedRequest): string | undefined {
  if (request.status >= 300 || typeof request.body !== "object" || request.body === null || !("body" in request.body)) return undefined;
  if (typeof request.body.body !== "string") return undefined;
  const decoded = decodeStateMarker(request.body.body);
  return decoded.kind === "state" ? `${decoded.state.status}/${decoded.state.phase}` : undefined;
}

/** The requests split by the run state afk had written before each was sent (the first group comes before any). */
function byStage(requests: readonly RecordedRequest[]): Array<{ after: string; requests: RecordedRequest[] }> {
  const stages: Array<{ after: string; requests: RecordedRequest[] }> = [{ after: "the label delivery (no state written yet)", requests: [] }];
  for (const request of requests) {
    stages.at(-1)?.requests.push(request);
    const written = stateWritten(request);
    if (written !== undefined && written !== stages.at(-1)?.after) stages.push({ after: written, requests: [] });
  }
  return stages.filter((stage) => stage.requests.length > 0);
}

const config = `test: node --test\nci:\n  grace_minutes: ${GRACE_MINUTES}\n`;
// The fixture without its workflow: nothing on this repository reports CI.
const files = Object.fromEntries(Object.entries(FIXTURE_FILES).filter(([path]) => !path.startsWith(".github/workflows/")));
/** One run's turns: read a file, add a test, finish. */
const turns = (file: string) => [
  toolTurn("bash", { command: "cat src/math.js" }),
  toolTurn("str_replace_based_edit_tool", {
    command: "create",
    path: `test/${file}.test.js`,
    file_text: `import { test } from "node:test";\ntest("${file}", () => {});\n`,
  }),
  endTurn("Added a test."),
];
const world = await buildWorld({
  name: "afk-bench-requests-",
  repos: [{ owner: OWNER, name: REPO, installationId: INSTALLATION_ID, config, roles: { "wes-write": "write" }, git: files }],
  model: [...turns("first"), ...turns("second")],
});
const { github } = world;
const repo = world.repo(FULL_NAME);
// afk's production Octokit (its retries and conditional requests), with millisecond waits.
const afk = await world.startAfk({ octokitRetries: true });
const repository = { owner: OWNER, repo: REPO, installationId: INSTALLATION_ID };

/** Labels a new issue as a maintainer and returns every request afk sent until its pull request is ready and afk is idle. */
async function labelToReady(title: string): Promise<{ issue: number; requests: RecordedRequest[]; ms: number }> {
  const issue = repo.issue({ title, body: "Add a test.", user: "wes-write" });
  const payload = repo.labelPayload(issue, "wes-write", { label: TRIGGER });
  const first = github.requests.length;
  const began = performance.now();
  await afk.deliver("issues", payload);
  // The run, then the no-CI grace period on a timer of afk's own: look until the pull request is ready and afk is idle.
  for (;;) {
    await afk.idle();
    const pull = github.pulls(FULL_NAME).find((candidate) => new RegExp(`#${issue}\\b`).test(candidate.body));
    if (pull !== undefined && !pull.draft) break;
    if (performance.now() - began > DEADLINE_MS)
      throw new Error(`#${issue}: the pull request was not ready within ${DEADLINE_MS / 1000} s (${pull === undefined ? "none opened" : "still a draft"})`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  await afk.idle();
  return { issue, requests: github.requests.slice(first), ms: performance.now() - began };
}

/**
 * The webhooks GitHub sends for what afk itself did in the run of `issue` (its label added and removed,
 * its progress comment, its check run and that run's suite), delivered one after another; returns what
 * afk spent on each. Pull request events afk does not subscribe to cost nothing and are left out.
 */
async function echoesOf(issue: number): Promise<Array<{ echo: string; requests: RecordedRequest[] }>> {
  const bot = { login: github.botLogin, type: "Bot" as const };
  const app = { slug: github.appSlug, id: github.appId };
  const target = { number: issue, title: "More tests", body: "Add a test.", labels: [TRIGGER], state: "open" as const, user: "wes-write" };
  const pull = github.pulls(FULL_NAME).find((candidate) => new RegExp(`#${issue}\\b`).test(candidate.body));
  const checkRun = github.checkRuns(FULL_NAME).find((run) => run.head_sha === pull?.headSha && run.app.slug === github.appSlug);
  const progress = github.comments(FULL_NAME, issue).find((comment) => comment.user.login === github.botLogin);
  if (pull === undefined || checkRun === undefined || progress === undefined)
    throw new Error(`#${issue}: no pull request, check run or progress comment to echo`);
  const minimal = [{ number: pull.number, headRef: pull.head, headSha: pull.headSha, baseRef: "main" }];
  const echoes: Array<[string, string, object]> = [
    [
      "issue_comment.created (its progress comment)",
      "issue_comment",
      issueCommentCreatedPayload({ ...repository, issue: target, comment: { body: progress.body ?? "", id: progress.id }, sender: bot }),
    ],
    [
      "issues.labeled (its in-progress label)",
      "issues",
      issuesLabeledPayload({ ...repository, issue: { ...target, labels: [TRIGGER, IN_PROGRESS] }, label: IN_PROGRESS, sender: bot }),
    ],
    [
      "issues.unlabeled (its in-progress label)",
      "issues",
      issuesUnlabeledPayload({ ...repository, issue: { ...target, labels: [TRIGGER, IN_PROGRESS] }, label: IN_PROGRESS, sender: bot }),
    ],
    ["issues.unlabeled (the trigger label)", "issues", issuesUnlabeledPayload({ ...repository, issue: target, label: TRIGGER, sender: bot })],
    [
      "check_run.completed (its check run)",
      "check_run",
      checkRunCompletedPayload({
        ...repository,
        checkRun: { id: checkRun.id, name: checkRun.name, headSha: pull.headSha, conclusion: "success", app },
        headBranch: pull.head,
        pullRequests: minimal,
        sender: bot,
      }),
    ],
    [
      "check_suite.completed (its check suite)",
      "check_suite",
      checkSuiteCompletedPayload({
        ...repository,
        headSha: pull.headSha,
        headBranch: pull.head,
        conclusion: "success",
        app,
        pullRequests: minimal,
        sender: bot,
      }),
    ],
  ];
  const spent: Array<{ echo: string; requests: RecordedRequest[] }> = [];
  for (const [echo, name, payload] of echoes) {
    const first = github.requests.length;
    await afk.deliver(name, payload);
    await afk.idle();
    spent.push({ echo, requests: github.requests.slice(first) });
  }
  return spent;
}

try {
  const cold = await labelToReady("More tests");
  const echoes = await echoesOf(cold.issue);
  const warm = await labelToReady("Even more tests");
  world.assertClean();

  const { requests } = cold;
  const echoed = echoes.flatMap((echo) => echo.requests);
  const ciReads = requests.filter((request) => request.method === "GET" && /\/commits\/[^/]+\/status$/.test(request.path)).length;
  const figures = {
    github_requests_per_run: requests.length,
    github_requests_per_run_rate_limited: rateLimited(requests),
    github_requests_per_run_installation_rest: installationRest(requests),
    github_requests_per_run_writes: requests.filter((request) => request.method !== "GET").length,
    github_requests_per_run_echoes: echoed.length,
    github_requests_per_run_warm: warm.requests.length,
    github_requests_per_run_warm_rate_limited: rateLimited(warm.requests),
    requests_measured_at: new Date().toISOString(),
  };
  const resultsPath = "bench/results.json";
  const previous = existsSync(resultsPath) ? (JSON.parse(readFileSync(resultsPath, "utf8")) as Record<string, unknown>) : {};
  writeFileSync(resultsPath, `${JSON.stringify({ ...previous, ...figures }, null, 2)}\n`);

  console.log(`afk requests bench: one issue, label → pull request ready for review (no CI; grace period ${GRACE_MINUTES * 60} s), ${Math.round(cold.ms)} ms`);
  const row = (name: string, value: number, note: string) => console.log(`${name.padEnd(44)} ${String(value).padEnd(8)} ${note}`);
  row("github_requests_per_run", figures.github_requests_per_run, "≤ 25");
  row("github_requests_per_run_rate_limited", figures.github_requests_per_run_rate_limited, "(not 304)");
  row(
    "github_requests_per_run_installation_rest",
    figures.github_requests_per_run_installation_rest,
    "(of those, what the installation's REST budget pays: not the App's own, not GraphQL)",
  );
  row("  of them writes", figures.github_requests_per_run_writes, "");
  row("github_requests_per_run_echoes", figures.github_requests_per_run_echoes, "(on the webhooks afk's own writes cause; not in the figure above)");
  row("github_requests_per_run_warm", figures.github_requests_per_run_warm, `(a second issue; ${figures.github_requests_per_run_warm_rate_limited} not 304)`);
  if (ciReads !== 2) console.log(`(afk read CI ${ciReads} times, not twice: the grace period ended before its first look, so this run is not the usual shape)`);
  console.log("by route:");
  for (const line of breakdownLines(countByRoute(requests))) console.log(line);
  console.log("by the run state afk had written last (status/phase):");
  for (const stage of byStage(requests)) {
    console.log(`  after ${stage.after}: ${stage.requests.length}`);
    for (const line of breakdownLines(countByRoute(stage.requests))) console.log(`  ${line}`);
  }
  console.log("echoes:");
  for (const echo of echoes) {
    console.log(`  ${echo.echo}: ${echo.requests.length}`);
    for (const line of breakdownLines(countByRoute(echo.requests))) console.log(`  ${line}`);
  }
  console.log("warm run by route:");
  for (const line of breakdownLines(countByRoute(warm.requests))) console.log(line);
  if (process.env.REQUESTS_LOG === "1") {
    for (const [what, log] of [
      ["first run", requests],
      ["second run", warm.requests],
    ] as const) {
      console.log(`every request of the ${what}, in order:`);
      for (const [index, request] of log.entries()) {
        const written = stateWritten(request);
        console.log(`  ${String(index + 1).padStart(3)} ${request.status} ${routeOf(request)}${written === undefined ? "" : `  → ${written}`}`);
      }
    }
  }
  console.log(figures.github_requests_per_run <= 25 ? "target met" : "target NOT met (≤ 25)");
} finally {
  await world.close();
}
