import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { endTurn, toolTurn, useGitScenario } from "../helpers/git-scenario.js";
import { expectNothingLive } from "../helpers/live-text.js";
import { pullOf } from "../helpers/lifecycle-events.js";
import { FULL_NAME } from "../helpers/scenario.js";

const start = useGitScenario();

const MULTIPLY =
  'import { test } from "node:test";\nimport assert from "node:assert/strict";\nimport { multiply } from "../src/math.js";\n\ntest("multiply", () => {\n  assert.equal(multiply(2, 3), 6);\n});\n';

describe("afk names the new files outside a change's evident scope in its pull request", () => {
  it("an agent that leaves repro.py and debug.log gets a pull request naming them, and not its source or test", async () => {
    const scenario = await start({
      script: [
        toolTurn("str_replace_based_edit_tool", { command: "create", path: "test/multiply.test.js", file_text: MULTIPLY }),
        toolTurn("bash", {
          command:
            "printf 'export function multiply(a, b) {\\n  return a * b;\\n}\\n' >> src/math.js && printf 'print(1)\\n' > repro.py && node --test > debug.log 2>&1 && echo done",
        }),
        endTurn("Added multiply with a test."),
      ],
    });
    const issue = scenario.issue({ title: "Add a multiply function", body: "We need multiply(a, b)." });
    await scenario.label(issue, "wes-write");

    const body = pullOf(scenario).body ?? "";
    const section = body.slice(body.indexOf("## Files to check"), body.indexOf("## Evidence"));
    expect(section).toContain("## Files to check");
    expect(section).toContain("- `repro.py`: a debugging or reproduction script outside the tests");
    expect(section).toContain("- `debug.log`: a tool's or an editor's leftover");
    expect(section).not.toContain("src/math.js");
    expect(section).not.toContain("multiply.test.js");
    // Named, not removed: the files are on the branch for the reviewer to see.
    const tree = execFileSync("git", ["--git-dir", scenario.remote, "ls-tree", "--name-only", pullOf(scenario).head], { encoding: "utf8" });
    expect(tree.split("\n")).toEqual(expect.arrayContaining(["repro.py", "debug.log"]));
    expect(scenario.model.remaining).toBe(0);
  });

  it("a hostile file name is named inert: it mentions no one and closes no issue", async () => {
    const hostile = "debug-@octo-org-admins-fixes-#2.log";
    const scenario = await start({
      script: [
        toolTurn("bash", { command: `printf 'x\\n' > ${JSON.stringify(`src/${hostile}`)} && printf '// ok\\n' >> src/math.js && echo ok` }),
        endTurn("Added a comment."),
      ],
    });
    const issue = scenario.issue({ title: "Annotate math" });
    await scenario.label(issue, "wes-write");

    const body = pullOf(scenario).body ?? "";
    expect(body).toContain("## Files to check");
    expect(body).toContain("a tool's or an editor's leftover");
    expect(body).not.toContain(`@octo-org-admins`);
    expectNothingLive(scenario.github, { mentions: ["@wes-write"], closes: [`Closes #${issue}`] });
    expect(scenario.github.pulls(FULL_NAME)).toHaveLength(1);
  });
});
