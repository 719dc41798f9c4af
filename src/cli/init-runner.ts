import { lstat, mkdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { formatRunnerSettings, RUNNER_WORKFLOW_PATH, runnerSettings, runnerWorkflow } from "../actions/runner-workflow.js";
import { EXIT } from "./parse-cli-args.js";

/** What `afk init-runner` was asked: write into the checkout `write`, or print; `force` replaces a different file. */
export interface InitRunnerCommand {
  write: string | undefined;
  force: boolean;
}

/** The afk that renders the workflow (its version is pinned in it), and where its text goes. */
export interface InitRunnerIo {
  version: string;
  /** stdout: the workflow when printing; what was written and the settings when writing. */
  out: (text: string) => void;
  /** stderr: errors, and the settings when printing (so stdout is the workflow alone). */
  err: (text: string) => void;
}

/**
 * `afk init-runner`: prints the runner repository's workflow, or writes it to
 * `<write>/.github/workflows/afk-job.yml`, refusing to replace a different file there unless `force`.
 * Returns the exit code. An existing file that is already this workflow is left as it is.
 */
export async function initRunner(command: InitRunnerCommand, io: InitRunnerIo): Promise<number> {
  const workflow = runnerWorkflow(io.version);
  const settings = formatRunnerSettings(runnerSettings());
  if (command.write === undefined) {
    io.out(workflow.trimEnd());
    io.err(`Save it as ${RUNNER_WORKFLOW_PATH} in the runner repository. What else running agents on GitHub Actions needs:\n${settings}`);
    return EXIT.ok;
  }
  const fail = (code: number, message: string): number => {
    io.err(`afk init-runner: ${message}`);
    return code;
  };
  const isDirectory = await stat(command.write).then(
    (found) => found.isDirectory(),
    () => false,
  );
  if (!isDirectory) return fail(EXIT.usage, `${command.write} is not a directory; give --write a checkout of the runner repository`);

  const path = join(command.write, RUNNER_WORKFLOW_PATH);
  const existing = await existingFile(path);
  if (existing.kind === "other")
    return fail(EXIT.failed, `${path} is not a regular file (a symbolic link or a directory); afk writes only a file of its own there`);
  if (existing.kind === "file" && existing.text === workflow) {
    io.out(`${path} is already this workflow (afk ${io.version}); nothing written.\n\nWhat else running agents on GitHub Actions needs:\n${settings}`);
    return EXIT.ok;
  }
  if (existing.kind === "file" && !command.force)
    return fail(
      EXIT.failed,
      `${path} exists and differs from afk ${io.version}'s workflow; compare them (afk init-runner prints it), then run again with --force to replace it`,
    );
  try {
    await mkdir(join(command.write, ".github", "workflows"), { recursive: true });
    await writeFile(path, workflow);
  } catch (error) {
    return fail(EXIT.failed, `cannot write ${path}: ${error instanceof Error ? error.message : String(error)}`);
  }
  io.out(`${existing.kind === "file" ? "Replaced" : "Wrote"} ${path} (afk ${io.version}).\n\nWhat else running agents on GitHub Actions needs:\n${settings}`);
  return EXIT.ok;
}

/** The file at `path` as it is: absent, a regular file's text, or something else (never followed through a symbolic link). */
async function existingFile(path: string): Promise<{ kind: "none" } | { kind: "file"; text: string } | { kind: "other" }> {
  const found = await lstat(path).catch(() => undefined);
  if (found === undefined) return { kind: "none" };
  if (!found.isFile()) return { kind: "other" };
  return { kind: "file", text: await readFile(path, "utf8") };
}
