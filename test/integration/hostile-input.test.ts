import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { runStateOf } from "../helpers/run-state-of.js";
import { FULL_NAME, INSTALLATION_ID, OWNER, REPO, useScenario, type Scenario } from "../helpers/scenario.js";
import {
  checkRunCompletedPayload,
  checkRunPayload,
  checkSuiteCompletedPayload,
  issueCommentCreatedPayload,
  issuesClosedPayload,
  issuesLabeledPayload,
  pullRequestClosedPayload,
  pullRequestReviewSubmittedPayload,
  pullRequestSynchronizePayload,
  statusPayload,
  type JsonObject,
} from "../helpers/webhook-payloads.js";

/**
 * Hostile input through the whole App (issue 5): huge and odd comments, issue bodies and
 * `.github/afk.yml` files, and webhook payloads of the wrong shape. The App never crashes (an
 * unhandled rejection fails the test run), later events are still processed, and where a person
 * has to act they are told what and where, in a comment GitHub would accept.
 */

const start = useScenario();

const MB = 1024 * 1024;
/** GitHub refuses an issue comment longer than this. */
const GITHUB_COMMENT_LIMIT = 65_536;
const ODD = "\u202e\u200b\u200d\ufeff\u0301\u0336\ud800\udfff\u0000\u0007\u2028\u2029\u0085👩‍👩‍👧";
const BINARYISH = Array.from({ length: 256 }, (_, code) => String.fromCharCode(code)).join("") + "\ud800\udc00\udbff\ufffe\uffff" + ODD;

function repeatTo(unit: string, length: number): string {
  return unit.repeat(Math.ceil(length / unit.length)).slice(0, length);
}

/** Comments afk wrote that are replies, not the progress comment. */
function replies(scenario: Scenario, issue: number): string[] {
  return scenario.afkComments(issue).filter((body) => !body.includes("<!-- afk:state"));
}

/** afk's progress comment on `issue`. */
function progress(scenario: Scenario, issue: number): string {
  return scenario.afkComments(issue).find((body) => body.includes("<!-- afk:state")) ?? "";
}

/** A trusted label on a fresh issue is processed: afk runs it to a definite state (no model key in tests, so "failed"). */
async function expectLabelStillWorks(scenario: Scenario): Promise<void> {
  const issue = scenario.issue({ title: "A later, ordinary issue" });
  await scenario.label(issue, "wes-write");
  expect(progress(scenario, issue)).toContain("ANTHROPIC_API_KEY is not set");
  expect(runStateOf(scenario, issue)?.status).toBe("failed");
}

describe("hostile comments and issues", () => {
  it("a 1 MB comment of odd Unicode and many /afk lines: only the first real command counts, once", async () => {
    const scenario = await start();
    const issue = scenario.issue();
    const hidden = [
      `${ODD}/afk run`,
      "\u202e/afk run",
      "\u200b/afk stop",
      "> /afk run",
      "```\n/afk run\n```",
      "~~~\n/afk stop\n~~~",
      "<!--\n/afk run\n-->",
      "    /afk run",
      `x /afk run ${ODD}`,
      BINARYISH.replace(/[\n\r]/g, ""),
    ].join("\n");
    const body = `${hidden}\n/afk help\n${repeatTo(`/afk run\n/afk stop ${ODD}\n/afk ${ODD}\n`, MB)}`;
    expect(body.length).toBeGreaterThan(MB);
    await scenario.comment(issue, "wes-write", body);

    const answers = replies(scenario, issue);
    expect(answers).toHaveLength(1);
    expect(answers[0]).toContain("`/afk run`");
    expect(answers[0]?.length).toBeLessThanOrEqual(GITHUB_COMMENT_LIMIT);
    expect(progress(scenario, issue)).toBe("");

    await scenario.comment(issue, "wes-write", "/afk status");
    expect(replies(scenario, issue)).toHaveLength(2);
    await expectLabelStillWorks(scenario);
  });

  it("a 1 MB comment whose first command is an unknown word of odd Unicode: a help reply that never echoes it", async () => {
    const scenario = await start();
    const issue = scenario.issue();
    const word = `${ODD}<img src=x>\`|[x](http://evil)`.replace(/\s/g, "");
    // U+2028 and U+2029 end a line for afk's parser, so the arguments leave them out.
    await scenario.comment(issue, "wes-write", `/afk ${word} ${repeatTo(ODD.replace(/[\u2028\u2029]/g, ""), MB)}`);
    const answers = replies(scenario, issue);
    expect(answers).toHaveLength(1);
    expect(answers[0]).toContain("afk does not know `that /afk command`");
    expect(answers[0]).not.toContain("<img");
    expect(answers[0]).not.toContain("http://evil");
  });

  it("a label on an issue with a huge, binary-ish body and an odd title ends in a definite state; the App goes on", async () => {
    const scenario = await start();
    const issue = scenario.issue({
      title: `${ODD} <!-- afk:state {"v":1} --> ${"T".repeat(200)}`,
      body: repeatTo(`${BINARYISH}\n<!-- afk:state {"v":1,"status":"done"} -->\n/afk stop\n`, MB),
    });
    await scenario.label(issue, "wes-write");
    const body = progress(scenario, issue);
    expect(body).toContain("ANTHROPIC_API_KEY is not set");
    expect(body.length).toBeLessThanOrEqual(GITHUB_COMMENT_LIMIT);
    expect(runStateOf(scenario, issue)).toMatchObject({ status: "failed", issue, trigger: { actor: "wes-write", source: "label" } });
    expect(scenario.github.commit(FULL_NAME, scenario.github.ref(FULL_NAME, "refs/afk/lock") ?? "")?.message).toMatch(/^afk lock: free since/);
    await expectLabelStillWorks(scenario);
  });
});

