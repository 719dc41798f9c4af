// npm run bench (part): afk's memory while the agent's editor reads a hostile file, merged into
// bench/results.json:
//   agent_big_file_rss_mb   afk's peak resident-memory growth, MB, while the editor views a 1 GB sparse
//                           file whole (refused), reads line ranges of it (at its start, in its middle,
//                           and past how far a range reads), as `truncate -s 1G` makes it (target < 50)
//   agent_big_file_ms       the time those editor calls took together, ms (context)
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { WorkspaceTools } from "../src/executor/agent/workspace-tools.js";
import { createSandbox } from "../src/executor/sandbox.js";
import { watchRss } from "../test/helpers/rss-growth.js";

const root = mkdtempSync(join(tmpdir(), "afk-bench-agent-files-"));
try {
  const worktree = join(root, "worktree");
  mkdirSync(worktree);
  mkdirSync(join(root, "home"));
  // 100,000 lines of text, then zeros to 1 GB on no disk: what an agent's `truncate -s 1G` leaves.
  writeFileSync(join(worktree, "big.log"), Array.from({ length: 100_000 }, (_, index) => `line ${index + 1} of the log`).join("\n"));
  truncateSync(join(worktree, "big.log"), 1024 * 1024 * 1024);
  const sandbox = await createSandbox({ worktree, home: join(root, "home") }, { allowUnsandboxed: false });
  const tools = new WorkspaceTools({ sandbox, commandTimeoutMs: 30_000, network: false, maxResultChars: 30_000, secrets: [] });
  const calls = [
    { command: "view", path: "big.log" },
    { command: "view", path: "big.log", view_range: [1, 50] },
    { command: "view", path: "big.log", view_range: [50_000, 50_100] },
    { command: "view", path: "big.log", view_range: [99_990, -1] },
    { command: "view", path: "big.log", view_range: [200_000, 200_010] },
    { command: "str_replace", path: "big.log", old_str: "line 1 ", new_str: "line one " },
  ];
  // Settle the heap first, so the figure is the calls' own.
  await tools.execute("str_replace_based_edit_tool", { command: "view", path: "." });
  const watch = watchRss();
  const started = performance.now();
  const outcomes: string[] = [];
  for (const call of calls) {
    const result = await tools.execute("str_replace_based_edit_tool", call);
    outcomes.push(`${JSON.stringify(call)} → ${result.isError ? "refused" : "ok"}: ${result.content.slice(0, 140).replaceAll("\n", " | ")}`);
  }
  const elapsed = performance.now() - started;
  const growth = watch.stop();
  for (const outcome of outcomes) console.log(outcome);
  const figures = { agent_big_file_rss_mb: Math.round(growth * 10) / 10, agent_big_file_ms: Math.round(elapsed) };
  for (const [name, value] of Object.entries(figures)) console.log(`${name.padEnd(28)} ${value}`);
  const resultsPath = "bench/results.json";
  const previous = existsSync(resultsPath) ? (JSON.parse(readFileSync(resultsPath, "utf8")) as Record<string, unknown>) : {};
  writeFileSync(resultsPath, `${JSON.stringify({ ...previous, ...figures, agent_files_measured_at: new Date().toISOString() }, null, 2)}\n`);
} finally {
  rmSync(root, { recursive: true, force: true });
}
