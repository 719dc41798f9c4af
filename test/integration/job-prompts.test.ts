import { describe, expect, it } from "vitest";
import { endTurn, useGitScenario } from "../helpers/git-scenario.js";
import { ciFinishes, editTurns, review } from "../helpers/lifecycle-events.js";
import type { RecordedModelRequest } from "../helpers/model-server.js";

const start = useGitScenario();

/** The repository's instructions for agents, which every job that changes code must be shown. */
const AGENTS_MD = "# Agents\n\nKeep comments in src/math.js in lower case.\n";
const BODY = "Add a comment to src/math.js saying what add does.";

/** The text of a string or of an array of text blocks, as the Messages API takes both. */
function textOf(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content
    .map((block: unknown) => (typeof block === "object" && block !== null && "text" in block && typeof block.text === "string" ? block.text : ""))
    .join("\n");
}

/** The system prompt a request carried, its line breaks made spaces (phrases are matched across the prompt's wrapping). */
function systemOf(request: RecordedModelRequest | undefined): string {
  return textOf(request?.body.system).replace(/\s+/g, " ");
}

/** The first user message of a request: the task. */
function taskOf(request: RecordedModelRequest | undefined): string {
  const messages = request?.body.messages;
  const first: unknown = Array.isArray(messages) ? messages[0] : undefined;
  return typeof first === "object" && first !== null && "content" in first ? textOf(first.content) : "";
}

// Phrases only the implementation system prompt holds: what afk's gate, commit and pull request do.
const IMPLEMENTATION_RULES = ["afk runs `node --test` itself", "Add or update tests", "summary for the pull request", "afk commits every file"];

describe("each job kind gets its own rules and a complete task", () => {
  it("a plan job is told it is read-only and not the implementation's rules; the approved plan comes before the closing instruction", async () => {
    const scenario = await start({
      config: "test: node --test\nplan_approval: true\n",
      files: { "AGENTS.md": AGENTS_MD },
      script: [endTurn("## Plan\n1. Add a comment above add in src/math.js."), ...editTurns("// adds two numbers", "Added the comment.")],
    });
    const { model } = scenario;
    const issue = scenario.issue({ title: "Annotate math", body: BODY });
    await scenario.label(issue, "wes-write");

    const plan = systemOf(model.requests[0]);
    expect(plan).toContain("read-only");
    expect(plan).toContain("Your written answer is the only result of this job");
    for (const rule of IMPLEMENTATION_RULES) expect(plan).not.toContain(rule);

    await scenario.comment(issue, "max-maintain", "/afk approve");
    const implement = systemOf(model.requests[1]);
    for (const rule of IMPLEMENTATION_RULES) expect(implement).toContain(rule);
    expect(implement).not.toContain("Your written answer is the only result of this job");

    const task = taskOf(model.requests[1]);
    const plannedAt = task.indexOf("<approved_plan>");
    expect(plannedAt).toBeGreaterThan(task.indexOf("</repository_instructions>"));
    expect(task.indexOf("1. Add a comment above add in src/math.js.")).toBeGreaterThan(plannedAt);
    // The closing instruction comes after the plan, not before it.
    expect(task.indexOf("Start from what the issue names")).toBeGreaterThan(task.indexOf("</approved_plan>"));
    expect(model.remaining).toBe(0);
  });

  it("an implementation with no plan has no plan block and no hole where it would be", async () => {
    const scenario = await start({ script: editTurns("// adds two numbers", "Added the comment.") });
    const issue = scenario.issue({ title: "Annotate math", body: BODY });
    await scenario.label(issue, "wes-write");
    const task = taskOf(scenario.model.requests[0]);
    expect(task).not.toContain("approved_plan");
    expect(task).not.toContain("{{");
    expect(task).toContain("</repository_instructions>\n\nStart from what the issue names");
  });

  it("a fix-ci job is shown the issue's body and the repository's instructions, and the implementation's rules", async () => {
    const scenario = await start({
      files: { "AGENTS.md": AGENTS_MD },
      script: [...editTurns("// first try", "Added a comment."), ...editTurns("// fixed", "Fixed the comment.")],
    });
    const { model } = scenario;
    const issue = scenario.issue({ title: "Annotate math", body: BODY });
    await scenario.label(issue, "wes-write");
    await ciFinishes(scenario, "failure", { log: "not ok 1 - annotates\n##[error]Process completed with exit code 1." });

    const task = taskOf(model.requests[2]);
    expect(task).toContain("CI failed on afk's pull request");
    expect(task).toContain(BODY);
    expect(task).toContain("From AGENTS.md");
    expect(task).toContain("Keep comments in src/math.js in lower case.");
    expect(task).toContain("not ok 1 - annotates");
    expect(task).not.toContain("{{");
    for (const rule of IMPLEMENTATION_RULES) expect(systemOf(model.requests[2])).toContain(rule);
    expect(model.remaining).toBe(0);
  });

  it("a rework job is shown the issue's body and the repository's instructions with the review", async () => {
    const scenario = await start({
      files: { "AGENTS.md": AGENTS_MD },
      script: [...editTurns("// one", "One."), ...editTurns("export const sum = (a, b) => a + b;", "Renamed the export to `sum` as asked.")],
    });
    const { model } = scenario;
    const issue = scenario.issue({ title: "Annotate math", body: BODY });
    await scenario.label(issue, "wes-write");
    await ciFinishes(scenario, "success");
    await review(scenario, "max-maintain", "changes_requested", "Close, but see the inline comment.");

    const task = taskOf(model.requests[2]);
    expect(task).toContain("A reviewer asked for changes");
    expect(task).toContain(BODY);
    expect(task).toContain("Keep comments in src/math.js in lower case.");
    expect(task).toContain("Please name the export `sum`");
    expect(task).not.toContain("{{");
    expect(model.remaining).toBe(0);
  });
});
