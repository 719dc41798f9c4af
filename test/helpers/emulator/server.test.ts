import { describe, expect, it } from "vitest";
import { operationIdOf, validateRequest } from "../openapi-validator.js";
import { loopbackFetch } from "./loopback-fetch.js";
import { failure, FULL, installationOctokit, installationToken, OWNER, REPO, useEmulator } from "./test-kit.js";

const current = useEmulator();

describe("openapi-validator", () => {
  it("matches slash-containing refs and paths to the most specific template", () => {
    const ref = validateRequest({ method: "GET", path: "/repos/o/r/git/ref/afk/lock", query: {}, body: undefined });
    expect(ref).toMatchObject({ ok: true, operationId: "git/get-ref", params: { ref: "afk/lock" } });
    const refs = validateRequest({ method: "PATCH", path: "/repos/o/r/git/refs/afk%2Flock", query: {}, body: { sha: "a".repeat(40) } });
    expect(refs).toMatchObject({ ok: true, operationId: "git/update-ref", params: { ref: "afk/lock" } });
    const contents = validateRequest({ method: "GET", path: "/repos/o/r/contents/.github/afk.yml", query: { ref: "main" }, body: undefined });
    expect(contents).toMatchObject({ ok: true, operationId: "repos/get-content", params: { path: ".github/afk.yml" } });
    const comment = validateRequest({ method: "GET", path: "/repos/o/r/issues/comments/5", query: {}, body: undefined });
    expect(comment).toMatchObject({ ok: true, operationId: "issues/get-comment" });
  });

  it("rejects bad query parameters, missing bodies and OpenAPI-nullable mistakes, but accepts null where nullable", () => {
    const query = validateRequest({ method: "GET", path: "/repos/o/r/issues", query: { state: "bogus", per_page: "many" }, body: undefined });
    expect(query.ok).toBe(false);
    if (!query.ok) expect(query.error).toMatch(/state.*per_page/s);
    const missing = validateRequest({ method: "POST", path: "/repos/o/r/git/refs", query: {}, body: undefined });
    expect(missing).toMatchObject({ ok: false });
    const nullable = validateRequest({ method: "PATCH", path: "/repos/o/r/issues/1", query: {}, body: { body: null, state_reason: null, milestone: null } });
    expect(nullable).toMatchObject({ ok: true });
    const wrongMethod = validateRequest({ method: "POST", path: "/repos/o/r/issues/1", query: {}, body: {} });
    expect(wrongMethod.ok).toBe(false);
  });

  it("knows every route the emulator implements", () => {
    for (const key of current().implementedRoutes) {
      const [method = "", template = ""] = key.split(" ");
      expect(operationIdOf(method, template), key).toBeDefined();
    }
  });
});

