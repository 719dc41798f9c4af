import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** The prompts afk has, one file each in `prompts/`: two system prompts (a job that changes code, a read-only job) and one task per job kind. */
export type PromptName = "system" | "system-read-only" | "implement" | "gate-failed" | "fix-ci" | "address-review" | "plan" | "ask";

/** `prompts/` at the package root: two levels up from this file in `src/executor/` and in `dist/executor/`. */
export const PROMPTS_DIR = fileURLToPath(new URL("../../prompts/", import.meta.url));
const SLOT = /\{\{([a-z_]+)\}\}/g;

/**
 * Fills a prompt's `{{slot}}`s. A slot the prompt names but the caller does not fill, or a value the
 * prompt has no slot for, is an error naming the file and the slot: a prompt never goes out with a
 * hole in it. Values are inserted once; a `{{...}}` inside a value is left as text.
 *
 * `promptsDir` picks another prompt set (`afk eval --compare` measures one against afk's own). Such a
 * set may leave out slots newer prompts use (an older set stays usable as a baseline); a slot it names
 * that the caller does not fill is still an error.
 */
export async function renderPrompt(name: PromptName, slots: Readonly<Record<string, string>>, promptsDir: string = PROMPTS_DIR): Promise<string> {
  const own = promptsDir === PROMPTS_DIR;
  const file = own ? `prompts/${name}.md` : join(promptsDir, `${name}.md`);
  const template = await readFile(join(promptsDir, `${name}.md`), "utf8");
  const named = new Set(Array.from(template.matchAll(SLOT), (match) => match[1] ?? ""));
  const missing = [...named].filter((slot) => !(slot in slots));
  if (missing.length > 0) throw new Error(`${file} needs ${missing.map((slot) => `{{${slot}}}`).join(", ")}, which the caller did not fill`);
  const unknown = Object.keys(slots).filter((slot) => !named.has(slot));
  if (own && unknown.length > 0) throw new Error(`${file} has no slot ${unknown.map((slot) => `{{${slot}}}`).join(", ")}`);
  return template.replace(SLOT, (_match, slot: string) => slots[slot] ?? "");
}
