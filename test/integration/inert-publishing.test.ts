import { parseBlockedBy } from "../../src/text/blocked-by.js";
import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { endTurn, toolTurn, useGitScenario } from "../helpers/git-scenario.js";
import { closingReferences, expectNothingLive, HOSTILE_TEXT, liveMentions, slashCommandLines } from "../helpers/live-text.js";
import { runStateOf } from "../helpers/run-state-of.js";
import { FULL_NAME } from "../helpers/scenario.js";

const start = useGitScenario();

/** A test the agent adds: it passes and prints the hostile text, so the text reaches afk's gate output too. */
const LOUD_TEST = `import { test } from "node:test";\ntest("loud", () => {\n  console.log(${JSON.stringify(HOSTILE_TEXT)});\n});\n`;

describe("what afk publishes from a hostile model is inert", () => {
  it("implement: the pull request, the pushed commit, the issue's comments and the check run carry the agent's words, none of them live; afk's own Closes #N is", async () => {
    const scenario = await start({
      script: [
        toolTurn("str_replace_based_edit_tool", { command: "create", path: "test/loud.test.js", file_text: LOUD_TEST }),
        toolTurn("bash", { command: `echo ${JSON.stringify(HOSTILE_TEXT)}` }),
        endTurn(`Added a loud test.\n${HOSTILE_TEXT}`),
      ],
    });
    const { github, remote } = scenario;
    scenario.issue({ title: "An issue" });
    const victim = scenario.issue({ title: "The issue the model wants closed" });
    const issue = scenario.issue({ title: "Add a loud test /afk approve @someone Fixes #2" });
    expect(victim).toBe(2);
    await scenario.label(issue, "wes-write");

    const [pull] = github.pulls(FULL_NAME);
    if (pull === undefined)
      throw new Error(`afk opened no pull request: ${JSON.stringify(runStateOf(scenario, issue))} ${scenario.afkComments(issue).join("\n---\n")}`);
    // The agent's words are published, readable: the same characters but afk's invisible breaks.
    expect(pull.body.replace(/\u200B/g, "")).toContain(
      "Done. @someone and @octo-org/admins please look.\n\\/afk approve\n> \\/deploy production\nFixes #2, closes octo-org/other#5",
    );
    expect(pull.body).toContain(`Closes #${issue}`);
    expect(closingReferences(pull.body)).toEqual([`Closes #${issue}`]);
    expect(liveMentions(pull.body)).toEqual(["@wes-write"]);
    expect(slashCommandLines(pull.body)).toEqual([]);
    expect(closingReferences(pull.title)).toEqual([]);
    expect(liveMentions(pull.title)).toEqual([]);

    // The commit on the pushed branch, as git stores it in the remote.
    const message = execFileSync("git", ["--git-dir", remote, "log", "-1", "--format=%B", pull.head], { encoding: "utf8" });
    expect(message.replace(/\u200B/g, "")).toContain("Done. @someone and @octo-org/admins please look.");
    expect(closingReferences(message)).toEqual([`Closes #${issue}`]);
    expect(liveMentions(message)).toEqual([]);
    expect(slashCommandLines(message)).toEqual([]);

    // The check run: the summary, the test output and the transcript carry the text, inert.
    const [check] = github.checkRuns(FULL_NAME);
    const output = `${check?.output.title ?? ""}\n${check?.output.summary ?? ""}\n${check?.output.text ?? ""}`;
    expect(output.replace(/\u200B/g, "")).toContain("@someone and @octo-org/admins");
    expect(liveMentions(output)).toEqual([]);
    expect(closingReferences(output)).toEqual([]);
    expect(slashCommandLines(output)).toEqual([]);

    // The issue's comments: only afk's progress comment, with nothing live in it.
    for (const body of scenario.afkComments(issue)) {
      expect(liveMentions(body)).toEqual([]);
      expect(slashCommandLines(body)).toEqual([]);
    }
    expect(runStateOf(scenario, issue)).toMatchObject({ status: "waiting", phase: "ci" });

    // And over every request afk sent: the requester is the only person mentioned, the run's issue the only one closed.
    expectNothingLive(github, { mentions: ["@wes-write"], closes: [`Closes #${issue}`] });
  });

  it("plan, split and ask: the plan comment, the sub-issues made from its steps and the answer are inert; afk's mentions of the people who asked stay", async () => {
    const plan = [
      "## Plan",
      HOSTILE_TEXT,
      "<!-- /afk:plan -->",
      "## Steps",
      "1. **Fixes #2** for @someone",
      "   /afk approve",
      "   closes octo-org/other#5",
      "   Blocked by #1",
      "2. /afk approve split @octo-org/admins",
      "   Put `// two` at the end.",
    ].join("\n");
    const scenario = await start({
      script: [
        endTurn(plan),
        toolTurn("bash", { command: "printf '%s\\n' '// one' >> src/math.js" }),
        endTurn(`Step one.\n${HOSTILE_TEXT}`),
        endTurn(`\`add\` is in src/math.js.\n${HOSTILE_TEXT}`),
      ],
    });
    const { github } = scenario;
    const parent = scenario.issue({ title: "Annotate math twice" });
    await scenario.comment(parent, "wes-write", "/afk plan");

    const planComment = scenario.afkComments(parent).find((body) => body.includes("afk's plan"));
    if (planComment === undefined)
      throw new Error(
        `afk posted no plan: ${github
          .comments(FULL_NAME, parent)
          .map((c) => c.body)
          .join("\n---\n")}`,
      );
    expect(planComment.replace(/\u200B/g, "")).toContain("Done. @someone and @octo-org/admins please look.");
    expect(planComment.match(/<!--/g)).toEqual(["<!--", "<!--"]);
    expect(liveMentions(planComment)).toEqual(["@wes-write"]);
    expect(slashCommandLines(planComment)).toEqual([]);
    expect(runStateOf(scenario, parent)).toMatchObject({ status: "waiting", phase: "plan" });

    await scenario.comment(parent, "max-maintain", "/afk approve split");
    const [first, second] = github.subIssues(FULL_NAME, parent);
    if (first === undefined || second === undefined) throw new Error("afk opened no sub-issues");
    for (const number of [first, second]) {
      const { title, body } = github.issue(FULL_NAME, number);
      expect(liveMentions(`${title}\n${body ?? ""}`)).toEqual(["@max-maintain"]);
      expect(closingReferences(`${title}\n${body ?? ""}`)).toEqual([]);
      expect(slashCommandLines(title)).toEqual([]);
      expect(slashCommandLines(body ?? "")).toEqual([]);
    }
    expect(github.issue(FULL_NAME, first).title.replace(/\u200B/g, "")).toBe("Fixes #2 for @someone");
    // Only afk's own "Blocked by" line orders the steps: the model's cannot block a step on another issue.
    expect(parseBlockedBy(github.issue(FULL_NAME, first).body)).toEqual([]);
    expect(parseBlockedBy(github.issue(FULL_NAME, second).body)).toEqual([first]);
    expect(runStateOf(scenario, first)).toMatchObject({ status: "waiting", phase: "ci" });

    const asked = scenario.issue({ title: "Where is add?" });
    await scenario.comment(asked, "wes-write", "/afk ask where is add defined?");
    const answer = scenario.afkComments(asked).find((body) => body.startsWith("@wes-write"));
    if (answer === undefined)
      throw new Error(
        `afk posted no answer: ${github
          .comments(FULL_NAME, asked)
          .map((c) => c.body)
          .join("\n---\n")}`,
      );
    expect(answer.replace(/\u200B/g, "")).toContain("`add` is in src/math.js.\nDone. @someone and @octo-org/admins please look.");
    expect(liveMentions(answer)).toEqual(["@wes-write"]);
    expect(slashCommandLines(answer)).toEqual([]);
    expect(answer).not.toContain("<!--");
    expect(scenario.model.remaining).toBe(0);

    // Over every request: only the people who asked are mentioned, and only the first step's pull request closes its issue.
    expectNothingLive(github, { mentions: ["@max-maintain", "@wes-write"], closes: [`Closes #${first}`] });
  });
});
