import { run } from "probot";
import { probotEnvironment } from "./config/probot-environment.js";
import { OperatorSettingsError, readOperatorSettings } from "./config/operator-settings.js";
import { AfkOctokit } from "./github/octokit.js";

/**
 * `npm start`: afk as `probot run ./dist/index.js` would start it, with two differences. Operator
 * settings are checked first, and an invalid one ends the process with one message naming each
 * variable and what it allows (exit code 1, no stack trace). And every GitHub client Probot makes is
 * `AfkOctokit`, whose retry and throttling plugins carry afk's one retry policy and log what they do.
 * Without `APP_ID` Probot's setup flow starts, exactly as under `probot run`.
 */
async function main(): Promise<void> {
  // 1. `.env` over the environment, as Probot applies it (its `run` applies it again, to the same effect).
  Object.assign(process.env, (await probotEnvironment(process.env, process.cwd())).env);
  // 2. The operator's settings, all checked before anything listens.
  readOperatorSettings(process.env);
  // 3. Probot's own start, with the app given as `probot run` is given it.
  await run([new URL("./index.js", import.meta.url).href], { env: process.env, Octokit: AfkOctokit });
}

/** What went wrong, in words: an error's message, or an event's (the webhook proxy rejects with one). */
function messageOf(error: unknown): string {
  if (typeof error === "object" && error !== null && "message" in error && typeof error.message === "string" && error.message.length > 0) return error.message;
  return typeof error === "object" && error !== null && "type" in error && typeof error.type === "string" ? `${error.type} event` : String(error);
}

main().catch((error: unknown) => {
  // One message on stderr, no stack: what is wrong is in the message. The stack, for a bug in afk, on LOG_LEVEL=debug or trace.
  const verbose = process.env.LOG_LEVEL === "debug" || process.env.LOG_LEVEL === "trace";
  if (error instanceof OperatorSettingsError) process.stderr.write(`${error.message}\n`);
  else process.stderr.write(`afk cannot start: ${verbose && error instanceof Error && error.stack !== undefined ? error.stack : messageOf(error)}\n`);
  process.exit(1);
});
