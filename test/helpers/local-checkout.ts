import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";

/** A git repository at `<root>/checkout` holding `files` in one commit on `main`: what `afk run` works on. */
export function localCheckout(root: string, files: Record<string, string>): string {
  const repo = join(root, "checkout");
  const env = {
    ...process.env,
    GIT_AUTHOR_NAME: "dev",
    GIT_AUTHOR_EMAIL: "dev@example.com",
    GIT_COMMITTER_NAME: "dev",
    GIT_COMMITTER_EMAIL: "dev@example.com",
  };
  execFileSync("git", ["init", "--quiet", "--initial-branch", "main", repo], { env });
  for (const [file, content] of Object.entries(files)) {
    mkdirSync(dirname(join(repo, file)), { recursive: true });
    writeFileSync(join(repo, file), content);
  }
  execFileSync("git", ["-C", repo, "add", "--all"], { env });
  execFileSync("git", ["-C", repo, "commit", "--quiet", "-m", "start"], { env });
  return repo;
}
