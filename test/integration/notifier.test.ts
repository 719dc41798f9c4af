import { afterEach, describe, expect, it } from "vitest";
import type { RunState } from "../../src/lifecycle/run-state.js";
import { pullRequestClosedState, queuedState, settledState, spendState, startedState } from "../../src/lifecycle/transitions.js";
import { Notifier, notifyingObserver, type NotifierLog, type NotifierOptions } from "../../src/notify/notifier.js";
import { answerHang, answerStatus, WebhookReceiver as Receiver } from "../helpers/webhook-receiver.js";

/** Records log lines, so tests can read what an operator would. */
class CapturedLog implements NotifierLog {
  readonly lines: { level: string; details: object; message: string }[] = [];
  info(details: object, message: string): void {
    this.lines.push({ level: "info", details, message });
  }
  warn(details: object, message: string): void {
    this.lines.push({ level: "warn", details, message });
  }
  error(details: object, message: string): void {
    this.lines.push({ level: "error", details, message });
  }
  text(): string {
    return this.lines.map((line) => `${line.level} ${line.message} ${JSON.stringify(line.details)}`).join("\n");
  }
}

const repo = { owner: "octo-org", repo: "app", installationId: 7 };
const trigger = {
  actor: "octocat",
  source: "label" as const,
  deliveryId: "d-1",
  repoUrl: "https://github.com/octo-org/app",
  bodyDigest: "0123456789abcdef0123456789abcdef",
};
const queued = queuedState({ runId: "r-1", issue: 12, trigger, now: new Date("2026-11-23T12:00:00.000Z"), queuedBehind: undefined, previous: undefined });
const running = spendState(startedState(queued, "replica-a", new Date("2026-11-23T12:01:00.000Z")), { usd: 0.87, turns: 9 });
const endedAt = new Date("2026-11-23T12:20:00.000Z");
const escalated = settledState(running, { status: "escalated", message: "The gate stayed red after 3 attempts.", spend: { usd: 0.87, turns: 9 } }, endedAt);
const failed = settledState(running, { status: "failed", message: "The model was unreachable after 4 retries.", retryable: true }, endedAt);
const waiting: RunState = {
  ...running,
  status: "waiting",
  phase: "review",
  pullRequest: { number: 31, url: "https://github.com/octo-org/app/pull/31", draft: false },
};
const merged = pullRequestClosedState(waiting, { number: 31, merged: true, by: "maintainer", now: endedAt });

const receivers: Receiver[] = [];
const notifiers: Notifier[] = [];

async function setUp(options: Partial<NotifierOptions> = {}): Promise<{ receiver: Receiver; notifier: Notifier; log: CapturedLog }> {
  const receiver = new Receiver();
  receivers.push(receiver);
  const log = new CapturedLog();
  const notifier = new Notifier({ url: await receiver.start(), log, retryDelayMs: 20, timeoutMs: 2_000, ...options });
  notifiers.push(notifier);
  return { receiver, notifier, log };
}

afterEach(async () => {
  for (const receiver of receivers.splice(0)) await receiver.stop();
  for (const notifier of notifiers.splice(0)) await notifier.flush();
});

