#!/usr/bin/env node
import { readFile } from "node:fs/promises";
import { z } from "zod";
import { EXIT, helpText, parseCliArgs } from "./parse-cli-args.js";

/** package.json sits two directories above this file, in the source tree (src/cli) and in the build (dist/cli) alike. */
const PACKAGE_JSON = new URL("../../package.json", import.meta.url);

/**
 * The `afk` command (see `afk --help`). Normal output goes to stdout, errors and warnings to
 * stderr; returns the exit code. The commands' modules (Probot, the SDK, the executor) are loaded
 * only by the command that needs them, so help, version and usage errors answer at once.
 */
async function main(argv: readonly string[]): Promise<number> {
  const command = parseCliArgs(argv);
  switch (command.kind) {
    case "help":
      console.log(helpText(command.topic));
      return EXIT.ok;
    case "version":
      console.log(await packageVersion());
      return EXIT.ok;
    case "error": {
      const name = command.topic === "afk" ? "afk" : `afk ${command.topic}`;
      console.error(`${name}: ${command.message} (see ${name} --help)`);
      return EXIT.usage;
    }
    case "doctor": {
      const { formatFindings, runDoctor } = await import("./doctor.js");
      const findings = await runDoctor(process.env, process.cwd(), { job: command.job });
      console.log(formatFindings(findings));
      return findings.some((finding) => finding.verdict === "fail") ? EXIT.failed : EXIT.ok;
    }
    case "run": {
      const { runLocal } = await import("./run-local.js");
      const controller = new AbortController();
      process.once("SIGINT", () => controller.abort(new Error("Interrupted (Ctrl-C).")));
      return runLocal(command, { env: process.env, out: (line) => console.log(line), err: (line) => console.error(line), signal: controller.signal });
    }
    case "eval": {
      const { runEvalCommand } = await import("./eval.js");
      const controller = new AbortController();
      process.once("SIGINT", () => controller.abort(new Error("Interrupted (Ctrl-C).")));
      const progressBar = process.stderr.isTTY ? (line: string) => void process.stderr.write(`\r\x1b[2K${line}`) : undefined;
      const code = await runEvalCommand(command, {
        env: process.env,
        cwd: process.cwd(),
        out: (text) => {
          if (progressBar !== undefined) process.stderr.write("\r\x1b[2K");
          console.log(text);
        },
        err: (text) => console.error(text),
        progressBar,
        signal: controller.signal,
      });
      if (progressBar !== undefined) process.stderr.write("\n");
      return code;
    }
    case "log": {
      const { showRunLog } = await import("./log.js");
      return showRunLog(command, {
        cwd: process.cwd(),
        out: (text) => void process.stdout.write(text.endsWith("\n") ? text : `${text}\n`),
        err: (line) => console.error(line),
      });
    }
    case "init-runner": {
      const { initRunner } = await import("./init-runner.js");
      return initRunner(command, { version: await packageVersion(), out: (text) => console.log(text), err: (text) => console.error(text) });
    }
    case "job": {
      const { runJob } = await import("./job.js");
      // Actions cancels a job with SIGINT, then SIGTERM: the work stops and no result is sent.
      const controller = new AbortController();
      const cancel = (signal: NodeJS.Signals): void => controller.abort(new Error(`cancelled (${signal})`));
      process.once("SIGINT", cancel);
      process.once("SIGTERM", cancel);
      return runJob({ env: process.env, out: (line) => console.log(line), err: (line) => console.error(line), signal: controller.signal });
    }
  }
}

async function packageVersion(): Promise<string> {
  const { version } = z.object({ version: z.string() }).parse(JSON.parse(await readFile(PACKAGE_JSON, "utf8")));
  return version;
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  // A bug in afk, not a mistake of the user's: one message on stderr, with the stack for a report.
  console.error(`afk: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exitCode = EXIT.failed;
}
