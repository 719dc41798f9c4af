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

const BLOCKED_BY_LINE = /^[\s>*-]*blocked\s+by\b:?(.*)$/gim;

/** Issue numbers named on "Blocked by #N" lines of an issue body (same repository only). */
export function parseBlockedBy(body: string | null | undefined): number[] {
  const numbers = new Set<number>();
  for (const line of (body ?? "").matchAll(BLOCKED_BY_LINE)) {
    for (const ref of (line[1] ?? "").matchAll(/(?<![\w/])#(\d+)\b/g)) {
      const value = Number(ref[1]);
      if (Number.isSafeInteger(value) && value > 0) numbers.add(value);
    }
  }
  return [...numbers].sort((a, b) => a - b);
}
