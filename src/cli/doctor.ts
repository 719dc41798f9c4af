import { execFile } from "node:child_process";
import { access, constants, mkdir } from "node:fs/promises";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { promisify } from "node:util";
import { createProbot } from "probot";
import { readOperatorSettings } from "../config/operator-settings.js";
import { DEFAULT_MODEL } from "../config/repo-config.js";
import { createModelClient } from "../executor/agent/model-client.js";
import { checkSandboxNetwork, probeBubblewrap, probeSandboxLimits, type BubblewrapProbe, type LimitSupport } from "../executor/sandbox.js";
import { DEFAULT_SANDBOX_LIMITS, formatBytes } from "../executor/sandbox-limits.js";
import { missingPermissions, REQUIRED_APP_EVENTS, REQUIRED_APP_PERMISSIONS } from "../github/app-permissions.js";
import { errorMessage, errorStatus, firstLine } from "../github/types.js";
import { answeredByGitHub } from "../github/transient.js";
import { probotEnvironment } from "../config/probot-environment.js";
import { isLoopbackHost } from "../config/notify-url.js";
import { parseRunReference } from "../run-contract/job-protocol.js";
import { jobCacheDir } from "./job-answers.js";

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

/** How long the doctor waits for GitHub to answer before calling it unreachable. */
const GITHUB_TIMEOUT_MS = 10_000;

/**
 * Checks this machine and installation for what afk needs, and says what to fix. Reads the
 * environment as `npm start` would see it from `cwd`: `processEnv` with `cwd`'s `.env` applied over
 * it, as Probot applies it. Never throws.
 */
export async function runDoctor(processEnv: NodeJS.ProcessEnv, cwd: string, options: { job?: boolean } = {}): Promise<Finding[]> {
  if (options.job === true) return runJobDoctor(processEnv);
  const findings: Finding[] = [];
  const add = (finding: Finding): void => void findings.push(finding);

  let env = processEnv;
  try {
    const read = await probotEnvironment(processEnv, cwd);
    env = read.env;
    if (read.dotEnv === undefined) add({ check: ".env", verdict: "skip", detail: `no .env in ${cwd}; using the environment only` });
    else {
      const { path, names, overriding } = read.dotEnv;
      const wins =
        overriding.length === 0
          ? ""
          : `; its ${overriding.join(", ")} ${overriding.length === 1 ? "replaces the value" : "replace the values"} exported in this shell, as with \`npm start\``;
      add({ check: ".env", verdict: "ok", detail: `${path} sets ${names.length === 0 ? "nothing" : names.join(", ")}${wins}` });
    }
  } catch (error) {
    add({
      check: ".env",
      verdict: "fail",
      detail: `${join(cwd, ".env")} cannot be read: ${errorMessage(error)}`,
      fix: "make it readable by this user (Probot reads it on `npm start` too)",
    });
  }

  findings.push(...(await checkNodeAndGit()));

  let settings;
  try {
    settings = readOperatorSettings(env);
    add({ check: "operator settings", verdict: "ok", detail: "AFK_* variables are valid" });
    add(
      settings.allowlist.length === 0
        ? {
            check: "allowlist",
            verdict: "warn",
            detail: "AFK_ALLOWLIST is empty, so the App acts on no repository",
            fix: "set AFK_ALLOWLIST to the repositories afk may work on, for example AFK_ALLOWLIST=octo-org/app,octo-org/docs-*",
          }
        : { check: "allowlist", verdict: "ok", detail: settings.allowlist.join(", ") },
    );
  } catch (error) {
    add({ check: "operator settings", verdict: "fail", detail: errorMessage(error), fix: "fix the variables named above" });
  }

  findings.push(...(await checkSandbox(settings)));

  if (settings !== undefined) add(await checkCacheDir(settings.cacheDir));

  const apiKey = env.ANTHROPIC_API_KEY?.trim() ?? "";
  if (apiKey === "") {
    add({ check: "model", verdict: "fail", detail: "ANTHROPIC_API_KEY is not set", fix: "export ANTHROPIC_API_KEY=<your Anthropic API key>" });
  } else {
    add(await checkModel(apiKey, env.ANTHROPIC_BASE_URL, settings?.model ?? DEFAULT_MODEL));
  }

  findings.push(...(await checkApp(env)));
  return findings;
}

/**
 * `afk doctor --job`: what a GitHub Actions runner needs for `afk job`. The machine (Node, git, the
 * sandbox), the cache directory, and the job's environment; no key, App or .env (afk keeps those).
 */
