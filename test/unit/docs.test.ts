import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { repoConfigJsonSchema } from "../../src/config/repo-config.js";

const readme = readFileSync("README.md", "utf8");

interface SchemaNode {
  properties?: Record<string, SchemaNode>;
  default?: unknown;
}

function leafFields(node: SchemaNode, prefix = ""): Array<{ path: string; default: unknown }> {
  return Object.entries(node.properties ?? {}).flatMap(([name, child]) => {
    const path = prefix === "" ? name : `${prefix}.${name}`;
    return child.properties === undefined ? [{ path, default: child.default }] : leafFields(child, path);
  });
}

describe("the docs say what the code does", () => {
  it("schema/afk.schema.json is the schema the code exports (run `npm run schema` after changing it)", () => {
    expect(JSON.parse(readFileSync("schema/afk.schema.json", "utf8"))).toEqual(repoConfigJsonSchema());
  });

  it("the README's configuration reference has a row for every field, with its default", () => {
    const schema: SchemaNode = repoConfigJsonSchema();
    for (const field of leafFields(schema)) {
      const row = readme.split("\n").find((line) => line.startsWith(`| \`${field.path}\` |`));
      expect(row, field.path).toBeDefined();
      if (field.default !== undefined && field.path !== "model") {
        const shown = Array.isArray(field.default) ? JSON.stringify(field.default) : String(field.default);
        expect(row, field.path).toContain(shown);
      }
    }
  });

  it("the README's operator settings table lists every AFK_ variable the code reads", () => {
    const source = readFileSync("src/config/operator-settings.ts", "utf8");
    const variables = new Set([...source.matchAll(/\b(AFK_[A-Z_]+)\b/g)].map((match) => match[1]));
    expect(variables.size).toBeGreaterThan(5);
    for (const name of variables) expect(readme, name).toContain(`| \`${name}\` |`);
  });
});
