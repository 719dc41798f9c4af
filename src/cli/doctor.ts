import { execFile } from "node:child_process";
import { access, constants, mkdir } from "node:fs/promises";
import { promisify } from "node:util";
import { createProbot } from "probot";
import { readOperatorSettings } from "../config/operator-settings.js";
import { DEFAULT_MODEL } from "../config/repo-config.js";
import { createModelClient } from "../executor/agent/model-client.js";
import { checkSandboxNetwork, probeBubblewrap, probeSandboxLimits, type BubblewrapProbe, type LimitSupport } from "../executor/sandbox.js";
import { DEFAULT_SANDBOX_LIMITS, formatBytes } from "../executor/sandbox-limits.js";
import { missingPermissions, REQUIRED_APP_EVENTS, REQUIRED_APP_PERMISSIONS } from "../github/app-permissions.js";
import { errorMessage, errorStatus, firstLine } from "../github/types.js";

const run = promisify(execFile);

/** One thing `afk doctor` checked. `warn` does not fail the doctor; `fail` does. */
export interface Finding {
  check: string;
  verdict: "ok" | "warn" | "fail" | "skip";
  detail: string;
  fix?: string;
}

const MIN_NODE = [20, 18, 1] as const;
/** GIT_CONFIG_COUNT (how afk hands git a token without writing it down) arrived in git 2.31. */
const MIN_GIT = [2, 31, 0] as const;

/** Checks this machine and installation for what afk needs, and says what to fix. Never throws. */
export async function runDoctor(env: NodeJS.ProcessEnv): Promise<Finding[]> {
  const findings: Finding[] = [];
  const add = (finding: Finding): void => void findings.push(finding);

  add(atLeast("node", process.versions.node, MIN_NODE, "install Node.js 20.18.1 or newer (https://nodejs.org)"));

  try {
    const { stdout } = await run("git", ["--version"]);
    const version = /(\d+\.\d+\.\d+)/.exec(stdout)?.[1] ?? "0.0.0";
    add(atLeast("git", version, MIN_GIT, "install git 2.31 or newer (Debian/Ubuntu: sudo apt-get install -y git)"));
  } catch {
    add({ check: "git", verdict: "fail", detail: "git is not installed", fix: "sudo apt-get install -y git" });
  }

  let settings;
  try {
    settings = readOperatorSettings(env);
    add({ check: "operator settings", verdict: "ok", detail: `AFK_* variables are valid; ${settings.allowlist.length === 0 ? "AFK_ALLOWLIST is empty, so the App acts on no repository" : `allowlist: ${settings.allowlist.join(", ")}`}` });
  } catch (error) {
    add({ check: "operator settings", verdict: "fail", detail: errorMessage(error), fix: "fix the variables named above" });
  }

  const bwrap = await probeBubblewrap();
  if (bwrap.ok) add({ check: "bubblewrap", verdict: "ok", detail: `${bwrap.version} at ${bwrap.path}; agent commands run sandboxed` });
  else if (settings?.allowUnsandboxed === true) add({ check: "bubblewrap", verdict: "warn", detail: `${bwrap.reason}; AFK_ALLOW_UNSANDBOXED is on, so agent commands run WITHOUT a sandbox`, fix: bwrap.fix });
  else add({ check: "bubblewrap", verdict: "fail", detail: `${bwrap.reason}; afk refuses to run the agent without it`, fix: bwrap.fix });
  add(describeLimits(await probeSandboxLimits(), bwrap));
  if (!bwrap.ok) add({ check: "sandbox network", verdict: "skip", detail: "bubblewrap is not usable, so no command gets a network of its own" });
  else {
    const network = await checkSandboxNetwork();
    if (network.ok) add({ check: "sandbox network", verdict: "ok", detail: network.detail });
    else if (settings?.allowHostNetwork === true) add({ check: "sandbox network", verdict: "warn", detail: `${network.reason}; AFK_ALLOW_HOST_NETWORK is on, so network-on commands (setup, network: true) run on the host's network and reach its loopback services`, fix: network.fix });
    else add({ check: "sandbox network", verdict: "fail", detail: `${network.reason}; afk refuses network-on commands (setup, network: true)`, fix: network.fix });
  }

  if (settings !== undefined) {
    try {
      await mkdir(settings.cacheDir, { recursive: true });
      await access(settings.cacheDir, constants.W_OK);
      add({ check: "cache directory", verdict: "ok", detail: `${settings.cacheDir} is writable` });
    } catch (error) {
      add({ check: "cache directory", verdict: "fail", detail: `${settings.cacheDir}: ${errorMessage(error)}`, fix: "set AFK_CACHE_DIR to a directory afk can write" });
    }
  }

  const apiKey = env.ANTHROPIC_API_KEY?.trim() ?? "";
  if (apiKey === "") {
    add({ check: "model", verdict: "fail", detail: "ANTHROPIC_API_KEY is not set", fix: "export ANTHROPIC_API_KEY=<your Anthropic API key>" });
  } else {
    add(await checkModel(apiKey, env.ANTHROPIC_BASE_URL, settings?.model ?? DEFAULT_MODEL));
  }

  findings.push(...(await checkApp(env)));
  return findings;
}

