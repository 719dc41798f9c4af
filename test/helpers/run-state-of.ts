import { decodeStateMarker, type RunState } from "../../src/lifecycle/run-state.js";
import type { Scenario } from "./scenario.js";

/** The run state in afk's progress comment on `issue`, if there is one. */
export function runStateOf(scenario: Scenario, issue: number): RunState | undefined {
  const progress = scenario.afkComments(issue).find((body) => body.includes("<!-- afk:state"));
  const decoded = decodeStateMarker(progress ?? "");
  return decoded.kind === "state" ? decoded.state : undefined;
}
