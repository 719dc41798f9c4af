import type { GateEvidence } from "../run-contract/evidence.js";

/** How implementing ended (the agent and afk's test gate, in turns). Every kind but `aborted` says how far the gate got. */
export type ImplementResult =
  | { kind: "passed"; summary: string; gate: GateEvidence }
  | { kind: "tests-fail"; summary: string; gate: GateEvidence }
  | { kind: "budget"; message: string; gate: GateEvidence | undefined }
  | { kind: "model-error"; message: string; retryable: boolean; gate: GateEvidence | undefined }
  | { kind: "aborted"; message: string };
