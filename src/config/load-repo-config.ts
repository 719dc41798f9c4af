import type { z } from "zod";
import { repoConfigJsonSchema, repoConfigSchema, type ConfigProblem, type RepoConfig } from "./repo-config.js";
import { firstLine } from "../github/types.js";

export type RepoConfigResult =
  { kind: "ok"; config: RepoConfig } | { kind: "missing" } | { kind: "invalid"; problems: ConfigProblem[] } | { kind: "unreadable"; message: string };

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

/** Problems listed at most: the list goes into one issue comment, which GitHub caps at 65,536 characters. */
const MAX_PROBLEMS = 20;
const FILE_ALLOWED = "a YAML mapping such as `test: npm test`";

/** Validates an already-parsed config object. */
export function parseRepoConfig(raw: unknown): RepoConfigResult {
  const parsed = repoConfigSchema.safeParse(raw);
  if (parsed.success) return { kind: "ok", config: parsed.data };
  const problems = parsed.error.issues.flatMap(describeIssue);
  if (problems.length <= MAX_PROBLEMS) return { kind: "invalid", problems };
  const more = problems.length - (MAX_PROBLEMS - 1);
  return {
    kind: "invalid",
    problems: [
      ...problems.slice(0, MAX_PROBLEMS - 1),
      {
        field: "(file)",
        problem: `has ${more.toLocaleString("en-US")} more problems like these, not listed here`,
        allowed: "fix the ones above, then add the label again to see the rest",
      },
    ],
  };
}

const PLUGIN_PREFIX = "[@probot/octokit-plugin-config] ";

function readFailure(error: unknown): RepoConfigResult {
  const status = typeof error === "object" && error !== null && "status" in error ? error.status : undefined;
  const message = error instanceof Error ? error.message : String(error);
  if (typeof status === "number") {
    return { kind: "unreadable", message: `GitHub answered ${status} when afk read ${CONFIG_PATH}: ${message}` };
  }
  // Probot's config plugin parses the YAML itself; its errors arrive here as plain Errors, a parse
  // failure with the parser's error (which says where: line and column) as its cause.
  if (message.includes("(YAML is not an object)")) return invalidFile("is a single value, not a mapping of fields");
  const extendsValue = /Invalid value ([\s\S]*) for _extends in /.exec(message)?.[1];
  if (extendsValue !== undefined) {
    return {
      kind: "invalid",
      problems: [
        {
          field: "_extends",
          problem: `${bounded(extendsValue, 100)} does not name a repository`,
          allowed: "a repository of the same owner (`repo`), `owner/repo`, or `owner/repo:path/to/file.yml`",
        },
      ],
    };
  }
  if (message.startsWith(PLUGIN_PREFIX) && !message.includes("(invalid YAML)")) {
    return invalidFile(`could not be read: ${bounded(firstLine(message.slice(PLUGIN_PREFIX.length)), 300)}`);
  }
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause.message : undefined;
  return invalidFile(`is not valid YAML: ${bounded(firstLine(cause ?? message).replace(/:$/, ""), 300)}`);
}

function invalidFile(problem: string): RepoConfigResult {
  return { kind: "invalid", problems: [{ field: "(file)", problem, allowed: FILE_ALLOWED }] };
}

/** `text` cut to `max` characters, with an ellipsis when it was longer. */
function bounded(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** A field's path as a person reads it: `budget.max_usd`; a key that is not a plain word is quoted. */
function fieldName(path: string[]): string {
  return bounded(path.map((segment) => (/^[\w-]+$/.test(segment) ? segment : JSON.stringify(segment))).join("."), 100);
}

function describeIssue(issue: z.core.$ZodIssue): ConfigProblem[] {
  const path = issue.path.map(String);
  if (issue.code === "unrecognized_keys") {
    const known = Object.keys(schemaAt(path)?.properties ?? {});
    return issue.keys.map((key) => ({
      field: fieldName([...path, key]),
      problem: "is not a known field",
      allowed: known.length > 0 ? `one of: ${known.join(", ")}` : "no fields here",
    }));
  }
  const field = path.length > 0 ? fieldName(path) : "(file)";
  const problem =
    issue.code === "invalid_value"
      ? `is not one of the allowed values`
      : issue.message
          .replace(/^Invalid input: /, "")
          .replace(/^expected (\w+), received (\w+)$/, (_match, expected: string, received: string) =>
            received === "undefined" ? `is required but missing (expected ${typeName(expected)})` : `expected ${typeName(expected)}, got ${typeName(received)}`,
          );
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
  if (path.length === 0) return FILE_ALLOWED;
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
