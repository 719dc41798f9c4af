export { merge, isPlainObject } from "./merge.js";
export { setPath, getPath } from "./path.js";
