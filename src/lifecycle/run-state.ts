import { z } from "zod";
import { JOBS, PHASES } from "../run-contract/job.js";
import { REPO_FULL_NAME } from "../run-contract/job-protocol.js";

/**
 * Where a run stands. `queued`, `running` and `waiting` (pull request open, waiting for CI and
 * review, lock released) are active; the rest are settled. `escalated` means handed to a person.
 */
export const STATUSES = ["queued", "running", "waiting", "done", "escalated", "failed", "stopped", "interrupted", "refused"] as const;
export type RunStatus = (typeof STATUSES)[number];

const problemSchema = z.object({ field: z.string(), problem: z.string(), allowed: z.string() });

/** Why afk declined to run, shown instead of the checklist. */
const noticeSchema = z.object({
  kind: z.enum(["untrusted", "paused", "not-configured", "config-invalid", "config-unreadable", "missing-permissions"]),
  message: z.string(),
  problems: z.array(problemSchema).default([]),
});

const MAX_REMEMBERED_DELIVERIES = 20;

export const runStateSchema = z.object({
  v: z.literal(1),
  runId: z.string().min(1),
  issue: z.number().int().positive(),
  status: z.enum(STATUSES),
  phase: z.enum(PHASES),
  trigger: z.object({
    actor: z.string(),
    source: z.enum(["label", "command"]),
    at: z.iso.datetime(),
    /**
     * Digest of the issue's title and body the actor saw (`issueTextDigest`). Every job of the run,
     * follow-ups included, reads the issue only if it still matches; only a new request replaces it.
     * Optional for states written before it existed: such a run's jobs are refused.
     */
    bodyDigest: z.string().optional(),
  }),
  /** The repository's web address, for links. */
  repoUrl: z.url().optional(),
  /** Webhook delivery ids already acted on, so a redelivery never starts a second run. */
  deliveries: z.array(z.string()).max(MAX_REMEMBERED_DELIVERIES).default([]),
  queuedBehind: z.number().int().positive().optional(),
  blockedBy: z.array(z.number().int().positive()).optional(),
  replica: z.string().optional(),
  startedAt: z.iso.datetime().optional(),
  endedAt: z.iso.datetime().optional(),
  stoppedBy: z.string().optional(),
  outcome: z.object({ message: z.string(), retryable: z.boolean() }).optional(),
  /** Model spend so far. */
  spend: z.object({ usd: z.number().nonnegative(), turns: z.number().int().nonnegative() }).optional(),
  branch: z.string().optional(),
  /** Where the job runs when afk dispatched it to its runner repository (ADR 0008); gone once the run settles. */
  remote: z
    .object({
      runnerRepo: z.string().regex(REPO_FULL_NAME),
      workflowRunId: z.number().int().positive(),
      baseSha: z.string().regex(/^[0-9a-f]{40}$/),
    })
    .optional(),
  pullRequest: z.object({ number: z.number().int().positive(), url: z.url(), draft: z.boolean(), nodeId: z.string().min(1).optional() }).optional(),
  /** The `afk` check run on the pull request's head. */
  checkRunId: z.number().int().positive().optional(),
  /** The commit of the last job's run log (`refs/afk/runs/<run id>`), linked once the job ended. */
  runLog: z
    .string()
    .regex(/^[0-9a-f]{40}$/)
    .optional(),
  notice: noticeSchema.optional(),
  /** What the agent does in this run (a follow-up keeps the run id's issue, branch and pull request). */
  job: z.enum(JOBS).default("implement"),
  /** Bounded loops after the pull request: fix attempts in the current red streak, and review rework cycles. */
  loop: z
    .object({
      fixAttempts: z.number().int().nonnegative().default(0),
      /** When the current red streak began; fixing forward stops `fix_forward.max_minutes` after it. */
      fixSince: z.iso.datetime().optional(),
      reviewCycles: z.number().int().nonnegative().default(0),
    })
    .prefault({}),
  /** The commit afk pushed last and waits on CI for, and the checks that were red on it. */
  ci: z
    .object({
      head: z.string().regex(/^[0-9a-f]{40}$/),
      pushedAt: z.iso.datetime(),
      /** Direct mode: the commit afk's work started from; checks red there too are not afk's to chase. */
      base: z
        .string()
        .regex(/^[0-9a-f]{40}$/)
        .optional(),
      failing: z.array(z.string().max(200)).max(30).optional(),
      /**
       * How afk let the run past CI on `head`, as it read it: every check green, no CI at all once the
       * grace period ended, or red only in checks red on the base too. Absent while CI is awaited.
       */
      passed: z.enum(["green", "no-ci", "red-on-base"]).optional(),
    })
    .optional(),
  /** What asked for a follow-up job: the review to address or the comment carrying `/afk fix`, `/afk ask`. */
  followUp: z.object({ by: z.string(), reviewId: z.number().int().positive().optional(), commentId: z.number().int().positive().optional() }).optional(),
  /** The plan afk posted, once approved the implementation reads it. */
  plan: z.object({ commentId: z.number().int().positive(), approvedBy: z.string().optional() }).optional(),
  /** A plan approved as sub-issues: their numbers, in the order they are processed. The issue closes when all are closed. */
  split: z.object({ issues: z.array(z.number().int().positive()).min(1).max(10) }).optional(),
  /** The pull request an earlier run of this issue left open; closed as superseded once this run delivers. */
  supersedes: z.number().int().positive().optional(),
  /** For a sub-issue afk opened from a plan: the issue whose plan it is a step of. */
  parent: z.number().int().positive().optional(),
});