async function runJobDoctor(env: NodeJS.ProcessEnv): Promise<Finding[]> {
  const findings: Finding[] = [...(await checkNodeAndGit())];
  let settings;
  try {
    settings = readOperatorSettings(env);
  } catch (error) {
    findings.push({ check: "settings", verdict: "fail", detail: errorMessage(error), fix: "fix the variables named above in the workflow's env" });
  }
  findings.push(...(await checkSandbox(settings)));
  // The directory `afk job` will use: AFK_CACHE_DIR, else the runner's temp directory.
  if (settings !== undefined) findings.push(await checkCacheDir(jobCacheDir(env, tmpdir())));
  findings.push(...jobEnvironment(env));
  return findings;
}

/** The variables `afk job` runs on: afk's address and the run (from the workflow), and the OIDC token request (from Actions). */
export function jobEnvironment(env: NodeJS.ProcessEnv): Finding[] {
  const findings: Finding[] = [];
  const url = env.AFK_URL?.trim() ?? "";
  let parsed: URL | undefined;
  try {
    parsed = url === "" ? undefined : new URL(url);
  } catch {
    parsed = undefined;
  }
  const loopback = parsed !== undefined && isLoopbackHost(parsed.hostname);
  if (url === "")
    findings.push({
      check: "AFK_URL",
      verdict: "fail",
      detail: "AFK_URL is not set",
      fix: "set the runner repository's variable AFK_URL to afk's public address",
    });
  else if (parsed === undefined || !(parsed.protocol === "https:" || (parsed.protocol === "http:" && loopback)))
    findings.push({
      check: "AFK_URL",
      verdict: "fail",
      detail: `AFK_URL is ${JSON.stringify(url.slice(0, 200))}, not an https:// address`,
      fix: "set AFK_URL to afk's public https:// address (the one GitHub posts webhooks to, without a path)",
    });
  else findings.push({ check: "AFK_URL", verdict: "ok", detail: parsed.origin });
  const run = env.AFK_RUN?.trim() ?? "";
  findings.push(
    parseRunReference(run) !== undefined
      ? { check: "AFK_RUN", verdict: "ok", detail: run }
      : {
          check: "AFK_RUN",
          verdict: "fail",
          detail: run === "" ? "AFK_RUN is not set" : "AFK_RUN does not name an afk run (owner/repo#issue:run-id)",
          fix: "run afk's workflow as afk dispatches it (its afk_run input reaches AFK_RUN); `afk init-runner` prints it",
        },
  );
  const oidc = (env.ACTIONS_ID_TOKEN_REQUEST_URL ?? "") !== "" && (env.ACTIONS_ID_TOKEN_REQUEST_TOKEN ?? "") !== "";
  findings.push(
    oidc
      ? { check: "OIDC token", verdict: "ok", detail: "Actions can give this job an OIDC token for afk" }
      : {
          check: "OIDC token",
          verdict: "fail",
          detail: "ACTIONS_ID_TOKEN_REQUEST_URL and ACTIONS_ID_TOKEN_REQUEST_TOKEN are not set, so the job cannot prove to afk who it is",
          fix: "give the workflow `permissions: id-token: write` (afk init-runner's workflow has it) and run it on GitHub Actions",
        },
  );
  return findings;
}

async function checkNodeAndGit(): Promise<Finding[]> {
  const findings: Finding[] = [atLeast("node", process.versions.node, MIN_NODE, "install Node.js 20.18.1 or newer (https://nodejs.org)")];
  try {
    const { stdout } = await run("git", ["--version"]);
    const version = /(\d+\.\d+\.\d+)/.exec(stdout)?.[1] ?? "0.0.0";
    findings.push(atLeast("git", version, MIN_GIT, "install git 2.31 or newer (Debian/Ubuntu: sudo apt-get install -y git)"));
  } catch {
    findings.push({ check: "git", verdict: "fail", detail: "git is not installed", fix: "sudo apt-get install -y git" });
  }
  return findings;
}

