import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseCommands } from "../../src/commands/parse-commands.js";

describe("parseCommands", () => {
  it.each([
    ["/afk run", [{ kind: "command", name: "run", args: "", line: 1 }]],
    ["/afk   stop  ", [{ kind: "command", name: "stop", args: "", line: 1 }]],
    ["/AFK Status", [{ kind: "command", name: "status", args: "", line: 1 }]],
    ["/afk", [{ kind: "command", name: "help", args: "", line: 1 }]],
    ["please\n/afk retry now\nthanks", [{ kind: "command", name: "retry", args: "now", line: 2 }]],
    ["   /afk help", [{ kind: "command", name: "help", args: "", line: 1 }]],
    ["/afk frobnicate", [{ kind: "unknown", word: "frobnicate", line: 1 }]],
  ])("finds the command in %j", (body, expected) => {
    expect(parseCommands(body)).toEqual(expected);
  });

  it.each([
    ["a command that does not start the line", "please /afk run"],
    ["a quoted command", "> /afk run"],
    ["a nested quote", "> > /afk stop"],
    ["a fenced code block", "```\n/afk run\n```"],
    ["a tilde fence", "~~~sh\n/afk run\n~~~"],
    ["an indented code block", "    /afk run"],
    ["an HTML comment", "<!--\n/afk run\n-->"],
    ["an unterminated HTML comment", "hi <!-- \n/afk run"],
    ["a longer word", "/afkrun"],
    ["a tab-indented line", "\t/afk run"],
  ])("ignores %s", (_what, body) => {
    expect(parseCommands(body)).toEqual([]);
  });

  it("resumes after a fence closes and keeps every command in order", () => {
    const body = "```\n/afk stop\n```\n/afk status\n/afk run";
    expect(parseCommands(body).map((command) => (command.kind === "command" ? command.name : command.word))).toEqual(["status", "run"]);
  });

  it("a fence is closed only by a fence of the same kind and at least its length", () => {
    expect(parseCommands("````\n```\n/afk run\n````\n/afk stop")).toEqual([{ kind: "command", name: "stop", args: "", line: 5 }]);
  });

  it("never throws and only returns known shapes, whatever the input (fuzzed)", () => {
    const text = fc.oneof(
      fc.string({ unit: "grapheme", maxLength: 400 }),
      fc
        .array(fc.constantFrom("/afk ", "run", "stop", "```", "~~~", "> ", "<!--", "-->", "\n", "\r\n", " ", "\t", "x", "\u202e", "\u0000"), { maxLength: 60 })
        .map((parts) => parts.join("")),
    );
    fc.assert(
      fc.property(text, (body) => {
        const commands = parseCommands(body);
        for (const command of commands) {
          expect(["command", "unknown"]).toContain(command.kind);
          expect(command.line).toBeGreaterThanOrEqual(1);
        }
        // Anything inside a quote never becomes a command.
        expect(
          parseCommands(
            body
              .split("\n")
              .map((line) => `> ${line}`)
              .join("\n"),
          ),
        ).toEqual([]);
      }),
      { numRuns: 2000 },
    );
  });

  it("handles a huge body in bounded time by reading only its first 64 KiB", () => {
    const body = `${"x".repeat(70_000)}\n/afk run`;
    expect(parseCommands(body)).toEqual([]);
    expect(parseCommands(`/afk run\n${"y".repeat(1_000_000)}`)).toHaveLength(1);
  });
});
