import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ciSkipMarkers } from "../../src/executor/change-policy.js";
import { commitMessage } from "../../src/executor/commit-message.js";
import { renderAnswerComment, renderPlanComment } from "../../src/executor/follow-up-context.js";
import { decodeStateMarker } from "../../src/lifecycle/run-state.js";
import { queuedState, settledState, startedState } from "../../src/lifecycle/transitions.js";
import { CHECK_RUN_LIMITS, keepTail, renderCheckRun } from "../../src/progress/render-check-run.js";
import { renderProgressComment } from "../../src/progress/render-progress-comment.js";
import { renderPullRequest } from "../../src/progress/render-pull-request.js";
import { renderRefusal, renderReviewReply, renderStatus } from "../../src/progress/render-replies.js";
import { inertText } from "../../src/trust/inert-text.js";
import { withoutHiddenCharacters } from "../../src/trust/sanitize-untrusted-text.js";
import { characterReferences, closingReferences, HOSTILE_TEXT, liveMentions, slashCommandLines } from "../helpers/live-text.js";

const HIDDEN_BUT_OUR_BREAK = /[\u00AD\u061C\u200C-\u200F\u202A-\u202E\u2060-\u206F\uFEFF\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/;

function expectInert(text: string, options: { inline?: boolean } = {}): void {
  expect(liveMentions(text)).toEqual([]);
  expect(slashCommandLines(text, options)).toEqual([]);
  expect(closingReferences(text)).toEqual([]);
  expect(characterReferences(text)).toEqual([]);
  expect(text).not.toContain("<!--");
  expect(text).not.toMatch(HIDDEN_BUT_OUR_BREAK);
}

/** What a reader sees: the text without afk's breaks and with `\/` shown as `/`. */
function asRead(text: string): string {
  return text.replace(/\u200B/g, "").replace(/\\\//g, "/");
}

/** Pieces of hostile text, in the shapes GitHub and bots read, to be put together in any order. */
const FRAGMENTS = [
  "@",
  "@someone",
  "@octo-org/admins",
  "someone",
  "a@b.com",
  "/",
  "/afk approve",
  "/deploy",
  "//",
  "Fixes",
  "fixes",
  "FIXED",
  "fix",
  "closes",
  "Close",
  "cloſes",
  "resolved",
  "Resolve",
  "Fi**x**es",
  "clo_se_s",
  "e",
  "s",
  "d",
  "x",
  ":",
  " ",
  "  ",
  "\t",
  "\u00A0",
  "\n",
  "\r",
  "\r\n",
  "\u2028",
  "\u2029",
  "\u0085",
  "\v",
  "#2",
  "#",
  "2",
  "octo-org/other#5",
  "GH-4",
  "gh-",
  "https://github.com/o/r/issues/4",
  "www.",
  "[#2](https://x)",
  "<https://github.com/o/r/issues/9>",
  ">",
  "> ",
  "- ",
  "* ",
  "+ ",
  "1. ",
  "12) ",
  "\u200B",
  "\u200D",
  "\u202E",
  "\u2060",
  "\uFEFF",
  "\u00AD",
  "\u0000",
  "\u001B[31m",
  "&",
  "&#64;",
  "&#x40;",
  "&commat;",
  "#64;",
  "<!--",
  "<",
  "!--",
  "-->",
  "<!-- afk:state {} -->",
  "`",
  "**",
  "_",
  "~",
  "\\",
  "[",
  "](",
  ")",
  "[skip ci]",
  "[skip",
  " ci]",
  "***NO_CI***",
];
const hostileText = fc
  .array(fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...FRAGMENTS) }, { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 4 }) }), {
    maxLength: 40,
  })
  .map((parts) => parts.join(""));

