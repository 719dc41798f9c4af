import { describe, expect, it } from "vitest";
import { refusalMarker } from "../../src/trust/refusal-throttle.js";
import { HeldExecutor } from "../helpers/held-executor.js";
import { runStateOf } from "../helpers/run-state-of.js";
import { waitFor } from "../helpers/wait-for.js";
import { FULL_NAME, useScenario, oneRunningOneQueued, type Scenario } from "../helpers/scenario.js";

const start = useScenario();

/** Comments afk wrote that are replies, not the progress comment. */
function replies(s: Scenario, issue: number): string[] {
  return s.afkComments(issue).filter((body) => !body.includes("<!-- afk:state"));
}

const stateOf = runStateOf;

describe("slash commands from trusted people", () => {
  it("/afk help lists the commands and acknowledges with 👀", async () => {
    const scenario = await start();
    const issue = scenario.issue();
    await scenario.comment(issue, "wes-write", "/afk help");
    expect(replies(scenario, issue)).toHaveLength(1);
    const reply = replies(scenario, issue)[0] ?? "";
    for (const command of ["/afk run", "/afk stop", "/afk retry", "/afk status", "/afk help"]) expect(reply).toContain(`\`${command}\``);
    const commentId = scenario.github.comments(FULL_NAME, issue)[0]?.id ?? 0;
    expect(scenario.github.commentReactions(FULL_NAME, commentId).map((reaction) => reaction.content)).toEqual(["eyes"]);
  });

  it("/afk run starts a run like the label does", async () => {
    const scenario = await start();
    const issue = scenario.issue();
    await scenario.comment(issue, "max-maintain", "Let's go.\n/afk run");
    expect(stateOf(scenario, issue)).toMatchObject({ status: "failed", trigger: { actor: "max-maintain", source: "command" } });
  });

  it("/afk status reports the run, the lock holder and the queue", async () => {
    const executor = new HeldExecutor();
    const scenario = await start({ executor });
    const { first, second } = await oneRunningOneQueued(scenario, executor);
    await scenario.comment(second, "wes-write", "/afk status", { wait: false });
    await waitFor(() => replies(scenario, second).length === 1);
    const reply = replies(scenario, second)[0] ?? "";
    expect(reply).toContain(`**afk status for #${second}**`);
    expect(reply).toMatch(/This issue: \*\*queued\*\*/);
    expect(reply).toMatch(new RegExp(`Repository lock: held by #${first} \\(run \`r-`));
    expect(reply).toContain(`Queue, in the order afk starts it: #${second}`);
    executor.finish(first);
    await executor.waitForStarts(2);
    executor.finish(second);
  });

  it("/afk stop on a queued issue stops it; it never starts", async () => {
    const executor = new HeldExecutor();
    const scenario = await start({ executor });
    const { first, second } = await oneRunningOneQueued(scenario, executor);
    await scenario.comment(second, "wes-write", "/afk stop", { wait: false });
    await waitFor(() => stateOf(scenario, second)?.status === "stopped");
    executor.finish(first);
    await scenario.afk.idle();
    expect(executor.started.map((run) => run.issue)).toEqual([first]);
    expect(stateOf(scenario, second)).toMatchObject({ status: "stopped", stoppedBy: "wes-write" });
  });

  it("/afk stop on a running issue aborts the run and settles it as stopped; the next issue starts", async () => {
    const executor = new HeldExecutor();
    const scenario = await start({ executor });
    const first = scenario.issue();
    const second = scenario.issue();
    await scenario.label(first, "wes-write", { wait: false });
    await executor.waitForStarts(1);
    await scenario.label(second, "wes-write", { wait: false });
    await scenario.comment(first, "ada-admin", "/afk stop", { wait: false });
    await executor.waitForStarts(2);
    expect(stateOf(scenario, first)).toMatchObject({ status: "stopped" });
    expect(scenario.afkComments(first).find((body) => body.includes("afk:state"))).toContain("### ⏹️ afk stopped");
    expect(replies(scenario, first)[0]).toContain("stopping the run");
    executor.finish(second);
  });

  it("/afk retry starts a new run after a failed one; /afk retry while active says so", async () => {
    const scenario = await start();
    const issue = scenario.issue();
    await scenario.label(issue, "wes-write");
    const firstRun = stateOf(scenario, issue)?.runId;
    await scenario.comment(issue, "wes-write", "/afk retry");
    const secondRun = stateOf(scenario, issue)?.runId;
    expect(secondRun).toBeDefined();
    expect(secondRun).not.toBe(firstRun);
    expect(stateOf(scenario, issue)).toMatchObject({ status: "failed", trigger: { source: "command" } });
    expect(scenario.afkComments(issue).filter((body) => body.includes("afk:state"))).toHaveLength(1);
  });

  it("/afk retry with no earlier run points to /afk run; unknown commands get the help", async () => {
    const scenario = await start();
    const issue = scenario.issue();
    await scenario.comment(issue, "wes-write", "/afk retry");
    await scenario.comment(issue, "wes-write", "/afk deploy");
    const [retry, unknown] = replies(scenario, issue);
    expect(retry).toContain("no earlier afk run on this issue to retry; use `/afk run`");
    expect(unknown).toContain("afk does not know `/afk deploy`");
    expect(unknown).toContain("`/afk help`");
  });

  it("does not echo an unknown command that is not a plain word", async () => {
    const scenario = await start();
    const issue = scenario.issue();
    await scenario.comment(issue, "wes-write", "/afk `@everyone`<img>");
    const [reply] = replies(scenario, issue);
    expect(reply).toContain("afk does not know `that /afk command`");
    expect(reply).not.toContain("@everyone");
    expect(reply).not.toContain("<img>");
  });

  it("ignores commands in quotes and code blocks", async () => {
    const scenario = await start();
    const issue = scenario.issue();
    await scenario.comment(issue, "wes-write", "> /afk run\n```\n/afk run\n```\nSee `/afk run` above.");
    expect(scenario.afkComments(issue)).toEqual([]);
  });
});

