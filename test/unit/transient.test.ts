import { describe, expect, it } from "vitest";
import { isTransient, repeatWaitMs, retryTransient, unreachableCode, worthRepeating } from "../../src/github/transient.js";

function httpError(status: number, message: string, headers: Record<string, string> = {}): Error {
  return Object.assign(new Error(message), { status, response: { headers } });
}

describe("which GitHub failures are worth trying again", () => {
  it.each([
    [httpError(500, "Server Error"), true],
    [httpError(502, "Bad Gateway"), true],
    [httpError(429, "API rate limit exceeded"), true],
    [httpError(403, "You have exceeded a secondary rate limit. Please wait."), true],
    [httpError(403, "Resource not accessible by integration"), false],
    [httpError(404, "Not Found"), false],
    [httpError(422, "Validation Failed"), false],
    [Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" }), true],
    [new Error("fetch failed", { cause: Object.assign(new Error("connect"), { code: "ECONNREFUSED" }) }), true],
    // A YAML error quoting the file (`network: [true`) is not a network failure.
    [new Error("Configuration could not be parsed", { cause: "network: [true" }), false],
  ])("%s → %s", (error, transient) => {
    expect(isTransient(error)).toBe(transient);
  });
});

/** How Octokit reports a connection that could not be made: status 500, no response, the network's code two causes down. */
function noAnswer(code: string): Error {
  return Object.assign(
    new Error("connect failed", { cause: new TypeError("fetch failed", { cause: Object.assign(new Error(`connect ${code}`), { code }) }) }),
    { status: 500 },
  );
}

describe("an unreachable GitHub is told apart from a transient answer", () => {
  it.each([
    [noAnswer("ECONNREFUSED"), "ECONNREFUSED"],
    [noAnswer("ENOTFOUND"), "ENOTFOUND"],
    [noAnswer("EAI_AGAIN"), "EAI_AGAIN"],
    // A connection that broke mid-answer is a blip, not an unreachable GitHub.
    [noAnswer("ECONNRESET"), undefined],
    [httpError(502, "Bad Gateway"), undefined],
  ])("%s → %s", (error, code) => {
    expect(unreachableCode(error)).toBe(code);
  });

  it("a step is repeated for a transient answer, never for an unreachable GitHub or an answer that would repeat", () => {
    expect(worthRepeating(httpError(502, "Bad Gateway"))).toBe(true);
    expect(worthRepeating(noAnswer("ECONNRESET"))).toBe(true);
    expect(worthRepeating(noAnswer("ECONNREFUSED"))).toBe(false);
    expect(worthRepeating(httpError(404, "Not Found"))).toBe(false);
  });
});

describe("repeatWaitMs", () => {
  it("doubles from the base, and never waits less than the retry-after GitHub asked for (up to a minute)", () => {
    const policy = { attempts: 3, baseMs: 100 };
    expect(repeatWaitMs(policy, 1, httpError(502, "Bad Gateway"), () => 0)).toBe(100);
    expect(repeatWaitMs(policy, 2, httpError(502, "Bad Gateway"), () => 0)).toBe(200);
    expect(repeatWaitMs(policy, 2, httpError(502, "Bad Gateway"), () => 1)).toBe(300);
    expect(repeatWaitMs(policy, 1, httpError(403, "You have exceeded a secondary rate limit.", { "retry-after": "7" }), () => 0)).toBe(7_000);
    expect(repeatWaitMs(policy, 1, httpError(403, "You have exceeded a secondary rate limit.", { "retry-after": "3600" }), () => 0)).toBe(60_000);
  });
});

describe("retryTransient", () => {
  it("logs each repeat at warn level with the step and the wait", async () => {
    const warnings: Array<{ fields: unknown; message: string }> = [];
    const log = { warn: (fields: unknown, message: string) => void warnings.push({ fields, message }) };
    let calls = 0;
    await retryTransient(
      async () => {
        calls += 1;
        if (calls < 2) throw httpError(502, "Bad Gateway");
      },
      { attempts: 3, baseMs: 1 },
      { log, what: "dispatch the next queued issue" },
    );
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.message).toMatch(
      /^afk repeats "dispatch the next queued issue" in \d+ ms \(try 2 of 3\): GitHub still failed after its retries: Bad Gateway$/,
    );
    expect(warnings[0]?.fields).toMatchObject({ step: "dispatch the next queued issue", attempt: 1, attempts: 3 });
  });

  it("does not repeat a step whose GitHub was unreachable: the request was retried and logged already", async () => {
    let calls = 0;
    await expect(
      retryTransient(
        async () => {
          calls += 1;
          throw noAnswer("ECONNREFUSED");
        },
        { attempts: 5, baseMs: 1 },
      ),
    ).rejects.toThrow("connect failed");
    expect(calls).toBe(1);
  });

  it("tries again while the failure is transient, up to the policy's attempts, and returns the first success", async () => {
    let calls = 0;
    const result = await retryTransient(
      async () => {
        calls += 1;
        if (calls < 3) throw httpError(502, "Bad Gateway");
        return "ok";
      },
      { attempts: 5, baseMs: 1 },
    );
    expect(result).toBe("ok");
    expect(calls).toBe(3);
  });

  it("throws the last error once the attempts are spent, and at once for a failure that would repeat", async () => {
    let calls = 0;
    await expect(
      retryTransient(
        async () => {
          calls += 1;
          throw httpError(500, "Server Error");
        },
        { attempts: 3, baseMs: 1 },
      ),
    ).rejects.toThrow("Server Error");
    expect(calls).toBe(3);
    calls = 0;
    await expect(
      retryTransient(
        async () => {
          calls += 1;
          throw httpError(404, "Not Found");
        },
        { attempts: 3, baseMs: 1 },
      ),
    ).rejects.toThrow("Not Found");
    expect(calls).toBe(1);
  });
});
