// The evidence a run leaves for its `afk` check run: what the executor hands back, what the check run renders.

/** What the check run shows beyond the run state: the evidence behind its conclusion. */
export interface CheckRunDetails {
  /** afk's own run of the repository's tests on this head. */
  gate?: GateEvidence;
  /** What the agent says it changed and why. */
  summary?: string;
  /** The end of the agent's transcript, newest last. */
  transcriptTail?: string;
}

export interface GateEvidence {
  command: string;
  exitCode: number | null;
  /** The end of the test output. */
  output: string;
  /** How many times the gate ran in this run. */
  rounds: number;
  /** How long the last run of the tests took. */
  durationMs: number;
}
