import type { FaultReply, GitHubEmulator } from "./emulator/index.js";
import { mulberry32 } from "./seeded-random.js";

/** The failures GitHub answers with under load or during an incident. */
export const FAULT_KINDS = ["500", "502", "rate-limit", "secondary-rate-limit"] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface FaultPlan {
  /** The share of API requests (0–1) that fail. */
  rate: number;
  /** Seeds the choice of which requests fail, so a failing run can be told apart from bad luck. */
  seed: number;
  kinds?: readonly FaultKind[];
}

export interface FaultLog {
  injected: Array<{ method: string; path: string; kind: FaultKind }>;
  /** Stops injecting (the emulator answers normally again). */
  stop(): void;
}

/**
 * Makes the emulator fail a share of the REST and GraphQL requests it gets, the way GitHub does:
 * 500 and 502 with GitHub's bodies, a primary rate limit (429 with `x-ratelimit-remaining: 0` and a
 * reset a second away) and a secondary rate limit (403 "You have exceeded a secondary rate limit",
 * `retry-after: 1`). The failed request changes nothing, as on GitHub.
 */
export function injectFaults(github: GitHubEmulator, plan: FaultPlan): FaultLog {
  const random = mulberry32(plan.seed);
  const kinds = plan.kinds ?? FAULT_KINDS;
  const log: FaultLog = {
    injected: [],
    stop() {
      github.onRequest = undefined;
    },
  };
  github.onRequest = ({ method, path }) => {
    if (random() >= plan.rate) return undefined;
    const kind = kinds[Math.floor(random() * kinds.length)] ?? "500";
    log.injected.push({ method, path, kind });
    return faultReply(kind);
  };
  return log;
}

function faultReply(kind: FaultKind): FaultReply {
  switch (kind) {
    case "500":
      return { status: 500, body: { message: "Server Error" } };
    case "502":
      return { status: 502, body: { message: "Server Error" } };
    case "rate-limit":
      return {
        status: 429,
        body: { message: "API rate limit exceeded for installation.", documentation_url: "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api" },
        headers: {
          "x-ratelimit-limit": "5000",
          "x-ratelimit-remaining": "0",
          "x-ratelimit-used": "5000",
          "x-ratelimit-reset": String(Math.ceil(Date.now() / 1000) + 1),
          "x-ratelimit-resource": "core",
        },
      };
    case "secondary-rate-limit":
      return {
        status: 403,
        body: {
          message: "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
          documentation_url: "https://docs.github.com/free-pro-team@latest/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits",
        },
        headers: { "retry-after": "1" },
      };
  }
}
