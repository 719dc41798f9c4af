import { describe, expect, it } from "vitest";
import { repoConfigSchema } from "../../src/config/repo-config.js";
import { whereJobRuns } from "../../src/executor/actions-executor.js";

const config = (executor?: "local" | "actions") => repoConfigSchema.parse({ test: "npm test", ...(executor === undefined ? {} : { executor }) });

describe("where a job runs", () => {
  it("is the operator's choice unless the operator lets repositories choose", () => {
    const operator = { default: "actions" as const, perRepository: false };
    expect(whereJobRuns({ kind: "implement", config: config() }, operator)).toBe("actions");
    // A repository asking to run on afk's host is not heard while the operator keeps the choice.
    expect(whereJobRuns({ kind: "implement", config: config("local") }, operator)).toBe("actions");
    expect(whereJobRuns({ kind: "fix-ci", config: config("local") }, { ...operator, perRepository: true })).toBe("local");
    expect(whereJobRuns({ kind: "rework", config: config("actions") }, { default: "local", perRepository: true })).toBe("actions");
    expect(whereJobRuns({ kind: "implement", config: config() }, { default: "local", perRepository: true })).toBe("local");
  });

  it("keeps plans and answers on afk's host: they write nothing and post their text through afk", () => {
    for (const kind of ["plan", "ask"] as const)
      expect(whereJobRuns({ kind, config: config("actions") }, { default: "actions", perRepository: true })).toBe("local");
  });
});
