import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { ReadinessReport } from "../../src/observability/readiness.js";
import type { GitHubEmulator } from "../helpers/emulator/index.js";
import type { ModelServer } from "../helpers/model-server.js";
import type { ServedAfk } from "../helpers/served-afk.js";
import { useWorld } from "../helpers/world/use-world.js";

const buildWorld = useWorld();

/** afk on Probot's server with a model that answers nothing (readiness only asks whether it is there). */
async function start(
  options: { cacheDir?: (root: string) => string; readinessCacheMs?: number } = {},
): Promise<{ github: GitHubEmulator; model: ModelServer; afk: ServedAfk; root: string }> {
  const world = await buildWorld({ model: [] });
  const { github, model, root } = world;
  const afk = await world.serveAfk({
    env: { AFK_CACHE_DIR: options.cacheDir?.(root) ?? join(root, "cache") },
    readinessCacheMs: options.readinessCacheMs ?? 0,
  });
  return { github, model, afk, root };
}

function report(body: string): ReadinessReport {
  return JSON.parse(body) as ReadinessReport;
}

describe("health and readiness on Probot's server", () => {
  it("/healthz answers 200 ok, and keeps answering while GitHub is down", async () => {
    const { afk, github } = await start();
    expect(await afk.get("/healthz")).toMatchObject({ status: 200, body: "ok\n" });
    await github.close();
    expect(await afk.get("/healthz")).toMatchObject({ status: 200, body: "ok\n" });
    // Probot's own routes are still there, and anything else is still 404.
    expect((await afk.get("/ping")).body).toContain("PONG");
    expect((await afk.get("/nothing-here")).status).toBe(404);
  });

  it("/readyz answers 200 with GitHub (GET /app as the App), the model (its Models API, no tokens spent) and the cache directory checked", async () => {
    const { afk, github, model, root } = await start();
    const ready = await afk.get("/readyz");
    expect(ready.status).toBe(200);
    expect(ready.contentType).toContain("application/json");
    const body = report(ready.body);
    expect(body).toMatchObject({ ready: true, failing: [] });
    expect(body.checks.github).toMatchObject({ ok: true, detail: `GET /app answered as ${github.appSlug}` });
    expect(body.checks.model).toMatchObject({ ok: true, detail: "claude-sonnet-5-5 is reachable with this key" });
    expect(body.checks.cache).toMatchObject({ ok: true, detail: `${join(root, "cache")} is writable` });
    // GitHub was asked as the App (a JWT), the model through GET /v1/models/{id}: nothing spent.
    expect(github.requests.filter((request) => request.method === "GET" && request.path === "/app").map((request) => request.auth)).toEqual(["app-jwt"]);
    expect(model.requests).toEqual([]);
  });

  it("/readyz answers 503 naming github when the emulator is down", async () => {
    const { afk, github } = await start();
    expect((await afk.get("/readyz")).status).toBe(200);
    await github.close();
    const down = await afk.get("/readyz");
    expect(down.status).toBe(503);
    const body = report(down.body);
    expect(body.ready).toBe(false);
    expect(body.failing).toEqual(["github"]);
    expect(body.checks.github?.detail).toMatch(/^GitHub could not be reached: /);
    expect(body.checks.model?.ok).toBe(true);
    expect(body.checks.cache?.ok).toBe(true);
  });

  it("/readyz answers 503 naming the model when its API refuses the key, and the cache when the directory cannot be written", async () => {
    const { afk, model } = await start({
      cacheDir: (root) => {
        // A file where the cache directory should be: nothing can be created under it.
        writeFileSync(join(root, "not-a-directory"), "");
        return join(root, "not-a-directory", "cache");
      },
    });
    model.acceptedKeys.push("sk-ant-some-other-key");
    const down = await afk.get("/readyz");
    expect(down.status).toBe(503);
    const body = report(down.body);
    expect(body.failing).toEqual(["model", "cache"]);
    expect(body.checks.model?.detail).toBe("the model's API refused ANTHROPIC_API_KEY (401)");
    expect(body.checks.cache?.detail).toMatch(/not-a-directory\/cache is not writable: /);
    expect(body.checks.github?.ok).toBe(true);
  });

  it("/readyz keeps its answer for the cache window: a burst of probes asks GitHub once", async () => {
    const { afk, github } = await start({ readinessCacheMs: 60_000 });
    const answers = await Promise.all(Array.from({ length: 10 }, () => afk.get("/readyz")));
    expect(answers.map((answer) => answer.status)).toEqual(Array.from({ length: 10 }, () => 200));
    expect(new Set(answers.map((answer) => report(answer.body).checkedAt)).size).toBe(1);
    expect(github.requests.filter((request) => request.path === "/app")).toHaveLength(1);
    // Within the window even GitHub going away is not seen: the probe cannot hammer GitHub.
    await github.close();
    expect((await afk.get("/readyz")).status).toBe(200);
  });

  it("/readyz checks again once the cache window has passed", async () => {
    const { afk, github } = await start({ readinessCacheMs: 200 });
    expect((await afk.get("/readyz")).status).toBe(200);
    await github.close();
    const started = Date.now();
    let status = 200;
    while (status === 200 && Date.now() - started < 5_000) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      status = (await afk.get("/readyz")).status;
    }
    expect(status).toBe(503);
    expect(Date.now() - started).toBeGreaterThanOrEqual(150);
  });
});
