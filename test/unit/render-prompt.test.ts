import { readdirSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { approvedPlanBlock } from "../../src/executor/gather-task.js";
import { renderPrompt, type PromptName } from "../../src/executor/render-prompt.js";
import { redactSecrets } from "../../src/executor/agent/redact-secrets.js";

describe("prompts", () => {
  const implement = {
    repository: "o/r",
    issue_number: "7",
    issue_title: "T",
    issue_body: "B {{issue_title}}",
    discussion: "D",
    repo_instructions: "I",
    approved_plan: "",
  };

  it("fills every slot once, leaving {{...}} inside a value as text", async () => {
    const text = await renderPrompt("implement", implement);
    expect(text).toContain('<issue number="7">');
    expect(text).toContain("B {{issue_title}}");
    expect(text).not.toMatch(/\{\{(repository|discussion|repo_instructions)\}\}/);
  });

  it("refuses a missing slot and an unknown one, naming the file", async () => {
    const { discussion: _left, ...missing } = implement;
    await expect(renderPrompt("implement", missing)).rejects.toThrow("prompts/implement.md needs {{discussion}}, which the caller did not fill");
    await expect(renderPrompt("implement", { ...implement, extra: "x" })).rejects.toThrow("prompts/implement.md has no slot {{extra}}");
  });

  it("has a file for every prompt name and no stray file", () => {
    expect(readdirSync("prompts").sort()).toEqual([
      "README.md",
      "address-review.md",
      "ask.md",
      "fix-ci.md",
      "gate-failed.md",
      "implement.md",
      "plan.md",
      "system-read-only.md",
      "system.md",
    ]);
  });

  it("puts an approved plan before the closing instruction, and leaves no trace of one when there is none", async () => {
    const planned = await renderPrompt("implement", { ...implement, approved_plan: approvedPlanBlock("1. Add the flag.") });
    expect(planned.indexOf("<approved_plan>\n1. Add the flag.\n</approved_plan>")).toBeGreaterThan(planned.indexOf("</repository_instructions>"));
    expect(planned.indexOf("Start from what the issue names")).toBeGreaterThan(planned.indexOf("</approved_plan>"));
    const unplanned = await renderPrompt("implement", implement);
    expect(unplanned).not.toContain("plan");
    expect(unplanned).toContain("</repository_instructions>\n\nStart from what the issue names");
  });

  it("tells the agent after a red gate never to weaken, skip or delete tests or change the test command", async () => {
    const text = (await renderPrompt("gate-failed", { test_command: "npm test", exit_code: "1", output: "not ok", rounds_left: "2" })).replace(/\s+/g, " ");
    expect(text).toContain("Do not weaken, skip or delete tests, and do not change the test command or its configuration, to make them pass");
  });

  it("gives follow-ups (fix-ci, rework) the issue's body and the repository's instructions", async () => {
    const onBranch = {
      repository: "o/r",
      issue_number: "7",
      issue_title: "T",
      issue_body: "BODY",
      repo_instructions: "INSTRUCTIONS",
      pull_number: "9",
      branch: "afk/7-t",
    };
    const test_command = "npm test";
    const fix = await renderPrompt("fix-ci", { ...onBranch, test_command, head: "abc", attempt: "1", max_attempts: "3", failing_checks: "CHECKS" });
    const rework = await renderPrompt("address-review", { ...onBranch, test_command, cycle: "1", max_cycles: "3", review: "REVIEW" });
    for (const text of [fix, rework]) {
      expect(text).toContain("<body>\nBODY\n</body>");
      expect(text).toContain("<repository_instructions>\nINSTRUCTIONS\n</repository_instructions>");
    }
  });

  it("tells a read-only job its own rules: no tests gate, no commit, the answer is the final message", async () => {
    const text = (await renderPrompt("system-read-only", { worktree: "/w", network: "off" })).replace(/\s+/g, " ");
    expect(text).toContain("read-only");
    expect(text).toContain("End your turn with your answer as the final message");
    expect(text).not.toMatch(/Add or update tests|pull request|afk runs/);
  });

  it("every code-changing prompt asks for the review of the change that finds scratch files", async () => {
    const system = (await renderPrompt("system", { worktree: "/w", network: "off", test_command: "npm test", protected_paths: "(none)" })).replace(/\s+/g, " ");
    expect(system).toContain("`git status` and `git diff`");
    expect(system).toMatch(/Remove scratch files, logs, debug prints and throwaway reproduction scripts/);
  });
});

describe("the baseline prompt set (eval/baseline-prompts) still renders with the slots afk fills today", () => {
  const BASELINE = "eval/baseline-prompts";
  // Exactly what today's callers pass: a baseline set ignores slots it does not name, but must have every slot it names filled.
  const callers: Array<[PromptName, Record<string, string>]> = [
    ["system", { worktree: "/w", network: "off: commands cannot reach the network", test_command: "npm test", protected_paths: "(none)" }],
    ["implement", { repository: "o/r", issue_number: "7", issue_title: "T", issue_body: "B", discussion: "D", repo_instructions: "I", approved_plan: "" }],
    ["gate-failed", { test_command: "npm test", exit_code: "1", output: "not ok", rounds_left: "2" }],
  ];

  it.each(callers)("%s.md renders with no slot left", async (name, slots) => {
    const text = await renderPrompt(name, slots, BASELINE);
    expect(text).not.toMatch(/\{\{[a-z_]+\}\}/);
    expect(text.length).toBeGreaterThan(100);
  });
});

describe("redactSecrets", () => {
  const token = "ghs_abcdefghijklmnopqrstuvwxyz0123456789";
  it.each([
    ["as written", `token=${token}`],
    ["base64", Buffer.from(token).toString("base64")],
    ["as git's Basic credentials", `Authorization: Basic ${Buffer.from(`x-access-token:${token}`).toString("base64")}`],
  ])("removes a secret %s", (_how, text) => {
    const redacted = redactSecrets(text, [token]);
    expect(redacted).toContain("[redacted]");
    expect(redacted).not.toContain(token);
  });

  it("removes each line of a multi-line key and ignores secrets too short to be safe to match", () => {
    const key = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAx1y2z3abcdefghij\n-----END RSA PRIVATE KEY-----";
    expect(redactSecrets("leaked: MIIEowIBAAKCAQEAx1y2z3abcdefghij", [key])).toBe("leaked: [redacted]");
    expect(redactSecrets("a short secret abc", ["abc"])).toBe("a short secret abc");
  });
});
