// What a job is and the phases it reports: shared by the lifecycle (its state) and every executor.

/** The phases of a run, in the order the progress checklist shows them. */
export const PHASES = ["queued", "started", "plan", "workspace", "agent", "gate", "pull_request", "ci", "review", "merged"] as const;
export type Phase = (typeof PHASES)[number];

/**
 * What a run's agent does: implement the issue, fix red CI on its pull request, rework it after a
 * review, write a plan for approval, or answer a question (the last two never change a file).
 */
export const JOBS = ["implement", "fix-ci", "rework", "plan", "ask"] as const;
export type Job = (typeof JOBS)[number];
