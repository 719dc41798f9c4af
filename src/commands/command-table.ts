/** The slash commands afk understands, with the one-line help each shows. */
export const COMMANDS = {
  run: { usage: "/afk run", help: "Start working on this issue (same as adding the trigger label)." },
  stop: { usage: "/afk stop", help: "Stop the queued or running work on this issue; the branch is kept." },
  retry: { usage: "/afk retry", help: "Run again after a failed, stopped or interrupted run." },
  status: { usage: "/afk status", help: "Show the run's phase, the repository lock holder and the queue." },
  help: { usage: "/afk help", help: "List these commands." },
} as const;

export type CommandName = keyof typeof COMMANDS;

export function isCommandName(word: string): word is CommandName {
  return Object.hasOwn(COMMANDS, word);
}
