// Runs the GitHub emulator in its own process, so the App under measurement does not share an event
// loop with "GitHub". Prints one JSON line with its address, then serves until killed. Seeding and
// inspection go through a small control API under /_bench.
import { buildWorld } from "../test/helpers/world/build-world.js";

const installationId = 7;
const world = await buildWorld({
  checkResponses: false,
  repos: [{ owner: "bench-org", name: "app", installationId, roles: { "wes-write": "write" } }],
  name: "afk-bench-emulator-",
});
const { github } = world;
for (let i = 0; i < 400; i++) github.addIssue("bench-org/app", { title: `Issue ${i}`, body: "Do the thing.", user: "wes-write" });

github.onRequest = () => undefined;
process.stdout.write(`${JSON.stringify({ host: github.host, appId: github.appId, installationId })}\n`);
process.stdin.on("data", (chunk) => {
  // Line protocol: "label FROM TO" adds the trigger label to those issues, as GitHub does before it
  // sends `issues.labeled`; "feedback N" answers whether issue N has both the 👀 reaction and afk's
  // progress comment.
  for (const line of chunk.toString().split("\n")) {
    const label = /^label (\d+) (\d+)$/.exec(line.trim());
    if (label !== null) {
      for (let issue = Number(label[1]); issue <= Number(label[2]); issue++) github.seedLabels("bench-org/app", issue, ["ready-for-agent"]);
      process.stdout.write(`${JSON.stringify({ labeled: true })}\n`);
      continue;
    }
    const match = /^feedback (\d+)$/.exec(line.trim());
    if (match === null) continue;
    const issue = Number(match[1]);
    const reacted = github.reactions("bench-org/app", issue).some((reaction) => reaction.content === "eyes");
    const commented = github
      .comments("bench-org/app", issue)
      .some((comment) => comment.user.login === github.botLogin && (comment.body ?? "").includes("afk:state"));
    process.stdout.write(`${JSON.stringify({ issue, feedback: reacted && commented })}\n`);
  }
});
process.on("SIGTERM", () => {
  void world.close().then(() => process.exit(0));
});
