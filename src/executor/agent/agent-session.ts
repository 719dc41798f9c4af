import Anthropic from "@anthropic-ai/sdk";
import { costOf, type ModelPrice } from "./model-pricing.js";
import type { TokenUsage } from "../../run-contract/executor.js";
import { AGENT_TOOLS, type WorkspaceTools } from "./workspace-tools.js";
import { firstLine } from "../../github/types.js";
import { keepHeadAndTail } from "../../text/keep-head-and-tail.js";
import { charsOf, contextWindowOf, trimToolResults } from "./trim-context.js";
import { AGENT_TURN_MAX_TOKENS } from "../../config/repo-config.js";

export interface AgentBudget {
  maxTurns: number;
  maxUsd: number;
  /** Epoch milliseconds after which no model call starts and the one in flight is cut off. */
  deadline: number;
  /** How long one command may run, as the agent is told (the tools enforce it). */
  commandTimeoutMs?: number;
}

export interface AgentProgress {
  turns: number;
  /** Tool calls the model made (each counted once, run or not). */
  toolCalls: number;
  usd: number;
  usage: TokenUsage;
  lastText: string | undefined;
}

export interface TranscriptEntry {
  turn: number;
  kind: "assistant" | "tool_call" | "tool_result" | "user";
  text: string;
}

/**
 * One entry of a session's whole record, the run log: every message afk sent, every model turn, tool
 * call and tool result, in order. Tool results are the text the model saw (already redacted of the
 * run's secrets); each text is bounded (head and tail kept), and so is the log as a whole.
 */
export interface RunLogEntry {
  /** Milliseconds since the session started. */
  atMs: number;
  turn: number;
  kind: "user" | "assistant" | "tool_call" | "tool_result";
  text: string;
  /** Tool results: the tool said the call failed. */
  isError?: true;
}

/** A tool call the model made, as it is about to run (the input is the model's, unchecked). */
export interface ToolCall {
  name: string;
  input: unknown;
}

/** Why `send` returned. */
export type AgentStop =
  | { kind: "finished"; summary: string }
  | { kind: "budget"; limit: "turns" | "usd" | "time" | "context"; message: string }
  | { kind: "model-error"; retryable: boolean; message: string }
  | { kind: "aborted"; message: string };

type MessageParam = Anthropic.Messages.MessageParam;
type ContentBlockParam = Anthropic.Messages.ContentBlockParam;

const DEFAULT_MAX_TOKENS = AGENT_TURN_MAX_TOKENS;
const TRANSCRIPT_ENTRIES = 200;
const TRANSCRIPT_TEXT_CHARS = 400;
/** Characters of one run log entry (head and tail kept), and of the whole log before entries are only counted. */
const RUN_LOG_ENTRY_CHARS = 20_000;
const RUN_LOG_CHARS = 2_000_000;
const EPHEMERAL = { type: "ephemeral" } as const;
/** Share of a budget (turns, dollars, time) after which afk tells the agent to finish, once. */
const NEARLY_SPENT = 0.8;
/** A request estimated past this share of the context (its answer's max_tokens included) has old tool results trimmed first... */
const TRIM_AT = 0.85;
/** ...down to this share, so that trimming (which costs the prompt cache its prefix) happens seldom. */
const TRIM_TO = 0.6;
/** User messages (with the tool results in them) kept whole when trimming: the last few turns. */
const KEEP_LAST_TURNS = 3;
/** What the agent is told to do when the budget is nearly spent, unless the session says otherwise. */
const FINISH_A_CHANGE = "make sure the change is complete and tested, then end your turn with the summary.";

/**
 * One agent conversation on the Messages API with Anthropic's client tools, executed by afk. Turns,
 * dollars and wall-clock time are budgets for the whole session, across `send`s. The stable prefix
 * (tools, system, task) and the growing history carry prompt-caching breakpoints.
 */