export type RunState = z.output<typeof runStateSchema>;
/** A state as written before the lifecycle fields existed; parsing fills their defaults. */
export type RunStateInput = z.input<typeof runStateSchema>;
export type Notice = z.output<typeof noticeSchema>;

export function isActive(state: RunState): boolean {
  return state.status === "queued" || state.status === "running" || state.status === "waiting";
}

/** Remembers a delivery id, keeping the most recent ones only. */
export function rememberDelivery(deliveries: readonly string[], id: string): string[] {
  return [...deliveries.filter((known) => known !== id), id].slice(-MAX_REMEMBERED_DELIVERIES);
}

const MARKER_OPEN = "<!-- afk:state ";
const MARKER_CLOSE = " -->";

/** The hidden marker that carries a run's state inside the progress comment. */
export function encodeStateMarker(state: RunState): string {
  // `<` and `>` are escaped so no value can close the HTML comment early.
  const json = JSON.stringify(state).replace(/</g, "\\u003c").replace(/>/g, "\\u003e");
  return `${MARKER_OPEN}${json}${MARKER_CLOSE}`;
}

export type DecodedMarker = { kind: "state"; state: RunState } | { kind: "none" } | { kind: "corrupt"; reason: string };

/**
 * Reads the marker back: the last one in the body, which is where the renderer puts it, so text
 * quoted above it can never stand in for it, nor break it by opening a marker it never closes.
 * Found with two scans from the end, so a huge body with many unclosed markers costs linear time.
 * A marker that does not parse is reported as corrupt, never trusted.
 */
export function decodeStateMarker(body: string): DecodedMarker {
  const lastClose = body.lastIndexOf(MARKER_CLOSE);
  const open = lastClose < MARKER_OPEN.length ? -1 : body.lastIndexOf(MARKER_OPEN, lastClose - MARKER_OPEN.length);
  if (open === -1) return { kind: "none" };
  const start = open + MARKER_OPEN.length;
  let json: unknown;
  try {
    json = JSON.parse(body.slice(start, body.indexOf(MARKER_CLOSE, start)));
  } catch (error) {
    return { kind: "corrupt", reason: `the state marker is not JSON (${error instanceof Error ? error.message : String(error)})` };
  }
  const parsed = runStateSchema.safeParse(json);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    const where = first === undefined ? "" : ` at ${first.path.join(".") || "(root)"}: ${first.message}`;
    return { kind: "corrupt", reason: `the state marker does not match version 1 of afk's run state${where}` };
  }
  return { kind: "state", state: parsed.data };
}

export function hasStateMarker(body: string): boolean {
  return body.includes("<!-- afk:state ");
}

/** afk's progress comment on an issue, with the state its marker carries. */
export type ProgressComment = { id: number; kind: "state"; state: RunState } | { id: number; kind: "corrupt"; reason: string };
