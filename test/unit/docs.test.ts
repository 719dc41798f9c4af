import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
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

  it("every security claim in docs/security.md names code that exists and a test, by file and title, that exists", () => {
    const security = readFileSync("docs/security.md", "utf8");
    const section = security.slice(security.indexOf("## Claims"), security.indexOf("\n## ", security.indexOf("## Claims") + 5));
    const rows = section.split("\n").filter((line) => line.startsWith("| ") && !line.startsWith("| claim") && !line.startsWith("| ---"));
    expect(rows.length).toBeGreaterThan(20);
    const sources = allFiles("src")
      .map((file) => readFileSync(file, "utf8"))
      .join("\n");
    for (const row of rows) {
      const [claim, enforcedBy, tests] = row.slice(2, -2).split(" | ");
      expect(tests, claim).toBeDefined();
      const named = [...(tests ?? "").matchAll(/`(test\/[^`]+\.test\.ts)` › "([^"]+)"/g)].map((match) => ({ file: match[1] ?? "", title: match[2] ?? "" }));
      expect(named.length, claim).toBeGreaterThan(0);
      for (const { file, title } of named) {
        expect(existsSync(file), `${claim}: ${file}`).toBe(true);
        // The title is part of an it(...) name in that file: the test that would fail is the one named.
        const titles = [...readFileSync(file, "utf8").matchAll(/\bit(?:\.each\([\s\S]*?\))?\(\s*"((?:[^"\\]|\\.)*)"/g)].map((match) => match[1] ?? "");
        expect(
          titles.some((name) => name.includes(title)),
          `${claim}: no test in ${file} is named with "${title}"`,
        ).toBe(true);
      }
      for (const name of [...(enforcedBy ?? "").matchAll(/`([^`]+)`/g)].map((match) => match[1] ?? "")) {
        if (name.startsWith("src/")) expect(existsSync(name), `${claim}: ${name}`).toBe(true);
        else if (/^[A-Za-z][\w.]*$/.test(name)) expect(sources.includes(name.split(".").at(-1) ?? name), `${claim}: ${name}`).toBe(true);
      }
    }
    expect(readme).toContain("docs/security.md");
  });
});

function allFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => (entry.isDirectory() ? allFiles(join(dir, entry.name)) : [join(dir, entry.name)]));
}