describe("notifications to an incoming webhook", () => {
  it("sends one message each when a run needs a person, fails, or is merged, with the issue link and the cost", async () => {
    const { receiver, notifier, log } = await setUp();
    const observer = notifyingObserver(notifier);
    observer.stateWritten(repo, undefined, queued);
    observer.stateWritten(repo, queued, running);
    observer.stateWritten(repo, running, escalated);
    observer.stateWritten(repo, escalated, { ...escalated, outcome: { message: "A reply was added.", retryable: true } });
    observer.stateWritten(repo, running, failed);
    observer.stateWritten(repo, waiting, merged);
    await notifier.flush();

    expect(receiver.received.map((request) => request.contentType)).toEqual(Array(3).fill("application/json; charset=utf-8"));
    const [needsPerson, failure, merge] = receiver.messages();
    expect(needsPerson?.text).toContain("<https://github.com/octo-org/app/issues/12|octo-org/app#12> needs a person (ready-for-human)");
    expect(needsPerson?.text).toContain("The gate stayed red after 3 attempts.");
    expect(failure?.text).toContain("<https://github.com/octo-org/app/issues/12|octo-org/app#12> failed");
    expect(failure?.text).toContain("The model was unreachable after 4 retries.");
    expect(merge?.text).toContain("<https://github.com/octo-org/app/issues/12|octo-org/app#12> was merged");
    for (const message of [needsPerson, failure, merge]) {
      expect(message?.text).toContain("Model cost: $0.87 over 9 turns");
      expect(message?.text).toContain("Duration: 19 min");
      expect(message?.blocks.length).toBeGreaterThanOrEqual(2);
    }
    expect(log.lines).toEqual([]);
  });

  it("retries a receiver that answers 500 twice, and delivers on the third try with waits that grow", async () => {
    const { receiver, notifier, log } = await setUp({ retryDelayMs: 50 });
    receiver.answer(answerStatus(500), answerStatus(500));
    notifyingObserver(notifier).stateWritten(repo, running, escalated);
    await notifier.flush();

    expect(receiver.received).toHaveLength(3);
    expect(new Set(receiver.received.map((request) => request.body)).size).toBe(1);
    const [first, second, third] = receiver.received.map((request) => request.at);
    expect((second ?? 0) - (first ?? 0)).toBeGreaterThanOrEqual(45);
    expect((third ?? 0) - (second ?? 0)).toBeGreaterThanOrEqual(95);
    expect(log.lines.map((line) => line.level)).toEqual(["warn", "warn", "info"]);
    expect(log.text()).toContain("HTTP 500: internal_error");
    expect(log.text()).not.toContain("secret-token");
  });

  it("gives up after the bounded number of attempts and logs the give-up, never the address", async () => {
    const { receiver, notifier, log } = await setUp({ maxAttempts: 3 });
    receiver.answer(answerStatus(503), answerStatus(502), answerStatus(500), answerStatus(500));
    notifyingObserver(notifier).stateWritten(repo, running, failed);
    await notifier.flush();

    expect(receiver.received).toHaveLength(3);
    expect(log.lines.map((line) => line.level)).toEqual(["warn", "warn", "error"]);
    expect(log.lines[2]?.message).toBe("afk gave up on a notification after 3 attempts");
    expect(log.lines[2]?.details).toMatchObject({ notification: "octo-org/app#12", kind: "failed", reason: "HTTP 500: internal_error" });
    expect(log.text()).not.toContain("secret-token");
  });

  it("waits as long as a 429 answer's Retry-After asks before trying again", async () => {
    const { receiver, notifier, log } = await setUp();
    receiver.answer(answerStatus(429, { "retry-after": "1" }));
    notifyingObserver(notifier).stateWritten(repo, running, failed);
    await notifier.flush();

    expect(receiver.received).toHaveLength(2);
    const [first, second] = receiver.received.map((request) => request.at);
    expect((second ?? 0) - (first ?? 0)).toBeGreaterThanOrEqual(950);
    expect(log.lines[0]?.details).toMatchObject({ retryInMs: 1_000 });
  });

  it("does not retry what will not change: a 400 or a Retry-After longer than afk waits ends the attempts", async () => {
    const { receiver, notifier, log } = await setUp({ maxRetryDelayMs: 5_000 });
    receiver.answer(answerStatus(400), answerStatus(429, { "retry-after": "3600" }));
    const observer = notifyingObserver(notifier);
    observer.stateWritten(repo, running, failed);
    observer.stateWritten(repo, running, escalated);
    await notifier.flush();

    expect(receiver.received).toHaveLength(2);
    expect(log.lines.map((line) => `${line.level}: ${line.message}`)).toEqual([
      "error: afk gave up on a notification: the receiver refused it",
      "error: afk gave up on a notification: the receiver asked it to wait longer than it retries",
    ]);
    expect(log.lines[0]?.details).toMatchObject({ reason: "HTTP 400: invalid_payload" });
  });

  it("does not follow a redirect to another address", async () => {
    const { receiver, notifier, log } = await setUp();
    receiver.answer((_request, res) => res.writeHead(307, { location: "/elsewhere" }).end());
    notifyingObserver(notifier).stateWritten(repo, running, failed);
    await notifier.flush();

    expect(receiver.received.map((request) => request.path)).toEqual(["/services/T000/B000/secret-token"]);
    expect(log.lines[0]?.details).toMatchObject({ reason: expect.stringContaining("HTTP 307, a redirect, which afk does not follow") });
  });

  it("never delays the caller when the receiver hangs, and times out each attempt", async () => {
    const { receiver, notifier, log } = await setUp({ timeoutMs: 300, maxAttempts: 2 });
    receiver.answer(answerHang, answerHang);
    const observer = notifyingObserver(notifier);
    const before = performance.now();
    observer.stateWritten(repo, running, escalated);
    observer.stateWritten(repo, running, failed);
    const callerMs = performance.now() - before;
    expect(callerMs).toBeLessThan(50);

    const flushStarted = performance.now();
    await notifier.flush();
    // Two attempts of 300 ms for the first message; the second message is sent once the first is given up.
    expect(performance.now() - flushStarted).toBeGreaterThanOrEqual(550);
    expect(receiver.received).toHaveLength(3);
    expect(log.lines.map((line) => line.level)).toEqual(["warn", "error"]);
    expect(log.lines[0]?.details).toMatchObject({ reason: "no answer within 300 ms" });
  });

  it("retries a receiver that is not listening, then gives up without throwing", async () => {
    const { receiver, notifier, log } = await setUp({ maxAttempts: 2 });
    await receiver.stop();
    receivers.splice(receivers.indexOf(receiver), 1);
    expect(() => notifyingObserver(notifier).stateWritten(repo, running, failed)).not.toThrow();
    await notifier.flush();

    expect(log.lines.map((line) => line.level)).toEqual(["warn", "error"]);
    expect(log.lines[1]?.details).toMatchObject({ reason: expect.stringContaining("ECONNREFUSED") });
  });

  it("delivers an outcome that tries to notify everyone as inert text", async () => {
    const { receiver, notifier } = await setUp();
    const hostile = settledState(
      running,
      { status: "failed", message: "Gave up. <!channel> @here <@U024BE7LH> <https://evil.example|the fix>", retryable: true },
      endedAt,
    );
    notifyingObserver(notifier).stateWritten(repo, running, hostile);
    await notifier.flush();

    const [message] = receiver.messages();
    const wire = JSON.stringify(message);
    expect(wire).not.toContain("<!channel>");
    expect(wire).not.toContain("<@U024BE7LH>");
    expect(wire).not.toContain("<https://evil.example");
    expect(wire).not.toMatch(/@here/);
    expect(message?.text).toContain("Gave up. &lt;!channel&gt; @\u200Bhere &lt;@\u200BU024BE7LH&gt; &lt;https://evil.example|the fix&gt;");
  });

  it("keeps a bounded queue: messages beyond it are dropped and logged, not held", async () => {
    const { receiver, notifier, log } = await setUp({ maxQueued: 1, timeoutMs: 200, maxAttempts: 1 });
    receiver.answer(answerHang);
    const observer = notifyingObserver(notifier);
    observer.stateWritten(repo, running, escalated);
    observer.stateWritten(repo, running, failed);
    observer.stateWritten(repo, waiting, merged);
    await notifier.flush();

    expect(log.lines.filter((line) => line.message.includes("dropped"))).toHaveLength(1);
    expect(receiver.messages().map((message) => message.text.split("\n")[0])).toEqual([
      "afk: <https://github.com/octo-org/app/issues/12|octo-org/app#12> needs a person (ready-for-human)",
      "afk: <https://github.com/octo-org/app/issues/12|octo-org/app#12> failed",
    ]);
  });

  it("refuses an address that is not https, or http to loopback, before sending anything", () => {
    const log = new CapturedLog();
    expect(() => new Notifier({ url: "http://hooks.example.com/services/x", log })).toThrow(/uses http:\/\/ to hooks\.example\.com/);
    expect(() => new Notifier({ url: "ftp://127.0.0.1/x", log })).toThrow(/uses ftp:\/\//);
    expect(() => new Notifier({ url: "https://hooks.slack.com/services/T/B/x", log })).not.toThrow();
  });
});
