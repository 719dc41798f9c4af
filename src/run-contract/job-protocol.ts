// What afk and a job it runs on GitHub Actions say to each other over HTTP (ADR 0008). Pure: schemas
// and the types they give. Everything a job sends is untrusted (a runner is only as trusted as the code
// it runs), so afk parses each body with these schemas and bounds every field.
import { z } from "zod";
import { repoConfigSchema } from "../config/repo-config.js";
import { runLogSchema } from "./run-log.js";

const COMMIT = /^[0-9a-f]{40}([0-9a-f]{24})?$/;
/** afk's run ids: a prefix, letters, digits and dashes (see dispatch/run-id.ts). */
export const RUN_ID = /^[A-Za-z0-9._-]{1,100}$/;
/** A repository as GitHub names it: `owner/name`. */
export const REPO_FULL_NAME = /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/;

/**
 * Where a job reaches afk, under afk's public URL. Start takes the job's OIDC token; the others the
 * job's credential; each as `Authorization: Bearer`. The model path is the Messages API's base
 * (the SDK adds `/v1/messages`).
 */
export const JOB_PATHS = { start: "/afk/jobs/start", heartbeat: "/afk/jobs/heartbeat", result: "/afk/jobs/result", model: "/afk/jobs/model" } as const;

/**
 * Which run a job is for: the target repository, the issue and afk's run id, the one input afk
 * dispatches the runner workflow with (`octo-org/app#12:r-abc`; no `@`, which Markdown would read as a mention). Nothing in it is secret or trusted:
 * afk admits the job only if its OIDC token names the workflow run it recorded for that run.
 */
export interface RunReference {
  repository: string;
  issue: number;
  runId: string;
}

const RUN_REFERENCE = /^([A-Za-z0-9_.-]{1,100}\/[A-Za-z0-9_.-]{1,100})#([1-9][0-9]{0,9}):([A-Za-z0-9._-]{1,100})$/;

export function formatRunReference(reference: RunReference): string {
  return `${reference.repository}#${reference.issue}:${reference.runId}`;
}

/** The run a reference names, or undefined when it is not one. */
export function parseRunReference(text: string): RunReference | undefined {
  const match = RUN_REFERENCE.exec(text);
  if (match === null) return undefined;
  const [, repository = "", issue = "", runId = ""] = match;
  return { repository, issue: Number(issue), runId };
}

/** What a job sends to start: which run it says it is (its OIDC token, in the header, proves it). */
export const jobStartSchema = z.strictObject({ v: z.literal(1), run: z.string().max(300) });
export type JobStart = z.output<typeof jobStartSchema>;

/** What a job says in a heartbeat: the phase it is in (shown on the issue). */
export const jobHeartbeatSchema = z.strictObject({ v: z.literal(1), phase: z.enum(["workspace", "agent", "gate"]) });
export type JobHeartbeat = z.output<typeof jobHeartbeatSchema>;

/** The most characters of text a job hands back in one field (transcript tail, test output, summary). */
export const MAX_JOB_TEXT_CHARS = 64_000;
const text = z.string().max(MAX_JOB_TEXT_CHARS);

/**
 * A job's task as data, gathered from GitHub before any clone, so it can travel to wherever the job
 * runs: the prompt, its slots, and whether the repository's own instructions (read from the worktree
 * once it is there) and an approved plan join them.
 */
export const taskSpecSchema = z.strictObject({
  prompt: z.enum(["implement", "fix-ci", "address-review", "plan", "ask"]),
  slots: z.record(z.string().regex(/^[a-z_]{1,40}$/), z.string().max(200_000)),
  repoInstructions: z.boolean(),
  approvedPlan: z.string().max(200_000).optional(),
});
export type TaskSpec = z.output<typeof taskSpecSchema>;

/**
 * What afk answers a job that proved who it is: everything it needs to do the run's work and nothing
 * more. The read token can only read the one target repository; the job credential reaches only this
 * run's endpoints on afk (heartbeat, model, result) and ends with the run's deadline.
 */
