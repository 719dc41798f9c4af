import { describe, expect, it } from "vitest";
import { runStateOf } from "../helpers/run-state-of.js";
import { endTurn, toolTurn, useGitScenario, type GitScenario } from "../helpers/git-scenario.js";
import { FULL_NAME, INSTALLATION_ID, OWNER, REPO } from "../helpers/scenario.js";
import { issueCommentCreatedPayload, pullRequestClosedPayload } from "../helpers/webhook-payloads.js";

const start = useGitScenario();

const addTest = (name: string) => [
  toolTurn("str_replace_based_edit_tool", {
    command: "create",
    path: `test/${name}.test.js`,
    file_text: `import { test } from "node:test";\ntest("${name}", () => {});\n`,
  }),
  endTurn(`Added the ${name} test.`),
];

async function closePull(
  scenario: GitScenario,
  number: number,
  options: { merged: boolean; sender?: string; author?: string; fromFork?: boolean },
): Promise<void> {
  const pull = scenario.github.pulls(FULL_NAME).find((candidate) => candidate.number === number);
  if (pull === undefined) throw new Error(`no pull request #${number}`);
  const author = options.author ?? scenario.github.botLogin;
  const payload = pullRequestClosedPayload({
    owner: OWNER,
    repo: REPO,
    installationId: INSTALLATION_ID,
    pull: {
      number,
      head: pull.head,
      headSha: pull.headSha,
      merged: options.merged,
      author: { login: author, type: author.endsWith("[bot]") ? "Bot" : "User" },
      ...(options.fromFork === undefined ? {} : { fromFork: options.fromFork }),
    },
    sender: { login: options.sender ?? "ada-admin", type: "User" },
  });
  await scenario.afk.deliver("pull_request", payload);
  await scenario.afk.idle();
}

describe("afk's pull request closed", () => {
  it("merged: the run is done with its total cost, labels cleaned and the issue closed; the other issue's run is untouched", async () => {
    const scenario = await start({ script: [...addTest("first"), ...addTest("second")] });
    const first = scenario.issue({ title: "First" });
    const second = scenario.issue({ title: "Second" });
    await scenario.label(first, "wes-write");
    const pull = runStateOf(scenario, first)?.pullRequest?.number ?? 0;
    expect(runStateOf(scenario, first)?.status).toBe("waiting");
    // The second issue is labeled while the first waits for review: the lock is free, so it runs at once.
    await scenario.label(second, "wes-write");
    expect(runStateOf(scenario, second)?.status).toBe("waiting");

    await closePull(scenario, pull, { merged: true });
    const state = runStateOf(scenario, first);
    expect(state).toMatchObject({ status: "done", phase: "merged", pullRequest: { number: pull } });
    expect(state?.outcome?.message).toMatch(
      new RegExp(`^Pull request #${pull} was merged by @ada-admin\\. Model cost in all: \\$0\\.00 over 2 turns\\. \\d+ min from start to merge\\.$`),
    );
    expect(scenario.afkComments(first)[0]).toContain("### ✅ afk is done");
    expect(scenario.afkComments(first)[0]).toContain("- [x] Merged");
    expect(scenario.github.issue(FULL_NAME, first).state).toBe("closed");
    expect(scenario.github.labels(FULL_NAME, first)).toEqual([]);
    // The other issue's run is untouched.
    expect(runStateOf(scenario, second)?.status).toBe("waiting");
  });

  it("closed without merging: the run ends and can be retried", async () => {
    const scenario = await start({ script: addTest("only") });
    const issue = scenario.issue();
    await scenario.label(issue, "wes-write");
    const pull = runStateOf(scenario, issue)?.pullRequest?.number ?? 0;
    await closePull(scenario, pull, { merged: false, sender: "max-maintain" });
    const state = runStateOf(scenario, issue);
    expect(state).toMatchObject({ status: "stopped", stoppedBy: "max-maintain", outcome: { retryable: true } });
    expect(state?.outcome?.message).toContain(`Pull request #${pull} was closed without merging by @max-maintain.`);
    expect(scenario.github.issue(FULL_NAME, issue).state).toBe("open");
  });

  it("ignores pull requests that are not afk's: another author, a fork, or one the issue's state does not name", async () => {
    const scenario = await start({ script: addTest("only") });
    const issue = scenario.issue();
    await scenario.label(issue, "wes-write");
    const pull = runStateOf(scenario, issue)?.pullRequest?.number ?? 0;
    await closePull(scenario, pull, { merged: true, author: "wes-write" });
    await closePull(scenario, pull, { merged: true, fromFork: true });
    expect(runStateOf(scenario, issue)?.status).toBe("waiting");
    // afk's bot, afk's branch, but a number the issue's state does not name.
    const payload = pullRequestClosedPayload({
      owner: OWNER,
      repo: REPO,
      installationId: INSTALLATION_ID,
      pull: {
        number: pull + 100,
        head: `afk/${issue}-add-a-greeting`,
        headSha: "1".repeat(40),
        merged: true,
        author: { login: scenario.github.botLogin, type: "Bot" },
      },
      sender: { login: "ada-admin", type: "User" },
    });
    await scenario.afk.deliver("pull_request", payload);
    await scenario.afk.idle();
    expect(runStateOf(scenario, issue)?.status).toBe("waiting");
  });
});

describe("commands on afk's pull request", () => {
  it("are about the issue the pull request works on, and are answered on the pull request", async () => {
    const scenario = await start({ script: addTest("only") });
    const issue = scenario.issue();
    await scenario.label(issue, "wes-write");
    const pull = runStateOf(scenario, issue)?.pullRequest?.number ?? 0;
    const comment = async (body: string, number = pull): Promise<void> => {
      const created = scenario.github.addComment(FULL_NAME, issue, { body, user: "max-maintain" });
      const payload = issueCommentCreatedPayload({
        owner: OWNER,
        repo: REPO,
        installationId: INSTALLATION_ID,
        issue: { number, title: "Add a greeting", isPullRequest: true },
        comment: { body, id: created.id },
        sender: { login: "max-maintain", type: "User" },
      });
      await scenario.afk.deliver("issue_comment", payload);
      await scenario.afk.idle();
    };
    await comment("/afk status");
    const replies = () => scenario.github.requests.filter((request) => request.method === "POST" && request.path.endsWith(`/issues/${pull}/comments`));
    expect(replies()).toHaveLength(1);
    expect(JSON.stringify(replies()[0]?.body)).toContain(`#${issue}`);
    await comment("/afk stop");
    expect(runStateOf(scenario, issue)).toMatchObject({ status: "stopped", outcome: { message: "Stopped by @max-maintain." } });
    // A pull request that is not afk's.
    await comment("/afk status", pull + 50);
    const other = scenario.github.requests.filter((request) => request.method === "POST" && request.path.endsWith(`/issues/${pull + 50}/comments`));
    expect(JSON.stringify(other[0]?.body)).toContain("this pull request is not one of afk's");
  });
});
