import { describe, expect, it } from "vitest";
import { isTransient, retryTransient } from "../../src/github/transient.js";

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

describe("retryTransient", () => {
  it("tries again while the failure is transient, up to the policy's attempts, and returns the first success", async () => {
    let calls = 0;
    const result = await retryTransient(async () => {
      calls += 1;
      if (calls < 3) throw httpError(502, "Bad Gateway");
      return "ok";
    }, { attempts: 5, baseMs: 1 });
    expect(result).toBe("ok");
    expect(calls).toBe(3);
  });

  it("throws the last error once the attempts are spent, and at once for a failure that would repeat", async () => {
    let calls = 0;
    await expect(retryTransient(async () => {
      calls += 1;
      throw httpError(500, "Server Error");
    }, { attempts: 3, baseMs: 1 })).rejects.toThrow("Server Error");
    expect(calls).toBe(3);
    calls = 0;
    await expect(retryTransient(async () => {
      calls += 1;
      throw httpError(404, "Not Found");
    }, { attempts: 3, baseMs: 1 })).rejects.toThrow("Not Found");
    expect(calls).toBe(1);
  });
});
