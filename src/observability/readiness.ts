/** One thing afk needs to do its work; `probe` resolves with what it saw, or throws saying what is wrong. */
export interface ReadinessCheck {
  name: string;
  probe(signal: AbortSignal): Promise<string>;
}

export interface CheckResult {
  ok: boolean;
  /** What the probe saw, or why it failed. */
  detail: string;
  ms: number;
}

/** The body of `/readyz`: ready only when every check passed; `failing` names the ones that did not. */
export interface ReadinessReport {
  ready: boolean;
  failing: string[];
  checks: Record<string, CheckResult>;
  /** When the checks ran (ISO 8601); answers within the cache window repeat it. */
  checkedAt: string;
}

/** Assembles the report from each check's result, in the checks' order. */
export function readinessReport(results: ReadonlyArray<{ name: string; result: CheckResult }>, checkedAt: Date): ReadinessReport {
  const failing = results.filter(({ result }) => !result.ok).map(({ name }) => name);
  return {
    ready: failing.length === 0,
    failing,
    checks: Object.fromEntries(results.map(({ name, result }) => [name, result])),
    checkedAt: checkedAt.toISOString(),
  };
}

/**
 * Runs the checks at once, each bounded by `timeoutMs`, and keeps the report for `cacheMs`: probes
 * arriving meanwhile (or while a round is under way) share it, so a busy load balancer cannot turn
 * `/readyz` into a stream of requests to GitHub and the model.
 */
export function cachedReadiness(checks: readonly ReadinessCheck[], options: { cacheMs: number; timeoutMs: number }): () => Promise<ReadinessReport> {
  let last: { at: number; report: Promise<ReadinessReport> } | undefined;
  return () => {
    const now = performance.now();
    if (last !== undefined && now - last.at < options.cacheMs) return last.report;
    const report = runChecks(checks, options.timeoutMs);
    last = { at: now, report };
    return report;
  };
}

async function runChecks(checks: readonly ReadinessCheck[], timeoutMs: number): Promise<ReadinessReport> {
  const checkedAt = new Date();
  const results = await Promise.all(checks.map(async (check) => ({ name: check.name, result: await runCheck(check, timeoutMs) })));
  return readinessReport(results, checkedAt);
}

async function runCheck(check: ReadinessCheck, timeoutMs: number): Promise<CheckResult> {
  const started = performance.now();
  const signal = AbortSignal.timeout(timeoutMs);
  const elapsed = () => Math.round(performance.now() - started);
  try {
    const detail = await Promise.race([
      check.probe(signal),
      new Promise<never>((_, reject) => signal.addEventListener("abort", () => reject(new Error(`no answer within ${timeoutMs} ms`)), { once: true })),
    ]);
    return { ok: true, detail, ms: elapsed() };
  } catch (error) {
    return { ok: false, detail: signal.aborted ? `no answer within ${timeoutMs} ms` : error instanceof Error ? error.message : String(error), ms: elapsed() };
  }
}
