import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { createAfkOctokit, GITHUB_REQUEST_POLICY, type GitHubRequestPolicy } from "../../src/github/octokit.js";
import { freePort } from "../helpers/app-process.js";

/** The production policy with a plugin "second" of 10 ms, so waits are measurable and short. */
const FAST: GitHubRequestPolicy = { ...GITHUB_REQUEST_POLICY, secondMs: 10 };

type Answer = { status: number; body?: object; headers?: Record<string, string> };

const servers: Array<{ close(): void }> = [];
afterEach(() => {
  for (const server of servers.splice(0)) server.close();
});

/** A loopback GitHub that answers the scripted replies in order (the last one for ever), recording when each request came. */
async function fakeGitHub(answers: Answer[]): Promise<{ baseUrl: string; arrivals: number[] }> {
  const arrivals: number[] = [];
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    arrivals.push(Date.now());
    const answer = answers[Math.min(arrivals.length - 1, answers.length - 1)] ?? { status: 200 };
    request.resume();
    response.writeHead(answer.status, { "content-type": "application/json", ...answer.headers }).end(JSON.stringify(answer.body ?? { message: "ok" }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  servers.push(server);
  return { baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, arrivals };
}

function client(baseUrl: string, policy: GitHubRequestPolicy = FAST) {
  const warnings: Array<{ at: number; message: string }> = [];
  const ignore = () => undefined;
  const Octokit = createAfkOctokit(policy);
  const octokit = new Octokit({
    baseUrl,
    auth: { token: "ghs_test" },
    log: { debug: ignore, info: ignore, warn: (message: string) => warnings.push({ at: Date.now(), message }), error: ignore },
  });
  return { octokit, warnings, messages: () => warnings.map((warning) => warning.message) };
}

const getRepo = (octokit: ReturnType<typeof client>["octokit"]) => octokit.request("GET /repos/{owner}/{repo}", { owner: "octo", repo: "app" });

const SECONDARY = { message: "You have exceeded a secondary rate limit. Please wait a few minutes before you try again." };

describe("afk's one retry policy for GitHub requests (Octokit's retry and throttling plugins)", () => {
  it("tries a server error again with growing waits, logging each retry with the request and the wait", async () => {
    const github = await fakeGitHub([{ status: 502 }, { status: 502 }, { status: 200, body: { name: "app" } }]);
    const { octokit, messages } = client(github.baseUrl);
    const { data } = await getRepo(octokit);
    expect(data).toMatchObject({ name: "app" });
    expect(github.arrivals).toHaveLength(3);
    expect(messages()).toEqual([
      expect.stringMatching(/^GitHub request GET \/repos\/octo\/app failed \(502 .*\); retrying in 10 ms \(retry 1 of 3\)$/),
      expect.stringMatching(/^GitHub request GET \/repos\/octo\/app failed \(502 .*\); retrying in 40 ms \(retry 2 of 3\)$/),
    ]);
    // The plugin's waits: 1 and 4 of its seconds.
    const [first = 0, second = 0, third = 0] = github.arrivals;
    expect(second - first).toBeGreaterThanOrEqual(9);
    expect(third - second).toBeGreaterThanOrEqual(39);
  });

  it("is bounded: a lasting server error is tried four times in all, then given up, and the give-up is logged", async () => {
    const github = await fakeGitHub([{ status: 500, body: { message: "Server Error" } }]);
    const { octokit, messages } = client(github.baseUrl);
    await expect(getRepo(octokit)).rejects.toMatchObject({ status: 500 });
    expect(github.arrivals).toHaveLength(4);
    expect(messages()).toHaveLength(4);
    expect(messages().at(-1)).toMatch(/^GitHub request GET \/repos\/octo\/app failed \(500 Server Error.*\); giving up after 4 tries$/);
  });

  it("waits out a secondary rate limit as long as retry-after says, and logs the wait", async () => {
    const github = await fakeGitHub([
      { status: 403, body: SECONDARY, headers: { "retry-after": "5" } },
      { status: 200, body: { name: "app" } },
    ]);
    const { octokit, messages } = client(github.baseUrl);
    await getRepo(octokit);
    const [first = 0, second = 0] = github.arrivals;
    expect(second - first).toBeGreaterThanOrEqual(49);
    expect(messages()).toEqual([
      expect.stringMatching(
        /^GitHub secondary rate limit on GET \/repos\/\{owner\}\/\{repo\} \(GitHub asks to wait 50 ms\); retrying in 50 ms \(retry 1 of 2\)$/,
      ),
    ]);
  });

  it("counts each call's retries apart: a second call on the same client gets its own tries after the first gave up", async () => {
    const github = await fakeGitHub([{ status: 500, body: { message: "Server Error" } }]);
    const { octokit, messages } = client(github.baseUrl);
    await expect(getRepo(octokit)).rejects.toMatchObject({ status: 500 });
    await expect(getRepo(octokit)).rejects.toMatchObject({ status: 500 });
    expect(github.arrivals).toHaveLength(8);
    expect(
      messages()
        .slice(4)
        .map((message) => message.replace(/^.*; /, "")),
    ).toEqual(["retrying in 10 ms (retry 1 of 3)", "retrying in 40 ms (retry 2 of 3)", "retrying in 90 ms (retry 3 of 3)", "giving up after 4 tries"]);
  });

  it("gives up at once, and says so, when GitHub asks for a longer wait than afk accepts", async () => {
    const github = await fakeGitHub([{ status: 403, body: SECONDARY, headers: { "retry-after": "3600" } }]);
    const { octokit, messages } = client(github.baseUrl);
    await expect(getRepo(octokit)).rejects.toMatchObject({ status: 403 });
    expect(github.arrivals).toHaveLength(1);
    expect(messages()).toEqual([expect.stringMatching(/secondary rate limit on GET .*; giving up: afk waits at most 1.2 s for a rate limit$/)]);
  });

  it("a primary rate limit (429) is waited out by the throttling plugin alone: the retry plugin adds no tries of its own", async () => {
    const reset = () => String(Math.ceil(Date.now() / 1000));
    const github = await fakeGitHub([
      { status: 429, body: { message: "API rate limit exceeded" }, headers: { "x-ratelimit-remaining": "0", "x-ratelimit-reset": reset() } },
    ]);
    const { octokit, messages } = client(github.baseUrl);
    await expect(getRepo(octokit)).rejects.toMatchObject({ status: 429 });
    expect(github.arrivals).toHaveLength(1 + FAST.rateLimitRetries);
    expect(messages().at(-1)).toMatch(/^GitHub rate limit on GET \/repos\/\{owner\}\/\{repo\} .*; giving up after 3 tries$/);
  });

  it("an answer that would fail the same way again (404) is neither retried nor logged", async () => {
    const github = await fakeGitHub([{ status: 404, body: { message: "Not Found" } }]);
    const { octokit, messages } = client(github.baseUrl);
    await expect(getRepo(octokit)).rejects.toMatchObject({ status: 404 });
    expect(github.arrivals).toHaveLength(1);
    expect(messages()).toEqual([]);
  });

  it("an unreachable GitHub (connection refused) is logged at once and given up after one retry a second later, with production waits", async () => {
    const closed = await freePort();
    const { octokit, warnings, messages } = client(`http://127.0.0.1:${closed}`, GITHUB_REQUEST_POLICY);
    const started = Date.now();
    await expect(getRepo(octokit)).rejects.toMatchObject({ status: 500 });
    const took = Date.now() - started;
    expect(messages()).toEqual([
      "GitHub request GET /repos/octo/app failed (GitHub unreachable: ECONNREFUSED); retrying in 1 s (retry 1 of 1)",
      "GitHub request GET /repos/octo/app failed (GitHub unreachable: ECONNREFUSED); giving up after 2 tries",
    ]);
    expect((warnings[0]?.at ?? Infinity) - started).toBeLessThan(500);
    expect(took).toBeGreaterThanOrEqual(990);
    expect(took).toBeLessThan(3_000);
  });
});
