/**
 * The workflow afk ships for its runner repository (`afk init-runner` prints or writes it) and the
 * settings that repository and afk need beside it. Pure: text in, text out.
 *
 * Invariants of the workflow (test/unit/runner-workflow.test.ts holds each, and actionlint finds nothing):
 * - one trigger, `workflow_dispatch`, with one input naming afk's run: nothing secret is ever an input;
 * - `permissions` are `id-token: write` (the job proves who it is with its OIDC token) and `contents: read`, nothing else;
 * - no secret is used anywhere: the job holds no credential of its own;
 * - every `${{ }}` value reaches a command through `env:`, never inside `run:` (no script injection);
 * - the afk it runs is the version that rendered it, and setup-node is pinned to a full commit.
 */

/** The workflow's file name, as afk dispatches it (`POST /repos/{runner}/actions/workflows/afk-job.yml/dispatches`). */
export const RUNNER_WORKFLOW_FILE = "afk-job.yml";

/** Where the workflow lives in the runner repository (the path `job_workflow_ref` names). */
export const RUNNER_WORKFLOW_PATH = `.github/workflows/${RUNNER_WORKFLOW_FILE}`;

/** The workflow's one input: which afk run the job is (`owner/repo#issue:run-id`, job-protocol.ts `RunReference`). */
export const RUN_INPUT = "afk_run";

/** The environment variables the job's commands (`afk doctor --job`, `afk job`) read, as the workflow sets them. */
export const JOB_ENV = {
  /** afk's public URL (the runner repository's `AFK_URL` variable): where the job endpoint and the model proxy answer. */
  afkUrl: "AFK_URL",
  /** Which afk run the job is, from the dispatch's input. */
  run: "AFK_RUN",
} as const;

/** The runner label used when the runner repository sets no `AFK_RUNS_ON` variable. */
export const DEFAULT_RUNS_ON = "ubuntu-24.04";

/**
 * actions/setup-node, pinned to the commit its tag named when afk was released (a tag can be moved; a
 * commit cannot). Update both together.
 */
export const SETUP_NODE = { repository: "actions/setup-node", commit: "249970729cb0ef3589644e2896645e5dc5ba9c38", version: "v6.5.0" } as const;

/**
 * The job's wall-clock bound in minutes: the longest a GitHub-hosted runner keeps a job. afk ends a
 * run at its own `budget.timeout_minutes` (and cancels the workflow run) long before, unless it is configured longer.
 */
export const JOB_TIMEOUT_MINUTES = 360;

/** A version npm can install exactly: `1.2.3` or `1.2.3-rc.1` (never a range or a tag, so the workflow runs the afk that wrote it). */
const EXACT_VERSION = /^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?$/;

/**
 * The text of `.github/workflows/afk-job.yml` for the runner repository, running afk `afkVersion`
 * (the version of the afk that renders it). Throws when `afkVersion` is not an exact version.
 */
export function runnerWorkflow(afkVersion: string): string {
  if (!EXACT_VERSION.test(afkVersion)) throw new Error(`afk's version must be exact (like 1.2.3), not ${JSON.stringify(afkVersion)}`);
  const afk = `npx --yes afk-agent@${afkVersion}`;
  return `# afk's agent job (written by \`afk init-runner\` of afk ${afkVersion}; run it again after upgrading afk).
#
# afk dispatches this workflow once per run, naming the run. The job proves who it is with its
# Actions OIDC token, fetches its job from afk, runs the agent in a bubblewrap sandbox, and returns
# the change to afk, which checks it and pushes it. The job holds no credential: it uses no secrets,
# and the model key and every write token stay with afk. Keep it that way: add no secrets here.
name: afk job
run-name: afk run \${{ inputs.${RUN_INPUT} }}

on:
  workflow_dispatch:
    inputs:
      ${RUN_INPUT}:
        description: afk's run, as owner/repo#issue:run-id (afk dispatches this workflow; nothing here is secret)
        required: true
        type: string

# id-token: the job's OIDC token, its only proof of identity. Nothing else is granted.
permissions:
  id-token: write
  contents: read

jobs:
  agent:
    # The repository variable AFK_RUNS_ON picks the runner (a self-hosted runner's label, say).
    runs-on: \${{ vars.AFK_RUNS_ON || '${DEFAULT_RUNS_ON}' }}
    timeout-minutes: ${JOB_TIMEOUT_MINUTES}
    # Values reach the commands only through the environment, never inside a script.
    env:
      ${JOB_ENV.afkUrl}: \${{ vars.AFK_URL }}
      ${JOB_ENV.run}: \${{ inputs.${RUN_INPUT} }}
    steps:
      - name: Set up Node.js 20
        uses: ${SETUP_NODE.repository}@${SETUP_NODE.commit} # ${SETUP_NODE.version}
        with:
          node-version: 20

      # Ubuntu 24.04's AppArmor stops unprivileged user namespaces, which bubblewrap's sandbox needs.
      - name: Allow unprivileged user namespaces (GitHub-hosted Linux runners)
        if: runner.os == 'Linux' && runner.environment == 'github-hosted'
        run: |
          if [ -e /proc/sys/kernel/apparmor_restrict_unprivileged_userns ]; then
            sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0
          fi

      # bubblewrap (the sandbox), git, and slirp4netns with ip (a network of its own for setup commands);
      # only what is missing, so a self-hosted runner that has them all needs neither apt-get nor sudo.
      - name: Install bubblewrap and git
        shell: bash
        run: |
          missing=()
          command -v bwrap >/dev/null || missing+=(bubblewrap)
          command -v git >/dev/null || missing+=(git)
          command -v slirp4netns >/dev/null || missing+=(slirp4netns)
          command -v ip >/dev/null || [ -x /usr/sbin/ip ] || [ -x /sbin/ip ] || missing+=(iproute2)
          if [ \${#missing[@]} -gt 0 ]; then
            sudo apt-get update
            sudo apt-get install -y --no-install-recommends "\${missing[@]}"
          fi

      - name: Check the runner (afk doctor --job)
        run: ${afk} doctor --job

      - name: Run the agent (afk job)
        run: ${afk} job
`;
}

