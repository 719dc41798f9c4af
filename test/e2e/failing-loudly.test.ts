import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { AppProcess, freePort, REPO_ROOT, stopAllAppProcesses } from "../helpers/app-process.js";
import { testPrivateKey } from "../helpers/afk-harness.js";
import { issuesLabeledPayload } from "../helpers/webhook-payloads.js";

const INSTALLATION_ID = 4242;
const scratch = mkdtempSync(join(tmpdir(), "afk-failing-loudly-"));

afterAll(async () => {
  await stopAllAppProcesses();
  rmSync(scratch, { recursive: true, force: true });
});

/** `npm start` as a user runs it, to its end: exit code and what it wrote on each stream. */
function npmStart(env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn("npm", ["start"], {
      cwd: REPO_ROOT,
      env: {
        PATH: process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin",
        HOME: process.env.HOME ?? "/root",
        npm_config_update_notifier: "false",
        npm_config_fund: "false",
        npm_config_audit: "false",
        ...env,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, stdout, stderr }));
  });
}

describe("failing loudly, once", () => {
  it(
    "invalid operator settings: npm start prints one message naming each variable and what it allows, exits 1, and shows no stack trace",
    { timeout: 180_000 },
    async () => {
      const { code, stdout, stderr } = await npmStart({
        APP_ID: "1",
        PRIVATE_KEY: testPrivateKey(),
        WEBHOOK_SECRET: "secret",
        PORT: String(await freePort()),
        HOST: "127.0.0.1",
        AFK_CACHE_DIR: join(scratch, "cache"),
        AFK_MAX_CONCURRENT_RUNS: "abc",
        AFK_KILL_SWITCH: "perhaps",
      });
      expect(code, `stdout:\n${stdout}\nstderr:\n${stderr}`).toBe(1);
      expect(stderr).toBe(
        [
          "afk cannot start: invalid operator settings",
          '  - AFK_KILL_SWITCH="perhaps" is not on or off (use one of: on, off, true, false, 1, 0)',
          '  - AFK_MAX_CONCURRENT_RUNS="abc" must be a whole number from 1 to 64 (default 2)',
          "",
        ].join("\n"),
      );
      const everything = `${stdout}\n${stderr}`;
      expect(everything).not.toMatch(/^\s+at /m);
      expect(everything.split("AFK_MAX_CONCURRENT_RUNS=").length - 1).toBe(1);
    },
  );

  it(
    "GitHub unreachable: a signed issues.labeled delivery is answered, and the failing request is logged at warn within 10 s, then given up",
    { timeout: 180_000 },
    async () => {
      const closed = await freePort();
      const app = await AppProcess.start({
        gheHost: `127.0.0.1:${closed}`,
        appId: 1,
        webhookSecret: "secret",
        anthropicBaseUrl: `http://127.0.0.1:${closed}`,
        anthropicApiKey: "sk-ant-test",
        cacheDir: join(scratch, "cache"),
        env: { AFK_ALLOWLIST: "octo-org/*" },
      });
      const payload = issuesLabeledPayload({
        owner: "octo-org",
        repo: "app",
        installationId: INSTALLATION_ID,
        issue: { number: 7, title: "Add a health check", body: "Please.", labels: ["ready-for-agent"], state: "open" },
        label: "ready-for-agent",
        sender: { login: "wes-write", type: "User" },
      });
      const deliveredAt = Date.now();
      const delivery = await app.deliver("issues", payload);
      expect(delivery.status).toBe(200);

      // The delivery's own requests (start-up recovery fails on GitHub too, on other routes): its installation's token, or the repository.
      const ofThisDelivery = (record: Record<string, unknown>) =>
        Number(record.level) === 40 &&
        typeof record.msg === "string" &&
        (record.msg.includes(`/app/installations/${INSTALLATION_ID}/`) || record.msg.includes("/repos/octo-org/app"));
      const deadline = deliveredAt + 10_000;
      let warnings: Array<Record<string, unknown>> = [];
      while (Date.now() < deadline && !warnings.some((record) => String(record.msg).includes("giving up"))) {
        warnings = app.logRecords().filter(ofThisDelivery);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(warnings.length, app.logTail(40)).toBeGreaterThan(0);
      const [first] = warnings;
      expect(String(first?.msg)).toMatch(/^GitHub request (POST|GET) \S+ failed \(GitHub unreachable: ECONNREFUSED\); retrying in 1 s \(retry 1 of 1\)$/);
      expect(Number(first?.time) - deliveredAt).toBeLessThan(10_000);
      expect(warnings.map((record) => String(record.msg))).toContainEqual(
        expect.stringMatching(/GitHub unreachable: ECONNREFUSED\); giving up after 2 tries$/),
      );
      await app.stop();
    },
  );
});
