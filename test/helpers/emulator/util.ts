/** Small helpers every part of the emulator uses: reading loose JSON, GitHub's timestamps and node ids. */

export type JsonObject = Record<string, unknown>;

export function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function field(body: unknown, key: string): unknown {
  return isObject(body) ? body[key] : undefined;
}

export function stringField(body: unknown, key: string): string | undefined {
  const value = field(body, key);
  return typeof value === "string" ? value : undefined;
}

/** GitHub's timestamps: ISO 8601 in UTC, whole seconds. */
export function timestamp(date = new Date()): string {
  return date.toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** A GraphQL global node id of the new format (`PR_…`, `I_…`). */
export function nodeId(prefix: string, id: number | string): string {
  return `${prefix}_${Buffer.from(`0:${id}`).toString("base64url")}`;
}

export function isSha(value: string): boolean {
  return /^[0-9a-f]{40}$/.test(value);
}

export function positiveInt(value: string | undefined): number | undefined {
  if (value === undefined || !/^\d+$/.test(value)) return undefined;
  return Number(value);
}

export function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function parseJsonObject(text: string): JsonObject | undefined {
  try {
    const parsed: unknown = JSON.parse(text);
    return isObject(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}
