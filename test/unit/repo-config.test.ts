import { describe, expect, it } from "vitest";
import { loadRepoConfig, parseRepoConfig } from "../../src/config/load-repo-config.js";
import { repoConfigJsonSchema } from "../../src/config/repo-config.js";

describe("repository config (.github/afk.yml)", () => {
  it("fills every documented default from a one-line file", () => {
    const result = parseRepoConfig({ test: "npm test" });
    expect(result).toEqual({
      kind: "ok",
      config: {
        test: "npm test",
        labels: { trigger: "ready-for-agent", in_progress: "agent-in-progress", human: "ready-for-human", plan_review: "plan-review" },
        budget: { max_usd: 10, max_turns: 100, timeout_minutes: 60, thinking_tokens: 0 },
        gate: { max_rounds: 3, timeout_minutes: 15, output_chars: 20_000 },
        commands: { timeout_minutes: 10, setup_timeout_minutes: 20 },
        fix_forward: { max_attempts: 5, max_minutes: 60 },
        ci: { grace_minutes: 2 },
        review: { max_cycles: 5 },
        protected_paths: [".github/**", ".gitmodules", "**/CODEOWNERS"],
        network: false,
        plan_approval: false,
        mode: "pr",
        trusted: { users: [], bots: [] },
      },
    });
  });

  it.each([
    [{}, "test", /must be a shell command|expected a string/],
    [{ test: "  " }, "test", /must be a shell command/],
    [{ test: "x", mode: "yolo" }, "mode", /not one of the allowed values/],
    [{ test: "x", budget: { max_usd: 0 } }, "budget.max_usd", /more than 0/],
    [{ test: "x", budget: { max_turns: 2.5 } }, "budget.max_turns", /whole number/],
    [{ test: "x", budget: { thinking_tokens: 500 } }, "budget.thinking_tokens", /must be 0 \(off\) or at least 1024/],
    [{ test: "x", budget: { thinking_tokens: 16_000 } }, "budget.thinking_tokens", /must be less than 16000, the tokens a turn may answer with/],
    [{ test: "x", gate: { max_rounds: 0 } }, "gate.max_rounds", /at least 1/],
    [{ test: "x", commands: { timeout_minutes: 1000 } }, "commands.timeout_minutes", /at most 120/],
    [{ test: "x", fix_forward: { max_attempts: 0 } }, "fix_forward.max_attempts", /at least 1/],
    [{ test: "x", review: { max_cycles: 99 } }, "review.max_cycles", /at most 20/],
    [{ test: "x", labels: { trigger: 5 } }, "labels.trigger", /expected a string, got a number/],
    [{ test: "x", labels: { trigger: "x".repeat(51) } }, "labels.trigger", /at most 50/],
    [{ test: "x", network: "yes" }, "network", /expected true or false|expected a boolean/],
    [{ test: "x", protected_paths: "src/**" }, "protected_paths", /expected a list/],
    [{ test: "x", trusted: { users: [""] } }, "trusted.users.0", /must not be empty/],
    [{ test: "x", colour: "blue" }, "colour", /not a known field/],
    [{ test: "x", budget: { dollars: 3 } }, "budget.dollars", /not a known field/],
    ["test: npm test", "(file)", /expected a mapping, got a string/],
  ])("reports %j as a problem with %s", (raw, field, problem) => {
    const result = parseRepoConfig(raw);
    expect(result.kind).toBe("invalid");
    if (result.kind !== "invalid") return;
    const found = result.problems.find((item) => item.field === field);
    expect(found, JSON.stringify(result.problems)).toBeDefined();
    expect(found?.problem).toMatch(problem);
    expect(found?.allowed.length).toBeGreaterThan(0);
  });

  it("accepts a thinking budget between 1024 and a turn's max_tokens", () => {
    expect(parseRepoConfig({ test: "x", budget: { thinking_tokens: 4_096 } })).toMatchObject({ kind: "ok", config: { budget: { thinking_tokens: 4_096 } } });
  });

  it("says what is allowed: the known fields, the enum values, the default", () => {
    const result = parseRepoConfig({ test: "x", mode: "yolo", labels: { colour: 1 } });
    expect(result.kind === "invalid" && result.problems).toEqual([
      { field: "labels.colour", problem: "is not a known field", allowed: "one of: trigger, in_progress, human, plan_review" },
      {
        field: "mode",
        problem: "is not one of the allowed values",
        allowed: 'one of "pr", "direct", default "pr": `pr` opens a pull request; `direct` pushes to the default branch after the gate',
      },
    ]);
  });

  it("reports every problem at once", () => {
    const result = parseRepoConfig({ mode: "x", network: 1, extra: true });
    expect(result.kind === "invalid" && result.problems.map((problem) => problem.field).sort()).toEqual(["extra", "mode", "network", "test"]);
  });

  it("treats a missing file, a YAML error and an API error as different outcomes", async () => {
    expect(await loadRepoConfig(async () => null)).toEqual({ kind: "missing" });
    const yamlError = await loadRepoConfig(async () => {
      throw new Error("bad indentation of a mapping entry (3:5)\n\n 1 | test: x");
    });
    expect(yamlError).toEqual({
      kind: "invalid",
      problems: [
        { field: "(file)", problem: "is not valid YAML: bad indentation of a mapping entry (3:5)", allowed: "a YAML mapping such as `test: npm test`" },
      ],
    });
    const apiError = await loadRepoConfig(async () => {
      throw Object.assign(new Error("Server Error"), { status: 502 });
    });
    expect(apiError).toEqual({ kind: "unreadable", message: "GitHub answered 502 when afk read .github/afk.yml: Server Error" });
  });

  it("exports a JSON schema that describes every field and marks test required", () => {
    const schema = repoConfigJsonSchema();
    expect(schema.required).toEqual(["test"]);
    const properties = schema.properties as Record<string, { description?: string }>;
    expect(Object.keys(properties).sort()).toEqual(
      [
        "budget",
        "ci",
        "commands",
        "executor",
        "fix_forward",
        "gate",
        "labels",
        "mode",
        "model",
        "network",
        "plan_approval",
        "protected_paths",
        "review",
        "setup",
        "test",
        "trusted",
      ].sort(),
    );
    for (const [name, property] of Object.entries(properties)) expect(property.description, name).toBeTruthy();
  });
});
