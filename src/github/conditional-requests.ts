import type { GitHub } from "./types.js";

/** What a GET answered, kept to be answered again when GitHub says it has not changed. */
interface Kept {
  etag: string;
  response: Awaited<ReturnType<GitHub["request"]>>;
  size: number;
}

/** The most answers kept, and the most characters of JSON they may hold together (bounded memory). */
const MAX_ENTRIES = 2_000;
const MAX_CHARS = 20_000_000;

/**
 * GitHub's answers to GET requests, kept by URL with their ETag, so afk asks again with
 * `If-None-Match`: unchanged, GitHub answers 304 Not Modified with no body, which does not count
 * against the installation's rate limit, and the kept answer is returned. Only GitHub decides that
 * nothing changed, so a kept answer is never served stale. Shared by every client of the process
 * (webhook contexts get a new client each); a URL names one repository, which one installation holds.
 */
export class ConditionalRequests {
  readonly #kept = new Map<string, Kept>();
  #chars = 0;
  /** Requests answered 304 and served from what was kept (for the metrics and the bench). */
  notModified = 0;

  /** Adds conditional GETs to `octokit` (an Octokit's request hook). */
  install(octokit: Pick<GitHub, "hook" | "request">): void {
    octokit.hook.wrap("request", async (request, options) => {
      if (options.method !== "GET") return request(options);
      const { url } = octokit.request.endpoint.parse(options);
      const kept = this.#kept.get(url);
      if (kept !== undefined) options.headers = { ...options.headers, "if-none-match": kept.etag };
      try {
        const response = await request(options);
        this.#keep(url, response);
        return response;
      } catch (error) {
        if (kept === undefined || !isNotModified(error)) throw error;
        this.notModified += 1;
        // Most recently used last, so the oldest is dropped first.
        this.#kept.delete(url);
        this.#kept.set(url, kept);
        // A copy: callers change what they get (pagination replaces a list answer's data with its items).
        return copyOf(kept.response);
      }
    });
  }

  #keep(url: string, response: Kept["response"]): void {
    const etag = response.headers.etag;
    const previous = this.#kept.get(url);
    if (previous !== undefined) {
      this.#kept.delete(url);
      this.#chars -= previous.size;
    }
    if (typeof etag !== "string" || etag.length === 0) return;
    const size = JSON.stringify(response.data ?? null).length;
    if (size > MAX_CHARS / 10) return;
    this.#kept.set(url, { etag, response: copyOf(response), size });
    this.#chars += size;
    for (const [oldest, entry] of this.#kept) {
      if (this.#kept.size <= MAX_ENTRIES && this.#chars <= MAX_CHARS) break;
      this.#kept.delete(oldest);
      this.#chars -= entry.size;
    }
  }
}

function copyOf(response: Kept["response"]): Kept["response"] {
  return { ...response, headers: { ...response.headers }, data: structuredClone(response.data) };
}

function isNotModified(error: unknown): boolean {
  return typeof error === "object" && error !== null && "status" in error && error.status === 304;
}

/** The process's kept answers, used by every client afk's Octokit makes. */
export const CONDITIONAL_REQUESTS = new ConditionalRequests();
