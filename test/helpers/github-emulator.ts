/** The GitHub emulator now lives in parts under ./emulator/; this path stays until imports move there. */
export * from "./emulator/index.js";
