/** The slash commands afk understands, with the one-line help each shows. */
export const COMMANDS = {
  run: { usage: "/afk run", help: "Start working on this issue (same as adding the trigger label)." },
  stop: { usage: "/afk stop", help: "Stop the queued or running work on this issue; the branch is kept." },
  retry: { usage: "/afk retry", help: "Run again after a failed, stopped or interrupted run." },
  status: { usage: "/afk status", help: "Show the run's phase, the repository lock holder and the queue." },
  plan: { usage: "/afk plan", help: "Write a plan (read-only) and wait for `/afk approve` before implementing." },
  approve: {
    usage: "/afk approve [split]",
    help: "Approve afk's posted plan; implementation starts with the plan in context. `split` makes the plan's steps sub-issues, implemented in order.",
  },
  fix: { usage: "/afk fix", help: "On afk's pull request: address the trusted reviewers' comments now." },
  ask: { usage: "/afk ask <question>", help: "Investigate read-only and answer in a comment; nothing is changed." },
  help: { usage: "/afk help", help: "List these commands." },
} as const;

export type CommandName = keyof typeof COMMANDS;

export function isCommandName(word: string): word is CommandName {
  return Object.hasOwn(COMMANDS, word);
}