export const jobSpecSchema = z.strictObject({
  v: z.literal(1),
  runId: z.string().regex(RUN_ID),
  kind: z.enum(["implement", "fix-ci", "rework"]),
  repository: z.strictObject({ fullName: z.string().regex(REPO_FULL_NAME), cloneUrl: z.url() }),
  /** The commit the worktree checks out: the run's pinned base (the branch may have moved on since). */
  baseSha: z.string().regex(COMMIT),
  model: z.string().min(1).max(100),
  config: repoConfigSchema,
  task: taskSpecSchema,
  /** A follow-up works on afk's own branch: its setup gets a package cache of its own. */
  sharedPackageCache: z.boolean(),
  /** An installation token for the target repository with `contents: read` only, for the clone. */
  readToken: z.string().min(1).max(200),
  /** Reaches this run's endpoints on afk, the model proxy included (`Authorization: Bearer`). */
  jobCredential: z.string().min(1).max(1000),
  /** afk's public URL: the job's heartbeats and result go to {@link JOB_PATHS} under it. */
  endpoint: z.url(),
  /** The Messages API as the job reaches it: afk's proxy, which holds the key and counts the spend (the job's credential where the SDK puts a key: `Authorization: Bearer`). */
  modelBaseUrl: z.url(),
  /** How often the job says it is alive (afk's lease is three times as long). */
  heartbeatSeconds: z.number().int().positive().max(600),
  /** When the run's time budget ends (ISO): afk stops waiting for the job then. */
  deadline: z.iso.datetime(),
});
export type JobSpec = z.output<typeof jobSpecSchema>;

/** afk's answer to a heartbeat: go on, or stop now (a `/afk stop`, the run ended, the lease lost). */
export const heartbeatAnswerSchema = z.discriminatedUnion("kind", [
  z.strictObject({ kind: z.literal("continue") }),
  z.strictObject({ kind: z.literal("stop"), reason: z.string().max(1000) }),
]);
export type HeartbeatAnswer = z.output<typeof heartbeatAnswerSchema>;

const gateSchema = z.strictObject({
  command: z.string().max(10_000),
  exitCode: z.number().int().nullable(),
  output: text,
  rounds: z.number().int().nonnegative().max(1000),
  durationMs: z.number().nonnegative(),
});

/** How the agent and the gate ended on the runner (executor/implement-result.ts `ImplementResult`). */
export const jobImplementResultSchema = z.discriminatedUnion("kind", [
  z.strictObject({ kind: z.literal("passed"), summary: text, gate: gateSchema }),
  z.strictObject({ kind: z.literal("tests-fail"), summary: text, gate: gateSchema }),
  z.strictObject({ kind: z.literal("budget"), message: text, gate: gateSchema.optional() }),
  z.strictObject({ kind: z.literal("model-error"), message: text, retryable: z.boolean(), gate: gateSchema.optional() }),
  z.strictObject({ kind: z.literal("aborted"), message: text }),
]);

/** The most bytes of a change bundle, base64 in the result (executor/workspace.ts `MAX_CHANGE_BUNDLE_BYTES`, 50 MB). */
const MAX_BUNDLE_BASE64_CHARS = Math.ceil((50 * 1024 * 1024) / 3) * 4;

/**
 * What a job hands back when it is done: how the agent and the gate ended, what the job says it spent
 * (afk counts the spend itself at its model proxy and trusts its own count), the transcript's end, and
 * the change as a git bundle of one commit on the base (base64), absent when nothing changed, and
 * the session's whole log (redacted of the job's secrets, within `RUN_LOG_RESULT_BYTES`), which afk
 * keeps in the repository as the run log; absent when the agent never started.
 */
export const jobResultSchema = z.strictObject({
  v: z.literal(1),
  runId: z.string().regex(RUN_ID),
  outcome: z.discriminatedUnion("kind", [
    z.strictObject({ kind: z.literal("implemented"), result: jobImplementResultSchema, transcriptTail: text }),
    z.strictObject({ kind: z.literal("not-started"), reason: text, retryable: z.boolean() }),
  ]),
  bundle: z.base64().max(MAX_BUNDLE_BASE64_CHARS).optional(),
  runLog: runLogSchema.optional(),
});
export type JobResult = z.output<typeof jobResultSchema>;
