import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import addFormatsModule from "ajv-formats";

/**
 * Checks REST requests (and, for the emulator's own sake, responses) against
 * GitHub's published OpenAPI description of api.github.com, so an in-memory
 * GitHub can refuse whatever the real one would not accept.
 *
 * The description is OpenAPI 3.0.3: `nullable: true` is not JSON Schema, so
 * schemas are rewritten before Ajv sees them (see `toJsonSchema`).
 */

export interface RequestToValidate {
  method: string;
  /** REST path without the `/api/v3` prefix and without the query string. Segments may be percent-encoded. */
  path: string;
  query: Record<string, string>;
  body: unknown;
}

export type RequestValidation =
  | {
      ok: true;
      operationId: string;
      /** The description's path template, e.g. `/repos/{owner}/{repo}/git/ref/{ref}`. */
      template: string;
      /** Decoded path parameters, e.g. `{ owner: "o", repo: "r", ref: "afk/lock" }`. */
      params: Record<string, string>;
    }
  | { ok: false; error: string };

export type ResponseValidation = { ok: true } | { ok: false; error: string };

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

// ---------------------------------------------------------------------------
// Loading the description

let loaded: JsonObject | undefined;

function description(): JsonObject {
  if (loaded === undefined) {
    const require = createRequire(import.meta.url);
    const file = require.resolve("@octokit/openapi/generated/api.github.com.json");
    const parsed: unknown = JSON.parse(readFileSync(file, "utf8"));
    if (!isObject(parsed) || !isObject(parsed.paths) || !isObject(parsed.components)) {
      throw new Error(`${file} is not an OpenAPI description`);
    }
    fixErrata(parsed.paths);
    loaded = parsed;
  }
  return loaded;
}

/**
 * Known mistakes of the bundled description, fixed where GitHub's own component schema says
 * otherwise. Only one so far: the inlined `account` of an installation (`GET /app/installations`)
 * is `allOf: [Simple User, Enterprise]`, which no account can satisfy; the `installation` component
 * schema says `anyOf`, and GitHub answers with a user or an organization.
 */
function fixErrata(node: unknown): void {
  if (Array.isArray(node)) return node.forEach(fixErrata);
  if (!isObject(node)) return;
  const parts = node.allOf;
  if (
    Array.isArray(parts) &&
    parts.length === 2 &&
    isObject(parts[0]) &&
    parts[0].title === "Simple User" &&
    isObject(parts[1]) &&
    parts[1].title === "Enterprise"
  ) {
    node.anyOf = parts;
    delete node.allOf;
  }
  Object.values(node).forEach(fixErrata);
}

/** Resolves a local JSON pointer such as `#/components/parameters/owner`. */
function resolvePointer(ref: string): unknown {
  if (!ref.startsWith("#/")) throw new Error(`Only local $refs are supported, got ${ref}`);
  let node: unknown = description();
  for (const raw of ref.slice(2).split("/")) {
    const key = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    if (!isObject(node)) throw new Error(`Cannot resolve ${ref}`);
    node = node[key];
  }
  if (node === undefined) throw new Error(`Cannot resolve ${ref}`);
  return node;
}

/** Follows `$ref`s until reaching an inline object. */
function deref(node: unknown): unknown {
  let current = node;
  for (let depth = 0; isObject(current) && typeof current.$ref === "string"; depth++) {
    if (depth > 20) throw new Error(`$ref loop at ${current.$ref}`);
    current = resolvePointer(current.$ref);
  }
  return current;
}

// ---------------------------------------------------------------------------
// Path templates

/**
 * Parameters that GitHub lets contain slashes (`git/ref/{ref}` with `heads/feature/x`,
 * `contents/{path}` with `dir/file`). Octokit percent-encodes the slashes, but a caller
 * may also send them raw, so these match one or more segments.
 */
const MULTI_SEGMENT_PARAMS = new Set(["ref", "path", "branch", "basehead", "dir", "tag"]);

interface Operation {
  method: string;
  operationId: string;
  node: JsonObject;
}

interface PathTemplate {
  template: string;
  regex: RegExp;
  names: string[];
  /** One entry per segment: true for a literal, false for a parameter. */
  literalMask: boolean[];
  literals: number;
  multiSegment: number;
  operations: Map<string, Operation>;
}

let templates: PathTemplate[] | undefined;

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** More literal segments first, then fewer multi-segment parameters, then literals earlier in the path. */
function bySpecificity(a: PathTemplate, b: PathTemplate): number {
  if (a.literals !== b.literals) return b.literals - a.literals;
  if (a.multiSegment !== b.multiSegment) return a.multiSegment - b.multiSegment;
  const length = Math.min(a.literalMask.length, b.literalMask.length);
  for (let i = 0; i < length; i++) {
    if (a.literalMask[i] !== b.literalMask[i]) return a.literalMask[i] === true ? -1 : 1;
  }
  return a.template.localeCompare(b.template);
}

