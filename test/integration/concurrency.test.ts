import { describe, expect, it } from "vitest";
import { HeldExecutor } from "../helpers/held-executor.js";
import { runStateOf } from "../helpers/run-state-of.js";
import { FULL_NAME, useScenario } from "../helpers/scenario.js";
import { waitFor } from "../helpers/wait-for.js";

const start = useScenario();

describe("two App instances sharing one GitHub", () => {
  it("50 simultaneous deliveries: exactly one run holds the lock, the rest queue, none lost, none started twice", async () => {
    const acrossInstances = { active: 0, peak: 0 };
    const executorA = new HeldExecutor(acrossInstances);
    const executorB = new HeldExecutor(acrossInstances);
    const a = await start({ executor: executorA });
    const b = await a.replica({ executor: executorB, replicaId: "replica-b" });
    const { github } = a;

    const contested = a.issue({ title: "Contested" });
    const others = Array.from({ length: 10 }, (_, i) => a.issue({ title: `Other ${i}` }));

    // 40 deliveries of one label event (20 redeliveries with one id, 20 fresh ids), plus one label
    // on each of 10 other issues, spread alternately over the two instances, all at once.
    const deliveries: Array<Promise<void>> = [];
    for (let i = 0; i < 40; i++) {
      const target = i % 2 === 0 ? a : b;
      deliveries.push(target.label(contested, "wes-write", { wait: false, ...(i < 20 ? { deliveryId: "redelivered" } : {}) }));
    }
    others.forEach((issue, i) => deliveries.push((i % 2 === 0 ? b : a).label(issue, "max-maintain", { wait: false })));
    await Promise.all(deliveries);
    await Promise.all([a.afk.quiet(), b.afk.quiet()]);
    await waitFor(() => executorA.started.length + executorB.started.length >= 1, "first run");
    await Promise.all([a.afk.quiet(), b.afk.quiet()]);

    const started = [...executorA.started, ...executorB.started];
    expect(started).toHaveLength(1);
    const runningIssue = started[0]?.issue ?? 0;
    const all = [contested, ...others];
    for (const issue of all) {
      const progressComments = a.afkComments(issue).filter((body) => body.includes("<!-- afk:state"));
      expect(progressComments, `issue #${issue}`).toHaveLength(1);
      expect(runStateOf(a, issue)?.status, `issue #${issue}`).toBe(issue === runningIssue ? "running" : "queued");
    }
    const lockMessage = github.commit(FULL_NAME, github.ref(FULL_NAME, "refs/afk/lock") ?? "")?.message ?? "";
    expect(lockMessage).toContain(`afk lock: #${runningIssue} `);

    // Drain: finish whichever run is active until every issue has run exactly once.
    for (let done = 1; done <= all.length; done++) {
      await waitFor(() => executorA.running.length + executorB.running.length === 1, `run ${done} holding`);
      const current = [...executorA.running, ...executorB.running][0];
      if (current === undefined) throw new Error("no run is active");
      (executorA.running.includes(current) ? executorA : executorB).finish(current.issue);
      if (done < all.length) await waitFor(() => executorA.started.length + executorB.started.length === done + 1, `run ${done + 1} to start`);
    }
    await Promise.all([a.afk.idle(), b.afk.idle()]);
    const everyStart = [...executorA.started, ...executorB.started].map((run) => run.issue).sort((x, y) => x - y);
    expect(everyStart).toEqual([...all].sort((x, y) => x - y));
    expect(acrossInstances.peak).toBe(1);
    for (const issue of all) expect(runStateOf(a, issue)?.status).toBe("failed");
    expect(github.commit(FULL_NAME, github.ref(FULL_NAME, "refs/afk/lock") ?? "")?.message).toMatch(/^afk lock: free/);
  });
});
