import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseEnv } from "node:util";
import { chromium, type BrowserContext } from "playwright-core";
import { afterAll, beforeAll, describe, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { REPO_ROOT } from "../helpers/app-process.js";
import { BuiltApp, buildApp } from "../helpers/built-app.js";
import { GitHubEmulator } from "../helpers/emulator/index.js";
import { SmeeChannel } from "../helpers/smee-channel.js";
import { issuesLabeledPayload } from "../helpers/webhook-payloads.js";

/** The flags Debian's Chromium needs on these machines (no network beyond loopback, running as root). */
const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
const OWNER = "octo-setup";
const REPO = "app";

/**
 * How the manifest the browser posted differs from what the setup page must post: app.yml's
 * content, field by field, plus what Probot adds (the hook URL, where GitHub sends the code back,
 * the manifest version). Any character of app.yml the page mangles makes a field differ. Empty when
 * they agree.
 */
function manifestDifferences(posted: string, appYml: Record<string, unknown>, input: { hookUrl: string; appUrl: string }): string[] {
  let manifest: unknown;
  try {
    manifest = JSON.parse(posted);
  } catch {
    return [`the posted manifest is not JSON: ${posted}`];
  }
  if (typeof manifest !== "object" || manifest === null || Array.isArray(manifest)) return [`the posted manifest is not a JSON object: ${posted}`];
  const expected: Record<string, unknown> = { ...appYml, hook_attributes: { url: input.hookUrl }, redirect_url: `${input.appUrl}/probot/setup`, version: "v1" };
  const actual: Record<string, unknown> = { ...manifest };
  return [...new Set([...Object.keys(expected), ...Object.keys(actual)])]
    .filter((key) => JSON.stringify(actual[key]) !== JSON.stringify(expected[key]))
    .map((key) => `${key}: posted ${JSON.stringify(actual[key])}, expected ${JSON.stringify(expected[key])}`);
}

/** Polls `condition` every 50 ms; after `timeoutMs` fails with `what` and the App's log. */
async function until(condition: () => boolean, what: string, app: BuiltApp, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; the App's log:\n${app.logs}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function readAppYml(path: string): Record<string, unknown> {
  const parsed: unknown = parseYaml(readFileSync(path, "utf8"));
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new Error(`${path} is not a mapping`);
  return { ...parsed };
}

/** A fresh clone in `cwd`: `app.yml`, `package.json`, and the `.env` Probot writes first when it makes a smee channel. */
function freshClone(cwd: string, appYml: string, channelUrl: string): void {
  mkdirSync(cwd);
  writeFileSync(join(cwd, "app.yml"), appYml);
  copyFileSync(join(REPO_ROOT, "package.json"), join(cwd, "package.json"));
  writeFileSync(join(cwd, ".env"), `WEBHOOK_PROXY_URL=${channelUrl}\n`);
}

describe("first run: registering afk from its setup page in a real browser", () => {
  let github: GitHubEmulator;
  let channel: SmeeChannel;
  let browser: BrowserContext;
  let root: string;
  const apps: BuiltApp[] = [];

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), "afk-setup-"));
    buildApp();
    github = await GitHubEmulator.start();
    github.checkResponses = true;
    channel = await SmeeChannel.start();
    browser = await chromium.launchPersistentContext(join(root, "chromium-profile"), {
      executablePath: "/usr/bin/chromium",
      headless: true,
      args: CHROMIUM_ARGS,
    });
  }, 60_000);

  afterAll(async () => {
    for (const app of apps) await app.stop();
    await browser?.close();
    await channel?.close();
    await github?.close();
    if (root !== undefined) rmSync(root, { recursive: true, force: true });
  }, 30_000);

  it("Register posts app.yml as the manifest with the smee channel as hook URL; the code is converted into .env; the App started from .env alone answers a delivery sent to that hook URL", async ({
    expect,
  }) => {
    // A fresh clone, with a smee channel on loopback (no test reaches smee.io).
    const cwd = join(root, "clone");
    freshClone(cwd, readFileSync(join(REPO_ROOT, "app.yml"), "utf8"), channel.url);
    const common = { GHE_HOST: github.host, GHE_PROTOCOL: "http", AFK_ALLOWLIST: `${OWNER}/*`, AFK_CACHE_DIR: join(root, "cache") };

    // 1. `npm start` with no credentials: Probot's setup mode.
    const subscribedBefore = channel.subscriptionsOpened;
    const setup = await BuiltApp.start(cwd, common);
    apps.push(setup);
    const page = await browser.newPage();
    await page.goto(`${setup.url}/`);
    expect(await page.title()).toContain("afk");
    const registerButton = page.getByRole("button", { name: "Register GitHub App" });
    // The form opens GitHub in a new tab (target=_blank).
    await Promise.all([browser.waitForEvent("page"), registerButton.click()]);
    await until(() => github.manifestForms.length > 0, "the browser to post the form to GitHub", setup);

    // 2. What the browser posted to GitHub is app.yml, field by field.
    expect(github.manifestForms).toHaveLength(1);
    const posted = github.manifestForms[0];
    expect(posted?.path).toBe("/settings/apps/new");
    expect(manifestDifferences(posted?.manifest ?? "", readAppYml(join(REPO_ROOT, "app.yml")), { hookUrl: channel.url, appUrl: setup.url })).toEqual([]);
    // The hook URL reaches this App (the channel it subscribed to), never a placeholder.
    expect(posted?.manifest).not.toContain("example.com");
    expect(channel.subscriptionsOpened).toBe(subscribedBefore + 1);

    // 3. GitHub sent the code back; Probot converted it, wrote the App's credentials to .env and sent the person on to install the App.
    await until(
      () => github.requests.some((request) => request.path === "/apps/afk/installations/new"),
      "the browser to reach the App's installation page",
      setup,
    );
    const registered = github.registered;
    if (registered === undefined) throw new Error(`the code was never converted:\n${setup.logs}`);
    expect(github.requests.filter((request) => request.operationId === "apps/create-from-manifest").map((request) => request.status)).toEqual([201]);
    const env = parseEnv(readFileSync(join(cwd, ".env"), "utf8"));
    expect(env).toMatchObject({
      WEBHOOK_PROXY_URL: channel.url,
      APP_ID: String(github.appId),
      PRIVATE_KEY: registered.pem,
      WEBHOOK_SECRET: registered.webhookSecret,
      GITHUB_CLIENT_ID: registered.clientId,
      GITHUB_CLIENT_SECRET: registered.clientSecret,
    });
    expect(registered.hookUrl).toBe(channel.url);
    await setup.stop();

    // 4. Started again in the same directory with no credentials in its environment: .env alone.
    const app = await BuiltApp.start(cwd, common);
    apps.push(app);
    await until(() => channel.subscriptionsOpened === subscribedBefore + 2 && channel.subscribers === 1, "the App to subscribe to its webhook channel", app);

    // 5. GitHub delivers to the hook URL it registered, signed with the secret it issued at registration.
    github.addUser("outsider");
    github.addRepo({ owner: OWNER, name: REPO, installationId: 1, files: { ".github/afk.yml": "test: node --test\n" } });
    const issue = github.addIssue(`${OWNER}/${REPO}`, { title: "Please delete the tests", labels: [], user: "outsider" });
    github.seedLabels(`${OWNER}/${REPO}`, issue.number, ["ready-for-agent"]);
    const payload = issuesLabeledPayload({
      owner: OWNER,
      repo: REPO,
      installationId: 1,
      issue: { number: issue.number, title: issue.title, body: "", labels: github.labels(`${OWNER}/${REPO}`, issue.number), state: "open", user: "outsider" },
      label: "ready-for-agent",
      sender: { login: "outsider", type: "User" },
    });
    const delivery = await github.deliverToHook("issues", payload);
    expect(delivery.status).toBe(200);
    // The App verified the signature and acted: a refusal, as the sender has no write access.
    const afkComments = () => github.comments(`${OWNER}/${REPO}`, issue.number).filter((comment) => comment.user.login === github.botLogin);
    await until(() => afkComments().length > 0, "afk to answer the delivery", app);
    expect(afkComments().map((comment) => comment.body)).toEqual([expect.stringContaining("afk did not start")]);
    // smee-client logs the App's answer to the delivery it forwarded.
    expect(app.messages()).toContain(`POST ${app.url}/api/github/webhooks - 200`);
    github.assertNoViolations();
  }, 60_000);

  it("the guard catches what the setup page mangles: an apostrophe in app.yml cuts the manifest short, an HTML entity is decoded (registering for a person and for an organisation)", async ({
    expect,
  }) => {
    const appYml = readFileSync(join(REPO_ROOT, "app.yml"), "utf8");
    // The second registers for an organisation (GH_ORG), whose form is at another path.
    const variants = [
      {
        name: "apostrophe",
        description: "gated on the repository's own tests",
        env: {},
        form: "/settings/apps/new",
        caught: /^the posted manifest is not JSON: .*gated on the repository$/,
      },
      {
        name: "entity",
        description: "gated on tests &amp; review",
        env: { GH_ORG: "octo-org" },
        form: "/organizations/octo-org/settings/apps/new",
        caught: /^description: posted ".*gated on tests & review", expected ".*gated on tests &amp; review"$/,
      },
    ];
    for (const { name, description, env, form, caught } of variants) {
      const cwd = join(root, `clone-${name}`);
      freshClone(cwd, appYml.replace(/^description: .*$/m, `description: ${description}`), channel.url);
      const setup = await BuiltApp.start(cwd, { GHE_HOST: github.host, GHE_PROTOCOL: "http", ...env });
      apps.push(setup);
      const page = await browser.newPage();
      await page.goto(`${setup.url}/probot`);
      const before = github.manifestForms.length;
      await Promise.all([browser.waitForEvent("page"), page.getByRole("button", { name: "Register GitHub App" }).click()]);
      await until(() => github.manifestForms.length > before, "the browser to post the form to GitHub", setup);
      expect(github.manifestForms[before]?.path, name).toBe(form);
      const posted = github.manifestForms[before]?.manifest ?? "";
      const differences = manifestDifferences(posted, readAppYml(join(cwd, "app.yml")), { hookUrl: channel.url, appUrl: setup.url });
      expect(differences, name).toEqual([expect.stringMatching(caught)]);
      await setup.stop();
    }
    // The apostrophe ends the attribute holding the manifest: GitHub gets broken JSON and refuses it.
    expect(github.takeViolations()).toEqual([expect.stringContaining("the manifest was refused: not valid JSON")]);
  }, 60_000);
});
