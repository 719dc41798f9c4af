import { describe, expect, it } from "vitest";
import { runStateOf } from "../helpers/run-state-of.js";
import { endTurn, TEST_ANTHROPIC_KEY, toolResultsIn, toolTurn, useGitScenario } from "../helpers/git-scenario.js";
import type { ScriptedTurn } from "../helpers/model-server.js";
import { watchRss, type RssWatch } from "../helpers/rss-growth.js";

const start = useGitScenario();

/** `turn`, with `action` run when it is due (after the previous tool's result reached the model). */
function meanwhile(turn: ScriptedTurn, action: () => void): ScriptedTurn {
  return turn.kind === "message" ? { ...turn, meanwhile: action } : turn;
}

describe("the agent's files, read by afk through the App", () => {
  it("a hostile agent's 1.5 GB sparse file, FIFO and links to afk's environment cost afk no memory, never block it and leak nothing", async () => {
    let watch: RssWatch | undefined;
    let growthMb = Number.POSITIVE_INFINITY;
    const editor = (input: Record<string, unknown>) => toolTurn("str_replace_based_edit_tool", input);
    const scenario = await start({
      script: [
        toolTurn("bash", {
          command:
            "printf 'first\\nsecond\\nthird\\n' > big.log && truncate -s 1500M big.log && mkfifo pipe && ln -s /proc/self/environ environ && ln -s /proc/self/environ src/math.js.bak && echo planted",
        }),
        meanwhile(editor({ command: "view", path: "big.log" }), () => {
          watch = watchRss();
        }),
        editor({ command: "view", path: "big.log", view_range: [2, 3] }),
        editor({ command: "str_replace", path: "big.log", old_str: "first", new_str: "x" }),
        editor({ command: "view", path: "pipe" }),
        editor({ command: "insert", path: "pipe", insert_line: 0, insert_text: "x" }),
        editor({ command: "view", path: "environ" }),
        editor({ command: "view", path: "src/math.js.bak", view_range: [1, 5] }),
        editor({ command: "create", path: "environ", file_text: "x" }),
        editor({ command: "str_replace", path: "environ", old_str: "PATH", new_str: "x" }),
        meanwhile(toolTurn("bash", { command: "rm big.log pipe environ src/math.js.bak && echo cleaned" }), () => {
          growthMb = watch?.stop() ?? Number.POSITIVE_INFINITY;
        }),
        endTurn("Looked around."),
      ],
    });
    const { model } = scenario;
    const issue = scenario.issue({ title: "Read the logs" });
    await scenario.label(issue, "wes-write");

    const results = model.requests.slice(1).flatMap((request) => toolResultsIn(request.body));
    expect(results.map((result) => result.content)).toEqual([
      "planted\n",
      expect.stringMatching(
        /big\.log is 1\.5 GB; view reads whole files of at most 4 MB\. Use view_range to read some of its lines, or bash \(head, sed -n, grep\) instead\.$/,
      ),
      "     2\tsecond\n     3\tthird",
      expect.stringMatching(/big\.log is 1\.5 GB; str_replace edits files of at most 4 MB\. Use bash instead/),
      expect.stringMatching(/pipe is not a regular file/),
      expect.stringMatching(/pipe is not a regular file/),
      expect.stringMatching(/environ leads outside the repository through a symbolic link/),
      expect.stringMatching(/math\.js\.bak leads outside the repository through a symbolic link/),
      expect.stringMatching(/environ leads outside the repository through a symbolic link/),
      expect.stringMatching(/environ leads outside the repository through a symbolic link/),
      "cleaned\n",
    ]);
    expect(results.map((result) => result.is_error === true)).toEqual([false, true, false, true, true, true, true, true, true, true, false]);
    expect(growthMb).toBeLessThan(50);
    const sent = JSON.stringify(model.requests.map((request) => request.body));
    expect(sent).not.toContain(TEST_ANTHROPIC_KEY);
    expect(sent).not.toContain("ANTHROPIC_API_KEY=");
    // The run went on to its end: the agent changed nothing, so nothing was pushed.
    expect(runStateOf(scenario, issue)?.outcome?.message).toMatch(/without changing any file/);
  });
});
