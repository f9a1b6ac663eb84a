import { defineConfig } from "vitest/config";

// A test that asserts nothing fails instead of passing.
export default defineConfig({
  test: {
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // A test that asserts nothing fails instead of passing.
    expect: { requireAssertions: true },
  },
});
