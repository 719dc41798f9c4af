import { randomUUID } from "node:crypto";

/** A new run's id: sortable by time, unique across replicas. */
export function newRunId(): string {
  return `r-${Date.now().toString(36)}-${randomUUID().slice(0, 8)}`;
}
