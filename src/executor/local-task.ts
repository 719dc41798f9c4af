import { readRepoInstructions } from "./repo-instructions.js";
import { renderPrompt } from "./render-prompt.js";

/**
 * The implementation task for a run with no GitHub issue behind it (`afk run`, `afk eval`): the
 * `implement` prompt with the task's title and text, and the repository's agent instructions read
 * from the worktree. `promptsDir` picks another prompt set (`afk eval --compare`).
 */
export async function renderLocalTask(input: {
  repository: string;
  title: string;
  body: string;
  worktreePath: string;
  promptsDir?: string | undefined;
}): Promise<string> {
  return renderPrompt(
    "implement",
    {
      repository: input.repository,
      issue_number: "(local task)",
      issue_title: input.title,
      issue_body: input.body,
      discussion: "(a local task: no discussion)",
      repo_instructions: await readRepoInstructions(input.worktreePath),
    },
    input.promptsDir,
  );
}