export class AgentSession {
  readonly #client: Anthropic;
  readonly #model: string;
  readonly #price: ModelPrice;
  readonly #system: string;
  readonly #tools: WorkspaceTools;
  readonly #budget: AgentBudget;
  readonly #signal: AbortSignal;
  readonly #maxTokens: number;
  readonly #onProgress: ((progress: AgentProgress) => void) | undefined;
  readonly #onToolCall: ((call: ToolCall) => void) | undefined;
  readonly #messages: MessageParam[] = [];
  readonly #transcript: TranscriptEntry[] = [];
  readonly #log: RunLogEntry[] = [];
  #logChars = 0;
  #logOmitted = 0;
  readonly #startedAt = Date.now();
  #toolCalls = 0;
  #usage: TokenUsage = { input: 0, output: 0, cacheWrite: 0, cacheRead: 0 };
  #usd = 0;
  #turns = 0;
  #lastText: string | undefined;
  readonly #contextTokens: number;
  readonly #thinkingTokens: number;
  readonly #finishing: string;
  #warned = false;
  /** Tokens of the conversation the last answer reported (its input, cache reads and writes, and output), less what trimming freed since. */
  #contextUsed = 0;
  /** Messages the last answer's usage covers; those after it are estimated from their characters. */
  #messagesCounted = 0;

  constructor(options: {
    client: Anthropic;
    model: string;
    price: ModelPrice;
    system: string;
    tools: WorkspaceTools;
    budget: AgentBudget;
    signal: AbortSignal;
    maxTokens?: number;
    onProgress?: (progress: AgentProgress) => void;
    /** Told of each tool call just before afk runs it (an observer: it cannot change or stop the call). */
    onToolCall?: (call: ToolCall) => void;
    /** The model's context window in tokens (`contextWindowOf(model)` when absent). */
    contextTokens?: number;
    /** Extended thinking's budget per turn (`budget.thinking_tokens`); 0 or absent: off. Less than `maxTokens`. */
    thinkingTokens?: number;
    /** What the agent must do to finish, told when the budget is nearly spent (a change's by default: complete, tested, summarised). */
    finishing?: string;
  }) {
    this.#client = options.client;
    this.#model = options.model;
    this.#price = options.price;
    this.#system = options.system;
    this.#tools = options.tools;
    this.#budget = options.budget;
    this.#signal = options.signal;
    this.#maxTokens = options.maxTokens ?? DEFAULT_MAX_TOKENS;
    this.#onProgress = options.onProgress;
    this.#onToolCall = options.onToolCall;
    this.#contextTokens = options.contextTokens ?? contextWindowOf(options.model);
    this.#thinkingTokens = options.thinkingTokens ?? 0;
    this.#finishing = options.finishing ?? FINISH_A_CHANGE;
  }

