// `afk init-runner` as an operator types it: the command in a child process, its stdout, stderr,
// exit code, and the file it writes into a checkout of the runner repository.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { runnerWorkflow } from "../../src/actions/runner-workflow.js";
import { AFK_VERSION, MANY_PROCESSES_MS, runAfk, type Ran } from "../helpers/afk-cli.js";

const VERSION = AFK_VERSION;
/** The workflow this afk ships: pinned to package.json's version. */
const WORKFLOW = runnerWorkflow(VERSION);

let root: string;

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "afk-init-runner-"));
});

afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

/** `afk ARGS` in the temp dir, with only PATH and HOME in its environment. */
function afk(args: readonly string[]): Promise<Ran> {
  return runAfk(args, { cwd: root, env: { HOME: root } });
}

/** A checkout of the runner repository (a directory is all afk needs). */
function checkout(): string {
  const dir = join(root, "runner");
  mkdirSync(dir);
  return dir;
}

const SETTINGS = [
  "commit .github/workflows/afk-job.yml on the default branch",
  "install afk's GitHub App on it with the Actions permission: read and write (actions: write)",
  "variable AFK_URL=afk's public URL",
  "variable AFK_RUNS_ON=a runner label (default ubuntu-24.04) (optional)",
  "Add no secrets",
  "AFK_EXECUTOR=actions",
  "AFK_RUNNER_REPO=OWNER/NAME",
  "AFK_PUBLIC_URL=the same URL as the runner repository's AFK_URL",
];

describe("afk init-runner", () => {
  it(
    "has help like the other commands, on stdout with the exit codes, and is listed in afk --help",
    async () => {
      const [help, helpTopic, afkHelp] = await Promise.all([afk(["init-runner", "--help"]), afk(["help", "init-runner"]), afk(["--help"])]);
      for (const ran of [help, helpTopic]) {
        expect(ran).toMatchObject({ code: 0, stderr: "" });
        expect(ran.stdout).toContain("Usage: afk init-runner [--write DIR [--force]]");
        expect(ran.stdout).toContain("--write DIR   write DIR/.github/workflows/afk-job.yml");
        expect(ran.stdout).toMatch(/Exit codes:\n {2}0 {2}success.*\n {2}1 {2}failure.*\n {2}2 {2}usage error/);
      }
      expect(afkHelp.stdout).toContain("afk init-runner [--write DIR [--force]]                the workflow that runs agents on GitHub Actions\n");
    },
    MANY_PROCESSES_MS,
  );

  it("prints the workflow pinned to this afk's version on stdout, and what else is needed on stderr", async () => {
    const ran = await afk(["init-runner"]);
    expect(ran.code).toBe(0);
    expect(ran.stdout).toBe(WORKFLOW);
    expect(parse(ran.stdout)).toMatchObject({ on: { workflow_dispatch: { inputs: { afk_run: { required: true } } } } });
    expect(ran.stdout).toContain(`npx --yes afk-agent@${VERSION} job\n`);
    expect(ran.stderr).toMatch(/^Save it as \.github\/workflows\/afk-job\.yml in the runner repository\./);
    for (const setting of SETTINGS) expect(ran.stderr).toContain(setting);
  });

  it("--write DIR writes DIR/.github/workflows/afk-job.yml and says what else is needed; again, it leaves the same file alone", async () => {
    const dir = checkout();
    const path = join(dir, ".github", "workflows", "afk-job.yml");
    const wrote = await afk(["init-runner", "--write", dir]);
    expect(wrote).toMatchObject({ code: 0, stderr: "" });
    expect(readFileSync(path, "utf8")).toBe(WORKFLOW);
    expect(wrote.stdout).toMatch(new RegExp(`^Wrote ${path.replace(/[.]/g, "\\.")} \\(afk ${VERSION.replace(/[.]/g, "\\.")}\\)\\.\n`));
    for (const setting of SETTINGS) expect(wrote.stdout).toContain(setting);

    const again = await afk(["init-runner", "--write", dir]);
    expect(again).toMatchObject({ code: 0, stderr: "" });
    expect(again.stdout).toContain(`${path} is already this workflow (afk ${VERSION}); nothing written.`);
    expect(readFileSync(path, "utf8")).toBe(WORKFLOW);
  });

  it("refuses to overwrite a different afk-job.yml (exit 1, the file untouched) and replaces it with --force", async () => {
    const dir = checkout();
    const path = join(dir, ".github", "workflows", "afk-job.yml");
    mkdirSync(join(dir, ".github", "workflows"), { recursive: true });
    const theirs = "name: someone's own job\non: workflow_dispatch\njobs: {}\n";
    writeFileSync(path, theirs);

    const refused = await afk(["init-runner", "--write", dir]);
    expect(refused).toEqual({
      code: 1,
      stdout: "",
      stderr: `afk init-runner: ${path} exists and differs from afk ${VERSION}'s workflow; compare them (afk init-runner prints it), then run again with --force to replace it\n`,
    });
    expect(readFileSync(path, "utf8")).toBe(theirs);

    const forced = await afk(["init-runner", "--write", dir, "--force"]);
    expect(forced).toMatchObject({ code: 0, stderr: "" });
    expect(forced.stdout).toContain(`Replaced ${path} (afk ${VERSION}).`);
    expect(readFileSync(path, "utf8")).toBe(WORKFLOW);
  });

  it("never writes through a symbolic link, even with --force", async () => {
    const dir = checkout();
    const elsewhere = join(root, "elsewhere.yml");
    writeFileSync(elsewhere, "kept\n");
    mkdirSync(join(dir, ".github", "workflows"), { recursive: true });
    const path = join(dir, ".github", "workflows", "afk-job.yml");
    symlinkSync(elsewhere, path);
    const ran = await afk(["init-runner", "--write", dir, "--force"]);
    expect(ran).toEqual({
      code: 1,
      stdout: "",
      stderr: `afk init-runner: ${path} is not a regular file (a symbolic link or a directory); afk writes only a file of its own there\n`,
    });
    expect(readFileSync(elsewhere, "utf8")).toBe("kept\n");
  });

  it(
    "answers a usage error with one line on stderr, nothing on stdout, and exit code 2",
    async () => {
      const missing = join(root, "no-such-checkout");
      const cases: Array<[string[], string]> = [
        [["init-runner", "--force"], "afk init-runner: --force only goes with --write DIR (see afk init-runner --help)"],
        [["init-runner", "--write"], "afk init-runner: --write needs a value (see afk init-runner --help)"],
        [["init-runner", "--write", ""], "afk init-runner: --write needs a value (see afk init-runner --help)"],
        [["init-runner", "--wrote", "x"], 'afk init-runner: unknown option "--wrote" (see afk init-runner --help)'],
        [
          ["init-runner", "runner"],
          'afk init-runner: unexpected argument "runner"; to write the workflow into a checkout, give --write DIR (see afk init-runner --help)',
        ],
        [["init-runner", "--write", missing], `afk init-runner: ${missing} is not a directory; give --write a checkout of the runner repository`],
      ];
      const runs = await Promise.all(cases.map(async ([args, message]) => ({ args, message, ran: await afk(args) })));
      for (const { args, message, ran } of runs) expect(ran, `afk ${args.join(" ")}`).toEqual({ code: 2, stdout: "", stderr: `${message}\n` });
    },
    MANY_PROCESSES_MS,
  );
});
