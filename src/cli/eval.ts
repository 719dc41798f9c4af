import { mkdir, realpath, rm, stat, writeFile } from "node:fs/promises";
import { basename, join, resolve } from "node:path";
import { readOperatorSettings, OperatorSettingsError } from "../config/operator-settings.js";
import { DEFAULT_MODEL } from "../config/repo-config.js";
import { knownModels, priceOf } from "../executor/agent/model-pricing.js";
import { WorkspaceCache } from "../executor/workspace.js";
import { errorMessage } from "../github/types.js";
import { compare, type EvalResults } from "../eval/eval-record.js";
import type { EvalTask } from "../eval/eval-task.js";
import { BUNDLED_TASKS, loadSweBench, loadTaskDirs, pathExists, TaskError } from "../eval/load-tasks.js";
import { renderComparison, renderHtmlReport, renderTable, attemptVerdict, percent } from "../eval/render-eval.js";
import { checkTask, inPool, runEval, type EvalEvent } from "../eval/run-eval.js";
import { EXIT, type CliCommand } from "./parse-cli-args.js";
import { terminalSafe } from "./terminal-text.js";

/** Where `afk eval` writes: `out` for results (stdout), `err` for progress, errors and warnings (stderr). */
export interface EvalIo {
  env: NodeJS.ProcessEnv;
  cwd: string;
  out: (text: string) => void;
  err: (text: string) => void;
  /** stderr is a terminal: the progress bar redraws one line instead of printing a line an attempt. */
  progressBar: ((line: string) => void) | undefined;
  signal: AbortSignal;
  now?: () => Date;
  /** Told of every attempt's start, phase and end, besides the progress shown (the bench times attempts with it). */
  onEvent?: (event: EvalEvent) => void;
}

type EvalCommand = Extract<CliCommand, { kind: "eval" }>;

/** One side of a run: the prompt set and the model it uses, and the label its results carry. */
interface Variant {
  label: string;
  model: string;
  promptsDir: string | undefined;
}

