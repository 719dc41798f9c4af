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

  it("reads afk eval: tasks, the run's shape, --compare's two values, SWE-bench JSONL and --check", () => {
    expect(parseCliArgs(["eval"])).toEqual({
      kind: "eval",
      paths: [],
      jsonl: undefined,
      jobs: 1,
      repeat: 1,
      model: undefined,
      maxUsd: undefined,
      prompts: undefined,
      compare: undefined,
      out: undefined,
      json: false,
      check: false,
    });
    expect(
      parseCliArgs(["eval", "a", "b", "--jobs", "4", "--repeat=3", "--max-usd", "0.5", "--model", "claude-haiku-4-5", "--out", "o", "--json"]),
    ).toMatchObject({
      paths: ["a", "b"],
      jobs: 4,
      repeat: 3,
      maxUsd: 0.5,
      model: "claude-haiku-4-5",
      out: "o",
      json: true,
    });
    expect(parseCliArgs(["eval", "--compare", "eval/baseline-prompts", "prompts", "eval/tasks/x"])).toMatchObject({
      compare: ["eval/baseline-prompts", "prompts"],
      paths: ["eval/tasks/x"],
    });
    expect(parseCliArgs(["eval", "--jsonl", "i.jsonl", "--repos", "clones", "--test-command", "pytest"])).toMatchObject({
      jsonl: { file: "i.jsonl", repos: "clones", testCommand: "pytest" },
    });
    expect(parseCliArgs(["eval", "--check", "--jobs", "2"])).toMatchObject({ check: true, jobs: 2 });
    expect(parseCliArgs(["eval", "--help"])).toEqual({ kind: "help", topic: "eval" });
    expect(parseCliArgs(["help", "eval"])).toEqual({ kind: "help", topic: "eval" });
  });

  it.each([
    [["eval", "--compare", "a"], /--compare needs two values/],
    [["eval", "--compare", "a", "--jobs", "2"], /--compare needs two values/],
    [["eval", "--compare", "a", "b", "--compare", "c", "d"], /--compare is given twice/],
    [["eval", "--compare", "a", "b", "--prompts", "p"], /--prompts and --compare do not go together/],
    [["eval", "--compare", "a", "b", "--model", "m"], /--model and --compare do not go together/],
    [["eval", "--jobs", "0"], /--jobs must be a whole number from 1 to 1000/],
    [["eval", "--repeat", "1.5"], /--repeat must be a whole number from 1 to 1000/],
    [["eval", "--max-usd=-1"], /--max-usd must be a number above 0/],
    [["eval", "--jsonl", "i.jsonl"], /--jsonl and --repos go together/],
    [["eval", "--test-command", "pytest"], /--test-command only goes with --jsonl/],
    [["eval", "--jsonl", "i.jsonl", "--repos", "r", "tasks"], /give task directories or --jsonl, not both/],
    [["eval", "--check", "--repeat", "2"], /--check runs no model and writes no results: it does not take --repeat/],
    [["eval", "--out", ""], /--out needs a value/],
    [["eval", "--force"], /unknown option "--force"/],
  ])("afk eval %j is a usage error: %s", (argv, message) => {
    const command = parseCliArgs(argv);
    expect(command).toMatchObject({ kind: "error", topic: "eval" });
    expect(command.kind === "error" ? command.message : "").toMatch(message);
  });
});
