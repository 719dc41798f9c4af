import picomatch from "picomatch";

/**
 * Markers that make GitHub Actions (and most CI services) skip a commit. A change afk pushes must
 * always be tested by CI, so none may appear in a commit message afk writes.
 */
const CI_SKIP_MARKERS = /\[(?:skip ci|ci skip|no ci|skip actions|actions skip)\]|\*\*\*NO_CI\*\*\*|^skip-checks:\s*true\s*$/gim;

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

/** Removes CI-skip markers from text afk did not write (an issue title, the agent's summary). */
export function withoutCiSkipMarkers(text: string): string {
  return text.replace(CI_SKIP_MARKERS, "").replace(/[ \t]{2,}/g, " ");
}

/** Why afk will not push a change, in words for the issue and the check run; undefined when it may. */
export function pushRefusal(input: { changedFiles: readonly string[]; protectedPaths: readonly string[]; commitMessage: string }): string | undefined {
  const touched = protectedChanges(input.changedFiles, input.protectedPaths);
  if (touched.length > 0) {
    const shown = touched.slice(0, 10).map((file) => `\`${file}\``).join(", ");
    const more = touched.length > 10 ? ` and ${touched.length - 10} more` : "";
    return `The change touches protected paths (${shown}${more}), which \`protected_paths\` in .github/afk.yml forbids afk to change, so nothing was pushed. A person must make that part of the change.`;
  }
  const markers = ciSkipMarkers(input.commitMessage);
  if (markers.length > 0) return `The commit message carries a CI-skip marker (${markers.join(", ")}), so nothing was pushed: afk never pushes a change CI would not test.`;
  return undefined;
}
