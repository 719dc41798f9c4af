import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AppProcess } from "../helpers/app-process.js";
import { TEST_ANTHROPIC_KEY } from "../helpers/git-scenario.js";
import { GitHubEmulator } from "../helpers/github-emulator.js";
import { ModelServer } from "../helpers/model-server.js";
import { sampleValue } from "../helpers/served-afk.js";
import { examplePayload } from "../helpers/webhook-payloads.js";

/** The App as users start it (`npm start`, `LOG_FORMAT=json`), probed over HTTP as a load balancer and Prometheus would. */
describe("health, readiness and metrics of the App started with npm start", () => {
  let github: GitHubEmulator;
  let model: ModelServer;
  let app: AppProcess;
  let root: string;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), "afk-e2e-obs-"));
    github = await GitHubEmulator.start();
    model = await ModelServer.start([]);
    app = await AppProcess.start({
      gheHost: github.host,
      appId: github.appId,
      webhookSecret: "e2e-observability-secret",
      anthropicBaseUrl: model.url,
      anthropicApiKey: TEST_ANTHROPIC_KEY,
      cacheDir: join(root, "cache"),
      env: { AFK_ALLOWLIST: "*/*" },
    });
  }, 180_000);

  afterAll(async () => {
    await app?.stop();
    await github?.close();
    await model?.close();
    if (root !== undefined) rmSync(root, { recursive: true, force: true });
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
