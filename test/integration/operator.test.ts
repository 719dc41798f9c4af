import { describe, expect, it } from "vitest";
import { decodeStateMarker } from "../../src/lifecycle/run-state.js";
import { HeldExecutor } from "../helpers/held-executor.js";
import { runStateOf } from "../helpers/run-state-of.js";
import { INSTALLATION_ID, OWNER, REPO, oneRunningOneQueued, useScenario } from "../helpers/scenario.js";

const start = useScenario();

describe("operator settings and repository config", () => {
  it("kill switch on: no new work, one comment says afk is paused", async () => {
    const scenario = await start({ env: { AFK_KILL_SWITCH: "on" } });
    const issue = scenario.issue();
    await scenario.label(issue, "wes-write");
    await scenario.label(issue, "wes-write");
    const comments = scenario.afkComments(issue);
    expect(comments).toHaveLength(1);
    expect(comments[0]).toContain("afk is paused by its operator (kill switch)");
    expect(scenario.github.requests.some((request) => request.path.includes("/git/"))).toBe(false);
  });

  it("a repository outside the allowlist is only logged: afk sends no request at all", async () => {
    const scenario = await start({ env: { AFK_ALLOWLIST: "someone-else/*" } });
    const issue = scenario.issue();
    const before = scenario.github.requests.length;
    await scenario.label(issue, "wes-write");
    await scenario.comment(issue, "wes-write", "/afk run");
    expect(scenario.github.requests.length).toBe(before);
    expect(scenario.afkComments(issue)).toEqual([]);
  });

  it("an empty allowlist runs nothing", async () => {
    const scenario = await start({ env: { AFK_ALLOWLIST: "" } });
    const issue = scenario.issue();
    await scenario.label(issue, "wes-write");
    expect(scenario.afkComments(issue)).toEqual([]);
  });

  it("a broken .github/afk.yml gets a comment listing each problem, and no run", async () => {
    const scenario = await start({ config: "test: ''\nmode: yolo\nbudget:\n  max_usd: -3\ncolour: blue\n" });
    const issue = scenario.issue();
    await scenario.label(issue, "wes-write");
    const comments = scenario.afkComments(issue);
    expect(comments).toHaveLength(1);
    const body = comments[0] ?? "";
    expect(body).toContain("has 4 problems, so afk did not start");
    expect(body).toContain("| `test` | must be a shell command, for example `npm test` |");
    expect(body).toContain('| `mode` | is not one of the allowed values | one of "pr", "direct"');
    expect(body).toContain("| `budget.max_usd` | must be more than 0 |");
    expect(body).toContain("| `colour` | is not a known field | one of: test, setup, model");
    const decoded = decodeStateMarker(body);
    expect(decoded.kind === "state" && decoded.state.notice?.problems).toHaveLength(4);
    expect(scenario.github.requests.some((request) => request.path.includes("/git/"))).toBe(false);
  });

  it("YAML that does not parse is reported as such", async () => {
    const scenario = await start({ config: "test: [unclosed\n" });
    const issue = scenario.issue();
    await scenario.label(issue, "wes-write");
    expect(scenario.afkComments(issue)[0]).toMatch(/\| `\(file\)` \| is not valid YAML/);
  });

  it("a repository without .github/afk.yml is told how to set afk up", async () => {
    const scenario = await start({ config: null });
    const issue = scenario.issue();
    await scenario.label(issue, "wes-write");
    expect(scenario.afkComments(issue)[0]).toContain("afk is not set up in this repository: add `.github/afk.yml`");
  });

  it("reads the config from the owner's .github repository when the repository has none", async () => {
    const scenario = await start({ config: null });
    scenario.github.addRepo({ owner: "octo-org", name: ".github", installationId: 4242, files: { ".github/afk.yml": "test: make check\n" } });
    const issue = scenario.issue();
    await scenario.label(issue, "wes-write");
    expect(scenario.afkComments(issue)[0]).toContain("ANTHROPIC_API_KEY is not set");
  });

  it("follows _extends to a shared config", async () => {
    const scenario = await start({ config: "_extends: shared-config\nlabels:\n  trigger: go\n" });
    scenario.github.addRepo({ owner: "octo-org", name: "shared-config", installationId: 4242, files: { ".github/afk.yml": "test: make check\n" } });
    const issue = scenario.issue();
    await scenario.label(issue, "wes-write", { label: "go" });
    expect(scenario.afkComments(issue)[0]).toContain("ANTHROPIC_API_KEY is not set");
  });

  it("invalid operator settings fail at start-up with a message naming each variable", async () => {
    await expect(start({ env: { AFK_KILL_SWITCH: "perhaps", AFK_MAX_CONCURRENT_RUNS: "-1" } })).rejects.toThrow(
      /afk cannot start: invalid operator settings\n {2}- AFK_KILL_SWITCH="perhaps" is not on or off.*\n {2}- AFK_MAX_CONCURRENT_RUNS="-1" must be a whole number from 1 to 64/s,
    );
  });
});

describe("kill switch and work queued before it", () => {
  it("an issue queued before the switch was turned on does not start while it is on", async () => {
    const executor = new HeldExecutor();
    const running = await start({ executor });
    const { first, second } = await oneRunningOneQueued(running, executor);
    // The replica is restarted with the kill switch on; the new process sees the old run end.
    const paused = (await running.replica({ env: { AFK_KILL_SWITCH: "on" }, replicaId: "replica-paused" })).afk;
    running.afk.coordinator.shutdown("replica restarted");
    await running.afk.idle();
    await paused.coordinator.dispatchNext({ owner: OWNER, repo: REPO, installationId: INSTALLATION_ID });
    await paused.idle();
    expect(executor.started.map((run) => run.issue)).toEqual([first]);
    expect(runStateOf(running, second)?.status).toBe("queued");
  });
});