describe("the emulator's server", () => {
  it("refuses request bodies the description does not allow, and records them", async () => {
    const emulator = current();
    emulator.addIssue(FULL, { title: "Bug" });
    const octokit = await installationOctokit(emulator);
    const empty = await failure(octokit.request(`POST /repos/${FULL}/issues/1/comments`, { data: {} }));
    expect(empty.status).toBe(400);
    const numeric = await failure(octokit.request(`POST /repos/${FULL}/issues/1/comments`, { data: { body: 5 } }));
    expect(numeric.status).toBe(400);
    const violations = emulator.takeViolations();
    expect(violations).toHaveLength(2);
    expect(violations[0]).toMatch(/POST .*issues\/1\/comments.*issues\/create-comment.*must have required property 'body'/);
    expect(violations[1]).toMatch(/body\/body must be string/);
    expect(emulator.comments(FULL, 1)).toEqual([]);
  });

  it("records unknown and unimplemented routes as violations", async () => {
    const emulator = current();
    const octokit = await installationOctokit(emulator);
    expect((await failure(octokit.request(`GET /repos/${FULL}/no-such-thing`))).status).toBe(400);
    expect((await failure(octokit.request(`GET /repos/${FULL}/releases`))).status).toBe(501);
    const violations = emulator.takeViolations();
    expect(violations[0]).toMatch(/no path in GitHub's OpenAPI description/);
    expect(violations[1]).toMatch(/repos\/list-releases .*not implemented/);
    expect(() => emulator.assertNoViolations()).not.toThrow();
  });

  it("paginates comments with Link headers Octokit follows", async () => {
    const emulator = current();
    emulator.addIssue(FULL, { title: "Chatty" });
    for (let i = 1; i <= 75; i++) emulator.addComment(FULL, 1, { body: `comment ${i}`, user: "alice" });
    const octokit = await installationOctokit(emulator);
    const first = await octokit.rest.issues.listComments({ owner: OWNER, repo: REPO, issue_number: 1, per_page: 20 });
    expect(first.headers.link).toContain('page=2>; rel="next"');
    expect(first.headers.link).toContain('page=4>; rel="last"');
    const all = await octokit.paginate(octokit.rest.issues.listComments, { owner: OWNER, repo: REPO, issue_number: 1, per_page: 20 });
    expect(all.map((comment) => comment.body)).toEqual(Array.from({ length: 75 }, (_, i) => `comment ${i + 1}`));
    const ids = all.map((comment) => comment.id);
    expect([...ids].sort((a, b) => a - b)).toEqual(ids);
    expect(emulator.requests.filter((r) => r.operationId === "issues/list-comments")).toHaveLength(5);
  });

  it("supports fault injection and latency", async () => {
    const emulator = current();
    const octokit = await installationOctokit(emulator);
    emulator.onRequest = (r) => (r.path.endsWith("/git/ref/heads/main") ? { status: 502, body: { message: "Server Error" } } : undefined);
    emulator.latencyMs = 20;
    expect((await failure(octokit.rest.git.getRef({ owner: OWNER, repo: REPO, ref: "heads/main" }))).status).toBe(502);
    emulator.onRequest = undefined;
    expect((await octokit.rest.git.getRef({ owner: OWNER, repo: REPO, ref: "heads/main" })).status).toBe(200);
  });

  it("answers a GET whose If-None-Match names the current ETag with 304 and no body, and records the 304", async () => {
    const emulator = current();
    emulator.addIssue(FULL, { title: "Polled" });
    const token = await installationToken(emulator);
    const url = `${emulator.apiUrl}/repos/${FULL}/issues/1/comments`;
    const get = (headers: Record<string, string> = {}): Promise<Response> => loopbackFetch(url, { headers: { authorization: `token ${token}`, ...headers } });

    const first = await get();
    const etag = first.headers.get("etag") ?? "";
    expect(first.status).toBe(200);
    expect(etag).toMatch(/^W\/"[0-9a-f]{64}"$/);
    expect(await first.json()).toEqual([]);

    const unchanged = await get({ "if-none-match": etag });
    expect(unchanged.status).toBe(304);
    expect(await unchanged.text()).toBe("");
    expect(unchanged.headers.get("etag")).toBe(etag);
    // A strong form of the same tag, a list naming it, and `*` match too (weak comparison, as for GET).
    expect((await get({ "if-none-match": etag.replace(/^W\//, "") })).status).toBe(304);
    expect((await get({ "if-none-match": `"other", ${etag}` })).status).toBe(304);
    expect((await get({ "if-none-match": "*" })).status).toBe(304);

    // A change to what the GET answers gives it a new tag: the old one no longer matches.
    emulator.addComment(FULL, 1, { body: "news", user: "alice" });
    const changed = await get({ "if-none-match": etag });
    expect(changed.status).toBe(200);
    expect(changed.headers.get("etag")).not.toBe(etag);
    expect(await changed.json()).toHaveLength(1);

    const statuses = emulator.requests.filter((r) => r.operationId === "issues/list-comments").map((r) => r.status);
    expect(statuses).toEqual([200, 304, 304, 304, 304, 200]);
    // A 304 is a request a bench counts apart: GitHub does not count it against the rate limit.
    expect(emulator.requests.filter((r) => r.status === 304).every((r) => r.response === undefined)).toBe(true);
  });

  it("tags only successful GETs: writes and errors carry no ETag and never answer 304", async () => {
    const emulator = current();
    emulator.addIssue(FULL, { title: "Written" });
    const octokit = await installationOctokit(emulator);
    const created = await octokit.rest.issues.createComment({ owner: OWNER, repo: REPO, issue_number: 1, body: "hi", headers: { "if-none-match": "*" } });
    expect(created.status).toBe(201);
    expect(created.headers.etag).toBeUndefined();
    const missing = await failure(octokit.rest.issues.get({ owner: OWNER, repo: REPO, issue_number: 99, headers: { "if-none-match": "*" } }));
    expect(missing.status).toBe(404);
    // Octokit reports a 304 as a RequestError with that status: the caller keeps what it read before.
    const { headers } = await octokit.rest.issues.get({ owner: OWNER, repo: REPO, issue_number: 1 });
    const notModified = await failure(octokit.rest.issues.get({ owner: OWNER, repo: REPO, issue_number: 1, headers: { "if-none-match": headers.etag ?? "" } }));
    expect(notModified.status).toBe(304);
  });
});
