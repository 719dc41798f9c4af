import { describe, expect, it } from "vitest";
import { runStateOf } from "../helpers/run-state-of.js";
import { endTurn, toolTurn, useGitScenario, type GitScenario } from "../helpers/git-scenario.js";
import { FULL_NAME, INSTALLATION_ID, OWNER, REPO } from "../helpers/scenario.js";
import { checkRunPayload } from "../helpers/webhook-payloads.js";

const start = useGitScenario();

const failing = [
  toolTurn("str_replace_based_edit_tool", { command: "create", path: "src/math.js", file_text: "export function add(a, b) {\n  return a - b;\n}\n" }),
  endTurn("Rewrote add."),
];
const fixing = [
  toolTurn("str_replace_based_edit_tool", {
    command: "create",
    path: "test/extra.test.js",
    file_text: 'import { test } from "node:test";\ntest("extra", () => {});\n',
  }),
  endTurn("Added a test."),
];

async function click(
  scenario: GitScenario,
  issue: number,
  sender: string,
  action: "requested_action" | "rerequested",
  identifier?: string,
  appSlug = "afk",
): Promise<void> {
  const state = runStateOf(scenario, issue);
  const check = scenario.github.checkRuns(FULL_NAME).find((run) => run.id === state?.checkRunId);
  if (check === undefined || state?.branch === undefined) throw new Error("the issue has no check run");
  const payload = checkRunPayload(
    {
      owner: OWNER,
      repo: REPO,
      installationId: INSTALLATION_ID,
      checkRun: { id: check.id, headSha: check.head_sha, headBranch: state.branch, appSlug },
      sender: { login: sender, type: "User" },
    },
    action,
    identifier,
  );
  await scenario.afk.deliver("check_run", payload);
  await scenario.afk.idle();
}

describe("the afk check run's buttons", () => {
  it("Retry on an escalated run starts a new run for the person who clicked", async () => {
    const scenario = await start({ config: "test: node --test\ngate:\n  max_rounds: 1\n", script: [...failing, ...fixing] });
    const issue = scenario.issue({ title: "Add more tests" });
    await scenario.label(issue, "wes-write");
    expect(runStateOf(scenario, issue)?.status).toBe("escalated");
    const check = scenario.github.checkRuns(FULL_NAME)[0];
    expect(check?.conclusion).toBe("action_required");

    await click(scenario, issue, "max-maintain", "requested_action", "afk-retry");
    const state = runStateOf(scenario, issue);
    expect(state).toMatchObject({ status: "waiting", trigger: { actor: "max-maintain", source: "command" } });
    expect(scenario.model.remaining).toBe(0);
  });

  it("GitHub's Re-run retries too; untrusted clickers, other apps' check runs and unknown buttons start nothing", async () => {
    const scenario = await start({ config: "test: node --test\ngate:\n  max_rounds: 1\n", script: [...failing, ...fixing] });
    const issue = scenario.issue({ title: "Add more tests" });
    await scenario.label(issue, "wes-write");
    await click(scenario, issue, "wes-write", "requested_action", "lgtm");
    await click(scenario, issue, "wes-write", "rerequested", undefined, "other-app");
    expect(scenario.model.remaining).toBe(2);
    await click(scenario, issue, "tia-triage", "rerequested");
    expect(scenario.model.remaining).toBe(2);
    expect(scenario.afkComments(issue)[0]).toContain("triage role");

    await click(scenario, issue, "wes-write", "rerequested");
    expect(runStateOf(scenario, issue)?.status).toBe("waiting");
    expect(scenario.model.remaining).toBe(0);
  });
});
