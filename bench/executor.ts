// npm run bench (second part): the executor's figures, measured in one run on this machine, merged
// into bench/results.json:
//   workspace_warm_cold_ratio  warm fetch + worktree vs a fresh clone + worktree of a generated repository
//                              of 20,000 files and 3,000 commits (target ≤ 0.25)
//   cache_read_fraction        share of input tokens billed as cache reads over a scripted 20-turn session,
//                              billed by the model server's simulation of prompt caching (target ≥ 0.8)
//   run_overhead_ms            a whole App run (label to settled) minus model time and test time (target ≤ 3000)
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AgentSession } from "../src/executor/agent/agent-session.js";
import { createModelClient } from "../src/executor/agent/model-client.js";
import { priceOf } from "../src/executor/agent/model-pricing.js";
import { WorkspaceTools } from "../src/executor/agent/workspace-tools.js";
import { renderPrompt } from "../src/executor/render-prompt.js";
import { createSandbox } from "../src/executor/sandbox.js";
import { WorkspaceCache } from "../src/executor/workspace.js";
import { GitHttpServer } from "../test/helpers/git-http-server.js";
import { ModelServer, type ScriptedTurn } from "../test/helpers/model-server.js";
import { endTurn, toolTurn } from "../test/helpers/git-scenario.js";
import { buildWorld } from "../test/helpers/world/build-world.js";

const root = mkdtempSync(join(tmpdir(), "afk-bench-executor-"));
const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
};
const round = (value: number): number => Math.round(value * 100) / 100;

/** A bare repository of `files` files and `commits` commits, written with git fast-import. */
function generateRepository(path: string, files: number, commits: number): void {
  execFileSync("git", ["init", "--quiet", "--bare", "--initial-branch", "main", path]);
  const parts: string[] = [];
  const data = (text: string): string => `data ${Buffer.byteLength(text)}\n${text}\n`;
  let time = 1_700_000_000;
  const commit = (message: string, changes: string[]): void => {
    parts.push(`commit refs/heads/main\ncommitter Bench <bench@example.com> ${time++} +0000\n${data(message)}${changes.join("")}`);
  };
  const initial: string[] = [];
  for (let index = 0; index < files; index += 1)
    initial.push(`M 100644 inline src/d${index % 200}/file-${index}.txt\n${data(`file ${index}\n${"line\n".repeat(20)}`)}`);
  commit("Initial commit", initial);
  for (let index = 1; index < commits; index += 1)
    commit(`Change ${index}`, [`M 100644 inline src/d${index % 200}/file-${index % files}.txt\n${data(`file ${index % files} revision ${index}\n`)}`]);
  const result = spawnSync("git", ["--git-dir", path, "fast-import", "--quiet"], { input: parts.join(""), maxBuffer: 1 << 30 });
  if (result.status !== 0) throw new Error(`git fast-import failed: ${result.stderr.toString()}`);
}

async function measureWorkspace(): Promise<{ cold_ms: number; warm_ms: number; workspace_warm_cold_ratio: number; files: number; commits: number }> {
  const files = 20_000;
  const commits = 3_000;
  const remoteRoot = join(root, "remote");
  const bare = join(remoteRoot, "bench", "big.git");
  mkdirSync(join(remoteRoot, "bench"), { recursive: true });
  const generated = performance.now();
  generateRepository(bare, files, commits);
  console.log(`generated ${files} files and ${commits} commits in ${Math.round(performance.now() - generated)} ms`);
  const server = await GitHttpServer.start({ root: remoteRoot });
  const url = server.cloneUrl("bench/big");
  const cold: number[] = [];
  const warm: number[] = [];
  try {
    for (let sample = 0; sample < 3; sample += 1) {
      const cacheDir = join(root, `cache-${sample}`);
      const cache = new WorkspaceCache({ cacheDir, sandbox: { allowUnsandboxed: false } });
      let started = performance.now();
      const first = await cache.open({ cloneUrl: url, ref: "main", runId: `cold-${sample}` });
      cold.push(performance.now() - started);
      await first.remove();
      // One upstream commit between runs, as a busy repository has.
      const work = join(root, `upstream-${sample}`);
      execFileSync("git", ["clone", "--quiet", "--depth", "1", `file://${bare}`, work]);
      writeFileSync(join(work, "CHANGELOG.md"), `sample ${sample}\n`);
      execFileSync("git", ["-C", work, "add", "CHANGELOG.md"]);
      execFileSync("git", ["-C", work, "-c", "user.name=b", "-c", "user.email=b@x", "commit", "--quiet", "-m", `upstream ${sample}`]);
      execFileSync("git", ["-C", work, "push", "--quiet", "origin", "HEAD:main"]);
      rmSync(work, { recursive: true, force: true });
      started = performance.now();
      const second = await cache.open({ cloneUrl: url, ref: "main", runId: `warm-${sample}` });
      warm.push(performance.now() - started);
      if (!existsSync(join(second.path, "CHANGELOG.md"))) throw new Error("the warm worktree missed the upstream commit");
      await second.remove();
      rmSync(cacheDir, { recursive: true, force: true });
    }
  } finally {
    await server.close();
  }
  return { cold_ms: round(median(cold)), warm_ms: round(median(warm)), workspace_warm_cold_ratio: round(median(warm) / median(cold)), files, commits };
}

