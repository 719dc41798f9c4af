import { z } from "zod";

/** Default model when neither `.github/afk.yml` nor the operator (`AFK_MODEL`) names one. */
export const DEFAULT_MODEL = "claude-sonnet-5-5";

/**
 * Paths the agent may not change unless `.github/afk.yml` says otherwise: what CI runs with the
 * repository's secrets and GitHub's other settings (`.github/`), where submodules point
 * (`.gitmodules`), and who must approve changes (`CODEOWNERS`, at the root, in `docs/` or in
 * `.github/`; matched at any depth).
 */
export const DEFAULT_PROTECTED_PATHS: readonly string[] = [".github/**", ".gitmodules", "**/CODEOWNERS"];

/** afk's labels when `.github/afk.yml` names none (or cannot be read: the trigger label is still recognised then). */
export const DEFAULT_LABELS = { trigger: "ready-for-agent", in_progress: "agent-in-progress", human: "ready-for-human", plan_review: "plan-review" } as const;

const labelName = z.string().trim().min(1, "must not be empty").max(50, "must be at most 50 characters (GitHub's label limit)");

const wholeNumber = (max: number) => z.number().int("must be a whole number").min(1, "must be at least 1").max(max, `must be at most ${max}`);

/** Tokens the model may answer with in one turn (the agent's `max_tokens`); extended thinking's budget is part of it. */
export const AGENT_TURN_MAX_TOKENS = 16_000;

/** Extended thinking's smallest budget, as the Messages API accepts it. */
const MIN_THINKING_TOKENS = 1_024;

const shellCommand = z.string().trim().min(1, "must be a shell command, for example `npm test`");

/**
 * The schema of `.github/afk.yml`. Each field's description is the one the
 * README's configuration reference and the exported JSON schema show. Every
 * field but `test` has a default, so the smallest valid file is `test: npm test`.
 */
