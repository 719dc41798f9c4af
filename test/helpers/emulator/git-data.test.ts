import { describe, expect, it } from "vitest";
import { failure, FULL, installationOctokit, OWNER, REPO, useEmulator } from "./test-kit.js";

const current = useEmulator();

describe("the git database: blobs and matching refs", () => {
  it("stores blobs with real object ids (utf-8 and base64), reads them back, and lists refs by prefix in name order", async () => {
    const emulator = current();
    const octokit = await installationOctokit(emulator);
    const git = octokit.rest.git;
    const where = { owner: OWNER, repo: REPO };

    const text = await git.createBlob({ ...where, content: "hello\n", encoding: "utf-8" });
    expect(text.status).toBe(201);
    // `printf 'hello\n' | git hash-object --stdin`
    expect(text.data.sha).toBe("ce013625030ba8dba906f756967f9e9ca394464a");
    const same = await git.createBlob({ ...where, content: Buffer.from("hello\n").toString("base64"), encoding: "base64" });
    expect(same.data.sha).toBe(text.data.sha);
    const read = await git.getBlob({ ...where, file_sha: text.data.sha });
    expect(Buffer.from(read.data.content, "base64").toString("utf8")).toBe("hello\n");
    expect(read.data).toMatchObject({ encoding: "base64", size: 6 });
    expect((await failure(git.getBlob({ ...where, file_sha: "0".repeat(40) }))).status).toBe(404);

    const tree = await git.createTree({ ...where, tree: [{ path: "run.md", mode: "100644", type: "blob", sha: text.data.sha }] });
    const commit = (await git.createCommit({ ...where, message: "log", tree: tree.data.sha, parents: [] })).data.sha;
    for (const name of ["refs/afk/runs/r-b", "refs/afk/runs/r-a", "refs/afk/other"]) await git.createRef({ ...where, ref: name, sha: commit });
    const matching = await git.listMatchingRefs({ ...where, ref: "afk/runs/" });
    expect(matching.data.map((ref) => ref.ref)).toEqual(["refs/afk/runs/r-a", "refs/afk/runs/r-b"]);
    expect(matching.data[0]?.object.sha).toBe(commit);
    expect((await git.listMatchingRefs({ ...where, ref: "afk/none/" })).data).toEqual([]);
    expect((await git.listMatchingRefs({ ...where, ref: "heads/ma" })).data.map((ref) => ref.ref)).toEqual(["refs/heads/main"]);
    expect(emulator.fileAtCommit(FULL, commit, "run.md")).toBe("hello\n");
    expect(emulator.refsUnder(FULL, "refs/afk/runs/")).toEqual(["refs/afk/runs/r-a", "refs/afk/runs/r-b"]);
    expect(emulator.violations).toEqual([]);
  });
});