function pathTemplates(): PathTemplate[] {
  if (templates !== undefined) return templates;
  const paths = description().paths;
  if (!isObject(paths)) throw new Error("OpenAPI description has no paths");
  const compiled: PathTemplate[] = [];
  for (const [template, item] of Object.entries(paths)) {
    if (!isObject(item)) continue;
    const names: string[] = [];
    const literalMask: boolean[] = [];
    let multiSegment = 0;
    const pattern = template
      .split("/")
      .slice(1)
      .map((segment) => {
        const param = /^\{([^}]+)\}$/.exec(segment);
        if (param === null || param[1] === undefined) {
          literalMask.push(true);
          return escapeRegex(segment);
        }
        literalMask.push(false);
        names.push(param[1]);
        if (MULTI_SEGMENT_PARAMS.has(param[1])) {
          multiSegment++;
          return "(.+)";
        }
        return "([^/]+)";
      })
      .join("/");
    const operations = new Map<string, Operation>();
    for (const [method, node] of Object.entries(item)) {
      if (!isObject(node) || typeof node.operationId !== "string") continue;
      operations.set(method.toUpperCase(), { method: method.toUpperCase(), operationId: node.operationId, node });
    }
    compiled.push({
      template,
      regex: new RegExp(`^/${pattern}/?$`),
      names,
      literalMask,
      literals: literalMask.filter(Boolean).length,
      multiSegment,
      operations,
    });
  }
  compiled.sort(bySpecificity);
  templates = compiled;
  return compiled;
}

function safeDecode(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}

/** The declared parameters of an operation, `$ref`s resolved. */
function parametersOf(operation: Operation): JsonObject[] {
  const list = operation.node.parameters;
  if (!Array.isArray(list)) return [];
  return list.map(deref).filter(isObject);
}

function schemaOfParameter(parameter: JsonObject): JsonObject {
  const schema = deref(parameter.schema);
  return isObject(schema) ? schema : {};
}

/** Problems with one path or query parameter value, checked against its declared schema. */
function checkParameterValue(where: string, name: string, value: string, schema: JsonObject): string | undefined {
  const enumValues = schema.enum;
  if (Array.isArray(enumValues) && !enumValues.includes(value)) {
    return `${where} parameter ${name}=${JSON.stringify(value)} must be one of ${enumValues.map((v) => JSON.stringify(v)).join(", ")}`;
  }
  switch (schema.type) {
    case "integer":
      return /^-?\d+$/.test(value) ? undefined : `${where} parameter ${name}=${JSON.stringify(value)} must be an integer`;
    case "number":
      return value.trim() !== "" && Number.isFinite(Number(value)) ? undefined : `${where} parameter ${name}=${JSON.stringify(value)} must be a number`;
    case "boolean":
      return value === "true" || value === "false" ? undefined : `${where} parameter ${name}=${JSON.stringify(value)} must be true or false`;
    default:
      return undefined;
  }
}

interface PathMatch {
  template: PathTemplate;
  params: Record<string, string>;
}

/** Every template the path matches (with well-typed path parameters), most specific first. */
function matchTemplates(path: string): PathMatch[] {
  const matches: PathMatch[] = [];
  for (const template of pathTemplates()) {
    const found = template.regex.exec(path);
    if (found === null) continue;
    const params: Record<string, string> = {};
    let fits = true;
    template.names.forEach((name, index) => {
      const decoded = safeDecode(found[index + 1] ?? "");
      if (decoded === undefined) fits = false;
      else params[name] = decoded;
    });
    if (!fits) continue;
    // A parameter declared as an integer (issue_number, comment_id, …) only matches digits,
    // so `/issues/comments` is not mistaken for issue "comments".
    const anyOperation = template.operations.values().next().value;
    if (anyOperation !== undefined) {
      for (const parameter of parametersOf(anyOperation)) {
        if (parameter.in !== "path" || typeof parameter.name !== "string") continue;
        const value = params[parameter.name];
        if (value !== undefined && schemaOfParameter(parameter).type === "integer" && !/^\d+$/.test(value)) fits = false;
      }
    }
    if (fits) matches.push({ template, params });
  }
  return matches;
}

// ---------------------------------------------------------------------------
// Schemas: OpenAPI 3.0 → JSON Schema for Ajv

const addFormats = addFormatsModule.default;
const ajv = new Ajv({ strict: false, allErrors: true });
addFormats(ajv);
// Formats GitHub's description uses that ajv-formats does not know; values are not constrained.
for (const format of ["repo.nwo", "timestamp"]) ajv.addFormat(format, true);
// GitHub's own answers carry bot addresses such as `41898282+github-actions[bot]@users.noreply.github.com`
// (a commit's author in a check suite's `head_commit`), which ajv-formats' `email` rejects.
ajv.addFormat("email", /^[^\s@]+@[^\s@]+$/);

