import { decodeStateMarker, hasStateMarker, type RunState } from "../../src/lifecycle/run-state.js";
import type { GitHubEmulator } from "./emulator/index.js";
import type { Scenario } from "./scenario.js";

/** The run state in afk's progress comment on `issue` of the scenario's repository, if there is one. */
export function runStateOf(scenario: Scenario, issue: number): RunState | undefined {
  return stateInFirstMarker(scenario.afkComments(issue));
}

/** The run state in afk's progress comment on `issue` of any repository of the emulator. */
export function runStateIn(github: GitHubEmulator, fullName: string, issue: number): RunState | undefined {
  return stateInFirstMarker(
    github
      .comments(fullName, issue)
      .filter((comment) => comment.user.login === github.botLogin)
      .map((comment) => comment.body ?? ""),
  );
}

/** The state in the first of afk's comments that carries a marker (its progress comment). */
function stateInFirstMarker(afkBodies: readonly string[]): RunState | undefined {
  const decoded = decodeStateMarker(afkBodies.find((body) => hasStateMarker(body)) ?? "");
  return decoded.kind === "state" ? decoded.state : undefined;
}
