import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { runStateOf } from "../helpers/run-state-of.js";
import { endTurn, TEST_ANTHROPIC_KEY, toolResultsIn, toolTurn, useGitScenario } from "../helpers/git-scenario.js";
import { FULL_NAME } from "../helpers/scenario.js";

const start = useGitScenario();

function show(remote: string, spec: string): string {
  return execFileSync("git", ["--git-dir", remote, "show", spec], { encoding: "utf8" });
}

function branches(remote: string): string[] {
  return execFileSync("git", ["--git-dir", remote, "for-each-ref", "--format=%(refname:short)", "refs/heads"], { encoding: "utf8" }).split("\n").filter((line) => line.length > 0);
}

const MULTIPLY_TEST = 'import { test } from "node:test";\nimport assert from "node:assert/strict";\nimport { multiply } from "../src/math.js";\n\ntest("multiply", () => {\n  assert.equal(multiply(2, 3), 6);\n});\n';

describe("the executor, end to end through the App", () => {
  it("implements an issue: the agent edits and tests, afk's gate passes, the branch is pushed, a PR and a check run appear", async () => {
    const scenario = await start({
      script: [
        toolTurn("bash", { command: "cat src/math.js && ls test" }),
        toolTurn("str_replace_based_edit_tool", { command: "str_replace", path: "src/math.js", old_str: "export function add", new_str: "export function multiply(a, b) {\n  return a * b;\n}\n\nexport function add" }),
        toolTurn("str_replace_based_edit_tool", { command: "create", path: "test/multiply.test.js", file_text: MULTIPLY_TEST }),
        toolTurn("bash", { command: "node --test 2>&1 | grep -E \"^# (pass|fail)\"" }),
        endTurn("Added `multiply(a, b)` to src/math.js with a test in test/multiply.test.js.", { input_tokens: 1000, output_tokens: 200 }),
      ],
    });
    const { github, model, remote } = scenario;
    const issue = scenario.issue({ title: "Add a multiply function", body: "We need multiply(a, b) next to add." });
    await scenario.label(issue, "wes-write");

    // What the model saw: the task with the issue, then each tool's real result.
    const task = JSON.stringify(model.requests[0]?.body.messages);
    expect(task).toContain("Add a multiply function");
    expect(task).toContain("We need multiply(a, b) next to add.");
    expect(toolResultsIn(model.requests[1]?.body ?? {})[0]?.content).toContain("return a + b;");
    expect(toolResultsIn(model.requests[4]?.body ?? {})[0]?.content).toMatch(/pass 2/);
    expect(model.remaining).toBe(0);

    // The branch on the remote holds the change as one commit on main, naming the issue.
    const branch = `afk/${issue}-add-a-multiply-function`;
    expect(branches(remote)).toContain(branch);
    expect(show(remote, `${branch}:src/math.js`)).toContain("export function multiply(a, b)");
    expect(show(remote, `${branch}:test/multiply.test.js`)).toBe(MULTIPLY_TEST);
    const message = execFileSync("git", ["--git-dir", remote, "log", "-1", "--format=%B", branch], { encoding: "utf8" });
    expect(message).toMatch(new RegExp(`^#${issue}: Add a multiply function`));
    expect(message).toContain(`Closes #${issue}`);
    expect(message).toMatch(/Afk-Run: r-/);
    expect(execFileSync("git", ["--git-dir", remote, "rev-parse", `${branch}~1`], { encoding: "utf8" })).toBe(execFileSync("git", ["--git-dir", remote, "rev-parse", "main"], { encoding: "utf8" }));

    // Only afk pushed, once, with a token GitHub would accept for contents: write on this one repository.
    const pushes = scenario.git.pushes.filter((push) => push.updates.length > 0);
    expect(pushes).toHaveLength(1);
    const token = github.tokens.find((issued) => issued.token === pushes[0]?.token);
    expect(token?.repositories).toEqual(["app"]);
    expect(token?.permissions).toEqual({ metadata: "read", contents: "write" });

    // The pull request: ready, closing the issue, with evidence and cost, review requested from the labeler.
    const [pull] = github.pulls(FULL_NAME);
    expect(pull).toMatchObject({ head: branch, base: "main", draft: false, user: github.botLogin, requestedReviewers: ["wes-write"] });
    expect(pull?.body).toContain(`Closes #${issue}`);
    expect(pull?.body).toContain("Added `multiply(a, b)`");
    expect(pull?.body).toContain("`node --test` passed in afk's sandbox");
    expect(pull?.body).toMatch(/Model: claude-sonnet-4-5, \$0\.01 over 5 turns/);

    // The check run on the pushed head.
    const [check] = github.checkRuns(FULL_NAME);
    expect(check).toMatchObject({ name: "afk", head_sha: pull?.headSha, status: "completed", conclusion: "success" });
    expect(check?.output.summary).toContain("Tests: `node --test` passed");
    expect(check?.output.text).toContain("### Transcript (tail)");

    // The issue: waiting for CI with the PR linked; labels cleaned; lock released.
    const state = runStateOf(scenario, issue);
    expect(state).toMatchObject({ status: "waiting", phase: "ci", pullRequest: { number: pull?.number, draft: false }, branch, checkRunId: check?.id });
    expect(state?.spend?.turns).toBe(5);
    expect(scenario.afkComments(issue)[0]).toContain(`### 🔍 afk opened #${pull?.number}`);
    expect(github.labels(FULL_NAME, issue)).toEqual([]);
    expect(github.commit(FULL_NAME, github.ref(FULL_NAME, "refs/afk/lock") ?? "")?.message).toMatch(/^afk lock: free/);

    // No secret in anything the model was sent.
    const sent = JSON.stringify(model.requests.map((request) => request.body));
    for (const issued of github.tokens) expect(sent).not.toContain(issued.token);
    expect(sent).not.toContain(TEST_ANTHROPIC_KEY);
  });
});