const COMPONENT_SCHEMA_PREFIX = "#/components/schemas/";
const addedComponents = new Set<string>();

function componentId(name: string): string {
  return `https://openapi.invalid/components/schemas/${encodeURIComponent(name)}`;
}

/** Registers a component schema with Ajv under its own id, once; Ajv compiles it once and reuses it. */
function ensureComponent(name: string): string {
  const id = componentId(name);
  if (!addedComponents.has(name)) {
    addedComponents.add(name);
    const schema = toJsonSchema(resolvePointer(COMPONENT_SCHEMA_PREFIX + name));
    ajv.addSchema(isObject(schema) ? schema : {}, id);
  }
  return id;
}

const SCHEMA_MAP_KEYWORDS = new Set(["properties", "patternProperties"]);
const SCHEMA_LIST_KEYWORDS = new Set(["allOf", "anyOf", "oneOf"]);
const SCHEMA_KEYWORDS = new Set(["items", "additionalProperties", "not"]);
const DROPPED_KEYWORDS = new Set(["nullable", "discriminator", "example", "examples", "xml", "externalDocs", "deprecated"]);

/**
 * Rewrites an OpenAPI 3.0 schema into JSON Schema:
 * - `$ref: #/components/schemas/X` points at the component registered with Ajv (siblings of `$ref` are ignored, as OpenAPI 3.0 says);
 * - `nullable: true` becomes `type: [T, "null"]` (and `null` joins an `enum`), or `anyOf: [schema, {type: "null"}]`
 *   where there is no single `type`. Ajv's own `nullable` support throws on the 135 nullable schemas without a `type`
 *   and rejects `null` for the 71 nullable enums that do not list `null`.
 */
function toJsonSchema(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(toJsonSchema);
  if (!isObject(node)) return node;
  if (typeof node.$ref === "string") {
    if (node.$ref.startsWith(COMPONENT_SCHEMA_PREFIX) && !node.$ref.slice(COMPONENT_SCHEMA_PREFIX.length).includes("/")) {
      return { $ref: ensureComponent(node.$ref.slice(COMPONENT_SCHEMA_PREFIX.length)) };
    }
    return toJsonSchema(resolvePointer(node.$ref));
  }
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(node)) {
    if (DROPPED_KEYWORDS.has(key) || key.startsWith("x-")) continue;
    if (SCHEMA_MAP_KEYWORDS.has(key) && isObject(value)) {
      out[key] = Object.fromEntries(Object.entries(value).map(([name, schema]) => [name, toJsonSchema(schema)]));
    } else if (SCHEMA_LIST_KEYWORDS.has(key) && Array.isArray(value)) {
      out[key] = value.map(toJsonSchema);
    } else if (SCHEMA_KEYWORDS.has(key) && (isObject(value) || Array.isArray(value))) {
      out[key] = toJsonSchema(value);
    } else {
      out[key] = value;
    }
  }
  if (node.nullable !== true) return out;
  const composed = "allOf" in out || "anyOf" in out || "oneOf" in out || "$ref" in out || "not" in out;
  if (typeof out.type === "string" && !composed) {
    out.type = [out.type, "null"];
    if (Array.isArray(out.enum) && !out.enum.includes(null)) out.enum = [...out.enum, null];
    return out;
  }
  return { anyOf: [out, { type: "null" }] };
}

const validators = new Map<string, ValidateFunction>();

function validatorFor(key: string, schema: unknown): ValidateFunction {
  let validate = validators.get(key);
  if (validate === undefined) {
    const converted = toJsonSchema(schema);
    validate = ajv.compile(isObject(converted) ? converted : {});
    validators.set(key, validate);
  }
  return validate;
}

function formatErrors(errors: ErrorObject[] | null | undefined, dataVar: string): string {
  if (errors === null || errors === undefined || errors.length === 0) return "invalid";
  return errors
    .map((error) => {
      const params = error.keyword === "enum" || error.keyword === "additionalProperties" ? ` ${JSON.stringify(error.params)}` : "";
      return `${dataVar}${error.instancePath} ${error.message ?? error.keyword}${params}`;
    })
    .join("; ");
}

function jsonSchemaOfContent(content: unknown): unknown {
  if (!isObject(content)) return undefined;
  const json = content["application/json"];
  return isObject(json) ? json.schema : undefined;
}

// ---------------------------------------------------------------------------
// Public API

