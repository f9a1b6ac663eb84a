import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    setupFiles: ["test/setup-env.ts"],
    testTimeout: 240_000,
    hookTimeout: 120_000,
    // The API and worker processes these tests start share a 2-core machine: one file at a time.
    fileParallelism: false,
    // A test that asserts nothing fails instead of passing.
    expect: { requireAssertions: true },
  },
});
