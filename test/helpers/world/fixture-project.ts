/** The Anthropic key afk is given in tests; it must never reach the model in a tool result. */
export const TEST_ANTHROPIC_KEY = "sk-ant-api03-test-key-that-must-never-leak-0000";

/** A small Node project whose tests pass: `node --test`. A git-backed repository of a world holds it unless told otherwise. */
export const FIXTURE_FILES: Record<string, string> = {
  "package.json": `${JSON.stringify({ name: "fixture", version: "1.0.0", type: "module", scripts: { test: "node --test" } }, null, 2)}\n`,
  "src/math.js": "export function add(a, b) {\n  return a + b;\n}\n",
  "test/math.test.js":
    'import { test } from "node:test";\nimport assert from "node:assert/strict";\nimport { add } from "../src/math.js";\n\ntest("add", () => {\n  assert.equal(add(2, 3), 5);\n});\n',
  ".github/workflows/ci.yml": "on: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - run: npm test\n",
};