/** Finds the operation a request addresses and checks its parameters and JSON body against the description. */
export function validateRequest(req: RequestToValidate): RequestValidation {
  const method = req.method.toUpperCase();
  const path = req.path.split("?")[0] ?? req.path;
  const matches = matchTemplates(path);
  if (matches.length === 0) return { ok: false, error: `${method} ${path}: no path in GitHub's OpenAPI description matches` };
  const match = matches.find((candidate) => candidate.template.operations.has(method));
  const operation = match?.template.operations.get(method);
  if (match === undefined || operation === undefined) {
    const best = matches[0];
    const allowed = best === undefined ? "" : [...best.template.operations.keys()].join(", ");
    return { ok: false, error: `${method} ${path}: ${best?.template.template ?? "?"} does not allow ${method} (it allows ${allowed})` };
  }
  const where = `${method} ${path} (${operation.operationId}, ${match.template.template})`;
  const problems: string[] = [];

  for (const parameter of parametersOf(operation)) {
    if (parameter.in !== "query" || typeof parameter.name !== "string") continue;
    const value = req.query[parameter.name];
    if (value === undefined) {
      if (parameter.required === true) problems.push(`query parameter ${parameter.name} is required`);
      continue;
    }
    const problem = checkParameterValue("query", parameter.name, value, schemaOfParameter(parameter));
    if (problem !== undefined) problems.push(problem);
  }

  const requestBody = deref(operation.node.requestBody);
  if (!isObject(requestBody)) {
    if (req.body !== undefined) problems.push(`takes no request body but got ${JSON.stringify(req.body)}`);
  } else if (req.body === undefined) {
    if (requestBody.required === true) problems.push("requires a request body but got none");
  } else {
    const schema = jsonSchemaOfContent(requestBody.content);
    if (schema === undefined) {
      problems.push(`takes no JSON request body (it accepts ${isObject(requestBody.content) ? Object.keys(requestBody.content).join(", ") : "nothing"})`);
    } else {
      const validate = validatorFor(`${operation.operationId} request`, schema);
      if (!validate(req.body)) problems.push(`request body ${JSON.stringify(req.body)} is invalid: ${formatErrors(validate.errors, "body")}`);
    }
  }

  if (problems.length > 0) return { ok: false, error: `${where}: ${problems.join("; ")}` };
  return { ok: true, operationId: operation.operationId, template: match.template.template, params: match.params };
}

/**
 * Checks a response body against the schema the description declares for that
 * operation and status. Statuses without a declared JSON schema pass.
 */
export function validateResponse(res: { method: string; template: string; status: number; body: unknown }): ResponseValidation {
  const method = res.method.toUpperCase();
  const template = pathTemplates().find((candidate) => candidate.template === res.template);
  const operation = template?.operations.get(method);
  if (operation === undefined) return { ok: false, error: `${method} ${res.template} is not in the description` };
  const responses = operation.node.responses;
  const response = isObject(responses) ? deref(responses[String(res.status)]) : undefined;
  const schema = isObject(response) ? jsonSchemaOfContent(response.content) : undefined;
  if (schema === undefined) return { ok: true };
  const validate = validatorFor(`${operation.operationId} response ${res.status}`, schema);
  if (validate(res.body)) return { ok: true };
  return {
    ok: false,
    error: `${method} ${res.template} (${operation.operationId}) response ${res.status} does not match the description: ${formatErrors(validate.errors, "response")}`,
  };
}

/** The operationId for a method and path template, if the description has it. */
export function operationIdOf(method: string, template: string): string | undefined {
  return pathTemplates()
    .find((candidate) => candidate.template === template)
    ?.operations.get(method.toUpperCase())?.operationId;
}

/** The key of a webhook in the description's `x-webhooks`: `issues-labeled`, `check-suite-completed`, `status`. */
function webhookKey(event: string, action: string | undefined): string {
  const name = event.replace(/_/g, "-");
  return action === undefined ? name : `${name}-${action.replace(/_/g, "-")}`;
}

/**
 * Checks a webhook payload against the schema the description gives that event and action (the
 * same schemas `@octokit/openapi-webhooks-types`, and so `@octokit/webhooks`, are generated from).
 */
export function validateWebhook(event: string, action: string | undefined, payload: unknown): ResponseValidation {
  const webhooks = description()["x-webhooks"];
  const key = webhookKey(event, action);
  const item = isObject(webhooks) ? webhooks[key] : undefined;
  const post = isObject(item) ? item.post : undefined;
  const requestBody = isObject(post) ? deref(post.requestBody) : undefined;
  const schema = isObject(requestBody) ? jsonSchemaOfContent(requestBody.content) : undefined;
  if (schema === undefined) return { ok: false, error: `GitHub's description has no webhook ${key}` };
  const validate = validatorFor(`webhook ${key}`, schema);
  if (validate(payload)) return { ok: true };
  return { ok: false, error: `the ${key} payload does not match GitHub's webhook schema: ${formatErrors(validate.errors, "payload")}` };
}