/** Bubblewrap, the limits it can put on a command, and the network it can give one. */
async function checkSandbox(settings: { allowUnsandboxed: boolean; allowHostNetwork: boolean } | undefined): Promise<Finding[]> {
  const findings: Finding[] = [];
  const add = (finding: Finding): void => void findings.push(finding);
  const bwrap = await probeBubblewrap();
  if (bwrap.ok) add({ check: "bubblewrap", verdict: "ok", detail: `${bwrap.version} at ${bwrap.path}; agent commands run sandboxed` });
  else if (settings?.allowUnsandboxed === true)
    add({
      check: "bubblewrap",
      verdict: "warn",
      detail: `${bwrap.reason}; AFK_ALLOW_UNSANDBOXED is on, so agent commands run WITHOUT a sandbox`,
      fix: bwrap.fix,
    });
  else add({ check: "bubblewrap", verdict: "fail", detail: `${bwrap.reason}; afk refuses to run the agent without it`, fix: bwrap.fix });
  add(describeLimits(await probeSandboxLimits(), bwrap));
  if (!bwrap.ok) add({ check: "sandbox network", verdict: "skip", detail: "bubblewrap is not usable, so no command gets a network of its own" });
  else {
    const network = await checkSandboxNetwork();
    if (network.ok) add({ check: "sandbox network", verdict: "ok", detail: network.detail });
    else if (settings?.allowHostNetwork === true)
      add({
        check: "sandbox network",
        verdict: "warn",
        detail: `${network.reason}; AFK_ALLOW_HOST_NETWORK is on, so network-on commands (setup, network: true) run on the host's network and reach its loopback services`,
        fix: network.fix,
      });
    else
      add({ check: "sandbox network", verdict: "fail", detail: `${network.reason}; afk refuses network-on commands (setup, network: true)`, fix: network.fix });
  }

  return findings;
}

async function checkCacheDir(cacheDir: string): Promise<Finding> {
  try {
    await mkdir(cacheDir, { recursive: true });
    await access(cacheDir, constants.W_OK);
    return { check: "cache directory", verdict: "ok", detail: `${cacheDir} is writable` };
  } catch (error) {
    return { check: "cache directory", verdict: "fail", detail: `${cacheDir}: ${errorMessage(error)}`, fix: "set AFK_CACHE_DIR to a directory afk can write" };
  }
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
    const where =
      support.home === undefined ? "" : support.home.version === 2 ? ` under ${support.home.parent}` : ` under ${support.home.memory} and ${support.home.pids}`;
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
    if (status === 401 || status === 403)
      return {
        check: "model",
        verdict: "fail",
        detail: `the Anthropic API refused ANTHROPIC_API_KEY (${status})`,
        fix: "check the key in the Anthropic console and export it again",
      };
    if (status === 404)
      return {
        check: "model",
        verdict: "fail",
        detail: `the model ${model} does not exist for this key`,
        fix: "set AFK_MODEL (or `model` in .github/afk.yml) to a model the key can use",
      };
    return {
      check: "model",
      verdict: "fail",
      detail: `the Anthropic API could not be reached: ${firstLine(errorMessage(error))}`,
      fix: "check the network (or ANTHROPIC_BASE_URL) from this machine",
    };
  }
}

