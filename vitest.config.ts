import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // No test may be skipped silently or focused by accident.
    allowOnly: false,
    passWithNoTests: false,
    testTimeout: 30_000,
    hookTimeout: 30_000,
    setupFiles: ["test/helpers/no-network.ts"],
  },
});
