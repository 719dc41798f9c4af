import { describe, expect, it } from "vitest";
import { costOf, knownModels, priceOf } from "../../src/executor/agent/model-pricing.js";
import { DEFAULT_MODEL } from "../../src/config/repo-config.js";

describe("model prices", () => {
  it.each([
    ["claude-sonnet-5-5", 2, 10, 2.5, 0.1],
    ["claude-opus-4-6", 5, 25, 6.25, 0.5],
    ["claude-sonnet-4-5-20250929", 3, 15, 3.75, 0.3],
    ["claude-haiku-4-5-20251001", 1, 5, 1.25, 0.1],
    ["claude-opus-4-1", 15, 75, 18.75, 1.5],
    ["claude-fable-5-1", 10, 50, 12.5, 0.25],
  ])("%s costs $%d in, $%d out, $%d to write and $%d to read the cache per million tokens", (model, input, output, write, read) => {
    const found = priceOf(model);
    expect(found?.inputPerMTok).toBe(input);
    expect(found?.outputPerMTok).toBe(output);
    expect(found?.cacheWritePerMTok).toBeCloseTo(write, 10);
    expect(found?.cacheReadPerMTok).toBeCloseTo(read, 10);
  });

  it("knows the default model, and no made-up one", () => {
    expect(priceOf(DEFAULT_MODEL)).toBeDefined();
    expect(priceOf("claude-imaginary-9")).toBeUndefined();
    expect(knownModels()).toContain(DEFAULT_MODEL);
  });

  it("bills every kind of token at its own rate", () => {
    const price = { inputPerMTok: 3, outputPerMTok: 15, cacheWritePerMTok: 3.75, cacheReadPerMTok: 0.3 };
    expect(costOf({ input: 1_000_000, output: 0, cacheWrite: 0, cacheRead: 0 }, price)).toBe(3);
    expect(costOf({ input: 0, output: 1_000_000, cacheWrite: 0, cacheRead: 0 }, price)).toBe(15);
    expect(costOf({ input: 0, output: 0, cacheWrite: 1_000_000, cacheRead: 0 }, price)).toBe(3.75);
    expect(costOf({ input: 0, output: 0, cacheWrite: 0, cacheRead: 1_000_000 }, price)).toBeCloseTo(0.3, 10);
    expect(costOf({ input: 2_000, output: 1_000, cacheWrite: 10_000, cacheRead: 100_000 }, price)).toBeCloseTo(0.006 + 0.015 + 0.0375 + 0.03, 10);
  });
});
