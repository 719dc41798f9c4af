import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import { JOBS, type Job } from "../run-contract/job.js";

/**
 * How a run ended, as `afk_runs_total` counts it: the executor's outcome, `lost-lock` when
 * another process took the repository lock back while the run was going, or `handed-back` when
 * afk shut down before it finished and queued it again.
 */
export const RUN_OUTCOMES = ["done", "waiting", "planned", "escalated", "failed", "stopped", "lost-lock", "handed-back"] as const;
export type RunOutcomeLabel = (typeof RUN_OUTCOMES)[number];

/** What became of a webhook delivery: an afk handler took it, threw, or afk has no handler for it. */
export const DELIVERY_OUTCOMES = ["handled", "failed", "ignored"] as const;
export type DeliveryOutcome = (typeof DELIVERY_OUTCOMES)[number];

/** The four kinds of model tokens, billed at four prices (cache reads are the cheap ones). */
export const TOKEN_KINDS = ["input", "output", "cache_write", "cache_read"] as const;

const HTTP_METHODS = new Set(["GET", "POST", "PATCH", "PUT", "DELETE", "HEAD"]);

/** Run durations in seconds: from a one-turn answer to a long implementation. */
const RUN_DURATION_BUCKETS = [5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200];

/** What a run cost, as the executor reported it when the run ended. */
export interface RunCost {
  usd: number;
  tokens?: { input: number; output: number; cacheWrite: number; cacheRead: number };
}

/** Live figures the metrics read from the coordinator at each scrape. */
export interface LiveFigures {
  /** Runs this process has started that wait for a free slot (`AFK_MAX_CONCURRENT_RUNS`). */
  queueLength(): number;
  /** Repository locks held by runs of this process. */
  locksHeld(): number;
}

/**
 * afk's Prometheus metrics, on a registry of its own (never prom-client's global one), so every
 * App in a process (tests start several) reports only itself. Every label value comes from a fixed
 * set: no repository, issue, user or run id is ever a label.
 */
export class AfkMetrics {
  readonly registry = new Registry();
  readonly #deliveries: Counter<"event" | "action" | "outcome">;
  readonly #runsStarted: Counter<"afk_job">;
  readonly #runs: Counter<"afk_job" | "outcome">;
  readonly #runDuration: Histogram<"afk_job" | "outcome">;
  readonly #spendUsd: Counter<"afk_job">;
  readonly #tokens: Counter<"afk_job" | "kind">;
  readonly #githubRequests: Counter<"method" | "status">;
  readonly #rateLimitRemaining: Gauge<"resource">;
  #live: LiveFigures | undefined;

  #processMetrics = false;

