import { readdirSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { renderPrompt } from "../../src/executor/render-prompt.js";
import { redactSecrets } from "../../src/executor/agent/redact-secrets.js";

describe("prompts", () => {
  const implement = { repository: "o/r", issue_number: "7", issue_title: "T", issue_body: "B {{issue_title}}", discussion: "D", repo_instructions: "I" };

  it("fills every slot once, leaving {{...}} inside a value as text", async () => {
    const text = await renderPrompt("implement", implement);
    expect(text).toContain('<issue number="7">');
    expect(text).toContain("B {{issue_title}}");
    expect(text).not.toMatch(/\{\{(repository|discussion|repo_instructions)\}\}/);
  });

  it("refuses a missing slot and an unknown one, naming the file", async () => {
    const { discussion: _left, ...missing } = implement;
    await expect(renderPrompt("implement", missing)).rejects.toThrow("prompts/implement.md needs {{discussion}}, which the caller did not fill");
    await expect(renderPrompt("implement", { ...implement, extra: "x" })).rejects.toThrow("prompts/implement.md has no slot {{extra}}");
  });

  it("has a file for every prompt name and no stray file", () => {
    expect(readdirSync("prompts").sort()).toEqual([
      "README.md",
      "address-review.md",
      "ask.md",
      "fix-ci.md",
      "gate-failed.md",
      "implement.md",
      "plan.md",
      "system.md",
    ]);
  });
});

describe("redactSecrets", () => {
  const token = "ghs_abcdefghijklmnopqrstuvwxyz0123456789";
  it.each([
    ["as written", `token=${token}`],
    ["base64", Buffer.from(token).toString("base64")],
    ["as git's Basic credentials", `Authorization: Basic ${Buffer.from(`x-access-token:${token}`).toString("base64")}`],
  ])("removes a secret %s", (_how, text) => {
    const redacted = redactSecrets(text, [token]);
    expect(redacted).toContain("[redacted]");
    expect(redacted).not.toContain(token);
  });

  it("removes each line of a multi-line key and ignores secrets too short to be safe to match", () => {
    const key = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAx1y2z3abcdefghij\n-----END RSA PRIVATE KEY-----";
    expect(redactSecrets("leaked: MIIEowIBAAKCAQEAx1y2z3abcdefghij", [key])).toBe("leaked: [redacted]");
    expect(redactSecrets("a short secret abc", ["abc"])).toBe("a short secret abc");
  });
});
