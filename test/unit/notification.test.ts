import { describe, expect, it } from "vitest";
import type { RunState } from "../../src/lifecycle/run-state.js";
import {
  interruptedState,
  pullRequestClosedState,
  queuedState,
  refusedState,
  NOTICES,
  settledState,
  spendState,
  startedState,
  stoppedState,
} from "../../src/lifecycle/transitions.js";
import { newHolder } from "../../src/lock/lock-record.js";
import { inertForSlack, MAX_OUTCOME_CHARACTERS, notificationFor } from "../../src/notify/notification.js";

const repo = { owner: "octo-org", repo: "app" };
const queuedAt = new Date("2026-11-23T12:00:00.000Z");
const startedAt = new Date("2026-11-23T12:01:00.000Z");
const endedAt = new Date("2026-11-23T12:43:00.000Z");
const trigger = {
  actor: "octocat",
  source: "label" as const,
  deliveryId: "d-1",
  repoUrl: "https://github.com/octo-org/app",
  bodyDigest: "0123456789abcdef0123456789abcdef",
};
const queued = queuedState({ runId: "r-1", issue: 12, trigger, now: queuedAt, queuedBehind: undefined, previous: undefined });
const running = spendState(startedState(queued, "replica-a", startedAt), { usd: 1.234, turns: 14 });
const pullRequest = { number: 31, url: "https://github.com/octo-org/app/pull/31", draft: false };

