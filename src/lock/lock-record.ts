import { z } from "zod";

/** The ref that holds a repository's lock. Outside `refs/heads`, so it is no branch and triggers no workflow. */
export const LOCK_REF = "refs/afk/lock";

const holderSchema = z.object({
  v: z.literal(1),
  state: z.literal("held"),
  issue: z.number().int().positive(),
  runId: z.string().min(1),
  replica: z.string().min(1),
  acquiredAt: z.iso.datetime(),
  expiresAt: z.iso.datetime(),
  stopRequested: z.boolean().default(false),
});

const freeSchema = z.object({
  v: z.literal(1),
  state: z.literal("free"),
  at: z.iso.datetime(),
  lastRunId: z.string().optional(),
});

const recordSchema = z.discriminatedUnion("state", [holderSchema, freeSchema]);

export type LockHolder = z.output<typeof holderSchema>;
export type LockRecord = z.output<typeof recordSchema>;

/** Writes a lock record as a commit message: a line for people, then the JSON afk reads back. */
export function encodeLockMessage(record: LockRecord): string {
  const headline =
    record.state === "held"
      ? `afk lock: #${record.issue} (run ${record.runId}) on ${record.replica} until ${record.expiresAt}`
      : `afk lock: free since ${record.at}`;
  return `${headline}\n\n${JSON.stringify(record)}\n`;
}

/** Reads a lock record back; anything afk did not write is `undefined`. */
export function decodeLockMessage(message: string): LockRecord | undefined {
  const start = message.indexOf("\n\n");
  if (start < 0) return undefined;
  try {
    const parsed = recordSchema.safeParse(JSON.parse(message.slice(start + 2)));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

export function isExpired(holder: LockHolder, now: Date): boolean {
  return Date.parse(holder.expiresAt) <= now.getTime();
}

export function newHolder(input: { issue: number; runId: string; replica: string; now: Date; leaseSeconds: number }): LockHolder {
  return {
    v: 1,
    state: "held",
    issue: input.issue,
    runId: input.runId,
    replica: input.replica,
    acquiredAt: input.now.toISOString(),
    expiresAt: new Date(input.now.getTime() + input.leaseSeconds * 1000).toISOString(),
    stopRequested: false,
  };
}

export function extendLease(holder: LockHolder, now: Date, leaseSeconds: number): LockHolder {
  return { ...holder, expiresAt: new Date(now.getTime() + leaseSeconds * 1000).toISOString() };
}

/** What the repository's lock ref holds, as read. */
export type LockView =
  | { status: "absent" }
  | { status: "free"; sha: string }
  | { status: "held"; sha: string; holder: LockHolder; expired: boolean }
  | { status: "corrupt"; sha: string };
