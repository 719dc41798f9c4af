/** The load the load test and `bench/load.ts` both drive: one world, so the test asserts what the bench measures. */
export const LOAD = {
  installations: 4,
  repos: 100,
  issuesPerRepo: 5,
  /** The share of deliveries sent twice with the same delivery id, as GitHub redelivers. */
  duplicateShare: 0.1,
  trigger: "ready-for-agent",
  maintainer: "pat-maintain",
  body: "Please do the thing.",
  /** Priority labels as people write them (see priority.ts); `undefined` is an issue without one (it goes last). */
  priorityLabels: ["P0", "P1", "P2", "P3", "priority:0", "priority:2", "priority:7", undefined, undefined],
} as const;
