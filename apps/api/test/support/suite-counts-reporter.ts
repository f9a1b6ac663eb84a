import type { Reporter, TestModule } from "vitest/node";

/**
 * One line per test file with its counts, and a total: what a run against a Redis Cluster
 * printed, readable in CI's interleaved output (each line starts with `[suite]`).
 */
export default class SuiteCountsReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    const totals = { passed: 0, failed: 0, skipped: 0 };
    for (const module of testModules) {
      const counts = { passed: 0, failed: 0, skipped: 0 };
      for (const test of module.children.allTests()) {
        const state = test.result().state;
        if (state === "passed") counts.passed++;
        else if (state === "failed") counts.failed++;
        else counts.skipped++;
      }
      totals.passed += counts.passed;
      totals.failed += counts.failed;
      totals.skipped += counts.skipped;
      const seconds = (module.diagnostic().duration / 1000).toFixed(1);
      const moduleFailed =
        module.state() === "failed" && counts.failed === 0 ? " (file failed)" : "";
      console.log(
        `[suite] ${module.relativeModuleId}: ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped in ${seconds} s${moduleFailed}`,
      );
    }
    console.log(
      `[suite] ${testModules.length} files: ${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`,
    );
  }
}
