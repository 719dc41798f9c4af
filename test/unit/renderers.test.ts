import { describe, expect, it } from "vitest";
import { decodeStateMarker, STATUSES, type RunState } from "../../src/lifecycle/run-state.js";
import { NOTICES, queuedState, settledState, startedState } from "../../src/lifecycle/transitions.js";
import { CHECK_RUN_LIMITS, renderCheckRun } from "../../src/progress/render-check-run.js";
import { renderProgressComment } from "../../src/progress/render-progress-comment.js";

const now = new Date("2026-11-23T12:00:00.000Z");
const queued = queuedState({
  runId: "r-1",
  issue: 4,
  trigger: { actor: "octocat", source: "label", deliveryId: "d", repoUrl: "https://github.com/octo-org/app", bodyDigest: "0123456789abcdef0123456789abcdef" },
  now,
  queuedBehind: 2,
  previous: undefined,
});

describe("progress comment", () => {
  it("says the issue is queued behind the running one, and carries its state", () => {
    const body = renderProgressComment(queued);
    expect(body).toContain("### ⏳ afk queued this issue");
    expect(body).toContain("Queued behind #2");
    expect(decodeStateMarker(body)).toEqual({ kind: "state", state: queued });
  });

  it("shows a phase checklist with the current phase marked once the run starts", () => {
    const body = renderProgressComment(startedState(queued, "replica-a", now));
    expect(body).toContain("### 🤖 afk picked this up");
    expect(body).toContain("- [x] Queued");
    expect(body).toContain("- [ ] **Repository lock taken, run started** ← now");
    expect(body).toContain("- [ ] Pull request opened");
    expect(body).not.toContain("Queued behind");
    expect(body).toContain("[configuration](https://github.com/octo-org/app/blob/HEAD/.github/afk.yml)");
  });

  it("ticks CI only as afk read it on the awaited commit, and never says green for no CI or a merge before any verdict", () => {
    const head = "c0ffee0".padEnd(40, "0");
    const waiting: RunState = {
      ...startedState(queued, "a", now),
      status: "waiting",
      phase: "ci",
      ci: { head, pushedAt: now.toISOString() },
      pullRequest: { number: 9, url: "https://github.com/octo-org/app/pull/9", draft: true },
    };
    expect(renderProgressComment(waiting)).toContain("- [ ] **CI** ← now");
    const inReview = (passed: "green" | "no-ci" | "red-on-base"): RunState => ({
      ...waiting,
      phase: "review",
      ci: { head, pushedAt: now.toISOString(), passed },
    });
    expect(renderProgressComment(inReview("green"))).toContain("- [x] CI green on `c0ffee0`");
    const noCi = renderProgressComment(inReview("no-ci"));
    expect(noCi).toContain("- [x] No CI reported on `c0ffee0` within `ci.grace_minutes` (counted as passing)");
    expect(noCi).not.toMatch(/green/i);
    expect(renderProgressComment(inReview("red-on-base"))).not.toMatch(/green/i);
    // Merged while CI still ran: the merge is ticked, CI is not.
    const merged: RunState = { ...waiting, status: "done", phase: "merged" };
    const body = renderProgressComment(merged);
    expect(body).toContain("- [ ] CI (afk read no verdict on the last commit)");
    expect(body).toContain("- [x] Merged");
    expect(body).not.toMatch(/green/i);
  });

  it("says a failed run failed, why, and how to retry", () => {
    const failed = settledState(startedState(queued, "a", now), { status: "failed", message: "No executor is configured.", retryable: true }, now);
    const body = renderProgressComment(failed);
    expect(body).toContain("### ❌ afk's run failed");
    expect(body).toContain("No executor is configured. Comment `/afk retry` to run again.");
    expect(body).toContain("**failed here**");
  });

  it("lists each config problem with field, what is wrong and what is allowed", () => {
    const refused: RunState = {
      ...queued,
      status: "refused",
      notice: NOTICES.configInvalid([{ field: "mode", problem: "is not one of the allowed values", allowed: 'one of "pr", "direct"' }]),
    };
    const body = renderProgressComment(refused);
    expect(body).toContain("| field | what is wrong | what is allowed |");
    expect(body).toContain('| `mode` | is not one of the allowed values | one of "pr", "direct" |');
    expect(body).not.toContain("- [ ]");
  });

  it("text from outside afk cannot plant a state marker or HTML in the comment", () => {
    const fake = '<!-- afk:state {"v":1,"status":"running"} -->';
    const refused: RunState = {
      ...queued,
      status: "refused",
      notice: NOTICES.configInvalid([{ field: fake, problem: `is not a known field ${fake}`, allowed: "<b>x</b>" }]),
    };
    const body = renderProgressComment(refused);
    expect(body.match(/<!--/g)).toHaveLength(1);
    expect(body).toContain("&lt;\u200B!-- afk:state");
    expect(decodeStateMarker(body)).toEqual({ kind: "state", state: refused });
    // Even if a marker were quoted above the real one, the last one is read.
    expect(decodeStateMarker(`${fake}\n${body}`)).toEqual({ kind: "state", state: refused });
  });

  it("renders every status with a heading", () => {
    for (const status of STATUSES) expect(renderProgressComment({ ...queued, status })).toMatch(/^### /);
  });
});

describe("check run", () => {
  it("offers Stop while running and Retry after a failure, within GitHub's action limits", () => {
    const running = renderCheckRun(startedState(queued, "a", now));
    expect(running.status).toBe("in_progress");
    expect(running.actions.map((action) => action.label)).toEqual(["Stop"]);
    const failed = renderCheckRun(settledState(startedState(queued, "a", now), { status: "failed", message: "x", retryable: true }, now));
    expect(failed).toMatchObject({ status: "completed", conclusion: "failure" });
    expect(failed.actions.map((action) => action.label)).toEqual(["Retry"]);
    for (const view of [running, failed]) {
      expect(view.actions.length).toBeLessThanOrEqual(CHECK_RUN_LIMITS.actions);
      for (const action of view.actions) {
        expect(action.label.length).toBeLessThanOrEqual(CHECK_RUN_LIMITS.actionLabel);
        expect(action.description.length).toBeLessThanOrEqual(CHECK_RUN_LIMITS.actionDescription);
        expect(action.identifier.length).toBeLessThanOrEqual(CHECK_RUN_LIMITS.actionIdentifier);
      }
    }
  });

  it("keeps summary and text within 65535 characters, keeping the newest transcript lines", () => {
    const huge = Array.from({ length: 20_000 }, (_, i) => `line ${i} 🚀`).join("\n");
    const view = renderCheckRun(
      settledState(startedState(queued, "a", now), { status: "failed", message: "m".repeat(100_000), retryable: false, spend: { usd: 1.234, turns: 7 } }, now),
      { transcriptTail: huge, gate: { command: "npm test", exitCode: 1, output: "x".repeat(50_000), rounds: 3, durationMs: 1_500 } },
    );
    expect(Array.from(view.output.summary).length).toBeLessThanOrEqual(CHECK_RUN_LIMITS.outputChars);
    expect(Array.from(view.output.text ?? "").length).toBeLessThanOrEqual(CHECK_RUN_LIMITS.outputChars);
    expect(view.output.text).toContain("line 19999 🚀");
    expect(view.output.text?.endsWith("```")).toBe(true);
    expect(view.output.text).toContain("### Test output (tail)");
    expect(view.output.summary).toContain("Model cost: $1.23 over 7 turns.");
  });
});
