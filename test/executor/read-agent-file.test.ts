import fc from "fast-check";
import { linkSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AgentFileRefusal, formatSize, openAgentEntry, readAgentFile, writeAgentFile } from "../../src/executor/read-agent-file.js";

let root: string;
let worktree: string;
const SECRET = "ANTHROPIC_API_KEY=sk-ant-outside-secret\n";

beforeAll(() => {
  root = realpathSync(mkdtempSync(join(tmpdir(), "afk-agent-file-")));
  worktree = join(root, "worktree");
  mkdirSync(join(worktree, "src"), { recursive: true });
  writeFileSync(join(root, "secret.env"), SECRET);
  symlinkSync(join(root, "secret.env"), join(worktree, "environ"));
  symlinkSync("src/a.txt", join(worktree, "inside-link"));
  writeFileSync(join(worktree, "src", "a.txt"), "one\n");
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

async function refusalOf(work: Promise<unknown>): Promise<AgentFileRefusal> {
  const error: unknown = await work.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!(error instanceof AgentFileRefusal)) throw new Error(`expected a refusal, got ${String(error)}`);
  return error;
}

describe("reading and writing a file the agent controls", () => {
  it.each([
    ["view", () => openAgentEntry(join(worktree, "environ"), worktree)],
    ["a whole read (str_replace, insert)", () => readAgentFile(join(worktree, "environ"), worktree, 1024, () => "too large")],
    ["a link inside the worktree too", () => readAgentFile(join(worktree, "inside-link"), worktree, 1024, () => "too large")],
    ["a write (create, str_replace, insert)", () => writeAgentFile(join(worktree, "environ"), "pwned\n", worktree)],
  ])("refuses a symbolic link at the final component: %s", async (_what, work) => {
    const refusal = await refusalOf(work());
    expect(refusal.reason).toBe("link");
    expect(refusal.message).toMatch(/is a symbolic link; afk does not follow links/);
    expect(readFileSync(join(root, "secret.env"), "utf8")).toBe(SECRET);
  });

  it("refuses a path outside the worktree or in .git before opening anything", async () => {
    expect((await refusalOf(readAgentFile(join(root, "secret.env"), worktree, 1024, () => ""))).reason).toBe("outside");
    expect((await refusalOf(writeAgentFile(join(worktree, ".git", "config"), "x", worktree))).message).toMatch(/inside \.git/);
  });

  it("writes by replacing the name, so the file's other hard links and its mode are what they were", async () => {
    const path = join(worktree, "src", "run.sh");
    writeFileSync(path, "echo old\n", { mode: 0o755 });
    await writeAgentFile(path, "echo new\n", worktree);
    expect(readFileSync(path, "utf8")).toBe("echo new\n");
    expect(statSync(path).mode & 0o777).toBe(0o755);
    writeFileSync(join(root, "hard-linked.txt"), "outside\n");
    linkSync(join(root, "hard-linked.txt"), join(worktree, "hard.txt"));
    await writeAgentFile(join(worktree, "hard.txt"), "pwned\n", worktree);
    expect(readFileSync(join(worktree, "hard.txt"), "utf8")).toBe("pwned\n");
    expect(readFileSync(join(root, "hard-linked.txt"), "utf8")).toBe("outside\n");
    await writeAgentFile(join(worktree, "made", "on", "the", "way.txt"), "deep\n", worktree, { createDirectories: true });
    expect(readFileSync(join(worktree, "made", "on", "the", "way.txt"), "utf8")).toBe("deep\n");
  });

  it("reads any range of lines as splitting the whole text would, across chunk boundaries and multibyte characters", async () => {
    // Lines of 0 to 300,000 bytes around 1 MB chunk boundaries, in characters of 1 to 4 bytes.
    const lengths = [0, 3, 1_048_570, 7, 0, 300_000, 1, 900_000, 2, 0, 5];
    const characters = ["a", "é", "€", "😀"];
    const lines = lengths.map((length, index) => (characters[index % characters.length] ?? "a").repeat(length));
    const text = lines.join("\n");
    const path = join(worktree, "lines.txt");
    writeFileSync(path, text);
    const entry = await openAgentEntry(path, worktree);
    try {
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: 1, max: lines.length + 2 }), fc.integer({ min: -1, max: lines.length + 2 }), async (from, rawTo) => {
          const to = rawTo === -1 || rawTo >= from ? rawTo : from;
          const read = await entry.readLines(from, to, { maxScanBytes: 64 * 1024 * 1024, maxChars: 10 * 1024 * 1024 });
          const expected = lines.slice(from - 1, to === -1 ? undefined : to);
          expect(read.lines).toEqual(expected);
          expect(read.stoppedAt).toBeUndefined();
          if (read.total !== undefined) expect(read.total).toBe(lines.length);
        }),
        { numRuns: 60 },
      );
      const cut = await entry.readLines(3, 3, { maxScanBytes: 64 * 1024 * 1024, maxChars: 1000 });
      expect(cut).toEqual({ lines: ["€".repeat(333) + "\uFFFD"], total: undefined, stoppedAt: 3 });
    } finally {
      await entry.close();
    }
  });

  it("names sizes as people read them", () => {
    expect([formatSize(512), formatSize(4 * 1024 * 1024), formatSize(1500 * 1024 * 1024), formatSize(12.4 * 1024 * 1024)]).toEqual([
      "512 bytes",
      "4 MB",
      "1.5 GB",
      "12 MB",
    ]);
  });
});
