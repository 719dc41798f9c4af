export { parseRange } from "./parse.js";
export { contentRange } from "./headers.js";
