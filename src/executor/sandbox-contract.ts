/** A sandbox limit a command ran into (see `SandboxLimits`). */
export type LimitHit = "memory" | "processes" | "file-size" | "disk";

/** How one command runs in the sandbox. */
export interface CommandOptions {
  /** The command is killed (with everything it started) after this long. */
  timeoutMs: number;
  /**
   * Whether the command may reach the network; false unless config or the setup step says so.
   * On, it gets a network namespace of its own with outbound-only access (slirp4netns): never the
   * host's loopback, its abstract sockets or link-local addresses such as cloud metadata.
   */
  network: boolean;
  /** Output beyond this many bytes keeps its head and tail only. */
  maxOutputBytes?: number;
  /** Aborting kills the command. */
  signal?: AbortSignal;
}

/** What a command did. `output` is stdout and stderr interleaved as they arrived. */
export interface CommandResult {
  /** The exit code, or null when the command was killed. */
  exitCode: number | null;
  /** The signal that ended the command, if one did. */
  signal: string | null;
  output: string;
  timedOut: boolean;
  /** True when the middle of the output was dropped to respect `maxOutputBytes`. */
  truncated: boolean;
  durationMs: number;
  /** The limit the command ran into, if afk saw one; the output then ends with a line saying so. */
  limit?: LimitHit;
}

/** What a program run with `runProgram` did: its standard output apart from its standard error. */
export interface ProgramResult {
  exitCode: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  /** The limit the program ran into, if afk saw one; `stderr` then ends with a line saying so. */
  limit?: LimitHit;
}

/**
 * Where agent commands run. `bubblewrap` isolates them (read-only system, writable worktree,
 * no network by default, cleared environment, own pid namespace) and bounds them (memory,
 * processes, /tmp, file size, disk growth); `unsandboxed` exists only when the operator set
 * AFK_ALLOW_UNSANDBOXED=1.
 */
export interface Sandbox {
  readonly kind: "bubblewrap" | "unsandboxed";
  /** The worktree commands start in. */
  readonly worktree: string;
  /** Runs `bash -c command` in the worktree. Never throws for a failing command; only for a sandbox that cannot start. */
  run(command: string, options: CommandOptions): Promise<CommandResult>;
  /**
   * Runs one program with these arguments (no shell) under the same isolation, keeping standard
   * output (at most 64 MiB) apart from standard error: afk's own git over the agent's tree runs here.
   */
  runProgram(argv: readonly string[], options: CommandOptions): Promise<ProgramResult>;
}