export const repoConfigSchema = z.strictObject({
  test: shellCommand.describe("Shell command afk runs itself to gate every change: the repository's own tests."),
  setup: shellCommand
    .optional()
    .describe("Command run once in a fresh worktree before the agent starts (dependency install); it has network but never secrets."),
  model: z
    .string()
    .trim()
    .min(1, "must be a model id such as claude-sonnet-5-5")
    .optional()
    .describe("Anthropic model id the agent uses; defaults to the operator's AFK_MODEL, then to claude-sonnet-5-5."),
  labels: z
    .strictObject({
      trigger: labelName.default(DEFAULT_LABELS.trigger).describe("Adding this label asks afk to implement the issue."),
      in_progress: labelName.default(DEFAULT_LABELS.in_progress).describe("Set by afk while it works on the issue."),
      human: labelName.default(DEFAULT_LABELS.human).describe("Set by afk when it hands the issue to a person."),
      plan_review: labelName.default(DEFAULT_LABELS.plan_review).describe("Set by afk while its plan waits for `/afk approve` (with `plan_approval: true`)."),
    })
    .prefault({})
    .describe("Names of the labels afk reads and writes."),
  budget: z
    .strictObject({
      max_usd: z.number().positive("must be more than 0").max(1000, "must be at most 1000").default(10).describe("Dollars the model may cost in one run."),
      max_turns: wholeNumber(1000).default(100).describe("Model turns in one run."),
      timeout_minutes: wholeNumber(24 * 60)
        .default(60)
        .describe("Wall-clock minutes for one run."),
      thinking_tokens: z
        .number()
        .int("must be a whole number")
        .refine(
          (tokens) => tokens === 0 || tokens >= MIN_THINKING_TOKENS,
          `must be 0 (off) or at least ${MIN_THINKING_TOKENS}, the smallest thinking budget the API accepts`,
        )
        .refine(
          (tokens) => tokens < AGENT_TURN_MAX_TOKENS,
          `must be less than ${AGENT_TURN_MAX_TOKENS}, the tokens a turn may answer with (thinking counts towards them, so leave room for the answer)`,
        )
        .default(0)
        .describe(
          `Extended thinking: tokens the model may think with in each turn before it answers (0: off; otherwise at least ${MIN_THINKING_TOKENS} and less than ${AGENT_TURN_MAX_TOKENS}, the tokens a turn may answer with, thinking included). Thinking tokens are billed as output.`,
        ),
    })
    .prefault({})
    .describe("Limits on one run of the agent."),
  gate: z
    .strictObject({
      max_rounds: wholeNumber(10).default(3).describe("Times afk runs `test` and hands a failure back to the agent before handing the issue to a person."),
      timeout_minutes: wholeNumber(240).default(15).describe("Minutes one run of `test` may take."),
      output_chars: z
        .number()
        .int("must be a whole number")
        .min(1_000, "must be at least 1000")
        .max(200_000, "must be at most 200000")
        .default(20_000)
        .describe("Characters of failing test output the agent is shown (head and tail kept)."),
    })
    .prefault({})
    .describe("afk's own run of the repository's tests before anything is pushed."),
  commands: z
    .strictObject({
      timeout_minutes: wholeNumber(120).default(10).describe("Minutes one agent command may take before it is killed."),
      setup_timeout_minutes: wholeNumber(240).default(20).describe("Minutes the `setup` command may take."),
    })
    .prefault({})
    .describe("Limits on commands run in the sandbox."),
  fix_forward: z
    .strictObject({
      max_attempts: wholeNumber(20).default(5).describe("Fix attempts on red CI before handing to a person."),
      max_minutes: wholeNumber(24 * 60)
        .default(60)
        .describe("Minutes of fixing forward before handing to a person."),
    })
    .prefault({})
    .describe("Fixing forward when CI goes red on afk's pull request."),
  ci: z
    .strictObject({
      grace_minutes: z
        .number()
        .min(0, "must be 0 or more")
        .max(60, "must be at most 60")
        .default(2)
        .describe(
          "Minutes afk waits for any CI (another app's check run or check suite with runs, or a commit status) to appear on its commit; with none by then, the commit counts as passing (and is said to have no CI, not to be green).",
        ),
    })
    .prefault({})
    .describe("Waiting for CI on the commits afk pushes."),
  review: z
    .strictObject({
      max_cycles: wholeNumber(20).default(5).describe('Rounds of rework on "changes requested" before handing to a person.'),
    })
    .prefault({})
    .describe("Answering review feedback on afk's pull request."),
  protected_paths: z
    .array(z.string().trim().min(1, "must not be empty"))
    .default(() => [...DEFAULT_PROTECTED_PATHS])
    .describe(
      "Glob patterns of paths the agent's change may not touch; a change touching one is never pushed. The default keeps out CI workflows and everything else GitHub reads from `.github/`, submodules, and CODEOWNERS wherever GitHub looks for it; a list given here replaces it.",
    ),
  network: z.boolean().default(false).describe("Whether agent commands may reach the network (the setup command always may)."),
  plan_approval: z.boolean().default(false).describe("Whether the agent first posts a plan and waits for `/afk approve`."),
  mode: z.enum(["pr", "direct"]).default("pr").describe("`pr` opens a pull request; `direct` pushes to the default branch after the gate."),
  executor: z
    .enum(["local", "actions"])
    .optional()
    .describe(
      "Where the agent runs: `local` (afk's own host) or `actions` (a job in the operator's runner repository). Honoured only where the operator allows it (AFK_REPO_EXECUTOR); the operator's AFK_EXECUTOR otherwise.",
    ),
  trusted: z
    .strictObject({
      users: z.array(z.string().trim().min(1, "must not be empty")).default([]).describe("Logins trusted to start and steer afk even without write access."),
      bots: z
        .array(z.string().trim().min(1, "must not be empty"))
        .default([])
        .describe("Bot logins (for example `renovate[bot]`) allowed to start afk; every other bot is refused."),
    })
    .prefault({})
    .describe("People and bots trusted beyond collaborators with write access."),
});

export type RepoConfig = z.output<typeof repoConfigSchema>;

/** The JSON schema of `.github/afk.yml`, for editor completion and validation. */
export function repoConfigJsonSchema(): Record<string, unknown> {
  return {
    title: "afk repository configuration (.github/afk.yml)",
    ...z.toJSONSchema(repoConfigSchema, { io: "input", target: "draft-7" }),
  };
}

/** One thing wrong with `.github/afk.yml`, phrased for the person who has to fix it. */
export interface ConfigProblem {
  /** Dotted path of the field, or `(file)` for the file as a whole. */
  field: string;
  /** What is wrong with it. */
  problem: string;
  /** What the field accepts. */
  allowed: string;
}
