import react from "@vitejs/plugin-react";
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    projects: [
      {
        plugins: [react()],
        test: {
          name: "components",
          environment: "happy-dom",
          include: ["src/**/*.test.{ts,tsx}"],
          setupFiles: ["./test/setup.ts"],
          testTimeout: 30_000,
          // A test that asserts nothing fails instead of passing.
          expect: { requireAssertions: true },
        },
      },
      {
        // A real browser against the real stack; needs `vite build` first (the test script does it).
        test: {
          name: "e2e",
          environment: "node",
          include: ["e2e/**/*.e2e.test.ts"],
          testTimeout: 240_000,
          hookTimeout: 240_000,
          // A test that asserts nothing fails instead of passing.
          expect: { requireAssertions: true },
        },
      },
    ],
  },
});
