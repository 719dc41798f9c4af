import type { z } from "zod";
import { repoConfigJsonSchema, repoConfigSchema, type RepoConfig } from "./repo-config.js";
import { firstLine } from "../github/types.js";

/** One thing wrong with `.github/afk.yml`, phrased for the person who has to fix it. */
export interface ConfigProblem {
  /** Dotted path of the field, or `(file)` for the file as a whole. */
  field: string;
  /** What is wrong with it. */
  problem: string;
  /** What the field accepts. */
  allowed: string;
}

export type RepoConfigResult =
  | { kind: "ok"; config: RepoConfig }
  | { kind: "missing" }
  | { kind: "invalid"; problems: ConfigProblem[] }
  | { kind: "unreadable"; message: string };

export const CONFIG_PATH = ".github/afk.yml";

/**
 * Reads and validates `.github/afk.yml`. `readFile` is Probot's
 * `context.config("afk.yml")` (so `_extends` and the owner's `.github`
 * repository work); it resolves to `null` when no file exists.
 * Never throws: every outcome is a value the caller reports.
 */
export async function loadRepoConfig(readFile: () => Promise<unknown>): Promise<RepoConfigResult> {
  let raw: unknown;
  try {
    raw = await readFile();
  } catch (error) {
    return readFailure(error);
  }
  if (raw === null || raw === undefined) return { kind: "missing" };
  return parseRepoConfig(raw);
}

/** Validates an already-parsed config object. */
export function parseRepoConfig(raw: unknown): RepoConfigResult {
  const parsed = repoConfigSchema.safeParse(raw);
  if (parsed.success) return { kind: "ok", config: parsed.data };
  return { kind: "invalid", problems: parsed.error.issues.flatMap(describeIssue) };
}

function readFailure(error: unknown): RepoConfigResult {
  const status = typeof error === "object" && error !== null && "status" in error ? error.status : undefined;
  const message = error instanceof Error ? error.message : String(error);
  if (typeof status === "number") {
    return { kind: "unreadable", message: `GitHub answered ${status} when afk read ${CONFIG_PATH}: ${message}` };
  }
  // Probot's config plugin parses YAML itself; a parse failure arrives here as a plain Error.
  return {
    kind: "invalid",
    problems: [{ field: "(file)", problem: `is not valid YAML: ${firstLine(message)}`, allowed: "a YAML mapping such as `test: npm test`" }],
  };
}

function describeIssue(issue: z.core.$ZodIssue): ConfigProblem[] {
  const path = issue.path.map(String);
  if (issue.code === "unrecognized_keys") {
    const known = Object.keys(schemaAt(path)?.properties ?? {});
    return issue.keys.map((key) => ({
      field: [...path, key].join("."),
      problem: "is not a known field",
      allowed: known.length > 0 ? `one of: ${known.join(", ")}` : "no fields here",
    }));
  }
  const field = path.length > 0 ? path.join(".") : "(file)";
  const problem =
    issue.code === "invalid_value"
      ? `is not one of the allowed values`
      : issue.message
          .replace(/^Invalid input: /, "")
          .replace(/^expected (\w+), received (\w+)$/, (_match, expected: string, received: string) => `expected ${typeName(expected)}, got ${typeName(received)}`);
  return [{ field, problem, allowed: describeAllowed(path) }];
}

interface JsonSchemaNode {
  type?: string | string[];
  description?: string;
  default?: unknown;
  enum?: unknown[];
  properties?: Record<string, JsonSchemaNode>;
  items?: JsonSchemaNode;
  anyOf?: JsonSchemaNode[];
}

let cachedJsonSchema: JsonSchemaNode | undefined;

function schemaAt(path: string[]): JsonSchemaNode | undefined {
  cachedJsonSchema ??= repoConfigJsonSchema() as JsonSchemaNode;
  let node: JsonSchemaNode | undefined = cachedJsonSchema;
  for (const segment of path) {
    if (node === undefined) return undefined;
    node = /^\d+$/.test(segment) ? node.items : node.properties?.[segment];
  }
  return node;
}

function describeAllowed(path: string[]): string {
  if (path.length === 0) return "a YAML mapping such as `test: npm test`";
  const node = schemaAt(path);
  if (node === undefined) return "see the configuration reference in the README";
  const parts: string[] = [];
  if (node.enum) parts.push(`one of ${node.enum.map((value) => JSON.stringify(value)).join(", ")}`);
  else if (node.type) parts.push((Array.isArray(node.type) ? node.type : [node.type]).map(typeName).join(" or "));
  if (node.default !== undefined) parts.push(`default ${JSON.stringify(node.default)}`);
  const what = parts.join(", ");
  return node.description ? `${what}: ${node.description.replace(/\.$/, "")}` : what;
}

const TYPE_NAMES: Record<string, string> = {
  object: "a mapping",
  array: "a list",
  string: "a string",
  number: "a number",
  integer: "a whole number",
  boolean: "true or false",
  null: "nothing",
};

function typeName(type: string): string {
  return TYPE_NAMES[type] ?? type;
}