/** Which mechanism bounds sandboxed commands here, what it bounds, and what is left unbounded. */
function describeLimits(support: LimitSupport, bwrap: BubblewrapProbe): Finding {
  const limits = DEFAULT_SANDBOX_LIMITS;
  const tmp = bwrap.ok && !bwrap.tmpfsSize ? "; /tmp is NOT bounded (this bubblewrap has no --size)" : `, /tmp ${formatBytes(limits.tmpBytes)}`;
  const always = `files up to ${formatBytes(limits.fileBytes)}, ${formatBytes(limits.diskGrowthBytes)} of disk growth per command${tmp}`;
  const tmpFix = bwrap.ok && !bwrap.tmpfsSize ? " Install bubblewrap 0.8 or newer to bound /tmp." : "";
  const delegate =
    "give afk a cgroup v2 it may write whose parent enables memory and pids for its children (systemd: Delegate=memory pids and DelegateSubgroup=main in afk's unit), or run afk as root where /sys/fs/cgroup is writable";
  if (support.mechanism !== "rlimits") {
    const where = support.home === undefined ? "" : support.home.version === 2 ? ` under ${support.home.parent}` : ` under ${support.home.memory} and ${support.home.pids}`;
    return {
      check: "sandbox limits",
      verdict: bwrap.ok && !bwrap.tmpfsSize ? "warn" : "ok",
      detail: `cgroups ${support.mechanism === "cgroup2" ? "v2" : "v1"}${where}: each command gets ${formatBytes(limits.memoryBytes)} of memory, ${limits.processes} processes and threads, ${always}`,
      ...(tmpFix === "" ? {} : { fix: tmpFix.trim() }),
    };
  }
  if (!support.processesBounded) {
    return {
      check: "sandbox limits",
      verdict: "warn",
      detail: `rlimits (no cgroup afk may write: ${support.reason ?? "none found"}); afk runs as root, for whom the kernel ignores RLIMIT_NPROC, so a command's processes are NOT bounded (a fork bomb runs until the command's timeout); memory is bounded per process (${formatBytes(limits.memoryBytes)}), ${always}`,
      fix: `${delegate}, or run afk as an unprivileged user.${tmpFix}`,
    };
  }
  return {
    check: "sandbox limits",
    verdict: "warn",
    detail: `rlimits (no cgroup afk may write: ${support.reason ?? "none found"}): memory is bounded per process (${formatBytes(limits.memoryBytes)}), not per command; ${limits.processes} processes per command (RLIMIT_NPROC), ${always}`,
    fix: `${delegate}.${tmpFix}`,
  };
}

