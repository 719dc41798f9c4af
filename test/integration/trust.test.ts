import { describe, expect, it } from "vitest";
import { FULL_NAME, useScenario, type Scenario } from "../helpers/scenario.js";

const start = useScenario();

function lockWasTouched(s: Scenario): boolean {
  return s.github.requests.some((request) => request.path.includes("/git/"));
}

describe("the trust gate on a label", () => {
  it.each([
    ["ada-admin", "admin"],
    ["max-maintain", "maintain"],
    ["wes-write", "write"],
  ])("trusts %s (%s role)", async (login) => {
    const scenario = await start();
    const issue = scenario.issue();
    await scenario.label(issue, login);
    expect(scenario.afkComments(issue)[0]).toContain("ANTHROPIC_API_KEY is not set");
    expect(scenario.github.reactions(FULL_NAME, issue)).toHaveLength(1);
  });

  it.each([
    ["tia-triage", /@tia-triage has the triage role; starting afk needs write, maintain or admin/],
    ["rex-read", /@rex-read has the read role/],
    ["outsider", /@outsider is not a collaborator|@outsider has the (read|none) role/],
  ])("refuses %s with one short comment saying why, and starts nothing", async (login, reason) => {
    const scenario = await start();
    const issue = scenario.issue();
    await scenario.label(issue, login);
    const comments = scenario.afkComments(issue);
    expect(comments).toHaveLength(1);
    expect(comments[0]).toContain("### 🚫 afk did not start");
    expect(comments[0]).toMatch(reason);
    expect(scenario.github.reactions(FULL_NAME, issue)).toEqual([]);
    expect(lockWasTouched(scenario)).toBe(false);
  });

  it("refuses a bot that is not listed, and a second refusal edits the same comment", async () => {
    const scenario = await start();
    const issue = scenario.issue();
    await scenario.label(issue, "renovate[bot]");
    await scenario.label(issue, "rex-read");
    const comments = scenario.afkComments(issue);
    expect(comments).toHaveLength(1);
    expect(comments[0]).toMatch(/@rex-read has the read role/);
    expect(scenario.github.requests.filter((request) => request.method === "POST" && request.path.endsWith(`/issues/${issue}/comments`))).toHaveLength(1);
    expect(lockWasTouched(scenario)).toBe(false);
  });

  it("refuses a bot even when it has write access, unless trusted.bots lists it", async () => {
    const scenario = await start({ config: "test: npm test\ntrusted:\n  bots: ['renovate[bot]']\n" });
    scenario.github.setPermission(FULL_NAME, "renovate[bot]", "write");
    const issue = scenario.issue();
    await scenario.label(issue, "renovate[bot]");
    expect(scenario.afkComments(issue)[0]).toContain("ANTHROPIC_API_KEY is not set");
  });

  it("trusts a person listed in trusted.users without write access", async () => {
    const scenario = await start({ config: "test: npm test\ntrusted:\n  users: [rex-read]\n" });
    const issue = scenario.issue();
    await scenario.label(issue, "rex-read");
    expect(scenario.afkComments(issue)[0]).toContain("ANTHROPIC_API_KEY is not set");
  });

  it("fails closed when GitHub cannot say what the sender's role is", async () => {
    const scenario = await start();
    scenario.github.onRequest = (request) => (request.path.includes("/collaborators/") ? { status: 502, body: { message: "Bad Gateway" } } : undefined);
    const issue = scenario.issue();
    await scenario.label(issue, "ada-admin");
    const comments = scenario.afkComments(issue);
    expect(comments).toHaveLength(1);
    expect(comments[0]).toMatch(/afk could not verify @ada-admin's permission .*so it refuses to act/);
    expect(lockWasTouched(scenario)).toBe(false);
  });
});