async function measureCacheReads(): Promise<{ cache_read_fraction: number; session_input_tokens: number }> {
  const worktree = join(root, "session", "worktree");
  mkdirSync(join(worktree, "src"), { recursive: true });
  mkdirSync(join(root, "session", "home"));
  for (let index = 0; index < 20; index += 1)
    writeFileSync(
      join(worktree, "src", `module-${index}.ts`),
      `export function f${index}(x: number): number {\n${"  // a line of code that the agent reads\n".repeat(60)}  return x + ${index};\n}\n`,
    );
  const script: ScriptedTurn[] = [];
  for (let index = 0; index < 19; index += 1) script.push(toolTurn("bash", { command: `cat src/module-${index}.ts` }));
  script.push(endTurn("Read every module."));
  const model = await ModelServer.start(script);
  model.simulateCaching = true;
  try {
    const sandbox = await createSandbox({ worktree, home: join(root, "session", "home") }, { allowUnsandboxed: false });
    const price = priceOf("claude-sonnet-5-5");
    if (price === undefined) throw new Error("no price for the default model");
    const session = new AgentSession({
      client: createModelClient({ apiKey: "sk-ant-bench", baseURL: model.url, maxRetries: 0 }),
      model: "claude-sonnet-5-5",
      price,
      system: await renderPrompt("system", { worktree, network: "off", test_command: "npm test", protected_paths: ".github/workflows/**" }),
      tools: new WorkspaceTools({ sandbox, commandTimeoutMs: 30_000, network: false, maxResultChars: 30_000, secrets: [] }),
      budget: { maxTurns: 100, maxUsd: 100, deadline: Date.now() + 600_000 },
      signal: new AbortController().signal,
    });
    const task = await renderPrompt("implement", {
      repository: "bench/app",
      issue_number: "1",
      issue_title: "Read the modules",
      issue_body: "Read every module and summarise.\n".repeat(40),
      discussion: "(no comments from trusted people)",
      repo_instructions: "The repository has no agent instructions.",
      approved_plan: "",
    });
    const stop = await session.send(task);
    if (stop.kind !== "finished" || session.progress.turns !== 20) throw new Error(`the session did not run 20 turns: ${JSON.stringify(stop)}`);
    const usage = session.progress.usage;
    const billed = usage.input + usage.cacheWrite + usage.cacheRead;
    return { cache_read_fraction: round(usage.cacheRead / billed), session_input_tokens: billed };
  } finally {
    await model.close();
  }
}

