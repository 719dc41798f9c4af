// npm run bench, part: `afk eval`'s judging over the whole bundled suite, merged into bench/results.json.
// The scripted model (test/helpers/model-server.ts, one conversation per attempt) plays each task's
// solution.patch, then, in a second run, each wrong.patch. afk eval runs in this process
// (runEvalCommand, as the CLI calls it), two attempts at a time.
//
//   eval_judging_accuracy         attempts judged right (solution → resolved, wrong fix → not resolved) over all; target 1
//   eval_wrong_fixes_gate_passed  wrong fixes that afk's gate (the visible tests) passed: only the hidden tests told them apart
//   eval_attempt_s                seconds an attempt takes (median), worktree to verdict, with the scripted model
//   eval_judge_share              of an attempt's time, the share after the agent's session (commit and hidden tests)
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse as parseYaml } from "yaml";
import { runEvalCommand } from "../src/cli/eval.js";
import { parseCliArgs } from "../src/cli/parse-cli-args.js";
import type { EvalResults } from "../src/eval/eval-record.js";
import { assistantTurnsIn, endTurn, toolTurn } from "../test/helpers/git-scenario.js";
import { ModelServer } from "../test/helpers/model-server.js";

const TASKS = "eval/tasks";
const JOBS = 2;

interface Task {
  id: string;
  title: string;
  solution: string;
  wrong: string | undefined;
}

const tasks: Task[] = readdirSync(TASKS)
  .sort()
  .map((id) => {
    const dir = join(TASKS, id);
    const file = parseYaml(readFileSync(join(dir, "task.yml"), "utf8")) as { title: string };
    return {
      id,
      title: file.title,
      solution: readFileSync(join(dir, "solution.patch"), "utf8"),
      wrong: existsSync(join(dir, "wrong.patch")) ? readFileSync(join(dir, "wrong.patch"), "utf8") : undefined,
    };
  });

const root = mkdtempSync(join(tmpdir(), "afk-bench-eval-"));
const server = await ModelServer.start([]);
server.simulateCaching = true;

/** One `afk eval` over `ids`, the model applying `patchOf(task)` and ending its turn. */
async function evalRun(name: string, ids: string[], patchOf: (task: Task) => string): Promise<{ results: EvalResults; phases: Map<string, number> }> {
  server.responder = (body) => {
    const messages = Array.isArray(body.messages) ? body.messages : [];
    const first = JSON.stringify(messages[0] ?? "");
    const task = tasks.find((candidate) => first.includes(JSON.stringify(candidate.title).slice(1, -1)));
    const turn = assistantTurnsIn(body);
    if (task === undefined) return endTurn("No task.");
    const patch = patchOf(task);
    const script = [toolTurn("bash", { command: `git apply --whitespace=nowarn - <<'AFK_PATCH_END'\n${patch}\nAFK_PATCH_END` }), endTurn(`Fixed ${task.id}.`)];
    return script[turn] ?? endTurn("Done.");
  };
  const out = join(root, name);
  const command = parseCliArgs(["eval", ...ids.map((id) => join(TASKS, id)), "--jobs", String(JOBS), "--out", out]);
  if (command.kind !== "eval") throw new Error(`bench: ${JSON.stringify(command)}`);
  // When each attempt's session ended (the judge phase began), to split the attempt's time.
  const judgeStarted = new Map<string, number>();
  const attemptStarted = new Map<string, number>();
  const phases = new Map<string, number>();
  const code = await runEvalCommand(command, {
    env: { ...process.env, ANTHROPIC_API_KEY: "sk-ant-bench", ANTHROPIC_BASE_URL: server.url, AFK_CACHE_DIR: join(root, `cache-${name}`) },
    cwd: process.cwd(),
    out: () => undefined,
    err: () => undefined,
    progressBar: undefined,
    signal: new AbortController().signal,
    onEvent: (event) => {
      if (event.kind === "started") attemptStarted.set(`${event.task}#${event.repeat}`, Date.now());
      if (event.kind === "phase" && event.phase === "judge") judgeStarted.set(`${event.task}#${event.repeat}`, Date.now());
      if (event.kind === "ended") {
        const key = `${event.record.task}#${event.record.repeat}`;
        const start = attemptStarted.get(key);
        const judge = judgeStarted.get(key);
        const now = Date.now();
        if (start !== undefined && judge !== undefined) phases.set(key, (now - judge) / (now - start));
      }
    },
  });
  if (code !== 0) throw new Error(`bench: afk eval ${name} exited ${code}`);
  return { results: JSON.parse(readFileSync(join(out, "results.json"), "utf8")) as EvalResults, phases };
}

const started = Date.now();
const good = await evalRun(
  "solutions",
  tasks.map((task) => task.id),
  (task) => task.solution,
);
const withWrong = tasks.filter((task) => task.wrong !== undefined);
const wrong = await evalRun(
  "wrong-fixes",
  withWrong.map((task) => task.id),
  (task) => task.wrong ?? "",
);
await server.close();
rmSync(root, { recursive: true, force: true });

const judgedRight = good.results.attempts.filter((attempt) => attempt.resolved).length + wrong.results.attempts.filter((attempt) => !attempt.resolved).length;
const total = good.results.attempts.length + wrong.results.attempts.length;
const attempts = [...good.results.attempts, ...wrong.results.attempts];
const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
};
const round = (value: number, digits = 2): number => Number(value.toFixed(digits));
const figures = {
  eval_judging_accuracy: round(judgedRight / total, 3),
  eval_wrong_fixes_gate_passed: wrong.results.attempts.filter((attempt) => attempt.gate?.passed === true).length,
  eval_attempt_s: round(median(attempts.map((attempt) => attempt.wallMs / 1000)), 1),
  eval_judge_share: round(median([...good.phases.values(), ...wrong.phases.values()])),
};
const resultsPath = "bench/results.json";
const previous = existsSync(resultsPath) ? (JSON.parse(readFileSync(resultsPath, "utf8")) as Record<string, unknown>) : {};
writeFileSync(resultsPath, `${JSON.stringify({ ...previous, ...figures, eval_measured_at: new Date().toISOString() }, null, 2)}\n`);

const misjudged = [
  ...good.results.attempts.filter((attempt) => !attempt.resolved).map((attempt) => `${attempt.task} (solution judged not resolved)`),
  ...wrong.results.attempts.filter((attempt) => attempt.resolved).map((attempt) => `${attempt.task} (wrong fix judged resolved)`),
];
console.log(`afk eval bench: the bundled suite (${tasks.length} tasks, ${withWrong.length} with a wrong fix), scripted model, ${JOBS} attempts at a time`);
console.log(
  `  eval_judging_accuracy         ${figures.eval_judging_accuracy} (${judgedRight}/${total} judged right)${misjudged.length > 0 ? `; misjudged: ${misjudged.join(", ")}` : ""}`,
);
console.log(`  eval_wrong_fixes_gate_passed  ${figures.eval_wrong_fixes_gate_passed}/${withWrong.length} (afk's gate alone would have called them done)`);
console.log(`  eval_attempt_s (median)       ${figures.eval_attempt_s}`);
console.log(`  eval_judge_share (median)     ${figures.eval_judge_share}`);
console.log(`  whole bench                   ${round((Date.now() - started) / 1000, 0)} s`);
