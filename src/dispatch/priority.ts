/** Priority of an issue from its labels: `priority:N` or `P0`..`P3`; lower runs first, unlabeled last. */
export function priorityOf(labels: readonly string[]): number {
  let best = Number.POSITIVE_INFINITY;
  for (const label of labels) {
    const match = /^(?:priority:\s*(\d+)|p([0-3]))$/i.exec(label.trim());
    const value = match === null ? undefined : Number(match[1] ?? match[2]);
    if (value !== undefined && value < best) best = value;
  }
  return best;
}

export interface Candidate {
  number: number;
  labels: readonly string[];
}

/** Orders queued issues: by priority, then by issue number (older first). Pure; does not mutate. */
export function orderCandidates<T extends Candidate>(candidates: readonly T[]): T[] {
  return [...candidates].sort((a, b) => priorityOf(a.labels) - priorityOf(b.labels) || a.number - b.number);
}