/** `afk eval` (see `afk eval --help`). Returns the exit code. */
export async function runEvalCommand(command: EvalCommand, io: EvalIo): Promise<number> {
  const fail = (message: string, code: number): number => {
    io.err(`afk eval: ${terminalSafe(message)}${code === EXIT.usage ? " (see afk eval --help)" : ""}`);
    return code;
  };
  let settings;
  try {
    settings = readOperatorSettings(io.env);
  } catch (error) {
    if (error instanceof OperatorSettingsError) return fail(error.message, EXIT.usage);
    throw error;
  }
  let tasks: EvalTask[];
  try {
    tasks = command.jsonl
      ? await loadSweBench(resolve(io.cwd, command.jsonl.file), resolve(io.cwd, command.jsonl.repos), command.jsonl.testCommand)
      : await loadTaskDirs(command.paths.length > 0 ? command.paths.map((path) => resolve(io.cwd, path)) : [BUNDLED_TASKS]);
  } catch (error) {
    if (error instanceof TaskError) return fail(error.message, EXIT.usage);
    throw error;
  }

  const runDir = join(settings.cacheDir, "eval", `${Date.now().toString(36)}-${process.pid}`);
  const sandbox = { allowUnsandboxed: settings.allowUnsandboxed, allowHostNetwork: settings.allowHostNetwork };
  try {
    if (command.check) return await checkSuite(tasks, command.jobs, runDir, sandbox, io);

    const apiKey = io.env.ANTHROPIC_API_KEY?.trim();
    if (apiKey === undefined || apiKey === "") return fail("ANTHROPIC_API_KEY is not set: export it (an Anthropic API key) and run again.", EXIT.failed);
    const variants = await variantsOf(command, settings.model ?? DEFAULT_MODEL, io.cwd);
    if (typeof variants === "string") return fail(variants, EXIT.usage);

    const stamp = (io.now?.() ?? new Date()).toISOString().replace(/[:T]/g, "-").replace(/\..*$/, "");
    const resultsDir = resolve(io.cwd, command.out ?? join("afk-eval", stamp));
    await mkdir(resultsDir, { recursive: true });
    const results: EvalResults[] = [];
    for (const [index, variant] of variants.entries()) {
      const dir = variants.length === 1 ? resultsDir : join(resultsDir, `${index === 0 ? "a" : "b"}-${variant.label.replace(/[^A-Za-z0-9._-]+/g, "-")}`);
      await mkdir(dir, { recursive: true });
      const price = priceOf(variant.model);
      if (price === undefined) return fail(`afk has no price for the model ${variant.model}; use one of: ${knownModels().join(", ")}.`, EXIT.usage);
      io.err(
        terminalSafe(
          `afk eval: ${variant.label}: ${tasks.length} task${tasks.length === 1 ? "" : "s"} × ${command.repeat}, ${command.jobs} at a time, model ${variant.model}`,
        ),
      );
      const report = progressReporter(io);
      let result: EvalResults;
      try {
        result = await runEval(tasks, {
          label: variant.label,
          repeat: command.repeat,
          jobs: command.jobs,
          workDir: join(runDir, String(index)),
          resultsDir: dir,
          workspaces: new WorkspaceCache({ cacheDir: join(runDir, String(index), "cache"), sandbox }),
          model: variant.model,
          price,
          apiKey,
          baseUrl: io.env.ANTHROPIC_BASE_URL,
          modelRetries: settings.modelRetries,
          maxUsd: command.maxUsd,
          promptsDir: variant.promptsDir,
          ...sandbox,
          // Other attempts' transcripts (and a solved one's change) are in the results directory.
          hiddenPaths: [resultsDir],
          signal: io.signal,
          onEvent: (event) => {
            report(event);
            io.onEvent?.(event);
          },
        });
      } catch (error) {
        if (error instanceof TaskError) return fail(error.message, EXIT.usage);
        throw error;
      }
      results.push(result);
      await writeFile(join(dir, "results.json"), `${JSON.stringify(result, null, 2)}\n`);
      await writeFile(join(dir, "report.html"), renderHtmlReport(result));
      if (!command.json) {
        io.out(terminalSafe(renderTable(result)));
        io.out(`results: ${join(dir, "results.json")}\nreport:  ${join(dir, "report.html")}\n`);
      }
    }
    const [a, b] = results;
    if (a !== undefined && b !== undefined) {
      const comparison = compare(a, b);
      await writeFile(join(resultsDir, "comparison.json"), `${JSON.stringify(comparison, null, 2)}\n`);
      if (command.json) io.out(JSON.stringify({ a, b, comparison }, null, 2));
      else io.out(terminalSafe(renderComparison(comparison)));
    } else if (a !== undefined && command.json) io.out(JSON.stringify(a, null, 2));
    if (io.signal.aborted) return fail("interrupted: the results hold the attempts that ended", EXIT.failed);
    const notStarted = results.flatMap((result) => result.attempts).filter((attempt) => attempt.outcome === "not-started");
    if (notStarted.length > 0 && notStarted.length === results.reduce((sum, result) => sum + result.attempts.length, 0))
      return fail(`no attempt started: ${notStarted[0]?.note ?? "see results.json"}`, EXIT.failed);
    return EXIT.ok;
  } finally {
    await rm(runDir, { recursive: true, force: true }).catch(() => undefined);
  }
}

