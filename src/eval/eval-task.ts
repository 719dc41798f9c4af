// What `afk eval` runs: a task (an issue on a repository at a starting commit, with tests the agent
// never sees) and the SWE-bench instance format it also reads. Pure: parsing and validation only.
import { z } from "zod";

/** Where a task's repository at its starting commit comes from. */
export type TaskSource =
  /** A plain tree (eval/tasks/<id>/repo/): afk makes a one-commit git repository of it. */
  | { kind: "tree"; dir: string }
  /** A git bundle whose HEAD is the starting commit. */
  | { kind: "bundle"; file: string }
  /** A local clone the user made (SWE-bench), at `commit`. */
  | { kind: "clone"; dir: string; commit: string };

/** The hidden tests: files laid over the repository, or a patch applied to it (SWE-bench's `test_patch`), once the agent is done. */
export type HiddenTests = { kind: "files"; dir: string } | { kind: "patch"; patch: string };

export interface EvalTask {
  id: string;
  title: string;
  body: string;
  source: TaskSource;
  hidden: HiddenTests;
  /** Runs in the repository's root after the hidden tests are in place; exit 0 means resolved. */
  hiddenTest: string;
  failToPass: string[];
  passToPass: string[];
  /** `test:` for afk's gate when the repository has no .github/afk.yml (SWE-bench: the instance's test command). */
  fallbackTest: string | undefined;
  /** A correct change and, optionally, the obvious change that is wrong (`afk eval --check` proves the hidden tests tell them apart). */
  solutionPatch: string | undefined;
  wrongPatch: string | undefined;
  /** Host paths the agent's sandbox must not show: where the hidden tests, the solutions and the task's files are. */
  hiddenFromAgent: string[];
  language: string | undefined;
  tags: string[];
  /** Where the task was read from, for messages. */
  origin: string;
}

/** A task id: what names its directory, its report rows and its transcript files. */
export const TASK_ID = /^[a-z0-9][a-z0-9._-]{0,99}$/;

/** `task.yml` of a task directory (see eval/README.md). */
export const taskFileSchema = z.strictObject({
  title: z.string().trim().min(1, "is empty").max(300),
  body: z.string().max(60_000),
  hidden_test: z.string().trim().min(1, "is empty"),
  fail_to_pass: z.array(z.string()).default([]),
  pass_to_pass: z.array(z.string()).default([]),
  language: z.string().optional(),
  source: z.string().optional(),
  tags: z.array(z.string()).default([]),
});
export type TaskFile = z.output<typeof taskFileSchema>;

/** A list SWE-bench writes either as a JSON array or as a string holding one. */
const testList = z.union([
  z.array(z.string()),
  z.string().transform((text, context) => {
    try {
      const parsed: unknown = JSON.parse(text);
      if (Array.isArray(parsed) && parsed.every((item) => typeof item === "string")) return parsed;
    } catch {
      // Reported below.
    }
    context.addIssue({ code: "custom", message: "must be a list of test names (a JSON array, or a string holding one)" });
    return z.NEVER;
  }),
]);

/**
 * One line of SWE-bench-style JSONL. The standard fields, and `test_command` (afk's addition: the
 * command the test names are appended to; `--test-command` gives it for a whole file instead).
 */
export const sweBenchInstanceSchema = z.looseObject({
  instance_id: z.string().regex(TASK_ID, "must be lowercase letters, digits, dots, dashes and underscores (at most 100)"),
  repo: z.string().regex(/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/, "must be owner/name"),
  base_commit: z.string().regex(/^[0-9a-f]{7,64}$/, "must be a commit id"),
  problem_statement: z.string().min(1, "is empty").max(200_000),
  test_patch: z.string().min(1, "is empty"),
  FAIL_TO_PASS: testList,
  PASS_TO_PASS: testList.default([]),
  test_command: z.string().trim().min(1).optional(),
});
export type SweBenchInstance = z.output<typeof sweBenchInstanceSchema>;

/** Zod's issues as `field: problem` lines. */
export function describeProblems(error: z.ZodError): string {
  return error.issues.map((issue) => `${issue.path.length > 0 ? issue.path.join(".") : "(the whole entry)"}: ${issue.message}`).join("; ");
}

/** A word for the shell: single-quoted unless it needs no quoting. Pure. */
export function shellWord(word: string): string {
  return /^[A-Za-z0-9_./:=@%+,-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** The command that judges a SWE-bench instance: its test command with every FAIL_TO_PASS and PASS_TO_PASS test named. Pure. */
export function sweBenchHiddenTest(testCommand: string, instance: Pick<SweBenchInstance, "FAIL_TO_PASS" | "PASS_TO_PASS">): string {
  const names = [...new Set([...instance.FAIL_TO_PASS, ...instance.PASS_TO_PASS])];
  return [testCommand, ...names.map(shellWord)].join(" ");
}

/** An issue's title from a problem statement: its first non-empty line, without Markdown heading marks. Pure. */
export function titleOf(statement: string): string {
  const line = statement.split("\n").find((candidate) => candidate.trim().length > 0) ?? "";
  return (
    line
      .replace(/^#+\s*/, "")
      .trim()
      .slice(0, 200) || "(untitled)"
  );
}
