import { join } from "node:path";
import { createTestPool } from "@auditlog/db/testing";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectNoAxeViolations } from "./axe.ts";
import {
  expectNoPageOverflow,
  openSignedIn,
  settingsUrl,
  startSettingsStack,
} from "./settings-console.ts";
import {
  type AdminOrg,
  postEventsAndWait,
  repoRoot,
  type Stack,
  testDatabaseUrl,
} from "./stack.ts";

/**
 * The organisation's retention settings in a real Chromium against the real stack: an admin
 * reaches them from the log, sets the retention (a value beyond the plan is refused in the page,
 * naming the bounds), places a legal hold with a reason, and finds both after a reload and in the
 * organisation's own log; the page has no axe violation and no sideways scroll at three sizes, in
 * the light and the dark theme. Screenshots: apps/web/e2e-artifacts/console-retention/.
 */

const artifacts = join(repoRoot, "apps/web/e2e-artifacts/console-retention");
const viewports = [
  { name: "small-desktop", width: 1024, height: 768 },
  { name: "desktop", width: 1440, height: 900 },
  { name: "phone", width: 390, height: 844 },
] as const;
const themes = ["light", "dark"] as const;

describe("console: retention and legal hold settings", () => {
  let stack: Stack;
  let page: Page;
  let dispose: () => Promise<void>;
  let orgSlug: string;
  let credentials: AdminOrg;
  const pool = createTestPool(testDatabaseUrl);

  const retentionUrl = () => settingsUrl(stack, orgSlug, "retention");
  const shot = (name: string) => page.screenshot({ path: join(artifacts, `${name}.png`) });
  const waitForSettings = () =>
    page.getByRole("region", { name: "Retention and legal hold" }).waitFor({ timeout: 60_000 });

  /** The definition text of one fact of the summary ("Retention in force", "Legal hold" …). */
  const fact = (term: string) =>
    page
      .locator(".settings-facts > div", { has: page.locator("dt", { hasText: term }) })
      .locator("dd");

  beforeAll(async () => {
    let admin: { email: string; password: string };
    ({ stack, orgSlug, admin, credentials } = await startSettingsStack({
      artifacts,
      slugPrefix: "retention",
      orgName: "Acme Robotics",
    }));
    // A few entries, so the log has a head whose retained range can start later (as a purge
    // leaves it).
    await postEventsAndWait(
      stack,
      orgSlug,
      credentials,
      [0, 1, 2, 3].map((index) => ({
        type: "repo.create",
        actor: { type: "user", id: "usr_alice", name: "alice" },
        target: { type: "model", id: `acme/model-${index}`, name: `acme/model-${index}` },
        data: { repo: { type: "model", name: `acme/model-${index}` } },
        context: { ip: "81.2.69.160", userAgent: "e2e-retention/1.0" },
      })),
    );
    ({ page, dispose } = await openSignedIn("retention", stack, admin, orgSlug));
  }, 240_000);

  afterAll(async () => {
    await dispose?.();
    await stack?.stop();
    await pool.end();
  });

  it("sets the retention and places a legal hold with a reason; both hold after a reload and are in the log", async () => {
    await page.getByRole("link", { name: "Settings: retention and legal hold" }).click();
    await page.waitForURL(`**/orgs/${orgSlug}/settings/retention`);
    await waitForSettings();
    await expect.poll(() => fact("Retention in force").innerText()).toContain("180 days");
    expect(await fact("Retention in force").innerText()).toContain("the Team plan's default");
    expect(await fact("Team plan allows").innerText()).toContain("1 to 180 days");
    expect(await fact("Retained log").innerText()).toContain("starts at entry #1");

    // Beyond the plan: refused in the page, naming the bounds; nothing is sent.
    const days = page.getByLabel("Keep entries for (days)");
    await days.fill("400");
    await page.getByRole("button", { name: "Save retention" }).click();
    await expect.poll(() => page.getByRole("alert").first().innerText()).toContain("from 1 to 180");
    expect(await days.getAttribute("aria-invalid")).toBe("true");
    await expectNoAxeViolations(page, "retention refused");

    await days.fill("30");
    await page.getByRole("button", { name: "Save retention" }).click();
    await page.getByText("Saved: entries are kept 30 days.").waitFor();
    expect(await fact("Retention in force").innerText()).toContain("chosen by an admin");

    // A hold needs a reason.
    await page.getByRole("button", { name: "Place legal hold" }).click();
    await page.getByText("Give a reason to place the legal hold.").waitFor();
    await page
      .getByLabel("Reason for placing the hold (recorded in the log)")
      .fill("Litigation hold, case 2026-114");
    await page.getByRole("button", { name: "Place legal hold" }).click();
    await page.getByText("Legal hold placed.").waitFor();
    await shot("after-changes");

    await page.reload();
    await waitForSettings();
    await expect.poll(() => fact("Retention in force").innerText()).toContain("30 days");
    expect(await fact("Legal hold").innerText()).toContain("On: nothing is purged");
    expect(await page.locator(".settings-card q").innerText()).toBe(
      "Litigation hold, case 2026-114",
    );
    expect(await page.getByLabel("Keep entries for (days)").inputValue()).toBe("30");
    await page.getByRole("button", { name: "Lift legal hold" }).waitFor();

    // Recorded in the organisation's own log by the worker, as the signed-in admin.
    await expect
      .poll(
        async () => {
          const response = await fetch(
            `${stack.baseUrl}/v1/orgs/${orgSlug}/audit-logs?includeHidden=true`,
            { headers: { authorization: `Bearer ${credentials.token}` } },
          );
          const body = (await response.json()) as {
            entries?: { type: string; data: Record<string, unknown> }[];
          };
          return (body.entries ?? [])
            .filter((entry) => entry.type.startsWith("org.audit_log."))
            .map((entry) => [entry.type, entry.data])
            .reverse();
        },
        { timeout: 60_000 },
      )
      .toEqual([
        ["org.audit_log.retention.update", { from: 180, to: 30 }],
        ["org.audit_log.legal_hold.enable", { reason: "Litigation hold, case 2026-114" }],
      ]);
  });

  it("says where the retained log starts once entries were purged", async () => {
    const { rowCount } = await pool.query(
      `UPDATE audit_log_heads SET retained_from = 3
       WHERE org_id = (SELECT id FROM organizations WHERE slug = $1)`,
      [orgSlug],
    );
    expect(rowCount).toBe(1);
    await page.goto(retentionUrl());
    await waitForSettings();
    await expect
      .poll(() => fact("Retained log").innerText())
      .toBe("Entries before #3 were purged.");
  });

  for (const viewport of viewports) {
    for (const theme of themes) {
      const name = `${viewport.name}-${theme}`;
      it(`has no axe violation nor sideways scroll at ${viewport.width}×${viewport.height} in the ${theme} theme`, async () => {
        await page.setViewportSize({ width: viewport.width, height: viewport.height });
        await page.emulateMedia({ colorScheme: theme });
        await page.goto(retentionUrl());
        await waitForSettings();
        await fact("Retention in force").waitFor();
        expect(await page.evaluate(() => document.documentElement.dataset.theme)).toBe(theme);
        await expectNoPageOverflow(page, name);
        await expectNoAxeViolations(page, `${name} retention settings`);
        await shot(name);
        if (theme === "light") {
          // The log's page actions hold one more link (to these settings): still no sideways
          // scroll, on a phone too.
          await page.goto(`${stack.baseUrl}/orgs/${orgSlug}/audit-logs`);
          await page.getByRole("link", { name: "Settings: retention and legal hold" }).waitFor();
          await page.locator('[role="table"][aria-busy="false"]').waitFor({ timeout: 60_000 });
          await expectNoPageOverflow(page, `${name} log`);
          await expectNoAxeViolations(page, `${name} log with the settings link`);
          await shot(`${name}-log`);
        }
      });
    }
  }
});
