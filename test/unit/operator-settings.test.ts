import { describe, expect, it } from "vitest";
import { isRepositoryAllowed, OperatorSettingsError, readOperatorSettings } from "../../src/config/operator-settings.js";

describe("operator settings", () => {
  it("has safe defaults: kill switch off, empty allowlist, lease of five minutes, never unsandboxed, 30 s to finish runs on shutdown", () => {
    const settings = readOperatorSettings({ AFK_REPLICA_ID: "r1", AFK_CACHE_DIR: "/cache" });
    expect(settings).toEqual({
      killSwitch: false,
      allowlist: [],
      maxConcurrentRuns: 2,
      cacheDir: "/cache",
      model: undefined,
      lockLeaseSeconds: 300,
      replicaId: "r1",
      hasAnthropicKey: false,
      allowUnsandboxed: false,
      modelRetries: 4,
      allowHostNetwork: false,
      shutdownGraceSeconds: 30,
      executor: { default: "local", perRepository: false },
      runLogDays: 30,
    });
  });

  it("runs agents on GitHub Actions only with a runner repository and afk's public address, and says what is missing", () => {
    const ready = readOperatorSettings({ AFK_EXECUTOR: "actions", AFK_RUNNER_REPO: "ops/afk-runner", AFK_PUBLIC_URL: "https://afk.example.com/" });
    expect(ready.executor).toEqual({
      default: "actions",
      perRepository: false,
      actions: { runnerRepo: "ops/afk-runner", publicUrl: "https://afk.example.com", oidcIssuer: "https://token.actions.githubusercontent.com" },
    });
    expect(() => readOperatorSettings({ AFK_EXECUTOR: "actions" })).toThrow(/AFK_RUNNER_REPO is not set[\s\S]*AFK_PUBLIC_URL is not set/);
    expect(() => readOperatorSettings({ AFK_EXECUTOR: "kubernetes" })).toThrow(/AFK_EXECUTOR="kubernetes" is not local or actions/);
    // The job endpoint and the model proxy are reached over https; http only to this machine (a local runner, tests).
    expect(() => readOperatorSettings({ AFK_EXECUTOR: "actions", AFK_RUNNER_REPO: "ops/r", AFK_PUBLIC_URL: "http://afk.example.com" })).toThrow(
      /AFK_PUBLIC_URL "http:\/\/afk.example.com" must be https:\/\//,
    );
    expect(() => readOperatorSettings({ AFK_EXECUTOR: "actions", AFK_RUNNER_REPO: "ops/r", AFK_PUBLIC_URL: "https://afk.example.com/hooks" })).toThrow(
      /must have no path/,
    );
    expect(() => readOperatorSettings({ AFK_EXECUTOR: "actions", AFK_RUNNER_REPO: "ops", AFK_PUBLIC_URL: "https://a.example" })).toThrow(
      /AFK_RUNNER_REPO="ops" is not owner\/name/,
    );
    expect(
      readOperatorSettings({ AFK_EXECUTOR: "actions", AFK_RUNNER_REPO: "ops/r", AFK_PUBLIC_URL: "http://127.0.0.1:3000" }).executor.actions?.publicUrl,
    ).toBe("http://127.0.0.1:3000");
    // A repository may choose only where the operator lets it, and that needs the runner repository too.
    expect(() => readOperatorSettings({ AFK_REPO_EXECUTOR: "on" })).toThrow(/AFK_RUNNER_REPO is not set/);
  });

  it("reads AFK_ALLOW_UNSANDBOXED only as an explicit on, and rejects anything unclear", () => {
    expect(readOperatorSettings({ AFK_ALLOW_UNSANDBOXED: "1" }).allowUnsandboxed).toBe(true);
    expect(readOperatorSettings({ AFK_ALLOW_UNSANDBOXED: "off" }).allowUnsandboxed).toBe(false);
    expect(() => readOperatorSettings({ AFK_ALLOW_UNSANDBOXED: "maybe" })).toThrow(/AFK_ALLOW_UNSANDBOXED="maybe" is not on or off/);
    expect(readOperatorSettings({ AFK_ALLOW_HOST_NETWORK: "on" }).allowHostNetwork).toBe(true);
    expect(() => readOperatorSettings({ AFK_ALLOW_HOST_NETWORK: "sometimes" })).toThrow(/AFK_ALLOW_HOST_NETWORK="sometimes" is not on or off/);
    expect(() => readOperatorSettings({ AFK_MODEL_RETRIES: "11" })).toThrow(/AFK_MODEL_RETRIES="11" must be a whole number from 0 to 10/);
  });

  it.each(["on", "ON", "true", "1", "yes"])("reads AFK_KILL_SWITCH=%s as on", (value) => {
    expect(readOperatorSettings({ AFK_KILL_SWITCH: value }).killSwitch).toBe(true);
  });

  it("reads every value it is given", () => {
    const settings = readOperatorSettings({
      AFK_ALLOWLIST: "octo-org/*, me/app\n*/docs",
      AFK_MAX_CONCURRENT_RUNS: "4",
      AFK_MODEL: "claude-opus-4-5",
      AFK_LOCK_LEASE_SECONDS: "60",
      ANTHROPIC_API_KEY: "sk-ant-test",
    });
    expect(settings.allowlist).toEqual(["octo-org/*", "me/app", "*/docs"]);
    expect(settings.maxConcurrentRuns).toBe(4);
    expect(settings.model).toBe("claude-opus-4-5");
    expect(settings.lockLeaseSeconds).toBe(60);
    expect(settings.hasAnthropicKey).toBe(true);
  });

  it("fails with one message naming every invalid variable", () => {
    let caught: unknown;
    try {
      readOperatorSettings({
        AFK_KILL_SWITCH: "maybe",
        AFK_ALLOWLIST: "octo-org/app/extra, ok/fine",
        AFK_MAX_CONCURRENT_RUNS: "0",
        AFK_LOCK_LEASE_SECONDS: "ten",
        AFK_MODEL: " ",
        AFK_SHUTDOWN_GRACE_SECONDS: "-1",
      });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(OperatorSettingsError);
    const message = caught instanceof Error ? caught.message : "";
    expect(message).toMatch(/^afk cannot start: invalid operator settings/);
    for (const name of ["AFK_KILL_SWITCH", "AFK_ALLOWLIST", "AFK_MAX_CONCURRENT_RUNS", "AFK_LOCK_LEASE_SECONDS", "AFK_MODEL", "AFK_SHUTDOWN_GRACE_SECONDS"])
      expect(message).toContain(name);
    expect(caught instanceof OperatorSettingsError && caught.problems).toHaveLength(6);
  });

  it("reads AFK_NOTIFY_URL as an https address, or http to this machine only; unset or blank means no notifications", () => {
    expect(readOperatorSettings({}).notifyUrl).toBeUndefined();
    expect("notifyUrl" in readOperatorSettings({ AFK_NOTIFY_URL: "  " })).toBe(false);
    expect(readOperatorSettings({ AFK_NOTIFY_URL: " https://hooks.slack.com/services/T0/B0/abc " }).notifyUrl).toBe(
      "https://hooks.slack.com/services/T0/B0/abc",
    );
    for (const loopback of ["http://127.0.0.1:8080/hook", "http://localhost/hook", "http://[::1]:9000/hook"]) {
      expect(readOperatorSettings({ AFK_NOTIFY_URL: loopback }).notifyUrl).toBe(loopback);
    }
  });

  it.each([
    [
      "http://hooks.example.com/services/T0/B0/secret-path",
      /AFK_NOTIFY_URL uses http:\/\/ to hooks\.example\.com; use https:\/\/, or http:\/\/ only to 127\.0\.0\.1, ::1 or localhost/,
    ],
    ["hooks.slack.com/services/T0/B0/secret-path", /AFK_NOTIFY_URL is not an absolute URL/],
    ["ftp://127.0.0.1/secret-path", /AFK_NOTIFY_URL uses ftp:\/\//],
    ["https://user:secret-path@hooks.example.com/x", /AFK_NOTIFY_URL carries a user name or password before hooks\.example\.com/],
  ])("rejects AFK_NOTIFY_URL=%s with a message that does not repeat the address's secret", (value, expected) => {
    let caught: unknown;
    try {
      readOperatorSettings({ AFK_NOTIFY_URL: value });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(OperatorSettingsError);
    const message = caught instanceof Error ? caught.message : "";
    expect(message).toMatch(expected);
    expect(message).not.toContain("secret-path");
  });

  it("matches the allowlist as owner/repo globs, case-insensitively; empty allows nothing", () => {
    const settings = { allowlist: ["octo-org/*", "me/app"] };
    expect(isRepositoryAllowed(settings, "octo-org/anything")).toBe(true);
    expect(isRepositoryAllowed(settings, "Octo-Org/Thing")).toBe(true);
    expect(isRepositoryAllowed(settings, "me/app")).toBe(true);
    expect(isRepositoryAllowed(settings, "me/app2")).toBe(false);
    expect(isRepositoryAllowed(settings, "octo-org-evil/x")).toBe(false);
    expect(isRepositoryAllowed({ allowlist: [] }, "me/app")).toBe(false);
  });
});
