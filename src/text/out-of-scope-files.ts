/** A new file of a change that looks outside its evident scope, and why, for a reviewer to check. */
export interface OutOfScopeFile {
  path: string;
  why: string;
}

/** Leftovers of merge tools, patch, editors, shells and operating systems, by whole name or ending. */
const LEFTOVER = /(\.(orig|rej|log|tmp|temp|bak|swp|swo|pyc)|~)$|^(\.DS_Store|Thumbs\.db|nohup\.out|core(\.\d+)?)$/i;
/** `scratch…`, or `tmp` / `temp` as a whole word (`tmp.py`, `temp_2.js`, `tmp/`; not `template.ts`). */
const SCRATCH = /^(scratch|(tmp|temp)([._\-\d]|$))/i;
/** `debug` or `repro` as a whole word, or `reproduce…` / `reproduction…` (`debug.js`, `repro_12.py`, `reproduce_issue.sh`). */
const DEBUG_OR_REPRO = /^((debug|repro)([._\-\d]|$)|reproduc(e|tion))/i;
/** `notes.md`, `NOTES.txt`, `notes-2.md`, `TODO.md`: a working note, not documentation. */
const NOTES = /^(notes?|todo)([._\-\d][^/]*)?\.(md|txt)$/i;
/** A folder of tests, or a file named as a test: where a reproduction belongs. */
const TEST_FOLDER = /^(tests?|__tests__|spec|specs|testing|e2e|integration)$/i;
const TEST_FILE = /(^test_.*\.py$)|([._-](test|spec)\.[^.]+$)|(_test\.[^.]+$)/i;
/** Documents a repository conventionally keeps at its root, whatever else is there. */
const ROOT_DOCUMENT =
  /^(readme|changelog|changes|history|license|licence|copying|notice|authors|contributors|contributing|security|code_of_conduct|maintainers)(\.[^.]+)?$/i;

/**
 * The files a change adds that lie outside its evident scope, for the pull request to name (a person
 * decides; nothing is refused or removed). afk commits every file of the worktree, so this is where a
 * scratch file the agent forgot shows. Only new files are judged (a file the repository already has
 * is its own), each once, in the order given. A new file is named when:
 * - its name is a tool's or an editor's leftover: `*.orig`, `*.rej`, `*.log`, `*.tmp`, `*.temp`,
 *   `*.bak`, `*.swp`, `*.swo`, `*.pyc`, `*~`, `.DS_Store`, `Thumbs.db`, `nohup.out`, `core`;
 * - its name or one of its folders says scratch: starting with `scratch`, or with `tmp` / `temp` as
 *   a whole word (`tmp.py`, `temp_1.js`, `tmp/x`; not `template.ts`);
 * - it is a debugging or reproduction script outside the tests: its name starts with `debug` or
 *   `repro` as a whole word, or with `reproduce` / `reproduction`, and no folder of its path is a
 *   test folder (`test`, `tests`, `__tests__`, `spec`, `specs`, `testing`, `e2e`, `integration`)
 *   and its name is not a test's (`*.test.*`, `*.spec.*`, `*_test.*`, `test_*.py`);
 * - it is a working note: `notes*.md`, `note*.txt`, `todo*.md` (anywhere);
 * - it sits at the repository's root, is not a conventional root document (README, CHANGELOG,
 *   LICENSE, CONTRIBUTING, SECURITY...), and no file at the root of the base commit (`baseRoot`) is
 *   of its kind: the same extension, a dotfile for a dotfile, the same whole name for a name
 *   without an extension. A new `CHANGELOG.md` or a second `*.config.js` beside one is explained by
 *   the root's own convention; a lone `fix.py` at the root of a JavaScript package is not.
 * Pure: names are compared as text, never opened.
 */
export function outOfScopeFiles(added: readonly string[], baseRoot: readonly string[]): OutOfScopeFile[] {
  const rootKinds = new Set(baseRoot.map(kindOf));
  const named: OutOfScopeFile[] = [];
  const seen = new Set<string>();
  for (const path of added) {
    if (seen.has(path)) continue;
    seen.add(path);
    const why = whyOutOfScope(path, rootKinds);
    if (why !== undefined) named.push({ path, why });
  }
  return named;
}

function whyOutOfScope(path: string, rootKinds: ReadonlySet<string>): string | undefined {
  const segments = path.split("/").filter((segment) => segment.length > 0);
  const name = segments.at(-1) ?? path;
  const folders = segments.slice(0, -1);
  if (LEFTOVER.test(name)) return "a tool's or an editor's leftover";
  if (SCRATCH.test(name) || folders.some((folder) => SCRATCH.test(folder))) return "named as scratch";
  const inTests = folders.some((folder) => TEST_FOLDER.test(folder)) || TEST_FILE.test(name);
  if (DEBUG_OR_REPRO.test(name) && !inTests) return "a debugging or reproduction script outside the tests";
  if (NOTES.test(name)) return "a working note";
  if (folders.length === 0 && !ROOT_DOCUMENT.test(name) && !rootKinds.has(kindOf(name))) return "new at the repository's root, unlike any file there";
  return undefined;
}

/** What kind of root file a name is: its extension, `.` for a dotfile, or its whole name when it has no extension. */
function kindOf(name: string): string {
  if (name.startsWith(".")) return ".";
  const dot = name.lastIndexOf(".");
  return (dot > 0 ? name.slice(dot) : name).toLowerCase();
}
