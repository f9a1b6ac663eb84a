import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    // The exhaustive proof tests (every leaf of every size up to 256: 32,896 proofs) take seconds
    // alone and several times that on a machine busy with the rest of the suite.
    testTimeout: 180_000,
    hookTimeout: 60_000,
    // A test that asserts nothing fails instead of passing.
    expect: { requireAssertions: true },
  },
});
