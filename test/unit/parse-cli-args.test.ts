import { describe, expect, it } from "vitest";
import { parseCliArgs } from "../../src/cli/parse-cli-args.js";

describe("afk command line", () => {
  it("reads afk run with a task, a repository and overrides", () => {
    expect(
      parseCliArgs([
        "run",
        "--repo",
        "/src/app",
        "--task",
        "Add a --verbose flag",
        "--test=npm test",
        "--max-usd",
        "2.5",
        "--max-turns",
        "30",
        "--model",
        "claude-haiku-4-5",
      ]),
    ).toEqual({
      kind: "run",
      repo: "/src/app",
      task: { text: "Add a --verbose flag" },
      model: "claude-haiku-4-5",
      test: "npm test",
      maxUsd: 2.5,
      maxTurns: 30,
    });
    expect(parseCliArgs(["run", "--issue-file", "issue.md"])).toMatchObject({ kind: "run", repo: ".", task: { file: "issue.md" } });
  });

  it.each([
    [["run"], /exactly one of --task/],
    [["run", "--task", "a", "--issue-file", "b"], /exactly one of --task/],
    [["run", "--task"], /--task needs a value/],
    [["run", "--task", "a", "--task", "b"], /--task is given twice/],
    [["run", "--task", "a", "--force"], /unknown option "--force"/],
    [["run", "--task", "a", "--max-usd", "0"], /--max-usd must be a number above 0/],
    [["run", "--task", "a", "--max-usd", "lots"], /--max-usd must be a number above 0/],
    [["run", "--task", "a", "--max-turns", "2.5"], /--max-turns must be a whole number/],
    [["deploy"], /unknown command "deploy"/],
    [["doctor", "--fix"], /unknown option "--fix"/],
    [["doctor", "now"], /takes no arguments/],
  ])("%j is an error that says what to do", (argv, message) => {
    const parsed = parseCliArgs(argv);
    expect(parsed.kind).toBe("error");
    if (parsed.kind === "error") expect(parsed.message).toMatch(message);
  });

  it("shows help for no command, help, --help and -h, and reads doctor", () => {
    for (const argv of [[], ["help"], ["--help"], ["-h"]]) expect(parseCliArgs(argv)).toEqual({ kind: "help", topic: "afk" });
    expect(parseCliArgs(["doctor"])).toEqual({ kind: "doctor", job: false });
    expect(parseCliArgs(["doctor", "--job"])).toEqual({ kind: "doctor", job: true });
  });
});
