import { describe, expect, it } from "vitest";
import { runStateOf } from "../helpers/run-state-of.js";
import { endTurn, toolTurn, useGitScenario, type GitScenario } from "../helpers/git-scenario.js";
import type { RecordedModelRequest } from "../helpers/model-server.js";
import { FULL_NAME } from "../helpers/scenario.js";

const start = useGitScenario();

const promptChars = (request: RecordedModelRequest | undefined): number =>
  JSON.stringify([request?.body.system, request?.body.tools, request?.body.messages]).length;

describe("a run that outgrows the model's context", () => {
  it("ends as a budget stop that keeps the work on a draft pull request, not a model error that loses it", async () => {
    let scenario: GitScenario | undefined;
    scenario = await start({
      config: "test: node --test\n",
      script: [
        toolTurn("str_replace_based_edit_tool", { command: "create", path: "NOTES.md", file_text: "work in progress\n" }),
        {
          kind: "message",
          content: [{ type: "tool_use", id: "toolu_huge_output", name: "bash", input: { command: "head -c 40000 /dev/zero | tr '\\0' a" } }],
          // The model's context, as the API enforces it: room for this request and 20,000 characters more, less than the output coming.
          meanwhile: () => {
            if (scenario !== undefined) scenario.model.maxPromptChars = promptChars(scenario.model.requests[1]) + 20_000;
          },
        },
        endTurn("never reached"),
      ],
    });
    const issue = scenario.issue({ title: "Write notes" });
    await scenario.label(issue, "wes-write");

    // The third request is refused as too long; nothing older can be trimmed, so afk does not ask again.
    expect(scenario.model.requests).toHaveLength(3);
    expect(scenario.model.remaining).toBe(1);
    const state = runStateOf(scenario, issue);
    expect(state?.status).toBe("escalated");
    expect(state?.outcome?.message).toContain(
      "The agent ran out of budget: stopped: the conversation no longer fits the model's context (200000 tokens) even with its old tool results removed (2 turns, $0.00).",
    );
    const [pull] = scenario.github.pulls(FULL_NAME);
    expect(pull).toMatchObject({ draft: true, head: `afk/${issue}-write-notes` });
    expect(state?.outcome?.message).toContain(`draft pull request #${pull?.number}, marked as not passing`);
  }, 90_000);
});
