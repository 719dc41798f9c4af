// Writes schema/afk.schema.json from the zod schema, for editors (yaml-language-server, VS Code).
import { mkdirSync, writeFileSync } from "node:fs";
import { repoConfigJsonSchema } from "../src/config/repo-config.js";

mkdirSync("schema", { recursive: true });
writeFileSync("schema/afk.schema.json", `${JSON.stringify(repoConfigJsonSchema(), null, 2)}\n`);
console.log("wrote schema/afk.schema.json");