async function checkApp(env: NodeJS.ProcessEnv): Promise<Finding[]> {
  if ((env.APP_ID ?? "") === "" || ((env.PRIVATE_KEY ?? "") === "" && (env.PRIVATE_KEY_PATH ?? "") === "")) {
    return [
      {
        check: "GitHub App",
        verdict: "skip",
        detail: "APP_ID and PRIVATE_KEY (or PRIVATE_KEY_PATH) are not set, in the environment or in .env, so the App was not checked",
        fix: "run `npm start` once to register the App through Probot's setup flow, which writes .env, and run `afk doctor` from the same directory",
      },
    ];
  }
  const findings: Finding[] = [];
  if ((env.WEBHOOK_SECRET ?? "") === "")
    findings.push({
      check: "webhook secret",
      verdict: "fail",
      detail: "WEBHOOK_SECRET is not set, so no delivery can be verified",
      fix: "set WEBHOOK_SECRET to the secret in the App's settings",
    });
  const apiUrl = githubApiUrl(env);
  let octokit;
  try {
    octokit = await createProbot({ env: { ...env, LOG_LEVEL: "silent" } }).auth();
  } catch (error) {
    findings.push({
      check: "GitHub App",
      verdict: "fail",
      detail: `the App's private key cannot be used: ${firstLine(errorMessage(error))}`,
      fix: "set PRIVATE_KEY to the PEM text of a key from the App's settings, or PRIVATE_KEY_PATH to its file",
    });
    return findings;
  }
  let data;
  try {
    // One try with a deadline: the doctor reports what it sees now instead of retrying quietly.
    ({ data } = await octokit.rest.apps.getAuthenticated({ request: { retries: 0, signal: AbortSignal.timeout(GITHUB_TIMEOUT_MS) } }));
  } catch (error) {
    findings.push(describeGitHubFailure(error, apiUrl));
    return findings;
  }
  if (data === null) {
    findings.push({
      check: "GitHub App",
      verdict: "fail",
      detail: `GET ${apiUrl}/app answered with no App`,
      fix: "check GHE_HOST: it must name the GitHub the App is registered on",
    });
    return findings;
  }
  const name = data.slug ?? data.name;
  const granted: Record<string, string | undefined> = { ...data.permissions };
  const missing = missingPermissions(granted);
  const events = new Set(data.events);
  const missingEvents = REQUIRED_APP_EVENTS.filter((event) => !events.has(event));
  findings.push(
    { check: "GitHub App", verdict: "ok", detail: `${apiUrl} accepts the credentials of ${name} (App ${env.APP_ID ?? ""})` },
    missing.length === 0
      ? { check: "App permissions", verdict: "ok", detail: `${name} has ${Object.keys(REQUIRED_APP_PERMISSIONS).join(", ")}` }
      : {
          check: "App permissions",
          verdict: "fail",
          detail: `${name} lacks ${missing.join(", ")}`,
          fix: "grant them in the App's settings (Permissions & events), then accept the new permissions on each installation",
        },
    missingEvents.length === 0
      ? { check: "App events", verdict: "ok", detail: `subscribed to ${REQUIRED_APP_EVENTS.join(", ")}` }
      : {
          check: "App events",
          verdict: "fail",
          detail: `not subscribed to ${missingEvents.join(", ")}`,
          fix: "subscribe to them in the App's settings (Permissions & events)",
        },
  );
  return findings;
}

/** The REST API the App talks to, as Probot derives it from GHE_HOST and GHE_PROTOCOL. */
function githubApiUrl(env: NodeJS.ProcessEnv): string {
  return env.GHE_HOST ? `${env.GHE_PROTOCOL || "https"}://${env.GHE_HOST}/api/v3` : "https://api.github.com";
}

/**
 * Why `GET /app` failed, told apart by whether GitHub answered at all: no answer (Octokit reports
 * it without a response) is the network; 401, 403 and 404 are GitHub refusing the credentials.
 */
function describeGitHubFailure(error: unknown, apiUrl: string): Finding {
  const status = errorStatus(error);
  if (!answeredByGitHub(error) || status === undefined) {
    return {
      check: "GitHub App",
      verdict: "fail",
      detail: `cannot reach GitHub at ${apiUrl} (${networkCause(error)})`,
      fix: "check this machine's network, proxy and DNS, and GHE_HOST / GHE_PROTOCOL when GitHub Enterprise Server is meant; the credentials were not checked",
    };
  }
  if (status === 401 || status === 403 || status === 404) {
    return {
      check: "GitHub App",
      verdict: "fail",
      detail: `GitHub refused the App's credentials (${status} on GET ${apiUrl}/app: ${firstLine(errorMessage(error))})`,
      fix: "check that APP_ID and the private key (PRIVATE_KEY or PRIVATE_KEY_PATH) belong to the same App, in its settings on GitHub, and that this machine's clock is right",
    };
  }
  return {
    check: "GitHub App",
    verdict: "fail",
    detail: `GitHub answered ${status} on GET ${apiUrl}/app: ${firstLine(errorMessage(error))}`,
    fix: "try again later; https://www.githubstatus.com says whether GitHub is having trouble",
  };
}

/** The reason a request got no answer: the system's error code (ECONNREFUSED, ENOTFOUND...), a timeout, or the message. */
function networkCause(error: unknown): string {
  for (let cause: unknown = error, depth = 0; typeof cause === "object" && cause !== null && depth < 5; depth += 1) {
    if ("name" in cause && cause.name === "TimeoutError") return `no answer within ${GITHUB_TIMEOUT_MS / 1000} s`;
    if ("code" in cause && typeof cause.code === "string") return cause.code;
    cause = "cause" in cause ? cause.cause : undefined;
  }
  return firstLine(errorMessage(error));
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
    .map(
      (finding) =>
        `${marks[finding.verdict]} ${finding.check}: ${finding.detail}${finding.fix === undefined || finding.verdict === "ok" ? "" : `\n    fix: ${finding.fix}`}`,
    )
    .join("\n");
}
