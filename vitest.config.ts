import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    exclude: ["test/e2e/**"],
    // A fresh TMPDIR per test file, removed after it; a file that leaves temp files fails.
    setupFiles: ["test/helpers/tmp-setup.ts"],
    testTimeout: 60_000,
    hookTimeout: 300_000,
  },
});
