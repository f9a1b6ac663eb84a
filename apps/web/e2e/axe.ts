import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import type { Page } from "playwright-core";

/**
 * axe-core in the page under test, for "0 violations on every screen the suite visits".
 *
 * The source comes from the pinned axe-core package on disk (no network). It is evaluated
 * through the DevTools protocol (`page.evaluate`) rather than added as an inline <script>: the
 * console's Content-Security-Policy (`script-src 'self'`) would refuse an inline script, and the
 * suites count every CSP violation as a failure.
 */
const axeSource = readFileSync(
  createRequire(import.meta.url).resolve("axe-core/axe.min.js"),
  "utf8",
);

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  helpUrl: string;
  nodes: { target: unknown[]; failureSummary?: string }[];
}

/**
 * Runs axe-core (every rule but the experimental ones: WCAG 2.x A/AA and best practices) on the
 * page as it is now, and fails listing each violation with the selectors of its elements and
 * axe's summary of what is wrong. `label` names the screen in the failure message.
 */
export async function expectNoAxeViolations(page: Page, label: string): Promise<void> {
  const loaded = await page.evaluate(() => "axe" in window);
  if (!loaded) await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: (...args: unknown[]) => Promise<unknown> } })
      .axe;
    const results = (await axe.run(document, { resultTypes: ["violations"] })) as {
      violations: AxeViolation[];
    };
    return results.violations.map((violation) => ({
      id: violation.id,
      impact: violation.impact,
      help: violation.help,
      helpUrl: violation.helpUrl,
      nodes: violation.nodes.map((node) => ({
        target: node.target,
        failureSummary: node.failureSummary,
      })),
    }));
  });
  if (violations.length === 0) return;
  const report = violations
    .map((violation) =>
      [
        `- ${violation.id} (${violation.impact ?? "no impact"}): ${violation.help} <${violation.helpUrl}>`,
        ...violation.nodes.map(
          (node) =>
            `    ${JSON.stringify(node.target)}: ${(node.failureSummary ?? "").replace(/\s+/g, " ")}`,
        ),
      ].join("\n"),
    )
    .join("\n");
  throw new Error(`axe-core found ${violations.length} violation(s) on "${label}":\n${report}`);
}
