import { join } from "node:path";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectNoAxeViolations } from "./axe.ts";
import { openSignedIn, settingsUrl, startSettingsStack } from "./settings-console.ts";
import { type AdminOrg, postEventsAndWait, repoRoot, type Stack } from "./stack.ts";

/**
 * Alert rules in a real Chromium against the real stack (issue 17): an admin opens the alerts
 * settings, a malformed query is refused in the page as the search box refuses it, a rule is
 * created; an event that matches is ingested, the bell lights up with the alert, and its link
 * opens the log filtered by the rule's query; deleting the rule asks first (Cancel keeps it). No
 * axe violation on the page, the bell or the dialog.
 * Screenshots: apps/web/e2e-artifacts/console-alerts/.
 */

const artifacts = join(repoRoot, "apps/web/e2e-artifacts/console-alerts");

describe("console: alert rules and their notifications", () => {
  let stack: Stack;
  let page: Page;
  let dispose: () => Promise<void>;
  let orgSlug: string;
  let credentials: AdminOrg;
  const shot = (name: string) => page.screenshot({ path: join(artifacts, `${name}.png`) });

  beforeAll(async () => {
    let admin: { email: string; password: string };
    ({ stack, orgSlug, admin, credentials } = await startSettingsStack({
      artifacts,
      slugPrefix: "alerts",
      orgName: "Acme Alerts",
    }));
    ({ page, dispose } = await openSignedIn("alerts", stack, admin, orgSlug));
  }, 240_000);

  afterAll(async () => {
    await dispose?.();
    await stack?.stop();
  });

  it("creates a rule, lights the bell when a matching event arrives, and follows its link to the filtered log", async () => {
    await page.goto(settingsUrl(stack, orgSlug, "alerts"));
    await page.getByRole("heading", { name: "Alert rules" }).waitFor({ timeout: 60_000 });
    await page.getByText("No alert rules yet.").waitFor();
    await expectNoAxeViolations(page, "alerts empty");

    await page.getByRole("button", { name: "New alert rule" }).click();
    await page.getByLabel("Name").fill("New repositories");
    const q = page.getByLabel("Query");
    await q.fill("type:");
    await page.getByRole("button", { name: "Create rule" }).click();
    await expect.poll(() => page.getByRole("alert").first().innerText()).toMatch(/at position/);
    expect(await q.getAttribute("aria-invalid")).toBe("true");
    await expectNoAxeViolations(page, "alert form refused");
    await shot("alert-form-refused");

    await q.fill("type:repo.create -author:scim-bot");
    await page.getByLabel("Group further matches for (seconds)").fill("60");
    await page.getByRole("button", { name: "Create rule" }).click();
    const row = page.getByRole("row", { name: /New repositories/ });
    await row.waitFor();
    expect(await row.innerText()).toContain("type:repo.create -author:scim-bot");
    expect(await row.innerText()).toContain("never");
    await shot("alert-rule-listed");
    await expectNoAxeViolations(page, "alerts listed");

    // A matching event arrives: the bell lights up (pushed live, or found by its polling).
    await postEventsAndWait(stack, orgSlug, credentials, [
      {
        type: "repo.create",
        actor: { type: "user", id: "usr_alice", name: "alice" },
        target: { type: "model", id: "acme/alerted", name: "acme/alerted" },
        data: { repo: { type: "model", name: "acme/alerted" } },
        context: { ip: "81.2.69.160", userAgent: "e2e-alerts/1.0" },
      },
    ]);
    const bell = page.getByRole("button", { name: /Notifications, 1 unread/ });
    await bell.waitFor({ timeout: 60_000 }).catch((error: Error) => {
      throw new Error(`the alert did not reach the bell: ${error.message}\n${stack.logs()}`);
    });
    await bell.click();
    const item = page.locator(".notification.is-unread", { hasText: "Alert: New repositories" });
    await item.waitFor();
    await shot("alert-notification");
    await expectNoAxeViolations(page, "alert notification");

    await item.getByRole("link", { name: "View entries" }).click();
    await page.waitForURL(
      (url) =>
        url.pathname === `/orgs/${orgSlug}/audit-logs` &&
        url.searchParams.get("q") === "type:repo.create -author:scim-bot",
    );
    await page.getByText("acme/alerted").first().waitFor({ timeout: 30_000 });
    await shot("filtered-log");
  });

  it("asks before deleting a rule: Cancel keeps it, the dialog's button deletes it", async () => {
    await page.goto(settingsUrl(stack, orgSlug, "alerts"));
    const row = page.getByRole("row", { name: /New repositories/ });
    await row.waitFor({ timeout: 60_000 });
    await page.getByRole("button", { name: "Delete New repositories" }).click();
    const dialog = page.getByRole("dialog", { name: "Delete alert rule" });
    await dialog.waitFor();
    expect(await dialog.innerText()).toContain("New repositories");
    await expectNoAxeViolations(page, "delete alert rule confirmation");
    await shot("alert-delete-dialog");
    await dialog.getByRole("button", { name: "Cancel" }).click();
    await dialog.waitFor({ state: "detached" });
    expect(await row.count()).toBe(1);

    await page.getByRole("button", { name: "Delete New repositories" }).click();
    await dialog.getByRole("button", { name: "Delete rule", exact: true }).click();
    await dialog.waitFor({ state: "detached" });
    await page.getByText("No alert rules yet.").waitFor();
    expect(await row.count()).toBe(0);
  });
});
