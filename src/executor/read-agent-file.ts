import { randomBytes } from "node:crypto";
import { constants, existsSync, type Stats } from "node:fs";
import { mkdir, open, readdir, rename, unlink, type FileHandle } from "node:fs/promises";
import { isAbsolute, join, relative, sep } from "node:path";

// Every file the agent can write is the attacker's: afk's own process (which holds the App's
// secrets in its environment) touches one only through this module. Invariants:
// - No symbolic link is ever followed. The path is walked from the worktree root one component at a
//   time with O_NOFOLLOW, and each next name is opened relative to the directory already open
//   (through /proc/self/fd), so swapping a directory or the file for a link between afk's checks and
//   its read changes nothing: the swapped-in link is refused, never followed.
// - Nothing but a regular file or a directory is read, decided by fstat on the opened descriptor; a
//   FIFO is opened O_NONBLOCK, so it can neither block afk nor be read.
// - No read is unbounded: a whole file above its cap is refused before one byte is read, and a line
//   range streams and stops at its own caps, so afk's memory does not grow with the file.
// - A write never goes through an existing name: the text goes to a new file (O_CREAT | O_EXCL) in
//   the same directory, which is renamed over the name. A link or hard link planted there is replaced,
//   never written through.

const { O_RDONLY, O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW, O_NONBLOCK, O_NOCTTY, O_DIRECTORY } = constants;
const READ_FLAGS = O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY;
const DIRECTORY_FLAGS = O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_DIRECTORY;
/** Linux's per-descriptor links: a name under `/proc/self/fd/N/` is resolved in the directory open as N. */
const DESCRIPTOR_LINKS = existsSync("/proc/self/fd") ? "/proc/self/fd" : undefined;
const CHUNK_BYTES = 1 << 20;

/** Why afk refused a file the agent controls. */
export type RefusalReason = "missing" | "link" | "not-regular" | "too-large" | "outside" | "range";

/** afk did not read or write a file the agent controls; the message says why in words the model can act on. */
export class AgentFileRefusal extends Error {
  override readonly name = "AgentFileRefusal";
  constructor(
    readonly reason: RefusalReason,
    message: string,
  ) {
    super(message);
  }
}

/** A size in the units people read: `1.5 GB`, `4 MB`, `512 bytes`. */
export function formatSize(bytes: number): string {
  const units = ["KB", "MB", "GB", "TB"];
  if (bytes < 1024) return `${bytes} bytes`;
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  const shown = value >= 10 || Number.isInteger(value) ? String(Math.round(value)) : value.toFixed(1);
  return `${shown} ${units[unit] ?? "TB"}`;
}

/** Lines `from` to `to` of a file (1-based, inclusive), as far as `readLines` went. */
export interface LinesRead {
  /** The lines, without their newline; the last may be cut short when `stoppedAt` is set. */
  lines: string[];
  /** The file's line count (newlines + 1), known when the read reached the end of the file. */
  total: number | undefined;
  /** The line at which the read stopped because the text reached `maxChars`. */
  stoppedAt: number | undefined;
}

/** A directory open inside the worktree, and the path through which names in it are reached. */
interface OpenDirectory {
  handle: FileHandle;
  /** `/proc/self/fd/N`, or the directory's path where the system has no descriptor links. */
  via: string;
}

/**
 * A regular file or directory inside the worktree, opened by afk without following a link and
 * without blocking. Close it when done.
 */
export class AgentEntry {
  readonly #handle: FileHandle;
  readonly #stats: Stats;
  /** The path as the model named it after confinement, for messages and listings. */
  readonly path: string;

  constructor(handle: FileHandle, stats: Stats, path: string) {
    this.#handle = handle;
    this.#stats = stats;
    this.path = path;
  }

  get kind(): "file" | "directory" {
    return this.#stats.isDirectory() ? "directory" : "file";
  }

  /** Size in bytes, as fstat saw it on open. */
  get size(): number {
    return this.#stats.size;
  }