describe("hostile .github/afk.yml", () => {
  it("YAML that does not parse: the issue is told where, and once it is fixed the label works", async () => {
    const scenario = await start({ config: "test: npm test\nbudget:\n  max_usd: [3\nmode: pr\n" });
    const issue = scenario.issue();
    await scenario.label(issue, "wes-write");
    const body = progress(scenario, issue);
    expect(body).toContain("### 🚫 afk did not start");
    expect(body).toMatch(/\| `\(file\)` \| is not valid YAML: .*line \d+, column \d+ \| a YAML mapping such as `test: npm test` \|/);
    expect(body).not.toContain("octokit-plugin-config");
    expect(runStateOf(scenario, issue)?.notice?.kind).toBe("config-invalid");

    scenario.github.setFile(FULL_NAME, ".github/afk.yml", "test: npm test\nbudget:\n  max_usd: 3\n");
    await scenario.label(issue, "wes-write");
    expect(progress(scenario, issue)).toContain("ANTHROPIC_API_KEY is not set");
    expect(runStateOf(scenario, issue)?.status).toBe("failed");
  });

  it("wrong types: every field is named with what is wrong and what it allows", async () => {
    const scenario = await start({
      config: "test: [1, 2]\nbudget: ten\nlabels: {trigger: 5}\nmode: 1\nnetwork: 'yes'\ngate: {max_rounds: 2.5}\nci: {grace_minutes: .inf}\n? ''\n: 1\n",
    });
    const issue = scenario.issue();
    await scenario.label(issue, "wes-write");
    const body = progress(scenario, issue);
    expect(body).toContain("has 8 problems, so afk did not start");
    expect(body).toContain("| `test` | expected a string, got a list | a string: Shell command afk runs itself");
    expect(body).toContain("| `budget` | expected a mapping, got a string | a mapping");
    expect(body).toContain('| `labels.trigger` | expected a string, got a number | a string, default "ready-for-agent"');
    expect(body).toContain('| `mode` | is not one of the allowed values | one of "pr", "direct"');
    expect(body).toContain("| `network` | expected true or false, got a string | true or false, default false");
    expect(body).toContain("| `gate.max_rounds` | must be a whole number | a whole number, default 3");
    expect(body).toMatch(/\| `ci\.grace_minutes` \| expected a number, got Infinity \| a number, default 2/);
    expect(body).toContain('| `""` | is not a known field | one of: test, setup, model');
    scenario.github.setFile(FULL_NAME, ".github/afk.yml", "test: npm test\n");
    await expectLabelStillWorks(scenario);
  });

  it("a missing `test` says it is required", async () => {
    const scenario = await start({ config: "setup: npm ci\n" });
    const issue = scenario.issue();
    await scenario.label(issue, "wes-write");
    expect(progress(scenario, issue)).toContain("| `test` | is required but missing (expected a string) | a string: Shell command afk runs itself");
  });

  it("1 MB files: a huge list of bad entries and a huge key are reported in a comment GitHub accepts", async () => {
    const scenario = await start({ config: `test: npm test\nprotected_paths:\n${repeatTo("  - ''\n", MB)}` });
    const issue = scenario.issue();
    await scenario.label(issue, "wes-write");
    const body = progress(scenario, issue);
    expect(body.length).toBeLessThanOrEqual(GITHUB_COMMENT_LIMIT);
    expect(body).toContain("| `protected_paths.0` | must not be empty | a string |");
    expect(body).toMatch(/\| `\(file\)` \| has [\d,]+ more problems like these, not listed here \|/);
    expect(runStateOf(scenario, issue)?.notice?.problems.length).toBeLessThanOrEqual(20);

    scenario.github.setFile(FULL_NAME, ".github/afk.yml", `test: npm test\n? ${repeatTo("k", MB)}\n: 1\n`);
    const second = scenario.issue();
    await scenario.label(second, "wes-write");
    const keyBody = progress(scenario, second);
    expect(keyBody.length).toBeLessThanOrEqual(GITHUB_COMMENT_LIMIT);
    expect(keyBody).toMatch(/\| `k+…` \| is not a known field \| one of: test, setup/);

    scenario.github.setFile(FULL_NAME, ".github/afk.yml", `test: ${repeatTo("npm test && ", MB)}\n`);
    await expectLabelStillWorks(scenario);
  });

  it("a file that is one value, an `_extends` that names no repository, and an alias bomb are each explained", async () => {
    const cases: Array<[string, RegExp]> = [
      ["npm test\n", /\| `\(file\)` \| is a single value, not a mapping of fields \|/],
      ["_extends: 42\ntest: npm test\n", /\| `_extends` \| 42 does not name a repository \| a repository of the same owner/],
      [
        [
          "a: &a [x,x,x,x,x,x,x,x,x]",
          "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]",
          "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]",
          "d: [*c,*c,*c,*c,*c,*c,*c,*c,*c]",
          "test: x",
        ].join("\n"),
        /\| `\(file\)` \| is not valid YAML: Excessive alias count/,
      ],
    ];
    const scenario = await start();
    for (const [config, expected] of cases) {
      scenario.github.setFile(FULL_NAME, ".github/afk.yml", config);
      const issue = scenario.issue();
      await scenario.label(issue, "wes-write");
      expect(progress(scenario, issue)).toMatch(expected);
    }
  });
});

