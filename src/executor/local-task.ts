import { renderTask } from "./gather-task.js";

/**
 * The implementation task for a run with no GitHub issue behind it (`afk run`, `afk eval`): the
 * `implement` prompt with the task's title and text, and the repository's agent instructions read
 * from the worktree, rendered as an issue's task is (`renderTask`). `promptsDir` picks another
 * prompt set (`afk eval --compare`).
 */
export async function renderLocalTask(input: {
  repository: string;
  title: string;
  body: string;
  worktreePath: string;
  promptsDir?: string | undefined;
}): Promise<string> {
  return renderTask(
    {
      prompt: "implement",
      slots: {
        repository: input.repository,
        issue_number: "(local task)",
        issue_title: input.title,
        issue_body: input.body,
        discussion: "(a local task: no discussion)",
      },
      repoInstructions: true,
    },
    input.worktreePath,
    input.promptsDir,
  );
}
