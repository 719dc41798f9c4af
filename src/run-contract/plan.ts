/** One separately reviewable step of an approved plan, which can become a sub-issue. */
export interface PlanStep {
  title: string;
  /** The step's text after its first line (may be empty). */
  details: string;
}

const STEPS_HEADING = /^ {0,3}#{1,6}[ \t]+steps[ \t]*:?[ \t]*#*[ \t]*$/i;
const ANY_HEADING = /^ {0,3}#{1,6}[ \t]/;
const NUMBERED_ITEM = /^ {0,3}(\d{1,3})[.)][ \t]+(.*)$/;
const TITLE_MAX = 120;
const DETAILS_MAX = 4_000;
const MAX_STEPS = 10;

/**
 * The numbered list under the plan's `## Steps` heading (the plan prompt asks for it when the work
 * splits), one entry per item: its first line is the title, markdown emphasis removed, the lines
 * below it the details. No heading or no list means no steps. At most ten steps are taken, so a
 * plan cannot open a flood of issues. Pure; the plan is model output, so callers still treat the
 * text as untrusted.
 */
export function planSteps(plan: string): PlanStep[] {
  const lines = plan.split(/\r?\n/);
  const start = lines.findIndex((line) => STEPS_HEADING.test(line));
  if (start === -1) return [];
  const steps: Array<{ title: string; details: string[] }> = [];
  for (const line of lines.slice(start + 1)) {
    if (ANY_HEADING.test(line)) break;
    const item = NUMBERED_ITEM.exec(line);
    if (item?.[2] !== undefined) {
      steps.push({ title: plainTitle(item[2]), details: [] });
      continue;
    }
    const current = steps.at(-1);
    if (current !== undefined) current.details.push(line.replace(/^ {2,4}/, ""));
  }
  return steps
    .filter((step) => step.title.length > 0)
    .slice(0, MAX_STEPS)
    .map((step) => ({ title: step.title, details: step.details.join("\n").trim().slice(0, DETAILS_MAX) }));
}

function plainTitle(text: string): string {
  const plain = text
    .replace(/\*\*|__|`/g, "")
    .replace(/\s+/g, " ")
    .trim();
  return plain.length > TITLE_MAX ? `${plain.slice(0, TITLE_MAX - 1).trimEnd()}…` : plain;
}

/** afk's plan comment holds the agent's plan between these markers (the executor writes it, dispatch reads it back). */
export const PLAN_START = "<!-- afk:plan -->";
export const PLAN_END = "<!-- /afk:plan -->";

/** The plan between afk's markers in a comment body, without afk's framing; undefined when either marker is missing. */
export function planInComment(body: string): string | undefined {
  const start = body.indexOf(PLAN_START);
  const end = body.indexOf(PLAN_END);
  return start === -1 || end === -1 ? undefined : body.slice(start + PLAN_START.length, end).trim();
}