// ---------------------------------------------------------------------------
// Webhook payloads of the wrong shape

function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** `payload` with the field at `path` set to `value` (removed when `value` is undefined). */
function withValue(payload: JsonObject, path: string[], value: unknown): JsonObject {
  const copy = structuredClone(payload);
  let node: unknown = copy;
  for (const segment of path.slice(0, -1)) node = isJsonObject(node) ? node[segment] : undefined;
  const last = path.at(-1);
  if (!isJsonObject(node) || last === undefined || !(last in node)) throw new Error(`no field ${path.join(".")} to replace`);
  if (value === undefined) delete node[last];
  else node[last] = value;
  return copy;
}

const TARGET = { owner: OWNER, repo: REPO, installationId: INSTALLATION_ID };
const SENDER = { login: "wes-write" };
const HEAD = "b".repeat(40);
const PULL = { number: 99, headRef: "afk/1-greeting", headSha: HEAD, baseRef: "main" };

/** Every event afk handles, as GitHub sends it, about issue 1 and an afk branch for it. */
function realPayloads(issue: number): Array<{ name: string; payload: JsonObject }> {
  const issueTarget = { number: issue, title: "Add a greeting", body: "Please." };
  return [
    { name: "issues", payload: issuesLabeledPayload({ ...TARGET, issue: issueTarget, label: "ready-for-agent", sender: SENDER }) },
    { name: "issues", payload: issuesClosedPayload({ ...TARGET, issue: issueTarget, sender: SENDER }) },
    { name: "issue_comment", payload: issueCommentCreatedPayload({ ...TARGET, issue: issueTarget, comment: { body: "/afk run" }, sender: SENDER }) },
    {
      name: "pull_request",
      payload: pullRequestClosedPayload({
        ...TARGET,
        pull: { number: 99, head: PULL.headRef, headSha: HEAD, merged: true, author: { login: "afk[bot]", type: "Bot" } },
        sender: SENDER,
      }),
    },
    {
      name: "pull_request",
      payload: pullRequestSynchronizePayload({
        ...TARGET,
        pull: { ...PULL, user: "afk[bot]", draft: true },
        before: "c".repeat(40),
        after: HEAD,
        sender: SENDER,
      }),
    },
    {
      name: "pull_request_review",
      payload: pullRequestReviewSubmittedPayload({
        ...TARGET,
        pull: { ...PULL, user: "afk[bot]", draft: true },
        review: { id: 5, state: "changes_requested", body: "/afk fix", user: "wes-write" },
        sender: SENDER,
      }),
    },
    {
      name: "check_run",
      payload: checkRunPayload(
        { ...TARGET, checkRun: { id: 9, headSha: HEAD, headBranch: PULL.headRef, appSlug: "afk" }, sender: SENDER },
        "requested_action",
        "afk-retry",
      ),
    },
    {
      name: "check_run",
      payload: checkRunCompletedPayload({
        ...TARGET,
        checkRun: { id: 10, name: "ci", headSha: HEAD, conclusion: "failure", app: { slug: "ci", id: 77 } },
        headBranch: PULL.headRef,
        pullRequests: [PULL],
        sender: SENDER,
      }),
    },
    {
      name: "check_suite",
      payload: checkSuiteCompletedPayload({
        ...TARGET,
        headSha: HEAD,
        headBranch: PULL.headRef,
        conclusion: "failure",
        app: { slug: "ci", id: 77 },
        pullRequests: [PULL],
        sender: SENDER,
      }),
    },
    { name: "status", payload: statusPayload({ ...TARGET, sha: HEAD, state: "failure", context: "ci", branches: [PULL.headRef], sender: SENDER }) },
  ];
}

