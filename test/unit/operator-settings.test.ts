import { describe, expect, it } from "vitest";
import { isRepositoryAllowed, OperatorSettingsError, readOperatorSettings } from "../../src/config/operator-settings.js";

describe("operator settings", () => {
  it("has safe defaults: kill switch off, empty allowlist, lease of five minutes, never unsandboxed", () => {
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
    });
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
      readOperatorSettings({ AFK_KILL_SWITCH: "maybe", AFK_ALLOWLIST: "octo-org/app/extra, ok/fine", AFK_MAX_CONCURRENT_RUNS: "0", AFK_LOCK_LEASE_SECONDS: "ten", AFK_MODEL: " " });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(OperatorSettingsError);
    const message = caught instanceof Error ? caught.message : "";
    expect(message).toMatch(/^afk cannot start: invalid operator settings/);
    for (const name of ["AFK_KILL_SWITCH", "AFK_ALLOWLIST", "AFK_MAX_CONCURRENT_RUNS", "AFK_LOCK_LEASE_SECONDS", "AFK_MODEL"]) expect(message).toContain(name);
    expect(caught instanceof OperatorSettingsError && caught.problems).toHaveLength(5);
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
