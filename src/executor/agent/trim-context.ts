import type Anthropic from "@anthropic-ai/sdk";

type MessageParam = Anthropic.Messages.MessageParam;

/** What a tool result becomes when it is removed to save context; the block stays, so every tool_use keeps its tool_result. */
export const TRIMMED_TOOL_RESULT = "[afk: this tool result was removed to save context; run the command again if you need it]";

/** Tokens of context a model has when afk knows no other figure for it (every Claude model without the long-context beta). */
const DEFAULT_CONTEXT_TOKENS = 200_000;

/** Models whose context differs from the default: none yet (the 1M-token context is a beta afk does not ask for). */
const CONTEXT_TOKENS = new Map<string, number>();

/** The model's context window, in tokens. */
export function contextWindowOf(model: string): number {
  return CONTEXT_TOKENS.get(model) ?? DEFAULT_CONTEXT_TOKENS;
}

/** Characters a message's content takes in a request (its JSON), the measure the estimate of its tokens starts from. */
export function charsOf(messages: readonly MessageParam[]): number {
  return messages.reduce((sum, message) => sum + JSON.stringify(message.content).length, 0);
}

/**
 * The conversation with old tool results replaced by `TRIMMED_TOOL_RESULT`, oldest first, until
 * `charsToFree` characters are freed or nothing more may go. The first message (the task) and the
 * last `keepLast` user messages stay whole; everything else stays as it was, in order, so every
 * tool_use still has its tool_result right after it. Returns the characters freed (0: nothing could go).
 */
export function trimToolResults(
  messages: readonly MessageParam[],
  options: { keepLast: number; charsToFree: number },
): { messages: MessageParam[]; freed: number } {
  const userIndexes = messages.flatMap((message, index) => (message.role === "user" ? [index] : []));
  const kept = new Set([0, ...userIndexes.slice(Math.max(userIndexes.length - options.keepLast, 0))]);
  let freed = 0;
  const trimmed = messages.map((message, index): MessageParam => {
    if (freed >= options.charsToFree || kept.has(index) || message.role !== "user" || typeof message.content === "string") return message;
    const content = message.content.map((block) => {
      if (freed >= options.charsToFree || block.type !== "tool_result") return block;
      const size = JSON.stringify(block.content ?? "").length;
      const replacement = JSON.stringify(TRIMMED_TOOL_RESULT).length;
      if (size <= replacement) return block;
      freed += size - replacement;
      return { ...block, content: TRIMMED_TOOL_RESULT };
    });
    return { role: message.role, content };
  });
  return { messages: trimmed, freed };
}
