import { describe, expect, it } from "vitest";
import { failure, FULL, installationOctokit, OWNER, REPO, statusOf, useEmulator } from "./test-kit.js";

const current = useEmulator();

describe("the git database and contents", () => {
  it("keeps refs as a compare-and-swap: create once, fast-forward only, delete once", async () => {
    const emulator = current();
    const octokit = await installationOctokit(emulator);
    const git = octokit.rest.git;
    const main = await git.getRef({ owner: OWNER, repo: REPO, ref: "heads/main" });
    expect(main.data.object.sha).toBe(emulator.ref(FULL, "heads/main"));

    const tree = await git.createTree({ owner: OWNER, repo: REPO, tree: [{ path: "README.md", mode: "100644", type: "blob", content: "hello\n" }] });
    // Real git object ids: `printf 'hello\n' | git hash-object --stdin`.
    expect(tree.data.tree[0]?.sha).toBe("ce013625030ba8dba906f756967f9e9ca394464a");
    const commit = async (message: string, parents: string[]): Promise<string> =>
      (await git.createCommit({ owner: OWNER, repo: REPO, message, tree: tree.data.sha, parents })).data.sha;

    const a = await commit("A", []);
    const created = await git.createRef({ owner: OWNER, repo: REPO, ref: "refs/afk/lock", sha: a });
    expect(created.status).toBe(201);
    expect(created.data).toMatchObject({ ref: "refs/afk/lock", object: { sha: a, type: "commit" } });
    const again = await failure(git.createRef({ owner: OWNER, repo: REPO, ref: "refs/afk/lock", sha: a }));
    expect(again).toMatchObject({ status: 422 });
    expect(again.message).toContain("Reference already exists");
    expect((await failure(git.createRef({ owner: OWNER, repo: REPO, ref: "refs/lock", sha: a }))).status).toBe(422);

    const b = await commit("B", [a]);
    expect((await git.updateRef({ owner: OWNER, repo: REPO, ref: "afk/lock", sha: b, force: false })).data.object.sha).toBe(b);
    const sibling = await commit("C", [a]);
    const stale = await failure(git.updateRef({ owner: OWNER, repo: REPO, ref: "afk/lock", sha: sibling, force: false }));
    expect(stale).toMatchObject({ status: 422 });
    expect(stale.message).toContain("Update is not a fast forward");
    expect(emulator.ref(FULL, "refs/afk/lock")).toBe(b);
    expect((await git.getRef({ owner: OWNER, repo: REPO, ref: "afk/lock" })).data.object.sha).toBe(b);

    const fetched = await git.getCommit({ owner: OWNER, repo: REPO, commit_sha: b });
    expect(fetched.data).toMatchObject({ message: "B", parents: [{ sha: a }] });
    expect(fetched.data.author.name).toBe("afk[bot]");

    await git.updateRef({ owner: OWNER, repo: REPO, ref: "afk/lock", sha: sibling, force: true });
    expect(emulator.ref(FULL, "afk/lock")).toBe(sibling);
    expect((await git.deleteRef({ owner: OWNER, repo: REPO, ref: "afk/lock" })).status).toBe(204);
    expect((await failure(git.deleteRef({ owner: OWNER, repo: REPO, ref: "afk/lock" }))).status).toBe(422);
    expect((await failure(git.getRef({ owner: OWNER, repo: REPO, ref: "afk/lock" }))).status).toBe(404);
  });

  it("lets exactly one of many concurrent fast-forwards from the same parent win", async () => {
    const emulator = current();
    const octokit = await installationOctokit(emulator);
    const git = octokit.rest.git;
    const tree = (await git.createTree({ owner: OWNER, repo: REPO, tree: [] })).data.sha;
    expect(tree).toBe("4b825dc642cb6eb9a060e54bf8d69288fbee4904");
    const root = (await git.createCommit({ owner: OWNER, repo: REPO, message: "root", tree, parents: [] })).data.sha;
    await git.createRef({ owner: OWNER, repo: REPO, ref: "refs/afk/lock", sha: root });
    const children = await Promise.all(
      Array.from({ length: 20 }, async (_, i) => (await git.createCommit({ owner: OWNER, repo: REPO, message: `child ${i}`, tree, parents: [root] })).data.sha),
    );
    const outcomes = await Promise.allSettled(children.map((sha) => git.updateRef({ owner: OWNER, repo: REPO, ref: "afk/lock", sha })));
    const winners = outcomes.flatMap((outcome, i) => (outcome.status === "fulfilled" ? [children[i]] : []));
    expect(winners).toHaveLength(1);
    expect(emulator.ref(FULL, "afk/lock")).toBe(winners[0]);
    expect(
      outcomes.filter((outcome) => outcome.status === "rejected").map((outcome) => (outcome.status === "rejected" ? statusOf(outcome.reason) : 0)),
    ).toEqual(Array.from({ length: 19 }, () => 422));
  });

  it("answers raw contents as text/plain and JSON contents as base64, 404 when absent", async () => {
    const emulator = current();
    const octokit = await installationOctokit(emulator);
    const raw = await octokit.rest.repos.getContent({ owner: OWNER, repo: REPO, path: ".github/afk.yml", mediaType: { format: "raw" } });
    expect(raw.headers["content-type"]).toBe("text/plain; charset=utf-8");
    expect(raw.data).toBe("test: npm test\n");
    const json = await octokit.rest.repos.getContent({ owner: OWNER, repo: REPO, path: ".github/afk.yml", ref: "main" });
    expect(Array.isArray(json.data)).toBe(false);
    if (!Array.isArray(json.data) && json.data.type === "file" && "content" in json.data) {
      expect(Buffer.from(json.data.content, "base64").toString("utf8")).toBe("test: npm test\n");
    } else {
      throw new Error("expected a file");
    }
    emulator.setFile(FULL, ".github/afk.yml", null);
    expect((await failure(octokit.rest.repos.getContent({ owner: OWNER, repo: REPO, path: ".github/afk.yml" }))).status).toBe(404);
    expect(emulator.file(FULL, "README.md")).toBe("hello\n");
  });
});
