import { repoConfigSchema } from "../../src/config/repo-config.js";
import type { JobSpec } from "../../src/run-contract/job-protocol.js";

/** Where a test's job works and whom it reaches: the repository's clone URL and pinned commit, afk's address, the model's. */
export interface TestJobTarget {
  cloneUrl: string;
  baseSha: string;
  endpoint: string;
  modelBaseUrl: string;
  readToken: string;
  jobCredential: string;
}

/**
 * A job spec as afk serves one, for tests that play afk's side: implement an issue of the fixture
 * project (`octo-org/app`, tests `node --test`) at `target.baseSha`. `overrides` replace any field.
 */
export function testJobSpec(target: TestJobTarget, runId: string, overrides: Partial<JobSpec> = {}): JobSpec {
  return {
    v: 1,
    runId,
    kind: "implement",
    repository: { fullName: "octo-org/app", cloneUrl: target.cloneUrl },
    baseSha: target.baseSha,
    model: "claude-sonnet-5-5",
    config: repoConfigSchema.parse({ test: "node --test" }),
    task: {
      prompt: "implement",
      slots: { repository: "octo-org/app", issue_number: "3", issue_title: "Test subtraction", issue_body: "Add a test.", discussion: "(none)" },
      repoInstructions: true,
    },
    sharedPackageCache: true,
    readToken: target.readToken,
    jobCredential: target.jobCredential,
    endpoint: target.endpoint,
    modelBaseUrl: target.modelBaseUrl,
    heartbeatSeconds: 1,
    deadline: new Date(Date.now() + 3_600_000).toISOString(),
    ...overrides,
  };
}