  constructor() {
    const registers = [this.registry];
    this.#deliveries = new Counter({
      name: "afk_webhook_deliveries_total",
      help: "Webhook deliveries afk received, by GitHub event, action and outcome (handled, failed, ignored).",
      labelNames: ["event", "action", "outcome"],
      registers,
    });
    this.#runsStarted = new Counter({
      name: "afk_runs_started_total",
      help: "Runs this process started, by afk job (implement, fix-ci, rework, plan, ask).",
      labelNames: ["afk_job"],
      registers,
    });
    this.#runs = new Counter({
      name: "afk_runs_total",
      help: "Runs this process finished, by afk job (implement, fix-ci, rework, plan, ask) and outcome.",
      labelNames: ["afk_job", "outcome"],
      registers,
    });
    this.#runDuration = new Histogram({
      name: "afk_run_duration_seconds",
      help: "Wall-clock time from a run's start to its end, by afk job (implement, fix-ci, rework, plan, ask) and outcome.",
      labelNames: ["afk_job", "outcome"],
      buckets: RUN_DURATION_BUCKETS,
      registers,
    });
    this.#spendUsd = new Counter({
      name: "afk_model_spend_usd_total",
      help: "Model spend in US dollars at list prices, counted when each run ends, by afk job.",
      labelNames: ["afk_job"],
      registers,
    });
    this.#tokens = new Counter({
      name: "afk_model_tokens_total",
      help: "Model tokens, counted when each run ends, by afk job and kind (input, output, cache_write, cache_read).",
      labelNames: ["afk_job", "kind"],
      registers,
    });
    this.#githubRequests = new Counter({
      name: "afk_github_requests_total",
      help: "GitHub API requests afk made, by method and final HTTP status (after Octokit's retries; `error` when no answer came).",
      labelNames: ["method", "status"],
      registers,
    });
    this.#rateLimitRemaining = new Gauge({
      name: "afk_github_rate_limit_remaining",
      help: "Requests left in GitHub's rate-limit window, as its latest answer reported, by resource (core, graphql, ...).",
      labelNames: ["resource"],
      registers,
    });
    const live = () => this.#live;
    new Gauge({
      name: "afk_run_queue_length",
      help: "Runs this process started that wait for a free slot (AFK_MAX_CONCURRENT_RUNS).",
      registers,
      collect() {
        this.set(live()?.queueLength() ?? 0);
      },
    });
    new Gauge({
      name: "afk_locks_held",
      help: "Repository locks (refs/afk/lock) held by runs of this process.",
      registers,
      collect() {
        this.set(live()?.locksHeld() ?? 0);
      },
    });
    // Pre-set every run series at zero, so a dashboard's rate() sees a run's first occurrence.
    for (const job of JOBS) {
      this.#runsStarted.inc({ afk_job: job }, 0);
      for (const outcome of RUN_OUTCOMES) this.#runs.inc({ afk_job: job, outcome }, 0);
    }
  }

  /**
   * Adds prom-client's process metrics (CPU, resident memory, heap, event-loop lag, open handles),
   * once. Only for an App whose metrics are served: the event-loop monitor runs a timer.
   */
  includeProcessMetrics(): void {
    if (this.#processMetrics) return;
    this.#processMetrics = true;
    collectDefaultMetrics({ register: this.registry });
  }

  /** Where the queue length and the locks held are read at each scrape. */
  watch(live: LiveFigures): void {
    this.#live = live;
  }

  delivery(event: string, action: string | undefined, outcome: DeliveryOutcome): void {
    this.#deliveries.inc({ event: labelWord(event), action: action === undefined ? "" : labelWord(action), outcome });
  }

  runStarted(job: Job): void {
    this.#runsStarted.inc({ afk_job: job });
  }

  runEnded(run: { job: Job; outcome: RunOutcomeLabel; seconds: number; cost: RunCost | undefined }): void {
    // `afk_job`, not `job`: Prometheus gives every scraped series a `job` label of its own.
    const { outcome } = run;
    const afk_job = run.job;
    this.#runs.inc({ afk_job, outcome });
    this.#runDuration.observe({ afk_job, outcome }, run.seconds);
    if (run.cost === undefined) return;
    this.#spendUsd.inc({ afk_job }, Math.max(0, run.cost.usd));
    const tokens = run.cost.tokens;
    if (tokens === undefined) return;
    this.#tokens.inc({ afk_job, kind: "input" }, tokens.input);
    this.#tokens.inc({ afk_job, kind: "output" }, tokens.output);
    this.#tokens.inc({ afk_job, kind: "cache_write" }, tokens.cacheWrite);
    this.#tokens.inc({ afk_job, kind: "cache_read" }, tokens.cacheRead);
  }

  /** One GitHub API request afk made: `status` undefined when no answer came (refused, reset, timed out). */
  githubRequest(method: string, status: number | undefined, headers: Record<string, unknown> | undefined): void {
    const verb = method.toUpperCase();
    this.#githubRequests.inc({
      method: HTTP_METHODS.has(verb) ? verb : "OTHER",
      status: status !== undefined && Number.isInteger(status) && status >= 100 && status <= 599 ? String(status) : "error",
    });
    const remaining = Number(headerValue(headers, "x-ratelimit-remaining"));
    if (headerValue(headers, "x-ratelimit-remaining") === undefined || !Number.isFinite(remaining)) return;
    this.#rateLimitRemaining.set({ resource: labelWord(headerValue(headers, "x-ratelimit-resource") ?? "core") }, remaining);
  }

  /** The Prometheus text exposition of every metric. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

/** A label value from GitHub's vocabularies (event names, actions, rate-limit resources); anything else is `other`. */
function labelWord(value: string): string {
  return /^[a-z][a-z_]{0,39}$/.test(value) ? value : "other";
}

function headerValue(headers: Record<string, unknown> | undefined, name: string): string | undefined {
  const value = headers?.[name];
  return typeof value === "string" || typeof value === "number" ? String(value) : undefined;
}