describe("notificationFor", () => {
  it("tells when a run needs a person, with the issue link, the outcome, the cost and the duration", () => {
    const escalated = settledState(
      running,
      { status: "escalated", message: "The tests stayed red after 3 attempts.", spend: { usd: 1.234, turns: 14 } },
      endedAt,
    );
    const notification = notificationFor(running, escalated, repo);
    expect(notification?.kind).toBe("escalated");
    expect(notification?.subject).toBe("octo-org/app#12");
    const text = notification?.message.text ?? "";
    expect(text).toContain("afk: <https://github.com/octo-org/app/issues/12|octo-org/app#12> needs a person (ready-for-human)");
    expect(text).toContain("The tests stayed red after 3 attempts.");
    expect(text).toContain("Model cost: $1.23 over 14 turns");
    expect(text).toContain("Duration: 42 min");
    expect(text).toContain("Status: escalated");
    expect(notification?.message.blocks).toEqual([
      {
        type: "section",
        text: { type: "mrkdwn", text: "*afk: <https://github.com/octo-org/app/issues/12|octo-org/app#12> needs a person (ready-for-human)*" },
      },
      { type: "section", text: { type: "mrkdwn", text: "The tests stayed red after 3 attempts." } },
      { type: "context", elements: [{ type: "mrkdwn", text: "Status: escalated · Model cost: $1.23 over 14 turns · Duration: 42 min" }] },
    ]);
  });

  it("tells when a run fails, is interrupted, or its pull request is merged", () => {
    const failed = settledState(running, { status: "failed", message: "The model is unreachable.", retryable: true }, endedAt);
    expect(notificationFor(running, failed, repo)?.message.text).toMatch(/octo-org\/app#12> failed\n/);

    const holder = newHolder({ issue: 12, runId: "r-1", replica: "replica-a", now: startedAt, leaseSeconds: 300 });
    const interrupted = interruptedState(running, holder, endedAt);
    expect(notificationFor(running, interrupted, repo)?.kind).toBe("interrupted");

    const waiting: RunState = { ...running, status: "waiting", phase: "review", pullRequest };
    const merged = pullRequestClosedState(waiting, { number: 31, merged: true, by: "maintainer", now: endedAt });
    const notification = notificationFor(waiting, merged, repo);
    expect(notification?.kind).toBe("merged");
    expect(notification?.message.text).toContain("octo-org/app#12> was merged");
    expect(notification?.message.text).toContain("Pull request #31 was merged by @\u200Bmaintainer.");
  });

  it("says nothing for queueing, starting, refusals, stops, a pull request closed unmerged, or a run done without a pull request", () => {
    expect(notificationFor(undefined, queued, repo)).toBeUndefined();
    expect(notificationFor(queued, running, repo)).toBeUndefined();
    const refused = refusedState({ runId: "r-2", issue: 12, trigger, now: endedAt, notice: NOTICES.paused(), previous: undefined });
    expect(notificationFor(undefined, refused, repo)).toBeUndefined();
    expect(notificationFor(running, stoppedState(running, "octocat", endedAt, "Stopped."), repo)).toBeUndefined();
    const waiting: RunState = { ...running, status: "waiting", phase: "review", pullRequest };
    expect(notificationFor(waiting, pullRequestClosedState(waiting, { number: 31, merged: false, by: "maintainer", now: endedAt }), repo)).toBeUndefined();
    const direct: RunState = { ...running, status: "done", phase: "merged", endedAt: endedAt.toISOString() };
    expect(notificationFor(running, direct, repo)).toBeUndefined();
  });

  it("tells once: rewriting a state already escalated, failed or merged sends nothing, a new run's ending does", () => {
    const escalated = settledState(running, { status: "escalated", message: "Needs a person." }, endedAt);
    expect(notificationFor(escalated, { ...escalated, outcome: { message: "Needs a person, still.", retryable: true } }, repo)).toBeUndefined();
    const retried = { ...escalated, runId: "r-2" };
    expect(notificationFor(escalated, retried, repo)?.kind).toBe("escalated");
    const failed = settledState(running, { status: "failed", message: "Broke.", retryable: true }, endedAt);
    expect(notificationFor(escalated, failed, repo)?.kind).toBe("failed");
  });

  it("names the issue without a link when the state carries no usable repository address", () => {
    const { repoUrl: _url, ...withoutUrl } = settledState(running, { status: "failed", message: "Broke.", retryable: true }, endedAt);
    expect(notificationFor(running, withoutUrl, repo)?.message.text).toMatch(/^afk: octo-org\/app#12 failed/);
    const hostile: RunState = { ...withoutUrl, repoUrl: "https://github.com/octo-org/app|<!channel>" };
    const text = notificationFor(running, hostile, repo)?.message.text ?? "";
    expect(text).not.toContain("<!channel>");
    expect(text).not.toMatch(/<[^>]*\|/);
  });

  it("makes a hostile outcome inert: no broadcast, user mention, channel link or disguised link survives", () => {
    const hostile =
      "Done <!channel> <!here|here> <@U024BE7LH> <#C024BE7LH|general> <https://evil.example|click here> @here @channel @everyone &lt;!channel&gt; \u202Ehidden\u200B";
    const failed = settledState(running, { status: "failed", message: hostile, retryable: true }, endedAt);
    const message = notificationFor(running, failed, repo)?.message;
    const outcome = message?.blocks[1];
    expect(outcome).toEqual({
      type: "section",
      text: {
        type: "mrkdwn",
        text: "Done &lt;!channel&gt; &lt;!here|here&gt; &lt;@\u200BU024BE7LH&gt; &lt;#C024BE7LH|general&gt; &lt;https://evil.example|click here&gt; @\u200Bhere @\u200Bchannel @\u200Beveryone &amp;lt;!channel&amp;gt; hidden",
      },
    });
    const everything = JSON.stringify(message);
    // The only `<` in the message is afk's own link to the issue.
    expect([...everything.matchAll(/</g)]).toHaveLength(2);
    expect(everything).not.toMatch(/@(here|channel|everyone|U0)/);
  });

  it("bounds the outcome, never cutting inside an escape", () => {
    const long = "<".repeat(5_000);
    const cut = inertForSlack(long, MAX_OUTCOME_CHARACTERS);
    expect(cut.length).toBeLessThanOrEqual(MAX_OUTCOME_CHARACTERS);
    expect(cut).toMatch(/^(&lt;)+…$/);
    expect(inertForSlack("exactly", 7)).toBe("exactly");
    expect(inertForSlack("one more", 7)).toBe("one mo…");
    const failed = settledState(running, { status: "failed", message: "x".repeat(100_000), retryable: true }, endedAt);
    expect(JSON.stringify(notificationFor(running, failed, repo)).length).toBeLessThan(MAX_OUTCOME_CHARACTERS * 2 + 1_000);
  });

  it("carries no more than the repository, issue, status, outcome, cost and duration", () => {
    const secretive: RunState = {
      ...settledState(running, { status: "failed", message: "Broke.", retryable: true }, endedAt),
      replica: "replica-secret",
      branch: "afk/secret-branch",
      trigger: { ...queued.trigger, actor: "secret-actor" },
    };
    const everything = JSON.stringify(notificationFor(running, secretive, repo));
    for (const absent of ["replica-secret", "secret-branch", "secret-actor", "r-1", "0123456789abcdef"]) expect(everything).not.toContain(absent);
  });
});
