import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";

// Docker cannot build here and systemd does not run: these tests check offline what the deploy
// files promise (docs/deploy.md), so a change to the start entry, the prompts' location, the
// dependencies or the settings shows up as a failing test rather than a broken image.

interface Instruction {
  keyword: string;
  args: string;
}

/** The Dockerfile's instructions per stage, continuation lines joined, comments dropped. */
function dockerStages(text: string): Array<{ name: string; instructions: Instruction[] }> {
  const joined = text
    .split("\n")
    .filter((line) => !line.trimStart().startsWith("#"))
    .join("\n")
    .replace(/\\\n/g, " ");
  const stages: Array<{ name: string; instructions: Instruction[] }> = [];
  for (const line of joined.split("\n")) {
    const match = /^\s*([A-Z]+)\s+(.*)$/.exec(line);
    if (match === null) continue;
    const [, keyword = "", args = ""] = match;
    if (keyword === "FROM") stages.push({ name: /\bAS\s+(\S+)/i.exec(args)?.[1] ?? String(stages.length), instructions: [] });
    stages.at(-1)?.instructions.push({ keyword, args: args.trim() });
  }
  return stages;
}

function allFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => (entry.isDirectory() ? allFiles(join(dir, entry.name)) : [join(dir, entry.name)]));
}

/** `KEY=value` lines of a systemd unit's [Service] section (comments dropped; a key may repeat). */
function serviceSettings(unit: string): Array<[string, string]> {
  const section = unit.slice(unit.indexOf("[Service]"), unit.indexOf("[Install]"));
  return section
    .split("\n")
    .map((line) => /^([A-Za-z]+)=(.*)$/.exec(line.trim()))
    .filter((match) => match !== null)
    .map((match) => [match[1] ?? "", match[2] ?? ""]);
}

const dockerfile = readFileSync("Dockerfile", "utf8");
const stages = dockerStages(dockerfile);
const runtime = stages.at(-1);
const runtimeInstructions = runtime?.instructions ?? [];
const packageJson = JSON.parse(readFileSync("package.json", "utf8")) as { scripts: Record<string, string>; dependencies: Record<string, string> };
const unit = readFileSync("deploy/afk.service", "utf8");
const deployGuide = readFileSync("docs/deploy.md", "utf8");

/** What `npm start` runs after its build step, as argv (`npm run build … && probot run ./dist/index.js` → `probot run ./dist/index.js`). */
function startCommandAfterBuild(): string[] {
  const steps = (packageJson.scripts.start ?? "").split("&&").map((step) => step.trim());
  const run = steps.filter((step) => !/^npm run build\b/.test(step));
  expect(run, "npm start is one build step and one command").toHaveLength(1);
  return (run[0] ?? "").split(/\s+/);
}

