// `afk` as a person types it: the command in a child process, its stdout, stderr and exit code.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { testPrivateKey } from "../helpers/afk-harness.js";
import { AFK_VERSION, MANY_PROCESSES_MS, runAfk, type Ran } from "../helpers/afk-cli.js";
import { freePort } from "../helpers/app-process.js";
import { endTurn, FIXTURE_FILES, toolTurn } from "../helpers/git-scenario.js";
import { GitHubEmulator } from "../helpers/emulator/index.js";
import { localCheckout } from "../helpers/local-checkout.js";
import { ModelServer } from "../helpers/model-server.js";

const KEY = "sk-ant-api03-cli-command-key-0000000000";
const VERSION = AFK_VERSION;

let root: string;
let model: ModelServer | undefined;
let github: GitHubEmulator | undefined;

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "afk-command-"));
});

afterEach(async () => {
  await model?.close();
  await github?.close();
  model = undefined;
  github = undefined;
  rmSync(root, { recursive: true, force: true });
});

/** `afk ARGS` in `cwd` with only `env` (and PATH, HOME) in its environment. */
function afk(args: readonly string[], options: { cwd?: string; env?: Record<string, string> } = {}): Promise<Ran> {
  return runAfk(args, { cwd: options.cwd ?? root, env: { HOME: process.env.HOME ?? root, AFK_CACHE_DIR: join(root, "cache"), ...options.env } });
}

/** `.env` as Probot's setup writes it (`updateEnv`): KEY=value lines, newlines in a value escaped as `\n`. */
function writeDotEnv(dir: string, values: Record<string, string>): void {
  writeFileSync(
    join(dir, ".env"),
    Object.entries(values)
      .map(([key, value]) => `${key}=${value.replace(/\n/g, "\\n")}`)
      .join("\n"),
  );
}

function checkout(files: Record<string, string>): string {
  return localCheckout(root, files);
}

describe("afk help, version and usage errors", () => {
  it(
    "prints help for afk and for every command on stdout, with the exit codes, and exits 0",
    async () => {
      const cases: Array<[string[], string]> = [
        [["--help"], "afk run (--task"],
        [["-h"], "afk run (--task"],
        [[], "afk run (--task"],
        [["help"], "afk run (--task"],
        [["run", "--help"], "Usage: afk run"],
        [["run", "-h"], "Usage: afk run"],
        [["help", "run"], "Usage: afk run"],
        [["doctor", "--help"], "Usage: afk doctor"],
        [["help", "doctor"], "Usage: afk doctor"],
        [["eval", "--help"], "Usage: afk eval"],
        [["help", "eval"], "Usage: afk eval"],
        [["log", "--help"], "Usage: afk log"],
        [["help", "log"], "Usage: afk log"],
        [["job", "--help"], "Usage: afk job"],
        [["init-runner", "--help"], "Usage: afk init-runner"],
        [["help", "--help"], "afk run (--task"],
      ];
      const runs = await Promise.all(cases.map(async ([args, heading]) => ({ args, heading, ran: await afk(args) })));
      for (const { args, heading, ran } of runs) {
        expect(ran, `afk ${args.join(" ")}`).toMatchObject({ code: 0, stderr: "" });
        expect(ran.stdout, `afk ${args.join(" ")}`).toContain(heading);
        expect(ran.stdout, `afk ${args.join(" ")}`).toMatch(/Exit codes:\n {2}0 {2}success.*\n {2}1 {2}failure.*\n {2}2 {2}usage error/);
      }
    },
    MANY_PROCESSES_MS,
  );

  it("prints the package's version and exits 0", async () => {
    expect(await afk(["--version"])).toEqual({ code: 0, stdout: `${VERSION}\n`, stderr: "" });
  });

  it(
    "answers a usage error with one line on stderr, nothing on stdout, and exit code 2",
    async () => {
      const cases: Array<[string[], string]> = [
        [["frob"], 'afk: unknown command "frob"; the commands are run, eval, log, doctor, init-runner, job, help (see afk --help)'],
        [["run", "--tsk", "x"], 'afk run: unknown option "--tsk" (see afk run --help)'],
        [["run", "--task"], "afk run: --task needs a value (see afk run --help)"],
        [["run"], 'afk run: give exactly one of --task "TEXT" or --issue-file FILE (see afk run --help)'],
        [["run", "--task", "x", "--max-usd", "lots"], "afk run: --max-usd must be a number above 0, for example 2.5 (see afk run --help)"],
        [["doctor", "now"], "afk doctor: takes no arguments (got now) (see afk doctor --help)"],
        [["doctor", "--jobs"], 'afk doctor: unknown option "--jobs" (see afk doctor --help)'],
        [["eval", "--compare", "prompts"], "afk eval: --compare needs two values: A and B, each a prompt set directory or a model id (see afk eval --help)"],
        [["eval", "--jobs", "many"], "afk eval: --jobs must be a whole number from 1 to 1000 (see afk eval --help)"],
        [["eval", "/nowhere/tasks"], "afk eval: /nowhere/tasks does not exist (see afk eval --help)"],
        [["log"], "afk log: needs a run id (afk's progress comment and check run name it) (see afk log --help)"],
        [["log", "r-1", "--remote", "-x"], 'afk log: "-x" is not a remote\'s name (see afk log --help)'],
        [["--verbose"], "afk: unknown option --verbose; options come after the command (afk run --help) (see afk --help)"],
      ];
      const runs = await Promise.all(cases.map(async ([args, message]) => ({ args, message, ran: await afk(args) })));
      for (const { args, message, ran } of runs) expect(ran, `afk ${args.join(" ")}`).toEqual({ code: 2, stdout: "", stderr: `${message}\n` });
    },
    MANY_PROCESSES_MS,
  );
});