async function measureRunOverhead(): Promise<{ run_overhead_ms: number; run_total_ms: number; run_model_ms: number; run_test_ms: number }> {
  const samples: Array<{ total: number; model: number; test: number }> = [];
  for (let sample = 0; sample < 3; sample += 1) {
    const world = await buildWorld({
      checkResponses: false,
      repos: [{ owner: "bench-org", name: "app", installationId: 77, roles: { "wes-write": "write" }, git: true }],
      model: [
        toolTurn("bash", { command: "cat src/math.js" }),
        toolTurn("str_replace_based_edit_tool", {
          command: "create",
          path: "test/more.test.js",
          file_text: 'import { test } from "node:test";\ntest("more", () => {});\n',
        }),
        endTurn("Added a test."),
      ],
      name: "afk-bench-run-",
    });
    const { github, model, root: dir } = world;
    const repo = world.repo("bench-org/app");
    const afk = await world.startAfk();
    const issue = repo.issue({ title: "More tests", body: "Add a test.", user: "wes-write" });
    const payload = repo.labelPayload(issue, "wes-write");
    const started = performance.now();
    await afk.deliver("issues", payload);
    await afk.idle();
    const total = performance.now() - started;
    if (github.pulls("bench-org/app").length !== 1) throw new Error("the benchmark run did not open a pull request");
    // The test command's own time: the same command in the same kind of sandbox, on the same files.
    const sandboxDir = join(dir, "gate");
    execFileSync("git", ["clone", "--quiet", repo.remote, sandboxDir]);
    mkdirSync(join(dir, "gate-home"));
    const sandbox = await createSandbox({ worktree: sandboxDir, home: join(dir, "gate-home") }, { allowUnsandboxed: false });
    const testRuns: number[] = [];
    for (let index = 0; index < 3; index += 1) testRuns.push((await sandbox.run("node --test", { timeoutMs: 60_000, network: false })).durationMs);
    const modelMs = model.requests.reduce((sum, request) => sum + (request.durationMs ?? 0), 0);
    samples.push({ total, model: modelMs, test: median(testRuns) });
    await world.close();
  }
  const overheads = samples.map((sample) => sample.total - sample.model - sample.test);
  const middle = samples[overheads.indexOf(median(overheads))] ?? samples[0];
  return {
    run_overhead_ms: round(median(overheads)),
    run_total_ms: round(middle?.total ?? 0),
    run_model_ms: round(middle?.model ?? 0),
    run_test_ms: round(middle?.test ?? 0),
  };
}

try {
  const workspace = await measureWorkspace();
  const cache = await measureCacheReads();
  const overhead = await measureRunOverhead();
  const figures = { ...workspace, ...cache, ...overhead };
  const resultsPath = "bench/results.json";
  const previous = existsSync(resultsPath) ? (JSON.parse(readFileSync(resultsPath, "utf8")) as Record<string, unknown>) : {};
  const executorFigures = {
    workspace_warm_cold_ratio: figures.workspace_warm_cold_ratio,
    workspace_cold_ms: figures.cold_ms,
    workspace_warm_ms: figures.warm_ms,
    cache_read_fraction: figures.cache_read_fraction,
    run_overhead_ms: figures.run_overhead_ms,
    run_total_ms: figures.run_total_ms,
    run_model_ms: figures.run_model_ms,
    run_test_ms: figures.run_test_ms,
    executor_measured_at: new Date().toISOString(),
  };
  writeFileSync(resultsPath, `${JSON.stringify({ ...previous, ...executorFigures }, null, 2)}\n`);
  const rows: Array<[string, string, string]> = [
    [`workspace warm / cold (${workspace.files} files, ${workspace.commits} commits)`, `${figures.warm_ms} ms / ${figures.cold_ms} ms`, ""],
    ["workspace_warm_cold_ratio", String(figures.workspace_warm_cold_ratio), "≤ 0.25"],
    ["cache_read_fraction (20 turns)", String(figures.cache_read_fraction), "≥ 0.8"],
    ["run total / model / tests", `${figures.run_total_ms} / ${figures.run_model_ms} / ${figures.run_test_ms} ms`, ""],
    ["run_overhead_ms", String(figures.run_overhead_ms), "≤ 3000"],
  ];
  for (const [name, value, target] of rows) console.log(`${name.padEnd(58)} ${value.padEnd(28)} ${target}`);
  const missed = [
    figures.workspace_warm_cold_ratio > 0.25
      ? "workspace_warm_cold_ratio (a fresh worktree checks out every file; on loopback the fetch is a small part of a clone)"
      : "",
    figures.cache_read_fraction < 0.8 ? "cache_read_fraction" : "",
    figures.run_overhead_ms > 3000 ? "run_overhead_ms" : "",
  ].filter((name) => name.length > 0);
  console.log(missed.length === 0 ? "all targets met" : `targets missed: ${missed.join("; ")}`);
} finally {
  rmSync(root, { recursive: true, force: true });
}
