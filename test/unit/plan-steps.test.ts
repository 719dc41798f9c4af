import { describe, expect, it } from "vitest";
import { planSteps } from "../../src/run-contract/plan.js";

describe("planSteps", () => {
  it("takes the numbered list under `## Steps`: the first line is the title (emphasis removed), the lines below the details", () => {
    const plan = [
      "## Plan",
      "1. Not a step: outside the heading",
      "",
      "## Steps",
      "1. **Parse** the `--flag`",
      "   Add it to cli.ts.",
      "   Test it.",
      "2) Document it",
      "",
      "## Risks",
      "3. Not a step either",
    ].join("\n");
    expect(planSteps(plan)).toEqual([
      { title: "Parse the --flag", details: "Add it to cli.ts.\nTest it." },
      { title: "Document it", details: "" },
    ]);
  });

  it("finds nothing without the heading or without a numbered list", () => {
    expect(planSteps("1. a\n2. b")).toEqual([]);
    expect(planSteps("## Steps\n- a\n- b")).toEqual([]);
    expect(planSteps("")).toEqual([]);
  });

  it("accepts other heading levels and a colon, and caps a plan at ten steps with bounded titles", () => {
    const many = ["### Steps:", ...Array.from({ length: 25 }, (_, index) => `${index + 1}. ${"x".repeat(300)}`)].join("\n");
    const steps = planSteps(many);
    expect(steps).toHaveLength(10);
    expect(steps[0]?.title.length).toBeLessThanOrEqual(120);
  });
});
