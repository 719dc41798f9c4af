// Reads `afk eval`'s tasks from disk: task directories (eval/tasks/<id>/) and SWE-bench JSONL.
import { readdir, readFile, realpath, stat } from "node:fs/promises";
import { basename, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parse as parseYaml } from "yaml";
import { errorMessage } from "../github/types.js";
import { describeProblems, sweBenchHiddenTest, sweBenchInstanceSchema, TASK_ID, taskFileSchema, titleOf, type EvalTask } from "./eval-task.js";

/** The suite afk ships (`eval/tasks/` at the package root: two levels up from src/eval/ and dist/eval/). */
export const BUNDLED_TASKS = fileURLToPath(new URL("../../eval/tasks/", import.meta.url));

/** A task that cannot be read, with what to fix. */
export class TaskError extends Error {}

/**
 * The tasks under each path: a task directory (it holds task.yml), or a suite directory whose
 * subdirectories are tasks. Sorted by id; an id given twice is an error.
 */
export async function loadTaskDirs(paths: readonly string[]): Promise<EvalTask[]> {
  const tasks: EvalTask[] = [];
  for (const path of paths) {
    const dir = await realDir(path);
    if (await pathExists(join(dir, "task.yml"))) tasks.push(await loadTaskDir(dir));
    else {
      const entries = (await readdir(dir, { withFileTypes: true })).filter((entry) => entry.isDirectory()).map((entry) => entry.name);
      const taskDirs = [];
      for (const name of entries.sort()) if (await pathExists(join(dir, name, "task.yml"))) taskDirs.push(join(dir, name));
      if (taskDirs.length === 0) throw new TaskError(`${path} holds no task: a task is a directory with a task.yml (see eval/README.md)`);
      for (const taskDir of taskDirs) tasks.push(await loadTaskDir(taskDir));
    }
  }
  return unique(tasks);
}

/** One task directory: task.yml, repo/ (or repo.bundle), hidden/, solution.patch and wrong.patch when present. */
export async function loadTaskDir(dir: string): Promise<EvalTask> {
  const id = basename(dir);
  const where = `task ${id} (${dir})`;
  if (!TASK_ID.test(id)) throw new TaskError(`${where}: the directory name is the task id: lowercase letters, digits, dots, dashes and underscores`);
  let raw: unknown;
  try {
    raw = parseYaml(await readFile(join(dir, "task.yml"), "utf8"));
  } catch (error) {
    throw new TaskError(`${where}: task.yml is not readable YAML: ${errorMessage(error)}`);
  }
  const parsed = taskFileSchema.safeParse(raw);
  if (!parsed.success) throw new TaskError(`${where}: task.yml: ${describeProblems(parsed.error)}`);
  const file = parsed.data;
  const tree = join(dir, "repo");
  const bundle = join(dir, "repo.bundle");
  const source = (await pathExists(tree))
    ? ({ kind: "tree", dir: tree } as const)
    : (await pathExists(bundle))
      ? ({ kind: "bundle", file: bundle } as const)
      : undefined;
  if (source === undefined) throw new TaskError(`${where}: has neither repo/ (the repository as a plain tree) nor repo.bundle (a git bundle)`);
  const hidden = join(dir, "hidden");
  if (!(await pathExists(hidden))) throw new TaskError(`${where}: has no hidden/ (the tests the agent never sees, laid over the repository to judge it)`);
  return {
    id,
    title: file.title,
    body: file.body,
    source,
    hidden: { kind: "files", dir: hidden },
    hiddenTest: file.hidden_test,
    failToPass: file.fail_to_pass,
    passToPass: file.pass_to_pass,
    fallbackTest: undefined,
    solutionPatch: await optionalText(join(dir, "solution.patch")),
    wrongPatch: await optionalText(join(dir, "wrong.patch")),
    hiddenFromAgent: [dir],
    language: file.language,
    tags: file.tags,
    origin: dir,
  };
}

/**
 * SWE-bench-style JSONL: one instance a line, run against the user's own clones in `reposDir`
 * (`<reposDir>/<owner>__<name>`, `<reposDir>/<owner>/<name>` or `<reposDir>/<name>`). The test
 * command comes from the instance's `test_command`, else from `testCommand`.
 */
export async function loadSweBench(file: string, reposDir: string, testCommand: string | undefined): Promise<EvalTask[]> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    throw new TaskError(`cannot read ${file}: ${errorMessage(error)}`);
  }
  const jsonl = await realpath(file);
  const repos = await realDir(reposDir);
  const tasks: EvalTask[] = [];
  for (const [index, line] of text.split("\n").entries()) {
    if (line.trim().length === 0) continue;
    const where = `${file} line ${index + 1}`;
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch (error) {
      throw new TaskError(`${where} is not JSON: ${errorMessage(error)}`);
    }
    const parsed = sweBenchInstanceSchema.safeParse(raw);
    if (!parsed.success) throw new TaskError(`${where}: ${describeProblems(parsed.error)}`);
    const instance = parsed.data;
    const command = instance.test_command ?? testCommand;
    if (command === undefined)
      throw new TaskError(`${where} (${instance.instance_id}) has no test_command: add one to the line, or give --test-command "CMD" for the whole file`);
    const [owner = "", name = ""] = instance.repo.split("/");
    const candidates = [join(repos, `${owner}__${name}`), join(repos, owner, name), join(repos, name)];
    let clone: string | undefined;
    for (const candidate of candidates) if (await pathExists(join(candidate, ".git"))) clone = candidate;
    if (clone === undefined)
      throw new TaskError(
        `${where} (${instance.instance_id}): no clone of ${instance.repo} in ${reposDir}; clone it to ${candidates[0] ?? reposDir} (any of ${candidates.join(", ")})`,
      );
    tasks.push({
      id: instance.instance_id,
      title: titleOf(instance.problem_statement),
      body: instance.problem_statement,
      source: { kind: "clone", dir: clone, commit: instance.base_commit },
      hidden: { kind: "patch", patch: instance.test_patch },
      hiddenTest: sweBenchHiddenTest(command, instance),
      failToPass: instance.FAIL_TO_PASS,
      passToPass: instance.PASS_TO_PASS,
      fallbackTest: command,
      solutionPatch: typeof instance.patch === "string" ? instance.patch : undefined,
      wrongPatch: undefined,
      // The JSONL holds every instance's test patch and gold patch.
      hiddenFromAgent: [jsonl],
      language: undefined,
      tags: [],
      origin: where,
    });
  }
  if (tasks.length === 0) throw new TaskError(`${file} holds no instance`);
  return unique(tasks);
}

function unique(tasks: EvalTask[]): EvalTask[] {
  const seen = new Map<string, string>();
  for (const task of tasks) {
    const earlier = seen.get(task.id);
    if (earlier !== undefined) throw new TaskError(`two tasks are named ${task.id}: ${earlier} and ${task.origin}`);
    seen.set(task.id, task.origin);
  }
  return [...tasks].sort((a, b) => a.id.localeCompare(b.id));
}

async function realDir(path: string): Promise<string> {
  let real: string;
  try {
    real = await realpath(resolve(path));
  } catch {
    throw new TaskError(`${path} does not exist`);
  }
  if (!(await stat(real)).isDirectory()) throw new TaskError(`${path} is not a directory`);
  return real;
}

/** Whether anything is at `path` (a link counts as what it points to). */
export async function pathExists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

async function optionalText(path: string): Promise<string | undefined> {
  return readFile(path, "utf8").catch((error: unknown) => {
    if (error instanceof Error && "code" in error && error.code === "ENOENT") return undefined;
    throw error;
  });
}
