import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // A test that asserts nothing fails instead of passing.
    expect: { requireAssertions: true },
  },
});
