import type { GitHttpServer } from "./git-http-server.js";
import type { ModelServer, ScriptedBlock, ScriptedTurn, ScriptedUsage } from "./model-server.js";
import { FULL_NAME, startScenario, type Scenario } from "./scenario.js";
import { FIXTURE_FILES } from "./world/fixture-project.js";
import { closeWorldsAfterEach } from "./world/use-world.js";

export { FIXTURE_FILES, TEST_ANTHROPIC_KEY } from "./world/fixture-project.js";

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
  const keep = closeWorldsAfterEach();
  return async (options) => {
    const scenario = await startScenario({
      git: { ...FIXTURE_FILES, ...options.files },
      model: options.script,
      ...(options.config === undefined ? {} : { config: options.config }),
      ...(options.env === undefined ? {} : { env: options.env }),
      ...(options.octokitRetries === undefined ? {} : { octokitRetries: options.octokitRetries }),
    });
    const world = keep(scenario.world);
    return { ...scenario, model: world.model, git: world.git, remote: world.repo(FULL_NAME).remote, root: world.root };
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

/** How many answers of the model a request's conversation already holds: the turn it asks for, counted from 0. */
export function assistantTurnsIn(body: Record<string, unknown>): number {
  const messages: unknown[] = Array.isArray(body.messages) ? body.messages : [];
  return messages.filter((message) => typeof message === "object" && message !== null && "role" in message && message.role === "assistant").length;
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