  get progress(): AgentProgress {
    return { turns: this.#turns, toolCalls: this.#toolCalls, usd: this.#usd, usage: { ...this.#usage }, lastText: this.#lastText };
  }

  get transcript(): readonly TranscriptEntry[] {
    return this.#transcript;
  }

  /** The system prompt the session sends (`afk eval` counts its tokens). */
  get systemPrompt(): string {
    return this.#system;
  }

  /** The whole session, bounded (see `RunLogEntry`); a last entry says how many entries did not fit. */
  get runLog(): readonly RunLogEntry[] {
    if (this.#logOmitted === 0) return this.#log;
    const note: RunLogEntry = {
      atMs: Date.now() - this.#startedAt,
      turn: this.#turns,
      kind: "user",
      text: `[afk: the run log reached ${RUN_LOG_CHARS} characters; ${this.#logOmitted} later entries are not kept]`,
    };
    return [...this.#log, note];
  }

  /** Sends a user message and runs tool turns until the model ends its turn, a budget is spent or the signal stops it. */
  async send(text: string): Promise<AgentStop> {
    const budget = this.#messages.length === 0 ? this.#budgetText() : undefined;
    this.#messages.push({ role: "user", content: [{ type: "text", text }, ...(budget === undefined ? [] : [{ type: "text" as const, text: budget }])] });
    this.#record("user", text);
    this.#logEntry("user", text);
    if (budget !== undefined) this.#logEntry("user", budget);
    for (;;) {
      if (this.#signal.aborted) return { kind: "aborted", message: reasonOf(this.#signal) };
      const spent = this.#spentBudget();
      if (spent !== undefined) return spent;

      let message: Anthropic.Messages.Message;
      try {
        const answer = await this.#callWithinContext();
        if ("kind" in answer) return answer;
        message = answer;
      } catch (error) {
        return this.#failure(error);
      }
      this.#turns += 1;
      this.#addUsage(message.usage);
      const content = message.content.flatMap(toParam);
      this.#messages.push({ role: "assistant", content: content.length > 0 ? content : [{ type: "text", text: "(no content)" }] });
      this.#messagesCounted = this.#messages.length;
      for (const block of message.content) {
        const thought = thoughtOf(block);
        if (thought === undefined) continue;
        this.#record("assistant", thought);
        this.#logEntry("assistant", thought);
      }
      const texts = message.content.flatMap((block) => (block.type === "text" ? [block.text] : []));
      if (texts.length > 0) {
        this.#lastText = texts.join("\n");
        this.#record("assistant", this.#lastText);
        this.#logEntry("assistant", this.#lastText);
      }
      this.#onProgress?.(this.progress);

      const toolUses = message.content.flatMap((block) => (block.type === "tool_use" ? [block] : []));
      switch (message.stop_reason) {
        case "tool_use":
        case "max_tokens": {
          if (toolUses.length === 0) {
            // Cut off mid-text: ask for the rest.
            this.#messages.push({ role: "user", content: [{ type: "text", text: "Your reply was cut off by the output limit. Continue where you stopped." }] });
            continue;
          }
          const results: ContentBlockParam[] = [];
          for (const use of toolUses) {
            this.#toolCalls += 1;
            this.#logEntry("tool_call", `${use.name} ${JSON.stringify(use.input)}`);
            if (message.stop_reason === "max_tokens" && use === toolUses.at(-1)) {
              const cutOff = "This tool call was cut off by the output limit and was not run. Send it again, shorter.";
              results.push({ type: "tool_result", tool_use_id: use.id, content: cutOff, is_error: true });
              this.#logEntry("tool_result", cutOff, true);
              continue;
            }
            this.#record("tool_call", `${use.name} ${JSON.stringify(use.input)}`);
            this.#onToolCall?.({ name: use.name, input: use.input });
            const result = await this.#tools.execute(use.name, use.input, this.#withDeadline());
            this.#record("tool_result", `${result.isError ? "(error) " : ""}${result.content}`);
            this.#logEntry("tool_result", result.content, result.isError);
            results.push({ type: "tool_result", tool_use_id: use.id, content: result.content, is_error: result.isError });
            if (this.#signal.aborted) return { kind: "aborted", message: reasonOf(this.#signal) };
          }
          const warning = this.#nearlySpentWarning();
          if (warning !== undefined) {
            results.push({ type: "text", text: warning });
            this.#logEntry("user", warning);
          }
          this.#messages.push({ role: "user", content: results });
          continue;
        }
        case "pause_turn":
          continue;
        case "refusal":
          return { kind: "model-error", retryable: false, message: "the model refused to continue this task" };
        default:
          return { kind: "finished", summary: this.#lastText ?? "" };
      }
    }
  }

  /** The request, with caching breakpoints on the system prompt (tools and system), the task, and the newest user message. */
  #request(): Anthropic.Messages.MessageCreateParamsNonStreaming {
    const messages = this.#messages.map((message, index): MessageParam => {
      const marked = index === 0 || index === this.#messages.length - 1;
      if (!marked || typeof message.content === "string" || message.role !== "user") return message;
      const blocks = [...message.content];
      const last = blocks.at(-1);
      if (last !== undefined && last.type !== "thinking" && last.type !== "redacted_thinking")
        blocks[blocks.length - 1] = { ...last, cache_control: EPHEMERAL };
      return { role: message.role, content: blocks };
    });
    return {
      model: this.#model,
      max_tokens: this.#maxTokens,
      system: [{ type: "text", text: this.#system, cache_control: EPHEMERAL }],
      tools: AGENT_TOOLS,
      messages,
      ...(this.#thinkingTokens > 0 ? { thinking: { type: "enabled" as const, budget_tokens: this.#thinkingTokens } } : {}),
    };
  }

  async #call(): Promise<Anthropic.Messages.Message> {
    return this.#client.messages.stream(this.#request(), { signal: this.#withDeadline() }).finalMessage();
  }

  /**
   * The model's answer, the conversation first trimmed of old tool results when it nears the
   * model's context. An answer "prompt is too long" (the estimate was short) trims every tool
   * result but the newest and asks once more; when that does not fit either, the session stops
   * as a budget stop, so the run delivers the work so far instead of failing on a model error.
   */
  async #callWithinContext(): Promise<Anthropic.Messages.Message | AgentStop> {
    const estimate = this.#estimatedTokens() + this.#maxTokens;
    if (estimate > this.#contextTokens * TRIM_AT) this.#trim(KEEP_LAST_TURNS, (estimate - this.#contextTokens * TRIM_TO) * 4);
    try {
      return await this.#call();
    } catch (error) {
      if (!isContextOverflow(error)) throw error;
    }
    if (this.#trim(1, Number.POSITIVE_INFINITY) > 0) {
      try {
        return await this.#call();
      } catch (error) {
        if (!isContextOverflow(error)) throw error;
      }
    }
    return {
      kind: "budget",
      limit: "context",
      message: `stopped: the conversation no longer fits the model's context (${this.#contextTokens} tokens) even with its old tool results removed (${this.#turns} turns, $${this.#usd.toFixed(2)})`,
    };
  }

  /** Tokens the next request takes: the last answer's count, and about a token for every 4 characters since. */
  #estimatedTokens(): number {
    const added = charsOf(this.#messages.slice(this.#messagesCounted));
    const prefix = this.#messagesCounted === 0 ? this.#system.length + JSON.stringify(AGENT_TOOLS).length : 0;
    return this.#contextUsed + Math.ceil((added + prefix) / 4);
  }

  /** Trims old tool results (see `trimToolResults`); returns the characters freed. */
  #trim(keepLast: number, charsToFree: number): number {
    const { messages, freed } = trimToolResults(this.#messages, { keepLast, charsToFree });
    if (freed === 0) return 0;
    this.#messages.splice(0, this.#messages.length, ...messages);
    this.#contextUsed = Math.max(this.#contextUsed - Math.floor(freed / 4), 0);
    this.#logEntry("user", `[afk: ${freed} characters of old tool results were removed from the conversation to keep it within the model's context]`);
    return freed;
  }

  /** The budget as the agent is told it with the task. */
  #budgetText(): string {
    const minutes = Math.round((this.#budget.deadline - this.#startedAt) / 60_000);
    const command =
      this.#budget.commandTimeoutMs === undefined ? "" : `; a command is stopped after ${Math.round(this.#budget.commandTimeoutMs / 60_000)} minutes`;
    return `afk: your budget for this task is at most ${this.#budget.maxTurns} turns, $${this.#budget.maxUsd.toFixed(2)} and ${minutes} minutes in all${command}. afk stops the session when one of them is spent, and says so when little is left.`;
  }

  /** The warning, once, when 80% of the turns, the dollars or the time is spent. */
  #nearlySpentWarning(): string | undefined {
    if (this.#warned) return undefined;
    const elapsed = Date.now() - this.#startedAt;
    const span = this.#budget.deadline - this.#startedAt;
    const nearly = this.#turns >= this.#budget.maxTurns * NEARLY_SPENT || this.#usd >= this.#budget.maxUsd * NEARLY_SPENT || elapsed >= span * NEARLY_SPENT;
    if (!nearly) return undefined;
    this.#warned = true;
    const turns = Math.max(this.#budget.maxTurns - this.#turns, 0);
    const usd = Math.max(this.#budget.maxUsd - this.#usd, 0);
    const minutes = Math.max(Math.floor((this.#budget.deadline - Date.now()) / 60_000), 0);
    return `afk: budget nearly spent (${turns} turn${turns === 1 ? "" : "s"}, $${usd.toFixed(2)} and ${minutes} minute${minutes === 1 ? "" : "s"} left); finish: ${this.#finishing}`;
  }

  /** The run's signal, also aborted when the wall-clock budget runs out (model calls and commands alike). */
  #withDeadline(): AbortSignal {
    return AbortSignal.any([this.#signal, AbortSignal.timeout(Math.max(1, this.#budget.deadline - Date.now()))]);
  }

  #spentBudget(): AgentStop | undefined {
    const spend = `${this.#turns} turns, $${this.#usd.toFixed(2)}`;
    if (this.#turns >= this.#budget.maxTurns) return { kind: "budget", limit: "turns", message: `stopped at budget.max_turns (${spend})` };
    if (this.#usd >= this.#budget.maxUsd)
      return { kind: "budget", limit: "usd", message: `stopped at budget.max_usd of $${this.#budget.maxUsd.toFixed(2)} (${spend})` };
    if (Date.now() >= this.#budget.deadline) return { kind: "budget", limit: "time", message: `stopped at budget.timeout_minutes (${spend})` };
    return undefined;
  }

  #failure(error: unknown): AgentStop {
    if (this.#signal.aborted) return { kind: "aborted", message: reasonOf(this.#signal) };
    if (Date.now() >= this.#budget.deadline)
      return {
        kind: "budget",
        limit: "time",
        message: `stopped at budget.timeout_minutes during a model call (${this.#turns} turns, $${this.#usd.toFixed(2)})`,
      };
    if (error instanceof Anthropic.APIError && error.status !== undefined) {
      const status = error.status;
      if (status === 401)
        return { kind: "model-error", retryable: false, message: `the Anthropic API refused the key (${status}); the operator must check ANTHROPIC_API_KEY` };
      // What was refused matters (a key without access to the model, or afk's proxy cutting a job off at its budget): its message says.
      if (status === 403) return { kind: "model-error", retryable: false, message: `the Anthropic API refused the request (403): ${firstLine(error.message)}` };
      if (status === 429 || status === 529 || status >= 500) {
        return {
          kind: "model-error",
          retryable: true,
          message: `the Anthropic API kept answering ${status} (${status === 429 ? "rate limited" : status === 529 ? "overloaded" : "server error"}) after afk's retries`,
        };
      }
      return { kind: "model-error", retryable: false, message: `the Anthropic API rejected the request (${status}): ${firstLine(error.message)}` };
    }
    if (error instanceof Anthropic.APIConnectionError)
      return { kind: "model-error", retryable: true, message: `the Anthropic API could not be reached after afk's retries (${firstLine(error.message)})` };
    return { kind: "model-error", retryable: true, message: `the model call failed: ${error instanceof Error ? firstLine(error.message) : String(error)}` };
  }

  #addUsage(usage: Anthropic.Messages.Usage): void {
    const turn: TokenUsage = {
      input: usage.input_tokens,
      output: usage.output_tokens,
      cacheWrite: usage.cache_creation_input_tokens ?? 0,
      cacheRead: usage.cache_read_input_tokens ?? 0,
    };
    this.#usage = {
      input: this.#usage.input + turn.input,
      output: this.#usage.output + turn.output,
      cacheWrite: this.#usage.cacheWrite + turn.cacheWrite,
      cacheRead: this.#usage.cacheRead + turn.cacheRead,
    };
    this.#usd += costOf(turn, this.#price);
    this.#contextUsed = turn.input + turn.cacheRead + turn.cacheWrite + turn.output;
  }

  #logEntry(kind: RunLogEntry["kind"], text: string, isError = false): void {
    if (this.#logChars >= RUN_LOG_CHARS) {
      this.#logOmitted += 1;
      return;
    }
    const bounded = keepHeadAndTail(text, RUN_LOG_ENTRY_CHARS).text;
    this.#logChars += bounded.length;
    this.#log.push({ atMs: Date.now() - this.#startedAt, turn: this.#turns, kind, text: bounded, ...(isError ? { isError: true as const } : {}) });
  }

  #record(kind: TranscriptEntry["kind"], text: string): void {
    const short = text.length > TRANSCRIPT_TEXT_CHARS ? `${text.slice(0, TRANSCRIPT_TEXT_CHARS)}…` : text;
    this.#transcript.push({ turn: this.#turns, kind, text: short.replace(/\s+/g, " ").trim() });
    if (this.#transcript.length > TRANSCRIPT_ENTRIES) this.#transcript.splice(0, this.#transcript.length - TRANSCRIPT_ENTRIES);
  }
}

/** A response block as a request block, keeping only what the API accepts back. */
function toParam(block: Anthropic.Messages.ContentBlock): ContentBlockParam[] {
  switch (block.type) {
    case "text":
      return block.text.length > 0 ? [{ type: "text", text: block.text }] : [];
    case "tool_use":
      return [{ type: "tool_use", id: block.id, name: block.name, input: block.input }];
    case "thinking":
      return [{ type: "thinking", thinking: block.thinking, signature: block.signature }];
    case "redacted_thinking":
      return [{ type: "redacted_thinking", data: block.data }];
    default:
      return [];
  }
}

/** What the run log and transcript keep of a thinking block: that the model thought, not what. */
function thoughtOf(block: Anthropic.Messages.ContentBlock): string | undefined {
  if (block.type === "thinking") return `[afk: the model thought (${block.thinking.length} characters, not recorded)]`;
  if (block.type === "redacted_thinking") return "[afk: the model thought (encrypted by the API, not recorded)]";
  return undefined;
}

/** The API's answer to a request past the model's context: 400, "prompt is too long: N tokens > M maximum" (or input and max_tokens together too many). */
function isContextOverflow(error: unknown): boolean {
  return error instanceof Anthropic.APIError && error.status === 400 && /prompt is too long|exceed context limit|context window/i.test(error.message);
}

function reasonOf(signal: AbortSignal): string {
  return signal.reason instanceof Error ? signal.reason.message : String(signal.reason ?? "aborted");
}
