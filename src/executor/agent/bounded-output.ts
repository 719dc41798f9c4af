/**
 * What the agent's tools show when their output is longer than a tool result may be: one cut, made
 * where the output is produced, with a note that says exactly how much was left out and how to see
 * it. Pure functions; the tools read the files and run the commands.
 */

/** Lines of a file as `view` shows them, some of which may not fit. */
export interface ViewLines {
  /** The file, as the model named it after confinement. */
  path: string;
  /** The lines read, the first numbered `first`. */
  lines: readonly string[];
  first: number;
  /** The last line asked for, or -1 for the end of the file. */
  last: number;
  /** The file's line count (as `view` numbers lines: newlines + 1), when afk knows it. */
  total: number | undefined;
  /** The read stopped inside the last line of `lines`, which is cut short. */
  cutShort: boolean;
  /** Characters the shown text (numbered lines and the note) may take. */
  maxChars: number;
}

/** Room kept in a view for its note, so that the note never pushes a view past `maxChars`. */
const NOTE_ROOM = 600;

/** A line as the editor tool numbers it. */
export function numberedLine(number: number, text: string): string {
  return `${String(number).padStart(6)}\t${text}`;
}

/**
 * The lines of a view, whole when they fit in `maxChars`; otherwise a window of whole lines from
 * the first, and a note with the lines shown, the lines (and, when afk read them, characters) left
 * out, the file's line count when known, and the `view_range` that shows the rest. A first line
 * longer than a view shows its head and says how to read the rest of it.
 */
export function viewWindow(view: ViewLines): string {
  const { path, lines, first, maxChars } = view;
  const numbered = lines.map((text, index) => numberedLine(first + index, text));
  const whole = numbered.join("\n");
  if (!view.cutShort && whole.length <= maxChars) return whole;

  const room = Math.max(maxChars - NOTE_ROOM, 1);
  let used = 0;
  let shown = 0;
  for (const [index, line] of numbered.entries()) {
    if (view.cutShort && index === numbered.length - 1) break;
    const cost = line.length + (index > 0 ? 1 : 0);
    if (used + cost > room) break;
    used += cost;
    shown += 1;
  }
  const end = view.last === -1 ? view.total : view.total === undefined ? view.last : Math.min(view.last, view.total);
  const of = view.total === undefined ? "" : ` of ${view.total}`;

  if (shown === 0) {
    // Not even the first line fits: its head, and how to read the rest of that line.
    const text = lines[0] ?? "";
    const keep = Math.max(room - numberedLine(first, "").length, 1);
    const lineLeft = view.cutShort && lines.length === 1 ? "the rest of it" : `its other ${text.length - keep} characters`;
    const next = end === undefined || end > first ? ` Lines after it: view_range [${first + 1}, ${view.last}].` : "";
    return (
      `${numberedLine(first, text.slice(0, keep))}\n` +
      `[afk: line ${first}${of} of ${path} is longer than a view shows: its first ${keep} characters are shown, ${lineLeft} not. ` +
      `Read it in pieces with bash: sed -n '${first}p' ${path} | cut -c ${keep + 1}-${2 * keep}.${next}]`
    );
  }

  const lastShown = first + shown - 1;
  const leftLines = end === undefined ? undefined : end - lastShown;
  const allRead = !view.cutShort && end !== undefined && lines.length === end - first + 1;
  // Each left-out line with its newline, but the file's last line has none.
  const leftChars = allRead ? lines.slice(shown).reduce((sum, line) => sum + line.length + 1, 0) - (end === view.total ? 1 : 0) : undefined;
  const left =
    leftLines === undefined
      ? `lines ${lastShown + 1} to the end of the file are not (afk did not count them: \`wc -l ${path}\` does)`
      : `lines ${lastShown + 1}–${end} (${leftLines} line${leftLines === 1 ? "" : "s"}${leftChars === undefined ? "" : `, ${leftChars} characters`}) are not`;
  return (
    `${numbered.slice(0, shown).join("\n")}\n` +
    `[afk: lines ${first}–${lastShown}${of} of ${path} are shown (a view shows at most ${maxChars} characters); ${left}. ` +
    `See them with view_range [${lastShown + 1}, ${end ?? -1}] (a window at a time), or find what you need first with bash: grep -n 'pattern' ${path}.]`
  );
}

/** A directory listing, whole when it fits in `maxChars`; otherwise its first entries and how many were left out. */
export function listingWindow(path: string, entries: readonly string[], maxChars: number): string {
  if (entries.length === 0) return "(empty directory)";
  const whole = entries.join("\n");
  if (whole.length <= maxChars) return whole;
  const room = Math.max(maxChars - NOTE_ROOM, 1);
  let used = 0;
  let shown = 0;
  for (const entry of entries) {
    if (used + entry.length + 1 > room) break;
    used += entry.length + 1;
    shown += 1;
  }
  return (
    `${entries.slice(0, shown).join("\n")}\n` +
    `[afk: ${shown} of the ${entries.length} entries two levels under ${path} are shown; the other ${entries.length - shown} are not. ` +
    `View a subdirectory, or search with bash: find ${path} -name 'pattern', or ls ${path}.]`
  );
}

/** How the sandbox marks the bytes it dropped from the middle of a command's output (sandbox.ts `collect`). */
const SANDBOX_DROPPED = /\n\n\[… (\d+) bytes of output omitted …\]\n\n/;

/**
 * A command's output whose middle the sandbox dropped, with the sandbox's marker replaced by one
 * that says how to see the whole output. Output the sandbox kept whole is returned as it is.
 */
export function explainDroppedOutput(output: string, truncated: boolean): string {
  if (!truncated) return output;
  return output.replace(
    SANDBOX_DROPPED,
    (_marker, bytes: string) =>
      `\n\n[afk: ${bytes} bytes of output were left out here (the head and the tail are shown). To see them, run the command again with its output in a file, ` +
      `\`command > ~/out.txt 2>&1\`, then read parts of it: \`grep -n 'pattern' ~/out.txt\`, \`sed -n '200,300p' ~/out.txt\`.]\n\n`,
  );
}

/**
 * The last bound on any tool result: at most `max` characters, head and tail kept, and a note with
 * the exact number of characters left out and `hint`, how to see them. Tools shape their own output
 * to fit first (a view's window, a command's output), so this cuts only what no tool bounded.
 */
export function cutMiddle(text: string, max: number, hint: string): string {
  if (text.length <= max) return text;
  const note = (omitted: number): string => `\n\n[afk: ${omitted} characters of this result were left out here. ${hint}]\n\n`;
  const room = Math.max(max - note(text.length).length, 2);
  const head = Math.floor(room * 0.4);
  const tail = room - head;
  return `${text.slice(0, head)}${note(text.length - head - tail)}${text.slice(text.length - tail)}`;
}
