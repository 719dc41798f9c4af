import type { GateEvidence } from "../run-contract/evidence.js";
import type { AgentSession } from "./agent/agent-session.js";
import { keepHeadAndTail } from "../text/keep-head-and-tail.js";
import type { ImplementResult } from "./implement-result.js";
import { renderPrompt } from "./render-prompt.js";
import type { Sandbox } from "./sandbox-contract.js";

/** afk's own test gate, from `.github/afk.yml`. */
export interface GateSettings {
  command: string;
  maxRounds: number;
  timeoutMs: number;
  /** Characters of failing output handed back to the agent. */
  outputChars: number;
  network: boolean;
}

/** Output kept from one run of the tests (head and tail). */
export const GATE_OUTPUT_BYTES = 200_000;

/**
 * The agent and the gate, in turns: the agent works until it ends its turn, then afk runs the
 * repository's tests itself in the sandbox. Green ends it; red goes back to the agent with the
 * output, at most `maxRounds` times. Nothing here pushes or talks to GitHub.
 */
export async function implementIssue(input: {
  session: AgentSession;
  /** Where the tests run. */
  sandbox: Sandbox;
  /** Called before each run of the tests; a text means afk refuses to run them this round, and says why. */
  beforeGate?: () => Promise<string | undefined>;
  task: string;
  gate: GateSettings;
  /** The prompt set the gate's answers come from (afk's own when absent). */
  promptsDir?: string;
  signal: AbortSignal;
  onPhase?: (phase: "agent" | "gate") => Promise<void> | void;
}): Promise<ImplementResult> {
  const { session, sandbox, gate, signal } = input;
  let stop = await session.send(input.task);
  let evidence: GateEvidence | undefined;
  for (let round = 1; ; round += 1) {
    switch (stop.kind) {
      case "finished":
        break;
      case "budget":
        return { kind: "budget", message: stop.message, gate: evidence };
      case "model-error":
        return { kind: "model-error", message: stop.message, retryable: stop.retryable, gate: evidence };
      case "aborted":
        return { kind: "aborted", message: stop.message };
    }
    const summary = stop.summary;
    await input.onPhase?.("gate");
    const refusal = await input.beforeGate?.();
    if (refusal === undefined) {
      const result = await sandbox.run(gate.command, { timeoutMs: gate.timeoutMs, network: gate.network, signal, maxOutputBytes: GATE_OUTPUT_BYTES });
      if (signal.aborted) return { kind: "aborted", message: abortReason(signal) };
      const timedOut = result.timedOut ? `\n[afk: the tests were killed after ${Math.round(gate.timeoutMs / 1000)} s]` : "";
      evidence = {
        command: gate.command,
        exitCode: result.timedOut ? null : result.exitCode,
        output: result.output + timedOut,
        rounds: round,
        durationMs: result.durationMs,
      };
    } else {
      evidence = { command: gate.command, exitCode: null, output: `[${refusal}]`, rounds: round, durationMs: 0 };
    }
    if (evidence.exitCode === 0) return { kind: "passed", summary, gate: evidence };
    if (round >= gate.maxRounds) return { kind: "tests-fail", summary, gate: evidence };
    await input.onPhase?.("agent");
    stop = await session.send(
      await renderPrompt(
        "gate-failed",
        {
          test_command: gate.command,
          exit_code:
            refusal !== undefined ? "none (afk did not run the tests)" : evidence.exitCode === null ? "none (killed: timed out)" : String(evidence.exitCode),
          output: keepHeadAndTail(evidence.output, gate.outputChars).text,
          rounds_left: String(gate.maxRounds - round),
        },
        input.promptsDir,
      ),
    );
  }
}

export function abortReason(signal: AbortSignal): string {
  return signal.reason instanceof Error ? signal.reason.message : String(signal.reason ?? "aborted");
}
