import { setTimeout as delay } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import type { Executor, RunJob, RunOutcome } from "../../src/run-contract/executor.js";
import { fullName } from "../../src/github/types.js";
import { readLock } from "../../src/lock/repo-lock.js";
import { injectFaults } from "../helpers/faults.js";
import { runStateIn } from "../helpers/run-state-of.js";
import { INSTALLATION_ID, OWNER, REPO, useScenario } from "../helpers/scenario.js";
import { waitFor } from "../helpers/wait-for.js";
import { issuesLabeledPayload } from "../helpers/webhook-payloads.js";

const start = useScenario();

/** Finishes every job at once, counting how often each issue was started. */
class CountingExecutor implements Executor {
  readonly name = "counting";
  readonly starts = new Map<string, number>();
  async execute(job: RunJob): Promise<RunOutcome> {
    const key = `${fullName(job.repo)}#${job.issue}`;
    this.starts.set(key, (this.starts.get(key) ?? 0) + 1);
    await delay(5);
    return { status: "done", message: "Nothing to change." };
  }
}

const TERMINAL = new Set(["done", "failed", "escalated", "stopped", "interrupted", "refused"]);

describe("GitHub failing a share of requests (500, 502, rate limits, secondary rate limits)", () => {
  it("every labeled issue still runs exactly once and ends in a definite state; no lock is left held", { timeout: 90_000 }, async () => {
    const executor = new CountingExecutor();
    const scenario = await start({ executor, octokitRetries: true });
    const { github } = scenario;
    const repos = [REPO, "svc-a", "svc-b"];
    for (const name of repos.slice(1)) {
      github.addRepo({ owner: OWNER, name, installationId: INSTALLATION_ID, files: { ".github/afk.yml": "test: npm test\n" } });
      github.setPermission(`${OWNER}/${name}`, "wes-write", "write");
    }
    const issues = repos.flatMap((name) =>
      Array.from({ length: 4 }, (_, index) => ({
        name,
        number: github.addIssue(`${OWNER}/${name}`, { title: `Task ${index + 1}`, body: "Do it.", labels: [], user: "ada-admin" }).number,
      })),
    );

    github.latencyMs = 1;
    const faults = injectFaults(github, { rate: 0.1, seed: 20261130 });
    const deliveries = issues.map(({ name, number }, index) => {
      github.seedLabels(`${OWNER}/${name}`, number, ["ready-for-agent"]);
      const payload = issuesLabeledPayload({
        owner: OWNER,
        repo: name,
        installationId: INSTALLATION_ID,
        issue: { number, title: github.issue(`${OWNER}/${name}`, number).title, body: "Do it.", labels: ["ready-for-agent"], state: "open" },
        label: "ready-for-agent",
        sender: { login: "wes-write", type: "User" },
      });
      return { payload, id: `label-${index}` };
    });
    // Everything at once, and a third of the deliveries again (GitHub redelivers when it saw no answer).
    await Promise.all(deliveries.map(({ payload, id }) => scenario.afk.deliver("issues", payload, id)));
    await Promise.all(deliveries.filter((_, index) => index % 3 === 0).map(({ payload, id }) => scenario.afk.deliver("issues", payload, id)));

    const stateOf = ({ name, number }: { name: string; number: number }) => runStateIn(github, `${OWNER}/${name}`, number);
    await waitFor(() => issues.every((issue) => TERMINAL.has(stateOf(issue)?.status ?? "")), "every issue to end in a definite state", 60_000).catch(
      (error: unknown) => {
        const stuck = issues.map((issue) => `${issue.name}#${issue.number}: ${stateOf(issue)?.status ?? "no state"} ${stateOf(issue)?.outcome?.message ?? ""}`);
        throw new Error(`${String(error)}\n${stuck.join("\n")}\nfaults: ${faults.injected.length}`);
      },
    );
    await scenario.afk.idle();
    faults.stop();

    expect(faults.injected.length).toBeGreaterThan(10);
    for (const issue of issues) {
      expect(stateOf(issue), `${issue.name}#${issue.number}`).toMatchObject({ status: "done" });
      expect(executor.starts.get(`${OWNER}/${issue.name}#${issue.number}`), `${issue.name}#${issue.number} starts`).toBe(1);
    }
    const octokit = await scenario.afk.probot.auth(INSTALLATION_ID);
    for (const name of repos) {
      const lock = await readLock(octokit, { owner: OWNER, repo: name, installationId: INSTALLATION_ID }, new Date());
      expect(lock.status === "held" ? `held by #${lock.holder.issue}` : "free", name).toBe("free");
    }
  });
});