/** The one or two variants to run: `--compare A B` (each a prompt set directory or a model id), else `--prompts`/`--model`. */
async function variantsOf(command: EvalCommand, defaultModel: string, cwd: string): Promise<Variant[] | string> {
  const promptSet = async (path: string): Promise<string | undefined> => {
    const full = resolve(cwd, path);
    const isDir = await stat(full).then(
      (info) => info.isDirectory(),
      () => false,
    );
    if (!isDir) return undefined;
    const real = await realpath(full);
    if (!(await pathExists(join(real, "system.md"))))
      throw new Error(`${path} is not a prompt set: it has no system.md (a prompt set is a directory like afk's prompts/)`);
    return real;
  };
  try {
    if (command.compare === undefined) {
      const promptsDir = command.prompts === undefined ? undefined : await promptSet(command.prompts);
      if (command.prompts !== undefined && promptsDir === undefined) return `--prompts ${command.prompts} is not a directory`;
      const model = command.model ?? defaultModel;
      return [{ label: promptsDir === undefined ? model : `${basename(promptsDir)} (${model})`, model, promptsDir }];
    }
    const sides: Variant[] = [];
    for (const side of command.compare) {
      const promptsDir = await promptSet(side);
      if (promptsDir !== undefined) sides.push({ label: basename(promptsDir), model: defaultModel, promptsDir });
      else if (priceOf(side) !== undefined) sides.push({ label: side, model: side, promptsDir: undefined });
      else return `--compare ${side}: neither a prompt set directory nor a model afk knows (${knownModels().join(", ")})`;
    }
    const [first, second] = sides;
    if (first !== undefined && second !== undefined && first.label === second.label) second.label = `${second.label} (B)`;
    return sides;
  } catch (error) {
    return errorMessage(error);
  }
}

/** Progress on stderr: a bar redrawn in place on a terminal, else a line per attempt that ends. */
export function progressReporter(io: EvalIo): (event: EvalEvent) => void {
  const running = new Map<string, string>();
  let resolved = 0;
  let usd = 0;
  let done = 0;
  let total = 0;
  return (event) => {
    const key = `${event.kind === "ended" ? event.record.task : event.task}#${event.kind === "ended" ? event.record.repeat : event.repeat}`;
    if (event.kind === "started") running.set(key, "workspace");
    else if (event.kind === "phase") running.set(key, event.phase);
    else {
      running.delete(key);
      done = event.done;
      total = event.total;
      if (event.record.resolved) resolved += 1;
      usd += event.record.usd;
      if (io.progressBar === undefined) {
        const record = event.record;
        io.err(
          terminalSafe(
            `[${done}/${total}] ${record.task} #${record.repeat}: ${attemptVerdict(record)} (${record.turns} turns, $${record.usd.toFixed(3)}, ${(record.wallMs / 1000).toFixed(1)} s)`,
          ),
        );
      }
    }
    if (io.progressBar !== undefined) {
      const width = 24;
      const filled = total === 0 ? 0 : Math.round((done / total) * width);
      const now = [...running.entries()].map(([name, phase]) => `${name} ${phase}`).join(", ");
      const rate = done === 0 ? "-" : percent(resolved / done);
      io.progressBar(
        terminalSafe(`[${"#".repeat(filled)}${"-".repeat(width - filled)}] ${done}/${total || "?"} resolved ${rate} $${usd.toFixed(2)}  ${now}`.slice(0, 160)),
      );
    }
  };
}

/** `afk eval --check`: every task proved without a model, `jobs` at a time; a line per check (in task order), failures with the output's end. */
async function checkSuite(
  tasks: readonly EvalTask[],
  jobs: number,
  runDir: string,
  sandbox: { allowUnsandboxed: boolean; allowHostNetwork: boolean },
  io: EvalIo,
): Promise<number> {
  const workspaces = new WorkspaceCache({ cacheDir: join(runDir, "cache"), sandbox });
  const findings = await inPool(tasks, jobs, (task) => checkTask(task, { workspaces, workDir: runDir, ...sandbox, signal: io.signal }));
  let failed = 0;
  for (const finding of findings.flat()) {
    if (!finding.ok) failed += 1;
    io.out(
      terminalSafe(`${finding.ok ? "ok  " : "FAIL"} ${finding.task}: ${finding.check}${finding.ok ? "" : `\n${finding.detail.replace(/^/gm, "       ")}`}`),
    );
  }
  io.out(`${tasks.length} task${tasks.length === 1 ? "" : "s"} checked: ${failed === 0 ? "all proved" : `${failed} check${failed === 1 ? "" : "s"} failed`}`);
  return failed === 0 ? EXIT.ok : EXIT.failed;
}
