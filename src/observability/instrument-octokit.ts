import type { GitHub } from "../github/types.js";
import type { AfkMetrics } from "./metrics.js";

const instrumented = new WeakSet<object>();

/**
 * Counts every request `octokit` makes in `metrics` (method, final status, rate limit left). The
 * hook only reads the answer and never changes it; safe to call more than once on the same client.
 */
export function instrumentOctokit(octokit: GitHub, metrics: AfkMetrics): GitHub {
  if (instrumented.has(octokit)) return octokit;
  instrumented.add(octokit);
  octokit.hook.wrap("request", async (request, options) => {
    const method = typeof options.method === "string" ? options.method : "GET";
    try {
      const response = await request(options);
      metrics.githubRequest(method, response.status, response.headers);
      return response;
    } catch (error) {
      const answer = answerOf(error);
      metrics.githubRequest(method, answer?.status, answer?.headers);
      throw error;
    }
  });
  return octokit;
}

/** GitHub's answer inside an Octokit error, or undefined when none came (Octokit reports those as status 500 with no response). */
function answerOf(error: unknown): { status: number; headers: Record<string, unknown> } | undefined {
  if (typeof error !== "object" || error === null || !("response" in error)) return undefined;
  const response: unknown = error.response;
  if (typeof response !== "object" || response === null || !("status" in response) || typeof response.status !== "number") return undefined;
  const headers =
    "headers" in response && typeof response.headers === "object" && response.headers !== null ? Object.fromEntries(Object.entries(response.headers)) : {};
  return { status: response.status, headers };
}