  /** Permission bits, so a rewrite keeps an executable executable. */
  get mode(): number {
    return this.#stats.mode & 0o777;
  }

  /**
   * The whole file as UTF-8, refused above `maxBytes` before anything is read. `tooLarge(size, cap)`
   * words the refusal (what to do instead). A file that grows past the cap while read is refused too.
   */
  async readText(maxBytes: number, tooLarge: (size: string, cap: string) => string): Promise<string> {
    this.#requireFile();
    const refuse = (size: number) => new AgentFileRefusal("too-large", tooLarge(formatSize(size), formatSize(maxBytes)));
    if (this.#stats.size > maxBytes) throw refuse(this.#stats.size);
    const buffer = Buffer.alloc(Math.min(maxBytes + 1, Math.max(this.#stats.size + 1, 1)));
    let filled = 0;
    for (;;) {
      if (filled === buffer.length) {
        if (buffer.length > maxBytes) throw refuse(filled);
        break;
      }
      const { bytesRead } = await this.#handle.read(buffer, filled, buffer.length - filled, filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    return buffer.subarray(0, filled).toString("utf8");
  }

  /**
   * Lines `from` to `to` (`to` = -1: to the end), streamed: only the bytes up to the end of line `to`
   * are read, at most `maxScanBytes` of them, and at most `maxChars` bytes of text are kept (the read
   * stops there and says so in `stoppedAt`). Memory stays within one chunk plus `maxChars`.
   */
  async readLines(from: number, to: number, limits: { maxScanBytes: number; maxChars: number }): Promise<LinesRead> {
    this.#requireFile();
    const lines: string[] = [];
    const chunk = Buffer.alloc(Math.min(CHUNK_BYTES, Math.max(limits.maxScanBytes, 1)));
    let current: Buffer[] = [];
    let kept = 0;
    let line = 1;
    let position = 0;
    const finishLine = (): void => {
      lines.push(Buffer.concat(current).toString("utf8"));
      current = [];
    };
    // Keeps chunk[start, end) if the current line is in the range; false once maxChars is reached.
    const keep = (start: number, end: number): boolean => {
      if (line < from || end === start) return true;
      const room = Math.max(limits.maxChars - kept, 0);
      const taken = Math.min(end - start, room);
      current.push(Buffer.from(chunk.subarray(start, start + taken)));
      kept += taken;
      return taken === end - start;
    };
    for (;;) {
      const wanted = Math.min(chunk.length, limits.maxScanBytes - position);
      if (wanted <= 0 && position < this.#stats.size) {
        const last = to === -1 ? "$" : String(to);
        throw new AgentFileRefusal(
          "range",
          `${this.path} is ${formatSize(this.#stats.size)}; view_range reads at most its first ${formatSize(limits.maxScanBytes)} (${line - 1} lines there), and line ${to === -1 ? "-1 (the end)" : to} lies beyond. Use bash instead: sed -n '${from},${last}p' or tail -n.`,
        );
      }
      const { bytesRead } = wanted <= 0 ? { bytesRead: 0 } : await this.#handle.read(chunk, 0, wanted, position);
      if (bytesRead === 0) {
        if (line >= from) finishLine();
        return { lines, total: line, stoppedAt: undefined };
      }
      position += bytesRead;
      let start = 0;
      for (;;) {
        const newline = chunk.indexOf(10, start);
        const end = newline === -1 || newline >= bytesRead ? bytesRead : newline;
        if (!keep(start, end)) {
          finishLine();
          return { lines, total: undefined, stoppedAt: line };
        }
        if (end === bytesRead) break;
        if (line >= from) finishLine();
        if (line === to) return { lines, total: undefined, stoppedAt: undefined };
        line += 1;
        start = end + 1;
      }
    }
  }

  /**
   * The directory's entries `depth` levels deep, one path a line (directories end in `/`), without
   * dot files and node_modules. A subdirectory is entered only if it is still a directory when opened.
   */
  async list(depth: number): Promise<string[]> {
    if (this.kind !== "directory") throw new AgentFileRefusal("not-regular", `${this.path} is not a directory.`);
    return listDirectory({ handle: this.#handle, via: viaOf(this.#handle, this.path) }, this.path, depth);
  }

  async close(): Promise<void> {
    await this.#handle.close();
  }

  #requireFile(): void {
    if (this.kind !== "file") throw new AgentFileRefusal("not-regular", `${this.path} is a directory, not a file.`);
  }
}

/**
 * Opens `path` (absolute, inside `root`, which is the worktree's real path) for reading: a regular
 * file or a directory, never through a symbolic link and never blocking. Refusals are
 * `AgentFileRefusal`s whose message the model can act on.
 */
export async function openAgentEntry(path: string, root: string): Promise<AgentEntry> {
  const names = namesUnder(root, path);
  const last = names.pop();
  const parent = await walkTo(root, names, path, false);
  try {
    if (last === undefined) return await entryOf(parent.handle, path);
    return await entryOf(await openName(parent, last, READ_FLAGS, path), path);
  } finally {
    if (last !== undefined) await parent.handle.close();
  }
}

/** The whole text of a regular file the agent controls, with its permission bits (see `AgentEntry.readText`). */
export async function readAgentFile(
  path: string,
  root: string,
  maxBytes: number,
  tooLarge: (size: string, cap: string) => string,
): Promise<{ text: string; mode: number }> {
  const entry = await openAgentEntry(path, root);
  try {
    return { text: await entry.readText(maxBytes, tooLarge), mode: entry.mode };
  } finally {
    await entry.close();
  }
}

/**
 * Makes `path` (inside `root`) hold `text`: written to a new file in the same directory and renamed
 * over the name, so a link or another file planted at the name is replaced, never written through.
 * A symbolic link or non-file already at the name is refused. Missing directories are made when
 * `createDirectories` is set, each one inside the one before. `mode` defaults to the replaced file's.
 */
export async function writeAgentFile(path: string, text: string, root: string, options: { mode?: number; createDirectories?: boolean } = {}): Promise<void> {
  const names = namesUnder(root, path);
  const name = names.pop();
  if (name === undefined) throw new AgentFileRefusal("not-regular", `${path} is the repository's root directory, not a file.`);
  const parent = await walkTo(root, names, path, options.createDirectories ?? false);
  try {
    let mode = options.mode;
    const existing = await openName(parent, name, READ_FLAGS, path).catch((error: unknown) => {
      if (error instanceof AgentFileRefusal && error.reason === "missing") return undefined;
      throw error;
    });
    if (existing !== undefined) {
      const stats = await existing.stat().finally(() => existing.close());
      if (!stats.isFile()) throw new AgentFileRefusal("not-regular", `${path} is not a regular file; afk writes only regular files.`);
      mode ??= stats.mode & 0o777;
    }
    const temporary = `.afk-write-${randomBytes(8).toString("hex")}`;
    const handle = await open(join(parent.via, temporary), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o666);
    try {
      try {
        await handle.writeFile(text, "utf8");
        if (mode !== undefined) await handle.chmod(mode);
      } finally {
        await handle.close();
      }
      await rename(join(parent.via, temporary), join(parent.via, name));
    } catch (error) {
      await unlink(join(parent.via, temporary)).catch(() => undefined);
      throw error;
    }
  } finally {
    await parent.handle.close();
  }
}

/** The names from `root` down to `path`; refuses a path outside `root` or inside its `.git`. */
function namesUnder(root: string, path: string): string[] {
  const inside = relative(root, path);
  if (inside === "") return [];
  if (inside.startsWith("..") || isAbsolute(inside)) throw new AgentFileRefusal("outside", `${path} is outside the repository (${root}).`);
  const names = inside.split(sep);
  if (names[0] === ".git") throw new AgentFileRefusal("outside", `${path} is inside .git; afk manages git itself.`);
  return names;
}

/** Opens `root`, then each of `names` inside the one before, none of them a link. */
async function walkTo(root: string, names: readonly string[], path: string, create: boolean): Promise<OpenDirectory> {
  const rootHandle = await open(root, DIRECTORY_FLAGS);
  let directory: OpenDirectory = { handle: rootHandle, via: viaOf(rootHandle, root) };
  let walked = root;
  try {
    for (const name of names) {
      walked = join(walked, name);
      if (create) {
        await mkdir(join(directory.via, name)).catch((error: unknown) => {
          if (codeOf(error) !== "EEXIST") throw error;
        });
      }
      const handle = await openName(directory, name, DIRECTORY_FLAGS, path, walked);
      await directory.handle.close();
      directory = { handle, via: viaOf(handle, walked) };
    }
    return directory;
  } catch (error) {
    await directory.handle.close();
    throw error;
  }
}

/** Opens one name inside an open directory, mapping the system's refusals to the model's words. */
async function openName(directory: OpenDirectory, name: string, flags: number, path: string, component = path): Promise<FileHandle> {
  try {
    return await open(join(directory.via, name), flags);
  } catch (error) {
    const code = codeOf(error);
    if (code === "ENOENT") throw new AgentFileRefusal("missing", `${component} does not exist.`);
    if (code === "ELOOP")
      throw new AgentFileRefusal(
        "link",
        component === path
          ? `${path} is a symbolic link; afk does not follow links in files it reads or writes. Use the path of the file it points to.`
          : `${path} leads through ${component}, which is a symbolic link; afk does not follow links in files it reads or writes.`,
      );
    if (code === "ENOTDIR")
      throw new AgentFileRefusal(
        "not-regular",
        `${path} leads through ${component}, which is not a directory (it is a file, or a symbolic link, which afk does not follow).`,
      );
    if (code === "ENXIO") throw new AgentFileRefusal("not-regular", `${component} is not a regular file (a socket or device); afk reads only regular files.`);
    throw error;
  }
}

/** An entry for an opened descriptor, if it is a regular file or a directory (decided by fstat, not by path); closed if not. */
async function entryOf(handle: FileHandle, path: string): Promise<AgentEntry> {
  const stats = await handle.stat();
  if (stats.isFile() || stats.isDirectory()) return new AgentEntry(handle, stats, path);
  await handle.close();
  throw new AgentFileRefusal("not-regular", `${path} is not a regular file (a FIFO, socket or device); afk reads only regular files.`);
}

async function listDirectory(directory: OpenDirectory, shownAs: string, depth: number): Promise<string[]> {
  const entries = (await readdir(directory.via, { withFileTypes: true }))
    .filter((entry) => !entry.name.startsWith(".") && entry.name !== "node_modules")
    .sort((a, b) => a.name.localeCompare(b.name));
  const lines: string[] = [];
  for (const entry of entries) {
    const shown = join(shownAs, entry.name);
    lines.push(`${shown}${entry.isDirectory() ? "/" : ""}`);
    if (!entry.isDirectory() || depth <= 1) continue;
    const handle = await open(join(directory.via, entry.name), DIRECTORY_FLAGS).catch(() => undefined);
    if (handle === undefined) continue;
    try {
      lines.push(...(await listDirectory({ handle, via: viaOf(handle, shown) }, shown, depth - 1)));
    } finally {
      await handle.close();
    }
  }
  return lines;
}

/** The path through which names inside an open directory are resolved against that very directory. */
function viaOf(handle: FileHandle, path: string): string {
  return DESCRIPTOR_LINKS === undefined ? path : join(DESCRIPTOR_LINKS, String(handle.fd));
}

function codeOf(error: unknown): string | undefined {
  return typeof error === "object" && error !== null && "code" in error && typeof error.code === "string" ? error.code : undefined;
}
