// The run log store against the emulated GitHub (every request checked against GitHub's OpenAPI
// description): a run's jobs make one chain under one ref, and expired logs are deleted at most once
// an hour per repository per process.
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { RunLogStore, writeRunLog } from "../../src/github/run-log.js";
import type { GitHub, RepoRef } from "../../src/github/types.js";
import { FULL_NAME, INSTALLATION_ID, OWNER, REPO, useScenario } from "../helpers/scenario.js";

const start = useScenario();
const repo: RepoRef = { owner: OWNER, repo: REPO, installationId: INSTALLATION_ID };
const DAY = 24 * 60 * 60_000;
const files = (text: string) => ({ markdown: `# ${text}\n`, jsonl: `${JSON.stringify({ atMs: 0, turn: 0, kind: "user", text })}\n` });
const runId = (startedAt: number, suffix: string) => `r-${startedAt.toString(36)}-${suffix}`;

async function world(): Promise<{ octokit: GitHub; github: Awaited<ReturnType<typeof start>>["github"] }> {
  const scenario = await start();
  return { octokit: await scenario.afk.probot.auth(INSTALLATION_ID), github: scenario.github };
}

describe("the run log store", () => {
  it("writes a run's first job as a commit with no parent and each later job on the one before, under refs/afk/runs/<run id>", async () => {
    const { octokit, github } = await world();
    const id = runId(Date.now(), "0a1b2c3d");
    const first = await writeRunLog(octokit, repo, id, files("implement"), "afk run log: implement");
    const second = await writeRunLog(octokit, repo, id, files("fix-ci"), "afk run log: fix-ci");
    expect(github.ref(FULL_NAME, `refs/afk/runs/${id}`)).toBe(second);
    expect(github.commit(FULL_NAME, first)?.parents).toEqual([]);
    expect(github.commit(FULL_NAME, second)?.parents.map((parent) => parent.sha)).toEqual([first]);
    expect(github.fileAtCommit(FULL_NAME, second, "run.md")).toBe("# fix-ci\n");
    expect(github.fileAtCommit(FULL_NAME, first, "run.jsonl")).toBe('{"atMs":0,"turn":0,"kind":"user","text":"implement"}\n');
    expect(github.violations).toEqual([]);
  });

  it("deletes logs past the retention once an hour per repository, keeping young ones, ones written again lately and names not afk's", async () => {
    const { octokit, github } = await world();
    let now = Date.now();
    const store = new RunLogStore({ retentionDays: 7, log: pino({ level: "silent" }), now: () => new Date(now) });
    const old = runId(now - 8 * DAY, "00000001");
    const young = runId(now - 6 * DAY, "00000002");
    await writeRunLog(octokit, repo, old, files("old"), "old");
    await writeRunLog(octokit, repo, young, files("young"), "young");
    await writeRunLog(octokit, repo, "not-a-run-id", files("foreign"), "foreign");
    // Written just now, so its last commit is young though its run is old: kept.
    expect(await store.sweep(octokit, repo)).toEqual([]);
    const listings = () => github.requests.filter((request) => request.path.includes("/git/matching-refs/")).length;
    expect(listings()).toBe(1);

    // Within the hour: no second listing, even for another run's log.
    now += 30 * 60_000;
    const fresh = runId(now, "00000003");
    expect(await store.keep(octokit, repo, fresh, files("new"), "new")).toMatch(/^[0-9a-f]{40}$/);
    expect(listings()).toBe(1);

    // Eight days on, every afk log is past the retention by its run and by its last commit; the foreign ref stays.
    now += 8 * DAY;
    expect(await store.sweep(octokit, repo)).toEqual([old, young, fresh]);
    expect(listings()).toBe(2);
    expect(github.refsUnder(FULL_NAME, "refs/afk/runs/")).toEqual(["refs/afk/runs/not-a-run-id"]);
    expect(github.violations).toEqual([]);
  });

  it("AFK_RUN_LOG_DAYS=0: keeps nothing and asks GitHub nothing", async () => {
    const { octokit, github } = await world();
    const before = github.requests.length;
    const store = new RunLogStore({ retentionDays: 0, log: pino({ level: "silent" }) });
    expect(store.enabled).toBe(false);
    expect(await store.keep(octokit, repo, runId(Date.now(), "00000004"), files("x"), "x")).toBeUndefined();
    expect(github.requests.length).toBe(before);
  });
});
