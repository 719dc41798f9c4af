// `afk eval` as a person runs it (the CLI in a child process), with the model played by the scripted
// server: a known-good solution and the obvious-but-wrong one on bundled tasks. Checks the judging,
// that the hidden tests never reach the agent, the records, and the HTML report in a real browser.
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { chromium, type Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import type { Comparison, EvalResults } from "../../src/eval/eval-record.js";
import { runAfk } from "../helpers/afk-cli.js";
import { REPO_ROOT } from "../helpers/app-process.js";
import { assistantTurnsIn, endTurn, toolResultsIn, toolTurn } from "../helpers/git-scenario.js";
import { ModelServer, type ScriptedTurn } from "../helpers/model-server.js";

const TASKS = join(REPO_ROOT, "eval", "tasks");
/** Eval runs spawn afk, git and sandboxes for several tasks: room for a busy machine. */
const EVAL_MS = 240_000;

interface TaskFiles {
  id: string;
  title: string;
  failToPass: string[];
  solution: string;
  wrong: string | undefined;
  hiddenFiles: string[];
}

function taskFiles(id: string): TaskFiles {
  const dir = join(TASKS, id);
  const yml = readFileSync(join(dir, "task.yml"), "utf8");
  const file = parseYaml(yml) as { title: string; fail_to_pass?: string[] };
  const hiddenFiles = (
    readdirSync(join(dir, "hidden"), { recursive: true, withFileTypes: true }) as Array<{ name: string; parentPath: string; isFile(): boolean }>
  )
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name));
  return {
    id,
    title: file.title,
    failToPass: file.fail_to_pass ?? [],
    solution: readFileSync(join(dir, "solution.patch"), "utf8"),
    wrong: existsSync(join(dir, "wrong.patch")) ? readFileSync(join(dir, "wrong.patch"), "utf8") : undefined,
    hiddenFiles,
  };
}

/** The agent applies a patch with one bash call (a heredoc: the patch is the model's own text). */
function applyPatch(patch: string): ScriptedTurn {
  return toolTurn("bash", { command: `git apply --whitespace=nowarn - <<'AFK_PATCH_END'\n${patch}\nAFK_PATCH_END\ngit status --short` });
}

type Play = (task: TaskFiles) => ScriptedTurn[];
const GOOD: Play = (task) => [applyPatch(task.solution), endTurn(`Fixed ${task.id}.`)];
const WRONG: Play = (task) => [applyPatch(task.wrong ?? ""), endTurn(`Fixed ${task.id} (the obvious way).`)];
/** Looks for the hidden tests everywhere it can, then does the right thing. */
const PROBE: Play = (task) => [
  toolTurn("bash", {
    command: [
      ...task.hiddenFiles.map((file) => `cat ${file}`),
      `ls -la ${join(TASKS, task.id)} ${TASKS}`,
      `find / -xdev \\( -path /proc -o -path /sys \\) -prune -o \\( -name 'hidden*' -o -name 'solution.patch' -o -name 'task.yml' \\) -print 2>/dev/null | head -20`,
      "git log --all --stat | head -40",
    ].join("; "),
  }),
  applyPatch(task.solution),
  // The agent's code prints markup and a terminal escape whenever it is loaded: the hidden tests' output carries it into the report.
  toolTurn("bash", { command: `printf '%s\\n' ${JSON.stringify(`console.log(${JSON.stringify(HOSTILE_OUTPUT)});`)} >> src/index.js` }),
  endTurn(`Fixed ${task.id}.`),
];

/** What a hostile agent's code prints: live markup for the HTML report, a title escape for a terminal. */
const HOSTILE_OUTPUT = '<img id="planted" src="http://127.0.0.1:9/pwn"><script>document.title="pwned"</script>\u001b]0;pwned\u0007';

