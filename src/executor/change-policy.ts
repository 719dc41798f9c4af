import picomatch from "picomatch";

/**
 * Markers that make GitHub Actions (and most CI services) skip a commit. A change afk pushes must
 * always be tested by CI, so none may appear in a commit message afk writes.
 */
const CI_SKIP_MARKERS = /\[(?:skip ci|ci skip|no ci|skip actions|actions skip)\]|\*\*\*NO_CI\*\*\*|^skip-checks:\s*true\s*$/gim;

/** The largest file a change afk pushes may hold (GitHub refuses files over 100 MB; it warns over 50 MB). */
export const MAX_CHANGED_FILE_BYTES = 50_000_000;

/** Paths for a message: the first ten in backticks, then how many more. Pure. */
export function namedPaths(paths: readonly string[]): string {
  const shown = paths
    .slice(0, 10)
    .map((path) => `\`${path}\``)
    .join(", ");
  return paths.length > 10 ? `${shown} and ${paths.length - 10} more` : shown;
}

/** The changed files that match a protected path pattern (`protected_paths` in `.github/afk.yml`). */
export function protectedChanges(changedFiles: readonly string[], patterns: readonly string[]): string[] {
  if (patterns.length === 0) return [];
  const isProtected = picomatch([...patterns], { dot: true });
  return changedFiles.filter((file) => isProtected(file));
}

/** The CI-skip markers a text carries, as written. */
export function ciSkipMarkers(text: string): string[] {
  return [...text.matchAll(CI_SKIP_MARKERS)].map((match) => match[0]);
}

/** Passes of removal before the blunt fallback; real text needs one, nesting needs one per level. */
const MAX_REMOVAL_PASSES = 8;

/**
 * Removes CI-skip markers from text afk did not write (an issue title, the agent's summary), to a
 * fixed point: a removal that joins its neighbours into a new marker (`[skip [skip ci]ci]`) is
 * removed too. The result carries no marker and is returned unchanged by a second call. Each pass
 * is linear; text nested deeper than `MAX_REMOVAL_PASSES` (only a hostile writer does that) loses
 * every `[`, `]`, `*` and `:` instead, which no marker can be made without, so the cost stays linear.
 */
export function withoutCiSkipMarkers(text: string): string {
  let current = text;
  for (let pass = 0; pass < MAX_REMOVAL_PASSES; pass++) {
    const next = removeMarkersOnce(current);
    if (next === current) return current;
    current = next;
  }
  return removeMarkersOnce(current) === current ? current : collapseBlanks(current.replace(/[[\]*:]/g, ""));
}

function removeMarkersOnce(text: string): string {
  return collapseBlanks(text.replace(CI_SKIP_MARKERS, ""));
}

/** Runs of spaces and tabs become one space (removing a marker leaves its neighbours' blanks side by side). */
function collapseBlanks(text: string): string {
  return text.replace(/[ \t]{2,}/g, " ");
}

/** Why afk will not push a change, in words for the issue and the check run; undefined when it may. */
export function pushRefusal(input: {
  changedFiles: readonly string[];
  protectedPaths: readonly string[];
  commitMessage: string;
  largeFiles?: readonly string[];
}): string | undefined {
  const large = input.largeFiles ?? [];
  if (large.length > 0) {
    return `The change holds files larger than ${MAX_CHANGED_FILE_BYTES / 1_000_000} MB (${namedPaths(large)}), so nothing was pushed: GitHub refuses files over 100 MB, and afk does not hash or send files that size.`;
  }
  const touched = protectedChanges(input.changedFiles, input.protectedPaths);
  if (touched.length > 0) {
    return `The change touches protected paths (${namedPaths(touched)}), which \`protected_paths\` in .github/afk.yml forbids afk to change, so nothing was pushed. A person must make that part of the change.`;
  }
  const markers = ciSkipMarkers(input.commitMessage);
  if (markers.length > 0)
    return `The commit message carries a CI-skip marker (${markers.join(", ")}), so nothing was pushed: afk never pushes a change CI would not test.`;
  return undefined;
}
