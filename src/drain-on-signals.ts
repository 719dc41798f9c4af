import type { Logger } from "probot";

/** What a graceful shutdown needs: the runs to drain and the notifications still to send. */
export interface Drainable {
  drain(graceMs: number, reason: string): Promise<{ finished: number; handedBack: number }>;
}

/** How long notifications still queued may take to go out once the runs have settled. */
const NOTIFY_FLUSH_MS = 5_000;

/**
 * On SIGTERM or SIGINT: stop starting work, let runs finish within `graceSeconds`, hand the rest
 * back (queued again, locks released), send what notifications are queued, and exit 0. A second
 * signal exits at once (1): the runs left are then taken back when their leases end, as after a crash.
 */
export function drainOnSignals(input: {
  coordinator: Drainable;
  graceSeconds: number;
  log: Logger;
  flushNotifications?: () => Promise<void>;
  exit?: (code: number) => void;
}): void {
  const exit = input.exit ?? ((code: number) => process.exit(code));
  let draining = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (draining) {
      input.log.warn({ signal }, "afk: second signal; exiting now, runs still going are taken back when their leases end");
      exit(1);
      return;
    }
    draining = true;
    input.log.info(
      { signal, graceSeconds: input.graceSeconds },
      `afk is shutting down: no new runs start; runs going on have ${input.graceSeconds} s (AFK_SHUTDOWN_GRACE_SECONDS) to finish, then are queued again`,
    );
    void (async () => {
      const result = await input.coordinator.drain(input.graceSeconds * 1000, `afk was shut down (${signal}) before the run finished.`);
      if (input.flushNotifications !== undefined) {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([input.flushNotifications(), new Promise<void>((resolve) => (timer = setTimeout(resolve, NOTIFY_FLUSH_MS)))]);
        clearTimeout(timer);
      }
      input.log.info(result, "afk shut down: every run in this process finished or was queued again");
      exit(0);
    })().catch((error: unknown) => {
      input.log.error({ err: error }, "afk could not shut down cleanly");
      exit(1);
    });
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
}
