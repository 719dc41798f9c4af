import Anthropic from "@anthropic-ai/sdk";

/**
 * The Anthropic client afk's agent uses. The SDK retries 408, 409, 429 and 5xx answers (529
 * "overloaded" included) and dropped connections `maxRetries` times with backoff, honouring
 * `retry-after`. With no `baseURL`, the SDK's default applies, which honours ANTHROPIC_BASE_URL.
 */
export function createModelClient(options: { apiKey: string; baseURL?: string; maxRetries: number; timeoutMs?: number }): Anthropic {
  return new Anthropic({
    apiKey: options.apiKey,
    maxRetries: options.maxRetries,
    timeout: options.timeoutMs ?? 10 * 60_000,
    ...(options.baseURL === undefined ? {} : { baseURL: options.baseURL }),
  });
}
