#!/usr/bin/env node
import { runDoctor, formatFindings } from "./doctor.js";
import { parseCliArgs, USAGE } from "./parse-cli-args.js";
import { EXIT, runLocal } from "./run-local.js";

/** The `afk` command: `afk run` and `afk doctor` (see USAGE). */
async function main(argv: readonly string[]): Promise<number> {
  const command = parseCliArgs(argv);
  switch (command.kind) {
    case "help":
      console.log(USAGE);
      return 0;
    case "error":
      console.error(`afk: ${command.message}\n\n${USAGE}`);
      return EXIT.usage;
    case "doctor": {
      const findings = await runDoctor(process.env);
      console.log(formatFindings(findings));
      return findings.some((finding) => finding.verdict === "fail") ? 1 : 0;
    }
    case "run": {
      const controller = new AbortController();
      process.once("SIGINT", () => controller.abort(new Error("Interrupted (Ctrl-C).")));
      return runLocal(command, { env: process.env, out: (line) => console.log(line), signal: controller.signal });
    }
  }
}

process.exitCode = await main(process.argv.slice(2));