describe("afk doctor as a person runs it", () => {
  it("reads the .env Probot's setup wrote in the working directory, over what the shell exports, and checks the App with it", async () => {
    github = await GitHubEmulator.start({ appId: 4242 });
    model = await ModelServer.start([]);
    model.acceptedKeys.push(KEY);
    const cwd = join(root, "app");
    mkdirSync(cwd);
    writeDotEnv(cwd, {
      WEBHOOK_PROXY_URL: "https://smee.io/abc",
      APP_ID: "4242",
      PRIVATE_KEY: testPrivateKey(),
      WEBHOOK_SECRET: "from-setup",
      GHE_HOST: github.host,
      GHE_PROTOCOL: "http",
      AFK_ALLOWLIST: "octo-org/*",
    });
    // A stale APP_ID exported in the shell: `npm start` would use .env's (Probot assigns .env over the environment), so the doctor does too.
    const ran = await afk(["doctor"], { cwd, env: { APP_ID: "1", ANTHROPIC_API_KEY: KEY, ANTHROPIC_BASE_URL: model.url } });
    expect(ran.stderr).toBe("");
    expect(ran.stdout).toContain(
      `✓ .env: ${join(cwd, ".env")} sets AFK_ALLOWLIST, APP_ID, GHE_HOST, GHE_PROTOCOL, PRIVATE_KEY, WEBHOOK_PROXY_URL, WEBHOOK_SECRET; its APP_ID replaces the value exported in this shell, as with \`npm start\``,
    );
    expect(ran.stdout).toContain(`✓ GitHub App: http://${github.host}/api/v3 accepts the credentials of afk (App 4242)`);
    expect(ran.stdout).toContain("✓ App permissions: afk has");
    expect(ran.stdout).toContain("✓ allowlist: octo-org/*");
    expect(ran.stdout).not.toContain("are not set");
    expect(ran.stdout).not.toContain("✗");
    expect(ran.code).toBe(0);
    expect(github.violations).toEqual([]);
  });

  it("says it cannot reach GitHub when nothing listens, and does not blame the credentials", async () => {
    const port = await freePort();
    writeDotEnv(root, { APP_ID: "4242", PRIVATE_KEY: testPrivateKey(), WEBHOOK_SECRET: "s", GHE_HOST: `127.0.0.1:${port}`, GHE_PROTOCOL: "http" });
    const started = Date.now();
    const ran = await afk(["doctor"]);
    expect(ran.stdout).toContain(`✗ GitHub App: cannot reach GitHub at http://127.0.0.1:${port}/api/v3 (ECONNREFUSED)\n    fix: check this machine's network`);
    expect(ran.stdout).not.toMatch(/refused the App's credentials|could not authenticate/);
    expect(ran.code).toBe(1);
    // One try, no quiet retries: the answer comes well before Octokit's retry schedule would end.
    expect(Date.now() - started).toBeLessThan(25_000);
  });

  it("says GitHub refused the App's credentials when GitHub answers 401, and warns on an empty allowlist", async () => {
    github = await GitHubEmulator.start({ appId: 4242 });
    writeDotEnv(root, { APP_ID: "777", PRIVATE_KEY: testPrivateKey(), WEBHOOK_SECRET: "s", GHE_HOST: github.host, GHE_PROTOCOL: "http" });
    const ran = await afk(["doctor"]);
    expect(ran.stdout).toContain(`✗ GitHub App: GitHub refused the App's credentials (401 on GET http://${github.host}/api/v3/app:`);
    expect(ran.stdout).toContain("! allowlist: AFK_ALLOWLIST is empty, so the App acts on no repository\n    fix: set AFK_ALLOWLIST");
    expect(ran.stdout).not.toContain("cannot reach GitHub");
    expect(ran.code).toBe(1);
  });

  it("without credentials anywhere, sends the user to the setup flow", async () => {
    const ran = await afk(["doctor"]);
    expect(ran.stdout).toContain(`- .env: no .env in ${root}; using the environment only`);
    expect(ran.stdout).toContain("- GitHub App: APP_ID and PRIVATE_KEY (or PRIVATE_KEY_PATH) are not set, in the environment or in .env");
    expect(ran.code).toBe(1);
  });
});

describe("afk doctor --job as the runner workflow runs it", () => {
  const JOB_ENV = {
    AFK_URL: "https://afk.example.com",
    AFK_RUN: "acme/widgets#12:r-mxbw6pou-a66d4273",
    ACTIONS_ID_TOKEN_REQUEST_URL: "https://pipelines.actions.example/idtoken?api-version=2.0",
    ACTIONS_ID_TOKEN_REQUEST_TOKEN: "bearer-for-this-run",
  };

  it("checks the machine and the job's environment, and asks for no key, App or .env", async () => {
    const ran = await afk(["doctor", "--job"], { env: JOB_ENV });
    expect(ran.stdout).toMatch(/^✓ node: /m);
    expect(ran.stdout).toMatch(/^✓ git: /m);
    expect(ran.stdout).toMatch(/^. bubblewrap: /m);
    expect(ran.stdout).toContain(`✓ cache directory: ${join(root, "cache")} is writable`);
    expect(ran.stdout).toContain("✓ AFK_URL: https://afk.example.com");
    expect(ran.stdout).toContain("✓ AFK_RUN: acme/widgets#12:r-mxbw6pou-a66d4273");
    expect(ran.stdout).toContain("✓ OIDC token: Actions can give this job an OIDC token for afk");
    expect(ran.stdout).not.toMatch(/model|GitHub App|\.env|allowlist/);
    // The sandbox decides the rest: on this machine bubblewrap works, so nothing fails.
    expect(ran.stdout).not.toContain("✗");
    expect(ran.code).toBe(0);
  });

  it("checks the cache directory afk job will use: AFK_CACHE_DIR, else the runner's temp directory", async () => {
    const ran = await afk(["doctor", "--job"], { env: { ...JOB_ENV, AFK_CACHE_DIR: "", RUNNER_TEMP: join(root, "runner-temp") } });
    expect(ran.stdout).toContain(`✓ cache directory: ${join(root, "runner-temp", "afk-cache")} is writable`);
  });

  it("outside a job, says what is missing and how to fix each, and fails", async () => {
    const ran = await afk(["doctor", "--job"], { env: { AFK_URL: "http://afk.example.com" } });
    expect(ran.stdout).toContain(
      '✗ AFK_URL: AFK_URL is "http://afk.example.com", not an https:// address\n    fix: set AFK_URL to afk\'s public https:// address',
    );
    expect(ran.stdout).toContain("✗ AFK_RUN: AFK_RUN is not set\n    fix: run afk's workflow as afk dispatches it");
    expect(ran.stdout).toContain("✗ OIDC token: ACTIONS_ID_TOKEN_REQUEST_URL and ACTIONS_ID_TOKEN_REQUEST_TOKEN are not set");
    expect(ran.stdout).toContain("fix: give the workflow `permissions: id-token: write`");
    expect(ran.code).toBe(1);
  });
});

describe("afk run as a person runs it", () => {
  it("prints each command and each edit as it happens and, on a red gate, the failing test output; exit 1", async () => {
    const repo = checkout({ ...FIXTURE_FILES, ".github/afk.yml": "test: node --test\ngate:\n  max_rounds: 1\n" });
    model = await ModelServer.start([
      toolTurn("bash", { command: "ls src\nnode --version" }),
      toolTurn("str_replace_based_edit_tool", { command: "str_replace", path: "src/math.js", old_str: "a + b", new_str: "a - b" }),
      toolTurn("str_replace_based_edit_tool", { command: "create", path: "notes/plan.md", file_text: "plan\n" }),
      toolTurn("str_replace_based_edit_tool", { command: "view", path: "src/math.js" }),
      endTurn("Changed add."),
    ]);
    const ran = await afk(["run", "--repo", repo, "--task", "Make add subtract"], { env: { ANTHROPIC_API_KEY: KEY, ANTHROPIC_BASE_URL: model.url } });
    const lines = ran.stdout.split("\n");
    const at = (pattern: RegExp): number => lines.findIndex((line) => pattern.test(line));
    const order = [
      /^\[\d\d:\d\d\] agent working/,
      /^\[\d\d:\d\d\] \$ ls src \(\+1 more line\)$/,
      /^\[\d\d:\d\d\] edit src\/math\.js$/,
      /^\[\d\d:\d\d\] create notes\/plan\.md$/,
      /^\[\d\d:\d\d\] running the tests: node --test$/,
      /^--- failing test output/,
      /AssertionError|Expected values to be strictly equal/,
      /^--- end of test output ---$/,
      /^NOT PASSING: branch afk\/make-add-subtract/,
    ];
    const positions = order.map(at);
    expect(
      positions.every((position) => position >= 0),
      ran.stdout,
    ).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
    // One line per command and per edit; a view only looks, so it has none.
    expect(lines.filter((line) => /^\[\d\d:\d\d\] (\$|edit|create|view) /.test(line))).toHaveLength(3);
    expect(ran.stdout).toMatch(/# fail 1/);
    expect(ran.stderr).toBe("");
    expect(ran.code).toBe(1);
  });

  it("as the attacker: escape sequences in the agent's command, file name, test output and summary never reach the terminal", async () => {
    const repo = checkout({ ...FIXTURE_FILES, ".github/afk.yml": "test: node --test\ngate:\n  max_rounds: 1\n" });
    // Retitle the window, clear the screen, write a hyperlink, hide text: what a hostile agent would print.
    const hostile = "\u001b]0;pwned\u0007\u001b[2J\u001b]8;;https://evil.example\u001b\\click\u001b]8;;\u001b\\\u001b[8mhidden\u009b31m";
    model = await ModelServer.start([
      toolTurn("bash", { command: `echo '${hostile}'` }),
      toolTurn("str_replace_based_edit_tool", { command: "create", path: `src/${hostile.replace(/\//g, "")}.js`, file_text: "x\n" }),
      toolTurn("str_replace_based_edit_tool", {
        command: "create",
        path: "test/evil.test.js",
        file_text: `import { test } from "node:test";\ntest("evil", () => { process.stdout.write(${JSON.stringify(hostile)}); throw new Error(${JSON.stringify(hostile)}); });\n`,
      }),
      endTurn(`Done ${hostile}`),
    ]);
    const ran = await afk(["run", "--repo", repo, "--task", "Anything"], { env: { ANTHROPIC_API_KEY: KEY, ANTHROPIC_BASE_URL: model.url } });
    expect(ran.stdout).toContain("--- failing test output");
    expect(ran.stdout).toContain("$ echo 'click");
    expect(ran.stdout).toMatch(/create src\/\S*click\S*\.js/);
    const output = ran.stdout + ran.stderr;
    // Nothing a terminal acts on but newline (and tab): no ESC, no BEL, no C1 control such as the one-byte CSI.
    expect(output).not.toMatch(/[\u0000-\u0008\u000B-\u001F\u007F-\u009F]/);
    // The test's raw write to stdout reached the gate's output and lost its sequences on the way to the terminal.
    expect(ran.stdout).toContain("# \\click\\hidden");
    expect(ran.code).toBe(1);
  });
});
