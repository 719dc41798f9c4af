import type { TokenUsage } from "../../run-contract/executor.js";

/** USD per million tokens. Cache writes are 5-minute writes (1.25× input); cache reads are 0.1× input. */
export interface ModelPrice {
  inputPerMTok: number;
  outputPerMTok: number;
  cacheWritePerMTok: number;
  cacheReadPerMTok: number;
}

/** A price with the usual cache multipliers: 5-minute writes 1.25× input, reads `readShare` × input (0.1 for most models). */
const price = (input: number, output: number, readShare = 0.1): ModelPrice => ({
  inputPerMTok: input,
  outputPerMTok: output,
  cacheWritePerMTok: input * 1.25,
  cacheReadPerMTok: input * readShare,
});

/**
 * Anthropic's list prices (standard context), by model alias, from platform.claude.com's pricing
 * page as of November 2026. Dated ids (`claude-sonnet-4-5-20250929`) resolve to their alias. Haiku
 * 5.5 is priced by prompt length; afk uses its higher tier, so a budget is never under-counted.
 */
const PRICES: Readonly<Record<string, ModelPrice>> = {
  "claude-fable-5-1": price(10, 50, 0.025),
  "claude-fable-5": price(10, 50),
  "claude-opus-5-5": price(4, 20, 0.05),
  "claude-opus-5": price(5, 25),
  "claude-opus-4-8": price(5, 25),
  "claude-opus-4-7": price(5, 25),
  "claude-opus-4-6": price(5, 25),
  "claude-opus-4-5": price(5, 25),
  "claude-opus-4-1": price(15, 75),
  "claude-opus-4-0": price(15, 75),
  "claude-opus-4": price(15, 75),
  "claude-sonnet-5-5": price(2, 10, 0.05),
  "claude-sonnet-5": price(2, 10),
  "claude-sonnet-4-6": price(3, 15),
  "claude-sonnet-4-5": price(3, 15),
  "claude-sonnet-4-0": price(3, 15),
  "claude-sonnet-4": price(3, 15),
  "claude-3-7-sonnet": price(3, 15),
  "claude-haiku-5-5": price(0.5, 2.5),
  "claude-haiku-4-5": price(1, 5),
  "claude-3-5-haiku": price(0.8, 4),
  "claude-3-haiku": price(0.25, 1.25),
};

/** The price of a model, or undefined when afk does not know it (then a dollar budget cannot be enforced). */
export function priceOf(model: string): ModelPrice | undefined {
  const alias = model
    .trim()
    .toLowerCase()
    .replace(/-latest$/, "")
    .replace(/-\d{8}$/, "");
  return PRICES[alias];
}

/** What a usage costs, in dollars. */
export function costOf(usage: TokenUsage, price: ModelPrice): number {
  return (
    (usage.input * price.inputPerMTok +
      usage.output * price.outputPerMTok +
      usage.cacheWrite * price.cacheWritePerMTok +
      usage.cacheRead * price.cacheReadPerMTok) /
    1_000_000
  );
}

export function knownModels(): string[] {
  return Object.keys(PRICES);
}
