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
