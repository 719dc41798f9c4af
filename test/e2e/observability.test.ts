import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AppProcess } from "../helpers/app-process.js";
import { sampleValue } from "../helpers/served-afk.js";
import { examplePayload } from "../helpers/webhook-payloads.js";
import { buildWorld, type World } from "../helpers/world/build-world.js";

/** The App as users start it (`npm start`, `LOG_FORMAT=json`), probed over HTTP as a load balancer and Prometheus would. */
describe("health, readiness and metrics of the App started with npm start", () => {
  let world: World | undefined;
  let app: AppProcess;

  beforeAll(async () => {
    world = await buildWorld({ name: "afk-e2e-obs-", model: [] });
    app = await world.startAppProcess({ webhookSecret: "e2e-observability-secret", env: { AFK_ALLOWLIST: "*/*" } });
  }, 180_000);

  afterAll(async () => {
    await world?.close();
  });

  it("answers /healthz, /readyz (GitHub, model, cache) and /metrics on Probot's port, and counts a delivery", async () => {
    const health = await fetch(`${app.url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.text()).toBe("ok\n");

    const ready = await fetch(`${app.url}/readyz`);
    const report = (await ready.json()) as { ready: boolean; failing: string[] };
    expect({ status: ready.status, ...report }).toMatchObject({ status: 200, ready: true, failing: [] });

    expect((await app.deliver("issues", examplePayload("issues", "opened"))).status).toBeLessThan(300);
    const metrics = await fetch(`${app.url}/metrics`);
    expect(metrics.status).toBe(200);
    const text = await metrics.text();
    expect(sampleValue(text, "afk_webhook_deliveries_total", { event: "issues", action: "opened", outcome: "ignored" })).toBe(1);
    expect(sampleValue(text, "afk_runs_total", { afk_job: "implement", outcome: "waiting" })).toBe(0);
    expect(sampleValue(text, "process_resident_memory_bytes")).toBeGreaterThan(0);
  });
});