describe("the container image (Dockerfile)", () => {
  it("is multi-stage: the build stage installs dev dependencies and builds, the runtime stage installs production dependencies only", () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    const build = stages[0]?.instructions ?? [];
    expect(build.some((step) => step.keyword === "RUN" && /npm ci\b/.test(step.args) && !step.args.includes("--omit=dev"))).toBe(true);
    expect(build.some((step) => step.keyword === "RUN" && step.args.includes("npm run build"))).toBe(true);
    const installs = runtimeInstructions.filter((step) => step.keyword === "RUN" && /\bnpm (ci|install)\b/.test(step.args));
    expect(installs.length).toBeGreaterThan(0);
    for (const step of installs) expect(step.args).toContain("--omit=dev");
    expect(runtimeInstructions.some((step) => step.keyword === "RUN" && step.args.includes("npm run build"))).toBe(false);
  });

  it("installs the system packages with the script .ci/run runs, so CI exercises the image's install step", () => {
    const script = "scripts/install-system-packages.sh";
    expect(runtimeInstructions.some((step) => step.keyword === "COPY" && step.args.startsWith(`${script} `))).toBe(true);
    expect(runtimeInstructions.some((step) => step.keyword === "RUN" && step.args.includes("install-system-packages.sh"))).toBe(true);
    expect(readFileSync(".ci/run", "utf8")).toMatch(/^bash scripts\/install-system-packages\.sh\b/m);
    // The script installs what the sandbox needs, not only what the tests need.
    const installed = readFileSync(script, "utf8");
    for (const name of ["git:git", "bwrap:bubblewrap", "slirp4netns:slirp4netns", "ip:iproute2", "unshare:util-linux", "setpriv:util-linux"])
      expect(installed).toContain(name);
  });

  it("starts what `npm start` starts after its build, from files the image holds", () => {
    const cmd = runtimeInstructions.filter((step) => step.keyword === "CMD").at(-1);
    expect(cmd).toBeDefined();
    const argv = JSON.parse(cmd?.args ?? "[]") as string[];
    const args = startCommandAfterBuild();
    // The same command line, run from the image's working directory.
    expect(argv).toEqual(args);
    const copied = runtimeInstructions.filter((step) => step.keyword === "COPY").map((step) => step.args);
    // The compiled App from the build stage, and the prompts it reads at run time next to dist/.
    expect(copied).toContain("--from=build /app/dist ./dist");
    expect(readFileSync("src/executor/render-prompt.ts", "utf8")).toContain('new URL("../../prompts/", import.meta.url)');
    expect(copied).toContain("prompts ./prompts");
    expect(copied).toContain("app.yml ./");
    expect(copied).toContain("package.json package-lock.json ./");
    const entry = args.find((arg) => arg.endsWith(".js")) ?? "";
    expect(existsSync(entry.replace(/^(\.\/)?dist\//, "src/").replace(/\.js$/, ".ts")), `${entry} is built from src/`).toBe(true);
  });

  it("copies only files that exist and that .dockerignore lets into the build context", () => {
    const ignored = readFileSync(".dockerignore", "utf8")
      .split("\n")
      .map((line) => line.trim())
      .filter((line) => line !== "" && !line.startsWith("#"));
    const sources = stages
      .flatMap((stage) => stage.instructions)
      .filter((step) => step.keyword === "COPY" && !step.args.startsWith("--from="))
      .flatMap((step) => step.args.split(/\s+/).slice(0, -1));
    expect(sources.length).toBeGreaterThan(3);
    for (const source of sources) {
      expect(existsSync(source), source).toBe(true);
      const top = source.split("/")[0] ?? source;
      expect(ignored.includes(`${top}/`) || ignored.includes(top) || ignored.includes(source), `${source} is excluded by .dockerignore`).toBe(false);
    }
    // Credentials never enter the build context.
    for (const secret of [".env", "*.pem"]) expect(ignored).toContain(secret);
  });

  it("runs as a user that is not root, with the cache in a volume and Probot listening beyond localhost", () => {
    const user = runtimeInstructions.filter((step) => step.keyword === "USER").at(-1)?.args;
    expect(user).toBeDefined();
    expect(["root", "0", "0:0"]).not.toContain(user);
    const cmdIndex = runtimeInstructions.findIndex((step) => step.keyword === "CMD");
    expect(runtimeInstructions.findIndex((step) => step.keyword === "USER")).toBeLessThan(cmdIndex);
    const env = runtimeInstructions
      .filter((step) => step.keyword === "ENV")
      .map((step) => step.args)
      .join(" ");
    const cacheDir = /AFK_CACHE_DIR=(\S+)/.exec(env)?.[1];
    expect(cacheDir).toBeDefined();
    expect(runtimeInstructions.some((step) => step.keyword === "VOLUME" && step.args.includes(`"${cacheDir}"`))).toBe(true);
    expect(runtimeInstructions.some((step) => step.keyword === "RUN" && step.args.includes(`chown ${user}:${user} ${cacheDir}`))).toBe(true);
    expect(env).toMatch(/\bHOST=0\.0\.0\.0\b/);
  });

  it("checks health on a path the running App answers", () => {
    const healthcheck = runtimeInstructions.find((step) => step.keyword === "HEALTHCHECK")?.args ?? "";
    const path = /127\.0\.0\.1:\$\{[^}]+\}(\/[a-z]+)/.exec(healthcheck)?.[1];
    expect(path).toBeDefined();
    const servedByAfk = allFiles("src").some((file) => readFileSync(file, "utf8").includes(`"${path}"`));
    const servedByProbot = readFileSync("node_modules/probot/lib/server/handlers/ping.js", "utf8").includes(`path === "${path}"`);
    expect(servedByAfk || servedByProbot, `${path} is served by afk or Probot`).toBe(true);
  });
});

describe("the systemd unit (deploy/afk.service)", () => {
  const settings = serviceSettings(unit);
  const value = (key: string): string | undefined => settings.find(([name]) => name === key)?.[1];

  it("runs as a dedicated user, with an EnvironmentFile, restarting on failure", () => {
    expect(value("User")).toBe("afk");
    expect(value("EnvironmentFile")).toMatch(/^\/etc\/afk\//);
    expect(value("Restart")).toBe("on-failure");
    expect(value("NoNewPrivileges")).toBe("yes");
  });

  it("ExecStart runs what `npm start` runs after its build, from files that exist after `npm ci && npm run build`", () => {
    const [node, ...args] = (value("ExecStart") ?? "").split(/\s+/);
    expect(value("WorkingDirectory")).toBeDefined();
    expect(node).toBe("/usr/bin/node");
    const [program, ...startArgs] = startCommandAfterBuild();
    // npm start runs `node <entry>`; the unit runs the same entry with node by its full path, from the working directory.
    expect(program).toBe("node");
    expect(args).toEqual(startArgs);
    expect(Object.keys(packageJson.dependencies)).toContain("probot");
    // ./dist/index.js is what tsconfig.build.json makes of src/index.ts.
    const build = JSON.parse(readFileSync("tsconfig.build.json", "utf8")) as { compilerOptions: { rootDir: string; outDir: string } };
    const entry = (startArgs.find((arg) => arg.endsWith(".js")) ?? "").replace(/^\.\//, "");
    expect(entry.startsWith(`${build.compilerOptions.outDir}/`)).toBe(true);
    expect(existsSync(entry.replace(`${build.compilerOptions.outDir}/`, `${build.compilerOptions.rootDir}/`).replace(/\.js$/, ".ts"))).toBe(true);
  });

  it("sets no hardening option that breaks bubblewrap (the unit's comment says why each would)", () => {
    for (const breaking of [
      "RestrictNamespaces",
      "SystemCallFilter",
      "ProtectKernelTunables",
      "ProtectKernelLogs",
      "ProtectProc",
      "ProcSubset",
      "PrivateDevices",
      "DevicePolicy",
      "PrivateUsers",
      "MemoryDenyWriteExecute",
    ]) {
      expect(value(breaking), breaking).toBeUndefined();
      expect(unit, `the unit explains ${breaking}`).toContain(breaking);
    }
    expect(value("ReadWritePaths")).toBe(/AFK_CACHE_DIR=(\S+)/.exec(unit)?.[1]);
  });
});

describe("the settings the deploy files name", () => {
  it("every environment variable docs/deploy.md, the Dockerfile and the unit name is one afk or Probot reads", () => {
    const named = new Set<string>();
    for (const text of [deployGuide, dockerfile, unit]) {
      for (const match of text.matchAll(/`([A-Z][A-Z0-9]*_[A-Z0-9_]+|PORT|HOST)(?:=[^`]*)?`|\b([A-Z][A-Z0-9]*_[A-Z0-9_]+|PORT|HOST)=/g)) {
        named.add(match[1] ?? match[2] ?? "");
      }
    }
    // The Dockerfile's build arguments are the image's own, not settings of the running App.
    for (const match of dockerfile.matchAll(/^ARG\s+([A-Z_]+)/gm)) named.delete(match[1] ?? "");
    expect(named.size).toBeGreaterThan(15);
    const afk = allFiles("src")
      .map((file) => readFileSync(file, "utf8"))
      .join("\n");
    const probot = allFiles("node_modules/probot/lib")
      .filter((file) => file.endsWith(".js"))
      .map((file) => readFileSync(file, "utf8"))
      .join("\n");
    // Node reads NODE_ENV for Probot (production: JSON logs, no setup flow); the Anthropic SDK reads ANTHROPIC_BASE_URL.
    const reads = (name: string): boolean =>
      afk.includes(`env.${name}`) || afk.includes(`"${name}"`) || probot.includes(`env.${name}`) || probot.includes(`${name}:`);
    const unread = [...named].filter((name) => !reads(name));
    expect(unread, "named in the deploy docs but read by neither afk nor Probot").toEqual([]);
  });

  it("every package src/ imports is a runtime dependency (the image installs production dependencies only)", () => {
    const imported = new Set<string>();
    for (const file of allFiles("src")) {
      for (const match of readFileSync(file, "utf8").matchAll(/^\s*(?:import|export)\b[^"']*?from\s+["']([^"'.][^"']*)["']/gm)) {
        const specifier = match[1] ?? "";
        if (specifier.startsWith("node:")) continue;
        const parts = specifier.split("/");
        imported.add(specifier.startsWith("@") ? parts.slice(0, 2).join("/") : (parts[0] ?? specifier));
      }
    }
    expect(imported.has("probot")).toBe(true);
    for (const name of imported) expect(Object.keys(packageJson.dependencies), name).toContain(name);
  });
});

describe("scripts/install-system-packages.sh", () => {
  const script = join(process.cwd(), "scripts/install-system-packages.sh");
  let dir = "";
  afterEach(() => {
    if (dir !== "") rmSync(dir, { recursive: true, force: true });
    dir = "";
  });

  /** A PATH holding only `id` (answering `uid`) and, when asked, a stand-in apt-get that logs its arguments and "installs" by linking the real programs. */
  function fakeHost(uid: number, withAptGet: boolean): { log: string; run: (...args: string[]) => { status: number | null; stdout: string; stderr: string } } {
    dir = mkdtempSync(join(tmpdir(), "afk-install-"));
    const bin = join(dir, "bin");
    const log = join(dir, "apt-get.log");
    mkdirSync(bin);
    writeFileSync(join(bin, "id"), `#!/bin/sh\necho ${uid}\n`);
    chmodSync(join(bin, "id"), 0o755);
    if (withAptGet) {
      // "Installing" a package links its real programs, so the script's check afterwards finds them as on a host.
      const programs: Record<string, string[]> = {
        git: ["git"],
        bubblewrap: ["bwrap"],
        slirp4netns: ["slirp4netns"],
        "util-linux": ["unshare", "setpriv"],
        chromium: ["chromium"],
      };
      const real = (name: string): string => ["/usr/bin", "/bin", "/usr/sbin", "/sbin"].map((dir) => join(dir, name)).find((path) => existsSync(path)) ?? name;
      const cases = Object.entries(programs)
        .map(([pkg, names]) => `    ${pkg}) ${names.map((name) => `/bin/ln -sf "${real(name)}" "${bin}/"`).join("; ")} ;;`)
        .join("\n");
      writeFileSync(
        join(bin, "apt-get"),
        `#!/bin/sh\necho "$*" >> "${log}"\n[ "$1" = install ] || exit 0\nfor pkg in "$@"; do\n  case "$pkg" in\n${cases}\n  esac\ndone\n`,
      );
      chmodSync(join(bin, "apt-get"), 0o755);
    }
    const run = (...args: string[]) => spawnSync("/bin/bash", [script, ...args], { encoding: "utf8", env: { PATH: bin } });
    return { log, run };
  }

  it("installs nothing, and needs neither root nor apt-get, when every program is there", () => {
    const result = spawnSync("/bin/bash", [script, "--tests"], { encoding: "utf8" });
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toContain("everything is installed");
  });

  it("says root is needed, and the exact install line, when programs are missing and it is not root", () => {
    const host = fakeHost(1000, true);
    const result = host.run();
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("installing needs root");
    expect(result.stderr).toMatch(/apt-get install -y --no-install-recommends git bubblewrap slirp4netns util-linux/);
    expect(existsSync(host.log)).toBe(false);
  });

  it("says what to install when there is no apt-get", () => {
    const host = fakeHost(0, false);
    const result = host.run();
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("there is no apt-get here");
    expect(result.stderr).toContain("git bubblewrap slirp4netns util-linux");
  });

  it("as root installs what is missing (chromium only with --tests), once: a second run installs nothing", () => {
    const host = fakeHost(0, true);
    const first = host.run();
    expect(first.status, String(first.stderr)).toBe(0);
    expect(readFileSync(host.log, "utf8").trim().split("\n")).toEqual([
      "update -qq",
      "install -y -qq --no-install-recommends git bubblewrap slirp4netns util-linux",
    ]);
    const withTests = host.run("--tests");
    expect(withTests.status, String(withTests.stderr)).toBe(0);
    expect(readFileSync(host.log, "utf8").trim().split("\n").at(-1)).toBe("install -y -qq --no-install-recommends chromium");
    const again = host.run("--tests");
    expect(again.status).toBe(0);
    expect(again.stdout).toContain("everything is installed");
    expect(readFileSync(host.log, "utf8").trim().split("\n")).toHaveLength(4);
  });

  it("--check installs nothing and names what is missing", () => {
    const host = fakeHost(0, true);
    const result = host.run("--check");
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("missing git bubblewrap slirp4netns util-linux");
    expect(existsSync(host.log)).toBe(false);
  });
});
