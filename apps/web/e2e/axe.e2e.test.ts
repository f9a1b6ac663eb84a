import { type Browser, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectNoAxeViolations } from "./axe.ts";
import { assertChromiumInstalled, chromiumArgs, chromiumPath } from "./chromium.ts";

/**
 * The axe-core helper itself: it must fail on a page with violations, naming the rule and the
 * element, and pass a clean one; otherwise "0 violations" in the other suites proves nothing.
 */
describe("expectNoAxeViolations", () => {
  let browser: Browser;

  beforeAll(async () => {
    assertChromiumInstalled();
    browser = await chromium.launch({
      executablePath: chromiumPath,
      headless: true,
      args: chromiumArgs,
    });
  });

  afterAll(async () => {
    await browser?.close();
  });

  it("fails listing each violation with its target", async () => {
    const page = await browser.newPage();
    await page.setContent(
      `<!doctype html><html lang="en"><head><title>Bad</title></head><body><main>
        <h1>Bad page</h1>
        <a href="/" id="logo"><svg aria-hidden="true" width="10" height="10"></svg></a>
        <button id="picker" aria-label="Event types: all">Type All types</button>
      </main></body></html>`,
    );
    const error = await expectNoAxeViolations(page, "bad page").then(
      () => null,
      (thrown: Error) => thrown,
    );
    expect(error?.message).toContain('on "bad page"');
    expect(error?.message).toContain("link-name");
    expect(error?.message).toContain('["#logo"]');
    expect(error?.message).toContain("label-content-name-mismatch");
    expect(error?.message).toContain('["#picker"]');
    await page.close();
  });

  it("passes a page without violations", async () => {
    const page = await browser.newPage();
    await page.setContent(
      `<!doctype html><html lang="en"><head><title>Good</title></head><body><main>
        <h1>Good page</h1>
        <a href="/" aria-label="Audit logs"><svg aria-hidden="true" width="10" height="10"></svg></a>
        <button>Type All types</button>
      </main></body></html>`,
    );
    await expect(expectNoAxeViolations(page, "good page")).resolves.toBeUndefined();
    await page.close();
  });
});
