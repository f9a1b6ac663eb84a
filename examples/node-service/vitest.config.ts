import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // The API and worker this test starts sign checkpoints with the shared test key.
    setupFiles: ["../../packages/client/test/setup-env.ts"],
    testTimeout: 180_000,
    hookTimeout: 120_000,
    expect: { requireAssertions: true },
  },
});