describe("slash commands from others", () => {
  it.each(["/afk help", "/afk status", "/afk run", "/afk stop", "/afk retry"])(
    "%s by a read-only user gets one refusal reply and does nothing",
    async (command) => {
      const scenario = await start();
      const issue = scenario.issue();
      await scenario.comment(issue, "rex-read", command);
      const afkComments = scenario.afkComments(issue);
      expect(afkComments).toHaveLength(1);
      expect(afkComments[0]?.endsWith(`\n\n${refusalMarker("rex-read")}`)).toBe(true);
      expect(afkComments[0]?.replace(`\n\n${refusalMarker("rex-read")}`, "")).toBe(
        `@rex-read afk did not run \`${command}\`: @rex-read has the read role; starting afk needs write, maintain or admin.`,
      );
      expect(scenario.github.requests.some((request) => request.path.includes("/git/"))).toBe(false);
    },
  );

  it("a triage user is refused too", async () => {
    const scenario = await start();
    const issue = scenario.issue();
    await scenario.comment(issue, "tia-triage", "/afk run");
    expect(scenario.afkComments(issue)).toEqual([expect.stringContaining("@tia-triage has the triage role")]);
  });

  it("a bot gets no reply at all, so no two bots can loop", async () => {
    const scenario = await start();
    const issue = scenario.issue();
    await scenario.comment(issue, "renovate[bot]", "/afk run");
    expect(scenario.afkComments(issue)).toEqual([]);
  });

  it("afk's own comments never trigger it, even though its help text contains commands", async () => {
    const scenario = await start();
    const issue = scenario.issue();
    await scenario.comment(issue, scenario.github.botLogin, "/afk run\n/afk help");
    expect(scenario.github.requests.some((request) => request.method !== "GET" && !request.path.includes("access_tokens"))).toBe(false);
  });
});
