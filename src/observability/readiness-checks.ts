import { randomUUID } from "node:crypto";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createModelClient } from "../executor/agent/model-client.js";
import { answeredByGitHub } from "../github/transient.js";
import { errorMessage, errorStatus, firstLine, type GitHub } from "../github/types.js";
import type { ReadinessCheck } from "./readiness.js";

/** GitHub answers `GET /app` with the App's own credentials (a JWT signed with its private key). Tried once: a probe never retries. */
export function githubCheck(appOctokit: () => Promise<GitHub>): ReadinessCheck {
  return {
    name: "github",
    async probe(signal) {
      try {
        const octokit = await appOctokit();
        const { data } = await octokit.request("GET /app", { request: { retries: 0, signal } });
        return `GET /app answered as ${data?.slug ?? "the App"}`;
      } catch (error) {
        throw new Error(githubProblem(error));
      }
    },
  };
}

function githubProblem(error: unknown): string {
  const status = errorStatus(error);
  const answered = answeredByGitHub(error);
  if (answered && (status === 401 || status === 403)) return `GitHub refused the App's credentials on GET /app (${status}): check APP_ID and the private key`;
  if (answered && status !== undefined) return `GitHub answered GET /app with ${status}: ${firstLine(errorMessage(error))}`;
  return `GitHub could not be reached: ${firstLine(errorMessage(error))}`;
}

/**
 * The model's API answers `GET /v1/models/{model}` with afk's key: reachable and the key accepted,
 * at no token spend. Tried once.
 */
export function modelCheck(input: { apiKey: string | undefined; baseURL: string | undefined; model: string }): ReadinessCheck {
  return {
    name: "model",
    async probe(signal) {
      if (input.apiKey === undefined || input.apiKey.length === 0) throw new Error("ANTHROPIC_API_KEY is not set");
      const client = createModelClient({ apiKey: input.apiKey, maxRetries: 0, ...(input.baseURL === undefined ? {} : { baseURL: input.baseURL }) });
      try {
        const info = await client.models.retrieve(input.model, {}, { signal });
        return `${info.id} is reachable with this key`;
      } catch (error) {
        const status = errorStatus(error);
        if (status === 401 || status === 403) throw new Error(`the model's API refused ANTHROPIC_API_KEY (${status})`);
        if (status === 404) throw new Error(`the model ${input.model} does not exist for this key`);
        throw new Error(`the model's API could not be reached: ${firstLine(errorMessage(error))}`);
      }
    },
  };
}

/** afk can write in its cache directory (mirrors, checkouts, package caches): a file is written there and removed. */
export function cacheDirCheck(cacheDir: string): ReadinessCheck {
  return {
    name: "cache",
    async probe() {
      const probe = join(cacheDir, `.afk-ready-${randomUUID()}`);
      try {
        await mkdir(cacheDir, { recursive: true });
        await writeFile(probe, "ready\n");
        await rm(probe, { force: true });
        return `${cacheDir} is writable`;
      } catch (error) {
        throw new Error(`${cacheDir} is not writable: ${firstLine(errorMessage(error))}`);
      }
    },
  };
}
