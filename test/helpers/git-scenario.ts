import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach } from "vitest";
import { GitHubEmulator } from "./github-emulator.js";
import { createBareRepo, GitHttpServer } from "./git-http-server.js";
import { ModelServer, type ScriptedBlock, type ScriptedTurn, type ScriptedUsage } from "./model-server.js";
import { FULL_NAME, startScenario, type Scenario } from "./scenario.js";

/** The Anthropic key afk is given in tests; it must never reach the model in a tool result. */
export const TEST_ANTHROPIC_KEY = "sk-ant-api03-test-key-that-must-never-leak-0000";

/** A small Node project whose tests pass: `node --test`. */
export const FIXTURE_FILES: Record<string, string> = {
  "package.json": `${JSON.stringify({ name: "fixture", version: "1.0.0", type: "module", scripts: { test: "node --test" } }, null, 2)}\n`,
  "src/math.js": "export function add(a, b) {\n  return a + b;\n}\n",
  "test/math.test.js":
    'import { test } from "node:test";\nimport assert from "node:assert/strict";\nimport { add } from "../src/math.js";\n\ntest("add", () => {\n  assert.equal(add(2, 3), 5);\n});\n',
  ".github/workflows/ci.yml": "on: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - run: npm test\n",
};

export interface GitScenario extends Scenario {
  model: ModelServer;
  git: GitHttpServer;
  /** The bare repository behind `octo-org/app`. */
  remote: string;
  root: string;
}

/**
 * The App against an emulated GitHub whose repository is a real git repository served over smart
 * HTTP (tokens checked by the emulator's rules), with the model as a scripted Messages API server.
 */
export function useGitScenario(): (options: {
  script: ScriptedTurn[];
  config?: string;
  env?: Record<string, string>;
  files?: Record<string, string>;
  octokitRetries?: boolean;
}) => Promise<GitScenario> {
  let current: GitScenario | undefined;
  afterEach(async () => {
    const scenario = current;
    current = undefined;
    if (scenario === undefined) return;
    await scenario.close();
    await scenario.git.close();
    await scenario.model.close();
    rmSync(scenario.root, { recursive: true, force: true });
    scenario.github.assertNoViolations();
    if (scenario.model.violations.length > 0) throw new Error(`The model server saw: ${scenario.model.violations.join("; ")}`);
  });
  return async (options) => {
    const root = mkdtempSync(join(tmpdir(), "afk-it-"));
    const config = options.config ?? "test: node --test\n";
    const { path: remote } = createBareRepo(join(root, "remote"), FULL_NAME, { ...FIXTURE_FILES, ...options.files, ".github/afk.yml": config });
    const github = await GitHubEmulator.start();
    const git = await GitHttpServer.start({
      root: join(root, "remote"),
      authorize: ({ repo, service, token }) => github.gitAccessAllowed(repo, token, service),
    });
    const model = await ModelServer.start(options.script);
    const scenario = await startScenario({
      github,
      config,
      env: { ANTHROPIC_API_KEY: TEST_ANTHROPIC_KEY, ANTHROPIC_BASE_URL: model.url, AFK_CACHE_DIR: join(root, "cache"), AFK_MODEL_RETRIES: "1", ...options.env },
      ...(options.octokitRetries === undefined ? {} : { octokitRetries: options.octokitRetries }),
    });
    github.connectGit(FULL_NAME, { cloneUrl: git.cloneUrl(FULL_NAME), gitDir: remote });
    current = { ...scenario, model, git, remote, root };
    return current;
  };
}

let toolIds = 0;

/** A model turn that calls one tool. */
export function toolTurn(name: "bash" | "str_replace_based_edit_tool", input: Record<string, unknown>, usage?: ScriptedUsage): ScriptedTurn {
  const block: ScriptedBlock = { type: "tool_use", id: `toolu_${String(++toolIds).padStart(6, "0")}`, name, input };
  return { kind: "message", content: [block], stop_reason: "tool_use", ...(usage === undefined ? {} : { usage }) };
}

/** A model turn that ends the agent's turn with a summary. */
export function endTurn(summary: string, usage?: ScriptedUsage): ScriptedTurn {
  return { kind: "message", content: [{ type: "text", text: summary }], stop_reason: "end_turn", ...(usage === undefined ? {} : { usage }) };
}

/** The tool_result blocks of the newest user message of a recorded request. */
export function toolResultsIn(body: Record<string, unknown>): Array<{ tool_use_id: string; content: string; is_error?: boolean }> {
  const messages = Array.isArray(body.messages) ? body.messages : [];
  const last: unknown = messages.at(-1);
  if (typeof last !== "object" || last === null || !("content" in last) || !Array.isArray(last.content)) return [];
  return last.content.filter(
    (block: unknown): block is { type: "tool_result"; tool_use_id: string; content: string; is_error?: boolean } =>
      typeof block === "object" && block !== null && "type" in block && block.type === "tool_result",
  );
}
