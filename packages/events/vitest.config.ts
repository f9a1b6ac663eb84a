import { defineConfig } from "vitest/config";

// Property tests run a thousand cases: on a busy 2-core machine that takes seconds, not a flake.
export default defineConfig({
  test: {
    testTimeout: 60_000,
    // A test that asserts nothing fails instead of passing.
    expect: { requireAssertions: true },
  },
});
