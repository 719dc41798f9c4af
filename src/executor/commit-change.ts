import { MAX_CHANGED_FILE_BYTES, pushRefusal } from "./change-policy.js";
import { commitMessage } from "./commit-message.js";
import { outOfScopeFiles, type OutOfScopeFile } from "../text/out-of-scope-files.js";
import { NestedRepositoryError, type Worktree } from "./workspace.js";

export type CommitResult =
  /** `outOfScope`: the new files a reviewer should check are meant to stay (see `outOfScopeFiles`). */
  | { kind: "committed"; sha: string; changedFiles: string[]; outOfScope: OutOfScopeFile[]; message: string }
  | { kind: "no-change" }
  | { kind: "refused"; reason: string; changedFiles: string[] };

/**
 * Makes the agent's work one commit on the pinned base, unless afk's push policy refuses it
 * (files over 50 MB, protected paths, CI-skip markers, repositories nested in the worktree): then nothing is committed
 * and the reason says why.
 */
export async function commitChange(
  worktree: Worktree,
  input: {
    issue: number | undefined;
    title: string;
    summary: string;
    runId: string;
    closesIssue?: boolean;
    protectedPaths: readonly string[];
    author: { name: string; email: string };
  },
): Promise<CommitResult> {
  const changedFiles = await worktree.changedFiles();
  if (changedFiles.length === 0) return { kind: "no-change" };
  const message = commitMessage({
    issue: input.issue,
    title: input.title,
    summary: input.summary,
    runId: input.runId,
    ...(input.closesIssue === undefined ? {} : { closesIssue: input.closesIssue }),
  });
  const changed = new Set(changedFiles);
  // Sizes are read in the sandbox, before git hashes anything: a huge (or sparse) file never reaches `git add`.
  const largeFiles = (await worktree.filesLargerThan(MAX_CHANGED_FILE_BYTES)).filter(
    (path) => changed.has(path) || [...changed].some((entry) => entry.endsWith("/") && path.startsWith(entry)),
  );
  const reason = pushRefusal({ changedFiles, protectedPaths: input.protectedPaths, commitMessage: message, largeFiles });
  if (reason !== undefined) return { kind: "refused", reason, changedFiles };
  // Judged before the commit, on what `git add --all` is about to take.
  const { added, baseRoot } = await worktree.addedFilesAndBaseRoot();
  const outOfScope = outOfScopeFiles(added, baseRoot);
  let sha: string | undefined;
  try {
    sha = await worktree.commitAll(message, input.author);
  } catch (error) {
    if (error instanceof NestedRepositoryError) return { kind: "refused", reason: error.message, changedFiles };
    throw error;
  }
  if (sha === undefined) return { kind: "no-change" };
  return { kind: "committed", sha, changedFiles, outOfScope, message };
}
