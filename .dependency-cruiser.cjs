// Which folder of src/ may import which: layers import downward only. `npm run lint` checks these
// rules (depcruise); docs/architecture.md draws the layers they keep.
//
//   entry points    index.ts, main.ts, router.ts, handlers/, cli/
//   orchestration   dispatch/ (intake, dispatcher, run supervisor, effects, recovery)
//   executors       executor/ (the App's executor; talks to dispatch only through run-contract/)
//   GitHub & I/O    github/, lock/, progress/ (writers), config/ (readers), trust/, notify/, observability/
//   pure            lifecycle/, run-contract/, text/, commands/, progress/render-*, and the files named in PURE
/** Modules with no I/O: they import only other pure modules (and no Node I/O, Octokit or Probot). */
const PURE = [
  "^src/lifecycle/",
  "^src/run-contract/",
  "^src/text/",
  "^src/commands/",
  "^src/progress/render-",
  "^src/trust/inert-text\\.ts$",
  "^src/trust/sanitize-untrusted-text\\.ts$",
  "^src/github/ci-verdict\\.ts$",
  "^src/github/types\\.ts$",
  "^src/config/repo-config\\.ts$",
  "^src/lock/lock-record\\.ts$",
  "^src/dispatch/priority\\.ts$",
  "^src/executor/delivery-plan\\.ts$",
  "^src/executor/implement-result\\.ts$",
  "^src/actions/job-claims\\.ts$",
  "^src/actions/runner-workflow\\.ts$",
];

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: "no-circular",
      severity: "error",
      comment: "A cycle makes two modules one; break it by moving the shared part down.",
      from: {},
      to: { circular: true },
    },
    {
      name: "github-is-low",
      severity: "error",
      comment: "The GitHub layer reads and writes GitHub; it knows nothing of who calls it.",
      from: { path: "^src/(github|lock|trust|config|actions)/" },
      to: { path: "^src/(dispatch|executor|lifecycle|handlers|cli|notify|observability)/|^src/(index|main|router)\\.ts$" },
    },
    {
      name: "pure-is-pure",
      severity: "error",
      comment: "A pure module imports only pure modules: no Node I/O, no Octokit, no Probot, no module that does I/O.",
      from: { path: PURE },
      to: { pathNot: [...PURE, "^node_modules/(zod|yaml|picomatch)/"], dependencyTypesNot: ["type-only"] },
    },
    {
      name: "pure-types-are-pure",
      severity: "error",
      comment: "Even a pure module's types come from pure modules, so its API never names an I/O module's types.",
      from: { path: PURE },
      to: { path: "^src/", pathNot: PURE },
    },
    {
      name: "contract-is-narrow",
      severity: "error",
      comment: "The dispatch↔executor contract names only its own types, the repository config and the repository reference.",
      from: { path: "^src/run-contract/" },
      to: { path: "^src/", pathNot: ["^src/run-contract/", "^src/config/repo-config\\.ts$", "^src/github/types\\.ts$"] },
    },
    {
      name: "executor-sees-only-the-contract",
      severity: "error",
      comment: "An executor is called through run-contract/; it does not reach into dispatch, the lifecycle or the handlers.",
      from: { path: "^src/executor/" },
      to: { path: "^src/(dispatch|lifecycle|handlers|cli)/|^src/(index|main|router)\\.ts$" },
    },
    {
      name: "dispatch-sees-only-the-contract",
      severity: "error",
      comment: "Dispatch runs any executor through run-contract/, never the App's executor's internals.",
      from: { path: "^src/dispatch/" },
      to: { path: "^src/(executor|handlers|cli)/|^src/(index|main|router)\\.ts$" },
    },
    {
      name: "handlers-stay-thin",
      severity: "error",
      comment: "A webhook handler turns a payload into an intent and hands it to dispatch.",
      from: { path: "^src/handlers/" },
      to: { path: "^src/(executor|lock|progress|lifecycle)/" },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: { exportsFields: ["exports"], conditionNames: ["import", "require", "node", "default", "types"], extensions: [".ts", ".js"] },
    moduleSystems: ["es6"],
  },
};