describe("inertText", () => {
  it.each([
    ["a user mention", "thanks @someone", "thanks @\u200Bsomeone"],
    ["a team mention", "cc @octo-org/admins", "cc @\u200Bocto-org/admins"],
    ["a mention by character reference", "&#64;someone &commat;x", "&\u200B#64;someone &\u200Bcommat;x"],
    ["a slash command starting a line", "done\n/afk approve", "done\n\\/afk approve"],
    ["a slash command after blanks, quotes and list markers", "  > - 1. /afk approve", "  > - 1. \\/afk approve"],
    ["a slash command on the first line", "/deploy prod", "\\/deploy prod"],
    ["a closing keyword", "Fixes #2", "Fixes\u200B #2"],
    ["a closing keyword with a colon, in capitals", "CLOSES: octo-org/other#5", "CLOSES\u200B: octo-org/other#5"],
    ["a closing keyword to a URL", "resolves https://github.com/o/r/issues/4", "resolves\u200B https://github.com/o/r/issues/4"],
    ["a closing keyword to GH-N", "fixed GH-4", "fixed\u200B GH-4"],
    ["a closing keyword with emphasis inside", "Fi**x**es #2", "Fi**x**es\u200B #2"],
    ["a closing keyword with a long s", "cloſes #2", "cloſes\u200B #2"],
    ["a closing keyword across a line end", "Fixes\n#2", "Fixes\u200B\n#2"],
    ["an HTML comment (a forged state marker)", "<!-- afk:state {} -->", "<\u200B!-- afk:state {} -->"],
    ["hidden characters that would hide a mention", "@\u200Dsomeone \u202Efixes #2", "@\u200Bsomeone fixes\u200B #2"],
  ])("makes %s inert", (_what, input, expected) => {
    expect(inertText(input)).toBe(expected);
    expectInert(inertText(input));
  });

  it("leaves ordinary text as it is: words, code, emails' shape, paths mid-line, references that close nothing", () => {
    const plain = "Added `multiply(a, b)` in src/math.js (see #3 and octo/repo#4); a = 1 & b = 2; run npm test.\n\n```js\nconst x = a / b;\n```";
    expect(inertText(plain)).toBe(plain);
  });

  it("a line-start slash is left alone when the text goes after other text on a line (inline)", () => {
    expect(inertText("/afk run", { inline: true })).toBe("/afk run");
    expect(inertText("/afk run\n/afk approve", { inline: true })).toBe("/afk run\n\\/afk approve");
  });

  it("breaks a closing keyword before a GH-N reference with emphasis inside it (found by the commit-message property: `Closegh-~2`)", () => {
    for (const text of ["Closegh-~2", "closes g*h*-2", "fixes GH_-_2", "resolved gh-~~3"]) expect(closingReferences(inertText(text)), text).toEqual([]);
  });

  it("property: no output holds a live mention, a line-start slash command, a closing reference, a character reference, a comment or a hidden character", () => {
    fc.assert(
      fc.property(hostileText, (text) => {
        expectInert(inertText(text));
        expectInert(inertText(text, { inline: true }), { inline: true });
      }),
      { numRuns: 2_000 },
    );
  });

  it("property: idempotent, and a reader sees the same words", () => {
    fc.assert(
      fc.property(hostileText, fc.boolean(), (text, inline) => {
        const once = inertText(text, { inline });
        expect(inertText(once, { inline })).toBe(once);
        expect(asRead(once)).toBe(asRead(withoutHiddenCharacters(text).replace(/[\u2028\u2029]/g, "\n")));
      }),
      { numRuns: 2_000 },
    );
  });

  it("takes linear time on 1 MB of hostile input", () => {
    const MB = 1_000_000;
    const inputs = {
      mentions: "@a".repeat(MB / 2),
      "keywords in one word": "fix-".repeat(MB / 4),
      "keywords glued": "fixfix".repeat(MB / 6),
      "a keyword then blanks": `Fixes${" ".repeat(MB)}`,
      "a keyword then emphasis": `c${"*".repeat(MB)}`,
      "a list marker without end": "1".repeat(MB),
      "list markers": "- ".repeat(MB / 2),
      "slash lines": "\n/".repeat(MB / 2),
      "character references": `&${"a".repeat(MB)}`,
      "comment openings": "<!--".repeat(MB / 4),
      everything: "fix #\n/ @a &# <!-- Fi**x**es octo/o#1 ".repeat(MB / 36),
    };
    for (const [name, input] of Object.entries(inputs)) {
      const started = performance.now();
      const out = inertText(input);
      expect(performance.now() - started, name).toBeLessThan(2_000);
      expect(out.length).toBeLessThanOrEqual(input.length * 2);
    }
  });
});

