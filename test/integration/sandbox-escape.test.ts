import { createServer, type Server } from "node:http";
import { createServer as createNetServer, type AddressInfo, type Server as NetServer } from "node:net";
import { networkInterfaces } from "node:os";
import { afterEach, describe, expect, it } from "vitest";
import { probeSandboxLimits } from "../../src/executor/sandbox.js";
import { endTurn, toolResultsIn, toolTurn, useGitScenario } from "../helpers/git-scenario.js";
import { runStateOf } from "../helpers/run-state-of.js";

const start = useGitScenario();
const servers: Array<Server | NetServer> = [];

afterEach(async () => {
  for (const server of servers.splice(0)) await new Promise<void>((resolve) => server.close(() => resolve()));
});

/** A server that counts who reached it. */
async function bait(host: string): Promise<{ port: number; hits: () => number }> {
  let hits = 0;
  const server = createServer((_req, res) => {
    hits += 1;
    res.end("reached");
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return { port: (server.address() as AddressInfo).port, hits: () => hits };
}

/** What the hostile setup runs: it tries each target and prints one line per target. */
function probeScript(targets: Record<string, string>, abstractName: string): string {
  return `import { connect } from "node:net";
const targets = ${JSON.stringify(targets)};
for (const [name, url] of Object.entries(targets)) {
  const line = await fetch(url, { signal: AbortSignal.timeout(5000) }).then((r) => r.text(), (e) => "failed " + (e.cause?.code ?? e.name));
  console.log(name + ": " + line);
}
const abstract = await new Promise((resolve) => connect("\\0${abstractName}").on("connect", () => resolve("connected")).on("error", (e) => resolve("failed " + e.code)));
console.log("abstract: " + abstract);
`;
}

describe("a hostile repository's setup, run by the App with network on", () => {
  it("reaches out through a network of its own, but never this machine's loopback services or its abstract sockets, and the agent starts", async () => {
    const loopback = await bait("127.0.0.1");
    const hostAddress = Object.values(networkInterfaces())
      .flat()
      .find((address) => address !== undefined && address.family === "IPv4" && !address.internal)?.address;
    const outside = hostAddress === undefined ? undefined : await bait(hostAddress);
    const abstractName = `afk-escape-${process.pid}`;
    const abstractServer = createNetServer((socket) => socket.end("reached"));
    servers.push(abstractServer);
    await new Promise<void>((resolve) => abstractServer.listen(`\0${abstractName}`, resolve));
    const targets: Record<string, string> = {
      loopback: `http://127.0.0.1:${loopback.port}/`,
      // slirp4netns's address for the host's loopback, closed by --disable-host-loopback.
      gateway: `http://10.0.2.2:${loopback.port}/`,
      metadata: "http://169.254.169.254/latest/meta-data/",
      ...(outside === undefined ? {} : { outside: `http://${hostAddress}:${outside.port}/` }),
    };
    const scenario = await start({
      config: 'test: node --test\nsetup: "node probe.mjs > $HOME/network-report 2>&1"\n',
      files: { "probe.mjs": probeScript(targets, abstractName) },
      script: [toolTurn("bash", { command: "cat $HOME/network-report" }), endTurn("Nothing to change.")],
    });
    const issue = scenario.issue();
    await scenario.label(issue, "wes-write");

    const report = toolResultsIn(scenario.model.requests[1]?.body ?? {})[0]?.content ?? "";
    expect(report).toMatch(/^loopback: failed ECONNREFUSED$/m);
    expect(report).toMatch(/^gateway: failed /m);
    expect(report).toMatch(/^metadata: failed EACCES$/m);
    expect(report).toMatch(/^abstract: failed ECONNREFUSED$/m);
    expect(loopback.hits()).toBe(0);
    if (outside !== undefined) {
      expect(report).toMatch(/^outside: reached$/m);
      expect(outside.hits()).toBe(1);
    }
  });

  it("that fork-bombs is ended, and the issue says which limit it hit", async () => {
    // Only a cgroup lets afk see the bomb and end it; without one it would run to its timeout, or as root take the machine: fail first.
    expect((await probeSandboxLimits()).mechanism, "no cgroup afk may write here (see afk doctor)").not.toBe("rlimits");
    const scenario = await start({
      config: 'test: node --test\nsetup: "bash bomb.sh"\n',
      files: { "bomb.sh": "bomb() { bomb | bomb & }\nbomb\nsleep 120\n" },
      script: [],
    });
    const issue = scenario.issue();
    await scenario.label(issue, "wes-write");
    expect(scenario.model.requests).toHaveLength(0);
    const state = runStateOf(scenario, issue);
    expect(state?.status).toBe("escalated");
    expect(state?.outcome?.message).toContain("The setup command `bash bomb.sh` exited with SIGKILL, so the agent did not start.");
    expect(state?.outcome?.message).toMatch(/\[killed: the command ran more than \d+ processes and threads at once \(sandbox limit\)\]$/);
  });
});
