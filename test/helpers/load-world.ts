import { mulberry32, shuffle } from "./seeded-random.js";
import { buildWorld, type World } from "./world/build-world.js";

/** The load the load test and `bench/load.ts` both drive: one world, so the test asserts what the bench measures. */
export const LOAD = {
  installations: 4,
  repos: 100,
  issuesPerRepo: 5,
  /** The share of deliveries sent twice with the same delivery id, as GitHub redelivers. */
  duplicateShare: 0.1,
  trigger: "ready-for-agent",
  maintainer: "pat-maintain",
  body: "Please do the thing.",
  /** Priority labels as people write them (see priority.ts); `undefined` is an issue without one (it goes last). */
  priorityLabels: ["P0", "P1", "P2", "P3", "priority:0", "priority:2", "priority:7", undefined, undefined],
} as const;

/** One issue of the load, with the priority label it was opened with (if any). */
export interface LoadIssue {
  repo: { owner: string; name: string; fullName: string; installationId: number };
  number: number;
  title: string;
  labels: string[];
}

/** One delivery of the burst: `issues.labeled` for `issue`, sent to afk instance `to` (0 or 1) with delivery id `id`. */
export interface LoadDelivery {
  to: 0 | 1;
  id: string;
  issue: LoadIssue;
}

export interface LoadWorld {
  world: World;
  issues: LoadIssue[];
  /** Every issue's delivery once, in random order, alternately to either instance, with redeliveries (same id, either instance) mixed in later. */
  burst: LoadDelivery[];
  redeliveries: number;
  /** `issues.labeled` as GitHub sends it for `issue` once the trigger label is on (see `labelAll`). */
  payload(issue: LoadIssue): object;
  /** Puts the trigger label on every issue at once, as the maintainer's burst does before its deliveries are sent. */
  labelAll(): void;
}

/**
 * The load's world, the same on every run (seeded): 4 installations of 25 repositories each, 5
 * issues per repository with priorities mixed, a maintainer on every repository; and the burst.
 * No App is started: the test starts two in its process, the bench two processes of their own.
 */
export async function buildLoadWorld(): Promise<LoadWorld> {
  const random = mulberry32(0x5eed);
  const repos = Array.from({ length: LOAD.repos }, (_, r) => {
    const owner = `load-org-${r % LOAD.installations}`;
    return { owner, name: `repo-${r}`, fullName: `${owner}/repo-${r}`, installationId: 9100 + (r % LOAD.installations) };
  });
  const world = await buildWorld({
    // Requests stay validated against GitHub's description; the emulator's own answers were checked by the
    // functional suites, and checking 25,000 of them here would only slow "GitHub" down.
    checkResponses: false,
    repos: repos.map((repo) => ({ ...repo, roles: { [LOAD.maintainer]: "maintain" } })),
    name: "afk-load-",
  });
  const issues: LoadIssue[] = [];
  for (const repo of repos) {
    for (let i = 0; i < LOAD.issuesPerRepo; i++) {
      const priority = LOAD.priorityLabels[Math.floor(random() * LOAD.priorityLabels.length)];
      const labels = priority === undefined ? [] : [priority];
      const created = world.github.addIssue(repo.fullName, { title: `Load issue ${i + 1} of ${repo.name}`, body: LOAD.body, labels, user: LOAD.maintainer });
      issues.push({ repo, number: created.number, title: created.title, labels });
    }
  }
  const originals: LoadDelivery[] = shuffle(
    issues.map((issue, index) => ({ to: index % 2 === 0 ? 0 : 1, id: `load-${issue.repo.fullName}#${issue.number}`, issue })),
    random,
  );
  const burst = [...originals];
  for (const original of shuffle([...originals], random).slice(0, Math.round(issues.length * LOAD.duplicateShare))) {
    const after = burst.indexOf(original) + 1;
    burst.splice(after + Math.floor(random() * (burst.length - after + 1)), 0, { ...original, to: random() < 0.5 ? 0 : 1 });
  }
  return {
    world,
    issues,
    burst,
    redeliveries: burst.length - originals.length,
    payload: (issue) => world.repo(issue.repo.fullName).labelPayload(issue.number, LOAD.maintainer, { label: LOAD.trigger }),
    labelAll() {
      for (const issue of issues) world.github.seedLabels(issue.repo.fullName, issue.number, [LOAD.trigger]);
    },
  };
}