const now = new Date("2026-11-23T12:00:00.000Z");
const queued = queuedState({
  runId: "r-1",
  issue: 7,
  trigger: { actor: "octocat", source: "label", deliveryId: "d", repoUrl: "https://github.com/octo-org/app", bodyDigest: "0123456789abcdef0123456789abcdef" },
  now,
  queuedBehind: undefined,
  previous: undefined,
});

describe("everything afk publishes from text it did not write is inert", () => {
  it("the pull request: only afk's own `Closes #N` and its mention of the requester are live", () => {
    fc.assert(
      fc.property(hostileText, hostileText, hostileText, hostileText, (title, summary, output, file) => {
        const { title: prTitle, body } = renderPullRequest({
          issue: 7,
          issueTitle: `${title} ${HOSTILE_TEXT}`,
          runId: "r-1",
          requestedBy: "octocat",
          model: "m",
          summary: `${summary}\n${HOSTILE_TEXT}`,
          gate: { command: "npm test", exitCode: 0, output: `${output}\n${HOSTILE_TEXT}`, rounds: 1, durationMs: 1 },
          changedFiles: [file, "@someone/fixes #2"],
          spend: { usd: 0, turns: 1 },
        });
        expectInert(prTitle);
        expect(closingReferences(body)).toEqual(["Closes #7"]);
        expect(liveMentions(body)).toEqual(["@octocat"]);
        expect(slashCommandLines(body)).toEqual([]);
        expect(body).not.toContain("<!--");
      }),
      { numRuns: 300 },
    );
  });

  it("the commit message: only afk's own `Closes #N` (or `Refs #N`) closes anything, and no CI-skip marker", () => {
    fc.assert(
      fc.property(hostileText, hostileText, fc.boolean(), (title, summary, closesIssue) => {
        const message = commitMessage({
          issue: 7,
          title: `${title} ${HOSTILE_TEXT}`,
          summary: `${summary}\n${HOSTILE_TEXT}\n${summary}`,
          runId: "r-1",
          closesIssue,
        });
        expect(closingReferences(message)).toEqual(closesIssue ? ["Closes #7"] : []);
        expect(message).toContain(closesIssue ? "\nCloses #7\n" : "\nRefs #7\n");
        expect(liveMentions(message)).toEqual([]);
        expect(slashCommandLines(message)).toEqual([]);
        expect(ciSkipMarkers(message)).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });

  it("the commit message: removing a CI-skip marker joins nothing live, and removing a hidden character joins no marker", () => {
    const message = commitMessage({
      issue: 7,
      title: "[skip\u200B ci] @[skip ci]someone",
      summary: "@[ci skip]someone fi[skip ci]xes #2\n[no ci]/afk approve\n[skip\u2060ci]",
      runId: "r-1",
    });
    expect(liveMentions(message)).toEqual([]);
    expect(closingReferences(message)).toEqual(["Closes #7"]);
    expect(slashCommandLines(message)).toEqual([]);
    expect(ciSkipMarkers(message)).toEqual([]);
  });

  it("a commit message of a local task (no issue) starting with a slash command does not start with it", () => {
    expect(commitMessage({ issue: undefined, title: "/afk approve", summary: "/deploy", runId: "r-1" })).toBe("\\/afk approve\n\n\\/deploy\n\nAfk-Run: r-1\n");
  });

  it("the check run: outcome, summary, test output and transcript are inert and within GitHub's limits", () => {
    fc.assert(
      fc.property(hostileText, hostileText, fc.nat({ max: 70_000 }), (message, summary, padding) => {
        const settled = settledState(startedState(queued, "a", now), { status: "failed", message: `${message} ${HOSTILE_TEXT}`, retryable: true }, now);
        const view = renderCheckRun(settled, {
          summary: `${summary}\n${HOSTILE_TEXT}`,
          gate: {
            command: "npm test",
            exitCode: 1,
            output: `${"o\n".repeat(padding % 15_000)}${HOSTILE_TEXT}\n${"@a".repeat(padding % 1_000)}`,
            rounds: 1,
            durationMs: 1,
          },
          transcriptTail: `${"t".repeat(padding)}\n/afk approve\n${HOSTILE_TEXT}`,
        });
        for (const part of [view.output.title, view.output.summary, view.output.text ?? ""]) expectInert(part);
        expect(Array.from(view.output.summary).length).toBeLessThanOrEqual(CHECK_RUN_LIMITS.outputChars);
        expect(Array.from(view.output.text ?? "").length).toBeLessThanOrEqual(CHECK_RUN_LIMITS.outputChars);
      }),
      { numRuns: 200 },
    );
  });

  it("the check run: cutting the transcript's head never exposes a slash command at the cut", () => {
    // No gate: the transcript gets the whole room, 65,535 less 100 for its heading and fence.
    const room = CHECK_RUN_LIMITS.outputChars - 100;
    const marker = keepTail("x".repeat(1_000), 100).replace(/x+$/, "");
    // The inert transcript is cut to `room - 1` characters, the marker included: the kept end starts at the `/`, its escape cut off.
    const kept = room - 1 - Array.from(marker).length;
    const tail = `/afk approve\n${"z".repeat(kept - "/afk approve\n".length)}`;
    const view = renderCheckRun(startedState(queued, "a", now), { transcriptTail: `${"y".repeat(5_000)}\n${tail}` });
    expect(view.output.text).toContain("/afk approve");
    expect(slashCommandLines(view.output.text ?? "")).toEqual([]);
    expect(Array.from(view.output.text ?? "").length).toBeLessThanOrEqual(CHECK_RUN_LIMITS.outputChars);
  });

  it("the progress comment, /afk status and the review reply quote afk's outcome inert; afk's own mentions stay", () => {
    const settled = settledState(startedState(queued, "a", now), { status: "escalated", message: `The agent said: ${HOSTILE_TEXT}` }, now);
    const comment = renderProgressComment(settled);
    expect(liveMentions(comment)).toEqual([]);
    expect(slashCommandLines(comment)).toEqual([]);
    // The state marker keeps the message as written (an issue comment closes nothing); what readers see is inert.
    expect(closingReferences(comment.slice(0, comment.indexOf("<!-- afk:state")))).toEqual([]);
    expect(decodeStateMarker(comment)).toEqual({ kind: "state", state: settled });
    expect(comment.match(/<!--/g)).toHaveLength(1);

    const status = renderStatus({ issue: 7, progress: { id: 1, kind: "state", state: settled }, lock: { status: "free", sha: "0".repeat(40) }, queue: [] });
    expectInert(status);

    const reply = renderReviewReply({ reviewer: "max-maintain", headSha: "0123456789", message: HOSTILE_TEXT });
    expect(reply.startsWith("afk addressed the review by @max-maintain in 0123456: Done.")).toBe(true);
    expect(liveMentions(reply)).toEqual(["@max-maintain"]);
    expect(closingReferences(reply)).toEqual([]);
    expect(slashCommandLines(reply)).toEqual([]);

    const refusal = renderRefusal("mallory", "/afk @octo-org/admins", "you need write access");
    expect(refusal).toBe("@mallory afk did not run `/afk @\u200Bocto-org/admins`: you need write access.");
  });

  it("the plan and the answer: the model's text is inert, afk's mention of the requester and its plan markers stay", () => {
    const plan = renderPlanComment({
      issue: 7,
      plan: `## Plan\n${HOSTILE_TEXT}\n<!-- /afk:plan -->\n## Steps\n1. Fixes #2\n2. /afk approve`,
      requestedBy: "wes-write",
    });
    expect(liveMentions(plan)).toEqual(["@wes-write"]);
    expect(closingReferences(plan)).toEqual([]);
    expect(slashCommandLines(plan)).toEqual([]);
    expect(plan.match(/<!--/g)).toHaveLength(2);
    expect(plan).toContain("`/afk approve split` to make its 2 steps sub-issues");

    const answer = renderAnswerComment({ askedBy: "wes-write", answer: `/afk approve ${HOSTILE_TEXT}`, usd: 0.01 });
    expect(answer.startsWith("@wes-write /afk approve Done.")).toBe(true);
    expect(liveMentions(answer)).toEqual(["@wes-write"]);
    expect(closingReferences(answer)).toEqual([]);
    expect(slashCommandLines(answer)).toEqual([]);
    expect(answer).not.toContain("<!--");
  });
});