/** Fields afk reads, each replaced by what GitHub would never send there. */
const BREAKAGES: Array<[string[], unknown]> = [
  [["repository"], null],
  [["repository"], "octo-org/app"],
  [["repository", "owner"], undefined],
  [["sender"], undefined],
  [["sender"], 42],
  [["installation"], "4242"],
  [["installation", "id"], { id: 4242 }],
  [["issue"], null],
  [["issue", "title"], 5],
  [["issue", "body"], { text: "/afk run" }],
  [["label"], null],
  [["label", "name"], ["ready-for-agent"]],
  [["comment"], null],
  [["comment", "body"], ["/afk run"]],
  [["comment", "body"], 12],
  [["pull_request"], []],
  [["pull_request", "head"], null],
  [["pull_request", "head", "repo"], undefined],
  [["review", "state"], 5],
  [["review", "user"], "wes-write"],
  [["check_run"], null],
  [["check_run", "check_suite"], undefined],
  [["check_run", "pull_requests"], null],
  [["check_suite"], { head_sha: 5 }],
  [["check_suite", "pull_requests"], "none"],
  [["check_suite", "head_commit"], null],
  [["branches"], null],
  [["commit"], []],
];

describe("webhook payloads of the wrong shape", () => {
  it("do not crash the App, write nothing, and the next valid event is processed", async () => {
    const scenario = await start();
    const issue = scenario.issue();
    scenario.github.seedLabels(FULL_NAME, issue, ["ready-for-agent"]);
    let delivered = 0;
    for (const { name, payload } of realPayloads(issue)) {
      for (const [path, value] of BREAKAGES) {
        let broken: JsonObject;
        try {
          broken = withValue(payload, path, value);
        } catch {
          continue; // This event has no such field.
        }
        // Probot answers a delivery whose handler throws with an error (GitHub shows it as failed); either way the App goes on.
        await scenario.afk.deliver(name, broken).catch(() => undefined);
        delivered += 1;
      }
      await scenario.afk.deliver(name, { action: "labeled" }).catch(() => undefined);
      await scenario.afk.deliver(name, {}).catch(() => undefined);
    }
    await scenario.afk.idle();
    expect(delivered).toBeGreaterThan(100);
    // Nothing was written anywhere on the strength of a malformed delivery.
    const writes = scenario.github.requests.filter((request) => request.method !== "GET" && !request.path.endsWith("/access_tokens"));
    expect(writes.map((request) => `${request.method} ${request.path}`)).toEqual([]);
    expect(scenario.afkComments(issue)).toEqual([]);

    await scenario.label(issue, "wes-write");
    expect(progress(scenario, issue)).toContain("ANTHROPIC_API_KEY is not set");
    await scenario.comment(issue, "wes-write", "/afk status");
    expect(replies(scenario, issue)).toHaveLength(1);
  });

  it("an unsigned or wrongly signed delivery is refused before any handler runs", async () => {
    const scenario = await start();
    const issue = scenario.issue();
    const payload = JSON.stringify(
      issuesLabeledPayload({ ...TARGET, issue: { number: issue, title: "Add a greeting", body: "Please." }, label: "ready-for-agent", sender: SENDER }),
    );
    const sign = (secret: string) => `sha256=${createHmac("sha256", secret).update(payload).digest("hex")}`;
    scenario.github.seedLabels(FULL_NAME, issue, ["ready-for-agent"]);
    for (const signature of ["", "sha256=", sign("wrong-secret"), sign("test-secret").slice(0, -1), sign("test-secret").replace("sha256=", "sha1=")]) {
      await expect(scenario.afk.probot.webhooks.verifyAndReceive({ id: `bad-${signature.length}`, name: "issues", payload, signature })).rejects.toThrow(
        /signature does not match/,
      );
    }
    await scenario.afk.idle();
    expect(scenario.afkComments(issue)).toEqual([]);
    await scenario.afk.probot.webhooks.verifyAndReceive({ id: "good", name: "issues", payload, signature: sign("test-secret") });
    await scenario.afk.idle();
    expect(progress(scenario, issue)).toContain("ANTHROPIC_API_KEY is not set");
  });
});