async function checkModel(apiKey: string, baseURL: string | undefined, model: string): Promise<Finding> {
  const client = createModelClient({ apiKey, maxRetries: 1, timeoutMs: 15_000, ...(baseURL === undefined ? {} : { baseURL }) });
  try {
    const info = await client.models.retrieve(model);
    return { check: "model", verdict: "ok", detail: `${info.id} is reachable with this key${baseURL === undefined ? "" : ` at ${baseURL}`}` };
  } catch (error) {
    const status = errorStatus(error);
    if (status === 401 || status === 403) return { check: "model", verdict: "fail", detail: `the Anthropic API refused ANTHROPIC_API_KEY (${status})`, fix: "check the key in the Anthropic console and export it again" };
    if (status === 404) return { check: "model", verdict: "fail", detail: `the model ${model} does not exist for this key`, fix: "set AFK_MODEL (or `model` in .github/afk.yml) to a model the key can use" };
    return { check: "model", verdict: "fail", detail: `the Anthropic API could not be reached: ${firstLine(errorMessage(error))}`, fix: "check the network (or ANTHROPIC_BASE_URL) from this machine" };
  }
}

async function checkApp(env: NodeJS.ProcessEnv): Promise<Finding[]> {
  if ((env.APP_ID ?? "") === "" || ((env.PRIVATE_KEY ?? "") === "" && (env.PRIVATE_KEY_PATH ?? "") === "")) {
    return [{ check: "GitHub App", verdict: "skip", detail: "APP_ID and PRIVATE_KEY (or PRIVATE_KEY_PATH) are not set, so the App was not checked", fix: "run `npm start` once to register the App through Probot's setup flow, which writes .env" }];
  }
  const findings: Finding[] = [];
  if ((env.WEBHOOK_SECRET ?? "") === "") findings.push({ check: "webhook secret", verdict: "fail", detail: "WEBHOOK_SECRET is not set, so no delivery can be verified", fix: "set WEBHOOK_SECRET to the secret in the App's settings" });
  try {
    const probot = createProbot({ env: { ...env, LOG_LEVEL: "silent" } });
    const octokit = await probot.auth();
    const { data } = await octokit.rest.apps.getAuthenticated();
    if (data === null) throw new Error("GET /app returned nothing");
    const granted: Record<string, string | undefined> = { ...data.permissions };
    const missing = missingPermissions(granted);
    const events = new Set(data.events);
    const missingEvents = REQUIRED_APP_EVENTS.filter((event) => !events.has(event));
    findings.push(
      missing.length === 0
        ? { check: "App permissions", verdict: "ok", detail: `${data.slug ?? data.name} has ${Object.keys(REQUIRED_APP_PERMISSIONS).join(", ")}` }
        : { check: "App permissions", verdict: "fail", detail: `${data.slug ?? data.name} lacks ${missing.join(", ")}`, fix: "grant them in the App's settings (Permissions & events), then accept the new permissions on each installation" },
      missingEvents.length === 0
        ? { check: "App events", verdict: "ok", detail: `subscribed to ${REQUIRED_APP_EVENTS.join(", ")}` }
        : { check: "App events", verdict: "fail", detail: `not subscribed to ${missingEvents.join(", ")}`, fix: "subscribe to them in the App's settings (Permissions & events)" },
    );
  } catch (error) {
    findings.push({ check: "GitHub App", verdict: "fail", detail: `could not authenticate as the App: ${firstLine(errorMessage(error))}`, fix: "check APP_ID, the private key and GHE_HOST" });
  }
  return findings;
}

function atLeast(check: string, version: string, minimum: readonly [number, number, number], fix: string): Finding {
  const parts = version.split(".").map((part) => Number.parseInt(part, 10) || 0);
  for (let index = 0; index < 3; index += 1) {
    const have = parts[index] ?? 0;
    const need = minimum[index] ?? 0;
    if (have > need) break;
    if (have < need) return { check, verdict: "fail", detail: `${version} is older than ${minimum.join(".")}`, fix };
  }
  return { check, verdict: "ok", detail: version };
}


/** The doctor's report, one line per finding and the fix under it. */
export function formatFindings(findings: readonly Finding[]): string {
  const marks = { ok: "✓", warn: "!", fail: "✗", skip: "-" } as const;
  return findings
    .map((finding) => `${marks[finding.verdict]} ${finding.check}: ${finding.detail}${finding.fix === undefined || finding.verdict === "ok" ? "" : `\n    fix: ${finding.fix}`}`)
    .join("\n");
}