/** A model that answers each conversation by the task its first message names, turn by turn. */
function scriptedModel(server: ModelServer, plays: Map<string, { task: TaskFiles; play: Play }>): void {
  server.responder = (body) => {
    const messages = Array.isArray(body.messages) ? body.messages : [];
    const first = JSON.stringify(messages[0] ?? "");
    const entry = [...plays.values()].find(({ task }) => first.includes(JSON.stringify(task.title).slice(1, -1)));
    if (entry === undefined) return { kind: "error", status: 400, type: "invalid_request_error", message: "no scripted task matches this conversation" };
    const turn = assistantTurnsIn(body);
    return entry.play(entry.task)[turn] ?? endTurn("Done.");
  };
}

function readJson<T>(path: string): T {
  return JSON.parse(readFileSync(path, "utf8")) as T;
}

describe("afk eval", () => {
  let root: string;
  let server: ModelServer;
  let browser: Browser;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), "afk-eval-"));
    server = await ModelServer.start([]);
    server.simulateCaching = true;
    browser = await chromium.launch({ executablePath: "/usr/bin/chromium", headless: true, args: ["--no-sandbox", "--disable-gpu", "--no-first-run"] });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (root !== undefined) rmSync(root, { recursive: true, force: true });
  }, 30_000);

  const env = (cache: string): Record<string, string> => ({
    ANTHROPIC_API_KEY: "sk-ant-eval-test-key",
    ANTHROPIC_BASE_URL: server.url,
    AFK_CACHE_DIR: cache,
    HOME: root,
  });

  it(
    "judges a known-good solution resolved and the obvious-but-wrong one not (its visible tests pass), never shows the hidden tests, and records every attempt",
    async () => {
      const good = taskFiles("js-lru-cache-recency");
      const wrong = taskFiles("py-money-round-half-up");
      const probe = taskFiles("js-url-join-slashes");
      expect(wrong.wrong).toBeDefined();
      scriptedModel(
        server,
        new Map([
          [good.id, { task: good, play: GOOD }],
          [wrong.id, { task: wrong, play: WRONG }],
          [probe.id, { task: probe, play: PROBE }],
        ]),
      );
      const out = join(root, "results");
      const before = server.requests.length;
      const ran = await runAfk(["eval", join(TASKS, good.id), join(TASKS, wrong.id), join(TASKS, probe.id), "--jobs", "2", "--out", out], {
        cwd: root,
        env: env(join(root, "cache")),
      });
      expect(ran.stderr).not.toContain("unexpected error");
      expect(ran.code).toBe(0);
      expect(server.violations).toEqual([]);

      const results = readJson<EvalResults>(join(out, "results.json"));
      const byTask = new Map(results.attempts.map((attempt) => [attempt.task, attempt]));
      expect(results.attempts).toHaveLength(3);
      expect(byTask.get(good.id)).toMatchObject({ resolved: true, outcome: "passed", gate: { passed: true }, hiddenTests: { exitCode: 0 } });
      expect(byTask.get(probe.id)).toMatchObject({ resolved: true, outcome: "passed" });
      // The wrong fix passes afk's gate (the visible tests) and fails the hidden ones: only the hidden tests tell.
      expect(byTask.get(wrong.id)).toMatchObject({ resolved: false, outcome: "passed", gate: { passed: true } });
      expect(byTask.get(wrong.id)?.hiddenTests?.exitCode).not.toBe(0);
      expect(results.summary).toMatchObject({ tasks: 3, attempts: 3, resolved: 2, rateByRepeat: [2 / 3] });

      for (const attempt of results.attempts) {
        // Cost, turns, tool calls, time and the prompt's size are measured, not left at zero.
        expect(attempt.turns).toBeGreaterThanOrEqual(2);
        expect(attempt.toolCalls).toBeGreaterThanOrEqual(1);
        expect(attempt.tokens.input + attempt.tokens.cacheRead + attempt.tokens.cacheWrite).toBeGreaterThan(0);
        expect(attempt.usd).toBeGreaterThan(0);
        expect(attempt.wallMs).toBeGreaterThan(0);
        expect(attempt.promptTokens.system).toBeGreaterThan(100);
        expect(attempt.promptTokens.tools).toBeGreaterThan(0);
        expect(attempt.change).toMatchObject({ kind: "committed" });
        // The transcript holds the whole session: the task, every tool call and its result, the summary.
        const transcript = readFileSync(join(out, attempt.transcript ?? "missing"), "utf8")
          .trim()
          .split("\n")
          .map((line) => JSON.parse(line) as { kind: string; text: string });
        expect(transcript.map((entry) => entry.kind)).toEqual(expect.arrayContaining(["user", "tool_call", "tool_result", "assistant"]));
        expect(transcript.filter((entry) => entry.kind === "tool_call")).toHaveLength(attempt.toolCalls);
      }
      const probeLog = readFileSync(join(out, byTask.get(probe.id)?.transcript ?? "missing"), "utf8");
      expect(probeLog).toContain("cat ");

      // Nothing of the hidden tests, the solutions or the task files reached the model.
      const seen = JSON.stringify(server.requests.slice(before).map((request) => request.body.messages));
      // The hidden tests' names (FAIL_TO_PASS) are in no file the agent could read and in no request.
      for (const task of [good, wrong, probe]) {
        expect(task.failToPass.length).toBeGreaterThan(0);
        for (const name of task.failToPass) expect(seen).not.toContain(JSON.stringify(name).slice(1, -1));
      }
      // What the agent's commands printed: no task file found anywhere.
      const printed = server.requests
        .slice(before)
        .flatMap((request) => toolResultsIn(request.body))
        .map((result) => result.content)
        .join("\n");
      expect(printed).toContain("hidden-slashes.test.js: No such file or directory");
      expect(printed.replace(/cat: \S+: No such file or directory/g, "")).not.toMatch(/solution\.patch|task\.yml|hidden-[a-z]+\.test\.js|wrong\.patch/);

      // Progress: a line per ended attempt on stderr (not a terminal); the table on stdout.
      expect(ran.stderr.match(/^\[\d\/3\] /gm)).toHaveLength(3);
      expect(ran.stdout).toContain("resolved 2/3 = 66.7%");
      expect(ran.stdout).toMatch(new RegExp(`${wrong.id}\\s+1\\s+hidden fail\\s+pass`));

      // The HTML report, opened in Chromium: every attempt a row, the figures, the chart, links that lead to the transcripts.
      const page = await browser.newPage();
      const requests: string[] = [];
      const errors: string[] = [];
      page.on("request", (request) => void requests.push(request.url()));
      page.on("console", (message) => void (message.type() === "error" && errors.push(message.text())));
      await page.goto(pathToFileURL(join(out, "report.html")).href);
      expect(await page.locator("#attempts tbody tr").count()).toBe(3);
      expect(await page.locator("#attempts tbody tr.resolved").count()).toBe(2);
      expect(await page.locator("#resolved-rate").textContent()).toBe("resolved 2/3 = 66.7%");
      expect(await page.locator("#cost-per-resolved").textContent()).toMatch(/^\$\d+\.\d{3} per resolved task$/);
      expect(await page.locator("#cost-turns circle.point").count()).toBe(3);
      expect(await page.locator("#cost-turns circle.resolved").count()).toBe(2);
      const wrongRow = page.locator(`#attempts tr[data-task="${wrong.id}"]`);
      expect(await wrongRow.locator(".verdict").textContent()).toContain("hidden fail");
      const links: string[] = [];
      for (const anchor of await page.locator("#attempts a").all()) links.push(new URL((await anchor.getAttribute("href")) ?? "", page.url()).href);
      expect(links).toHaveLength(3);
      for (const link of links) expect(existsSync(new URL(link))).toBe(true);
      expect(requests.every((url) => url.startsWith("file://"))).toBe(true);
      // What the agent's code printed is in the report as text, never as markup.
      expect(byTask.get(probe.id)?.hiddenTests?.outputTail).toContain('<img id="planted"');
      expect(await page.locator(`#attempts tr[data-task="${probe.id}"] pre`).textContent()).toContain('<img id="planted"');
      expect(await page.locator("#planted").count()).toBe(0);
      expect(await page.title()).toBe("afk eval: claude-sonnet-5-5");
      expect(errors).toEqual([]);
      await page.close();
    },
    EVAL_MS,
  );

  it(
    "--repeat shows the resolved rate's range; --compare runs two prompt sets on the same tasks and says which tasks each won",
    async () => {
      const task = taskFiles("js-lru-cache-recency");
      const other = taskFiles("js-url-join-slashes");
      // Prompt set B is the baseline with one line more; under B the model solves both tasks, under A it gets one wrong.
      const setB = join(root, "prompts-b");
      cpSync(join(REPO_ROOT, "eval", "baseline-prompts"), setB, { recursive: true });
      writeFileSync(join(setB, "system.md"), `${readFileSync(join(setB, "system.md"), "utf8")}\nPROMPT-SET-B: reproduce the bug with a test first.\n`);
      let attempt = 0;
      server.responder = (body) => {
        const messages = Array.isArray(body.messages) ? body.messages : [];
        const first = JSON.stringify(messages[0] ?? "");
        const underB = JSON.stringify(body.system ?? "").includes("PROMPT-SET-B");
        const which = first.includes(JSON.stringify(task.title).slice(1, -1)) ? task : other;
        const turn = assistantTurnsIn(body);
        if (turn === 0) attempt += 1;
        const play = which === other && !underB ? WRONG_OR_NOTHING : GOOD;
        return play(which)[turn] ?? endTurn("Done.");
      };
      const out = join(root, "compare");
      const ran = await runAfk(
        [
          "eval",
          "--compare",
          join(REPO_ROOT, "eval", "baseline-prompts"),
          setB,
          join(TASKS, task.id),
          join(TASKS, other.id),
          "--repeat",
          "2",
          "--jobs",
          "2",
          "--out",
          out,
        ],
        { cwd: root, env: env(join(root, "cache-compare")) },
      );
      expect(ran.stderr).not.toContain("unexpected error");
      expect(ran.code).toBe(0);
      for (const side of ["a-baseline-prompts", "b-prompts-b"]) {
        const attempts = readJson<EvalResults>(join(out, side, "results.json")).attempts;
        expect(attempts.map(({ task, repeat, outcome, note }) => ({ task, repeat, outcome, note }))).toEqual(
          [task.id, task.id, other.id, other.id].sort().map((id, index) => ({ task: id, repeat: (index % 2) + 1, outcome: "passed", note: "" })),
        );
      }
      expect(attempt).toBe(8);
      const comparison = readJson<Comparison>(join(out, "comparison.json"));
      expect(comparison).toMatchObject({ won: 1, lost: 0, tied: 1, a: { label: "baseline-prompts" }, b: { label: "prompts-b" } });
      expect(comparison.a.summary).toMatchObject({ attempts: 4, resolved: 2, rateByRepeat: [0.5, 0.5] });
      expect(comparison.b.summary).toMatchObject({ attempts: 4, resolved: 4, rateRange: { min: 1, max: 1 } });
      expect(ran.stdout).toContain("B against A on 2 tasks: won 1, lost 0, tied 1");
      expect(ran.stdout).toContain(`+ ${other.id}: baseline-prompts 0/2, prompts-b 2/2`);
      expect(ran.stdout).toContain("resolved 2/4 = 50% (range 50%–50% over 2 repeats)");
      for (const side of ["a-baseline-prompts", "b-prompts-b"]) expect(existsSync(join(out, side, "report.html"))).toBe(true);
    },
    EVAL_MS,
  );

  it(
    "runs SWE-bench-style JSONL against a local clone: the test patch judges, and a broken line or a missing clone is named",
    async () => {
      const repos = join(root, "repos");
      const clone = join(repos, "acme__calc");
      mkdirSync(join(clone, "tests"), { recursive: true });
      const git = (...args: string[]) =>
        execFileSync("git", args, {
          cwd: clone,
          env: { ...process.env, GIT_AUTHOR_NAME: "t", GIT_AUTHOR_EMAIL: "t@t", GIT_COMMITTER_NAME: "t", GIT_COMMITTER_EMAIL: "t@t" },
        })
          .toString()
          .trim();
      git("init", "-q", "-b", "main");
      writeFileSync(join(clone, "calc.py"), "def add(a, b):\n    return a - b\n");
      writeFileSync(join(clone, "tests", "__init__.py"), "");
      writeFileSync(
        join(clone, "tests", "test_calc.py"),
        "import unittest\nimport calc\n\nclass T(unittest.TestCase):\n    def test_exists(self):\n        self.assertTrue(callable(calc.add))\n",
      );
      git("add", "-A");
      git("commit", "-q", "-m", "start");
      const base = git("rev-parse", "HEAD");
      const testPatch = [
        "diff --git a/tests/test_add.py b/tests/test_add.py",
        "new file mode 100644",
        "--- /dev/null",
        "+++ b/tests/test_add.py",
        "@@ -0,0 +1,6 @@",
        "+import unittest",
        "+import calc",
        "+",
        "+class TestAdd(unittest.TestCase):",
        "+    def test_adds(self):",
        "+        self.assertEqual(calc.add(2, 3), 5)",
        "",
      ].join("\n");
      const fix = [
        "diff --git a/calc.py b/calc.py",
        "--- a/calc.py",
        "+++ b/calc.py",
        "@@ -1,2 +1,2 @@",
        " def add(a, b):",
        "-    return a - b",
        "+    return a + b",
        "",
      ].join("\n");
      const instance = {
        instance_id: "acme__calc-1",
        repo: "acme/calc",
        base_commit: base,
        problem_statement: "add() subtracts\n\ncalc.add(2, 3) gives -1.",
        test_patch: testPatch,
        FAIL_TO_PASS: JSON.stringify(["tests.test_add.TestAdd.test_adds"]),
        PASS_TO_PASS: JSON.stringify(["tests.test_calc.T.test_exists"]),
      };
      const jsonl = join(root, "instances.jsonl");
      writeFileSync(jsonl, `${JSON.stringify(instance)}\n`);
      server.responder = (body) => {
        const turn = assistantTurnsIn(body);
        return [applyPatch(fix), endTurn("add() adds now.")][turn] ?? endTurn("Done.");
      };
      const out = join(root, "swe");
      const ran = await runAfk(["eval", "--jsonl", jsonl, "--repos", repos, "--test-command", "python3 -m unittest", "--out", out, "--json"], {
        cwd: root,
        env: env(join(root, "cache-swe")),
      });
      expect(ran.stderr).not.toContain("unexpected error");
      expect(ran.code).toBe(0);
      const results = readJson<EvalResults>(join(out, "results.json"));
      // --json: stdout is the same results, for machines (no table).
      expect(JSON.parse(ran.stdout)).toEqual(results);
      expect(results.attempts).toMatchObject([{ task: "acme__calc-1", resolved: true, gate: { passed: true } }]);
      expect(results.tasks[0]).toMatchObject({ title: "add() subtracts", failToPass: ["tests.test_add.TestAdd.test_adds"] });

      // Bad input: said, with what to do, before any model call.
      const requests = server.requests.length;
      writeFileSync(jsonl, `${JSON.stringify({ ...instance, repo: "acme/other" })}\n`);
      const noClone = await runAfk(["eval", "--jsonl", jsonl, "--repos", repos, "--test-command", "python3 -m unittest"], {
        cwd: root,
        env: env(join(root, "cache-swe")),
      });
      expect(noClone.code).toBe(2);
      expect(noClone.stderr).toContain("no clone of acme/other in");
      writeFileSync(jsonl, `${JSON.stringify({ ...instance, base_commit: "deadbeef" })}\n`);
      const noCommit = await runAfk(["eval", "--jsonl", jsonl, "--repos", repos, "--test-command", "python3 -m unittest"], {
        cwd: root,
        env: env(join(root, "cache-swe")),
      });
      expect(noCommit.code).toBe(2);
      expect(noCommit.stderr).toContain(`has no commit deadbeef; fetch it there (git -C ${clone} fetch origin deadbeef)`);
      writeFileSync(jsonl, `${JSON.stringify(instance)}\n{"instance_id": "x"\n`);
      const broken = await runAfk(["eval", "--jsonl", jsonl, "--repos", repos, "--test-command", "python3 -m unittest"], {
        cwd: root,
        env: env(join(root, "cache-swe")),
      });
      expect(broken.code).toBe(2);
      expect(broken.stderr).toContain("line 2 is not JSON");
      writeFileSync(jsonl, `${JSON.stringify(instance)}\n`);
      const noCommand = await runAfk(["eval", "--jsonl", jsonl, "--repos", repos], { cwd: root, env: env(join(root, "cache-swe")) });
      expect(noCommand.code).toBe(2);
      expect(noCommand.stderr).toContain('has no test_command: add one to the line, or give --test-command "CMD"');
      expect(server.requests.length).toBe(requests);
    },
    EVAL_MS,
  );

  it(
    "--check proves every bundled task without a model (hidden tests fail at the start, pass with the solution, fail with the wrong fix), and names a task whose patches are swapped",
    async () => {
      const ran = await runAfk(["eval", "--check", "--jobs", "2"], { cwd: root, env: { AFK_CACHE_DIR: join(root, "cache-check"), HOME: root } });
      expect(ran.stderr).toBe("");
      expect(ran.code).toBe(0);
      const tasks = readdirSync(TASKS).length;
      expect(tasks).toBeGreaterThanOrEqual(20);
      expect(ran.stdout).toContain(`${tasks} tasks checked: all proved`);
      expect(ran.stdout.match(/^ok {3}\S+: hidden tests pass with solution\.patch$/gm)).toHaveLength(tasks);
      expect(ran.stdout.match(/^ok {3}\S+: hidden tests fail with wrong\.patch$/gm)?.length).toBeGreaterThanOrEqual(6);
      expect(ran.stdout).not.toContain("FAIL");

      // A task whose solution is the wrong fix: --check says which check fails and shows the tests' output.
      const broken = join(root, "suite", "js-lru-cache-recency");
      cpSync(join(TASKS, "js-lru-cache-recency"), broken, { recursive: true });
      writeFileSync(join(broken, "solution.patch"), readFileSync(join(broken, "wrong.patch")));
      const failed = await runAfk(["eval", "--check", join(root, "suite")], { cwd: root, env: { AFK_CACHE_DIR: join(root, "cache-check"), HOME: root } });
      expect(failed.code).toBe(1);
      expect(failed.stdout).toContain("FAIL js-lru-cache-recency: hidden tests pass with solution.patch");
      expect(failed.stdout).toMatch(/fail \d+/);
      expect(failed.stdout).toContain("1 task checked: 1 check failed");

      // A task that ships a repository of its own making (repo/.git with an fsmonitor that would run on afk's host) is refused before afk's git looks at it.
      const planted = join(root, "planted", "js-lru-cache-recency");
      cpSync(join(TASKS, "js-lru-cache-recency"), planted, { recursive: true });
      const marker = join(root, "fsmonitor-ran");
      mkdirSync(join(planted, "repo", ".git"), { recursive: true });
      writeFileSync(join(planted, "repo", ".git", "config"), `[core]\n\tfsmonitor = "touch ${marker}; false"\n`);
      const refused = await runAfk(["eval", "--check", join(root, "planted")], { cwd: root, env: { AFK_CACHE_DIR: join(root, "cache-check"), HOME: root } });
      expect(refused.code).toBe(1);
      expect(refused.stdout).toContain("FAIL js-lru-cache-recency: starting commit");
      expect(refused.stdout).toContain("repo/ must be a plain tree, but it holds repo/.git; give a repository with history as repo.bundle instead");
      expect(existsSync(marker)).toBe(false);
    },
    EVAL_MS,
  );
});

/** The wrong fix where the task has one, else nothing at all. */
const WRONG_OR_NOTHING: Play = (task) => (task.wrong === undefined ? [endTurn("Nothing to do.")] : WRONG(task));