/** One thing the runner repository or afk needs besides the workflow file. */
export interface RunnerSetting {
  /** Where it is set: on GitHub, in the runner repository, or in afk's own settings (its environment). */
  where: "runner repository" | "afk";
  /** What is set: a repository variable, an environment variable of afk's, or something done once on GitHub. */
  kind: "variable" | "setting" | "step";
  /** The variable's name, or what is done. */
  name: string;
  /** The value to give it (a placeholder in capitals where it is the operator's own). */
  value: string;
  /** Whether afk's Actions executor works without it. */
  required: boolean;
  /** Why it is needed, in one sentence. */
  why: string;
}

/** Everything besides the workflow file that running agents on GitHub Actions needs, runner repository first. */
export function runnerSettings(): readonly RunnerSetting[] {
  return [
    {
      where: "runner repository",
      kind: "step",
      name: `commit ${RUNNER_WORKFLOW_PATH}`,
      value: "on the default branch",
      required: true,
      why: "afk dispatches the workflow there and accepts only OIDC tokens of that workflow on the default branch.",
    },
    {
      where: "runner repository",
      kind: "step",
      name: "install afk's GitHub App on it",
      value: "with the Actions permission: read and write (actions: write)",
      required: true,
      why: "afk dispatches the job and cancels it with the App's installation token; the job itself gets no token.",
    },
    {
      where: "runner repository",
      kind: "variable",
      name: JOB_ENV.afkUrl,
      value: "afk's public URL, such as https://afk.example.com",
      required: true,
      why: "the job calls afk's job endpoint and model proxy there.",
    },
    {
      where: "runner repository",
      kind: "variable",
      name: "AFK_RUNS_ON",
      value: `a runner label (default ${DEFAULT_RUNS_ON})`,
      required: false,
      why: "picks the runner, such as a self-hosted runner's label.",
    },
    {
      where: "afk",
      kind: "setting",
      name: "AFK_EXECUTOR",
      value: "actions",
      required: true,
      why: "afk runs agents as jobs in the runner repository instead of on its own host.",
    },
    {
      where: "afk",
      kind: "setting",
      name: "AFK_RUNNER_REPO",
      value: "OWNER/NAME (the runner repository)",
      required: true,
      why: "the repository afk dispatches the workflow in, and the only one whose tokens it accepts.",
    },
    {
      where: "afk",
      kind: "setting",
      name: "AFK_PUBLIC_URL",
      value: "the same URL as the runner repository's AFK_URL",
      required: true,
      why: "afk serves the job endpoint and model proxy there, and accepts OIDC tokens only for that audience.",
    },
  ];
}

/** The settings as lines to print after the workflow: what to do in the runner repository, then in afk's settings. */
export function formatRunnerSettings(settings: readonly RunnerSetting[]): string {
  const line = (setting: RunnerSetting): string => {
    const what =
      setting.kind === "step" ? `${setting.name} ${setting.value}` : `${setting.kind === "variable" ? "variable " : ""}${setting.name}=${setting.value}`;
    return `  - ${what}${setting.required ? "" : " (optional)"}: ${setting.why}`;
  };
  const section = (where: RunnerSetting["where"]): string[] => settings.filter((setting) => setting.where === where).map(line);
  return [
    "In the runner repository (on GitHub):",
    ...section("runner repository"),
    "  Add no secrets: the job needs none.",
    "In afk's settings (its environment or .env), then restart afk:",
    ...section("afk"),
  ].join("\n");
}
