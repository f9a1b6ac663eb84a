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
import { repoRoot, type Stack, testDatabaseUrl } from "./stack.ts";

/**
 * The organisation's log streams in a real Chromium against the real stack: an admin reaches
 * them from the settings, creates a Splunk stream (its token typed in a password field, then
 * shown only as its last four characters), pauses and resumes it, deletes it after confirming;
 * an https stream's generated signing secret is shown once. No axe violation nor sideways
 * scroll. Screenshots: apps/web/e2e-artifacts/console-streams/.
 */

const artifacts = join(repoRoot, "apps/web/e2e-artifacts/console-streams");
const hecToken = "e2e-hec-token-7c1d9a2b3f4e";
// An address literal: the API checks it without a DNS query, and the worker sends nothing here.
const hecUrl = "https://52.1.2.3:8088";

describe("console: log streams", () => {
  let stack: Stack;
  let page: Page;
  let dispose: () => Promise<void>;
  let orgSlug: string;
  const pool = createTestPool(testDatabaseUrl);

  const streamsUrl = () => settingsUrl(stack, orgSlug, "streams");
  const shot = (name: string) => page.screenshot({ path: join(artifacts, `${name}.png`) });
  const section = () => page.getByRole("region", { name: "Log streams" });
  const row = (name: string) => page.locator("tr", { has: page.locator("th", { hasText: name }) });

  beforeAll(async () => {
    let admin: { email: string; password: string };
    ({ stack, orgSlug, admin } = await startSettingsStack({
      artifacts,
      slugPrefix: "streams",
      orgName: "Acme Robotics",
    }));
    ({ page, dispose } = await openSignedIn("streams", stack, admin, orgSlug));
  }, 240_000);

  afterAll(async () => {
    await dispose?.();
    await stack?.stop();
    await pool.end();
  });

  it("creates a Splunk stream, lists it with the token's hint only, pauses, resumes and deletes it", async () => {
    await page.goto(settingsUrl(stack, orgSlug, "retention"));
    await page
      .getByRole("navigation", { name: "Settings sections" })
      .getByRole("link", { name: "Streams" })
      .click();
    await page.waitForURL(`**/orgs/${orgSlug}/settings/streams`);
    await section().waitFor({ timeout: 60_000 });
    await page.getByText("No stream yet").waitFor();

    await page.getByLabel("Splunk HEC").check();
    await page.getByLabel("Name (required)").fill("SOC Splunk");
    await page.getByLabel("HEC URL (required)").fill(hecUrl);
    const token = page.getByLabel("HEC token (required)");
    expect(await token.getAttribute("type")).toBe("password");
    await token.fill(hecToken);
    await page.getByLabel("Index").fill("audit");
    // A query the parser refuses is named at its field, and nothing is created.
    await page.getByLabel("Only entries matching (optional)").fill("nope:x");
    await page.getByRole("button", { name: "Create stream" }).click();
    await expect
      .poll(() => page.getByRole("alert").first().innerText())
      .toContain('Unknown key "nope"');
    await page.getByLabel("Only entries matching (optional)").fill("category:membership");
    await page.getByRole("button", { name: "Create stream" }).click();

    await row("SOC Splunk").waitFor({ timeout: 30_000 });
    const listed = await row("SOC Splunk").innerText();
    expect(listed).toContain(`Secret ending in ${hecToken.slice(-4)}`);
    expect(listed).toContain(hecUrl);
    expect(listed).toContain("Active");
    expect(listed).toContain("Through #0");
    // "From now" starts at the log's size when the stream was made (0 here); the stream's own
    // creation record is the log's next entry, which the stream will deliver: once the worker
    // has stored it, the stream is one entry behind (no streams worker runs in this stack).
    // Checking "Caught up" raced that record.
    await expect
      .poll(
        async () => {
          await page.reload();
          await row("SOC Splunk").waitFor({ timeout: 30_000 });
          return row("SOC Splunk").innerText();
        },
        { timeout: 30_000 },
      )
      .toContain("1 entry behind");
    // The token is nowhere in the page (the form was cleared too).
    expect(await page.content()).not.toContain(hecToken);
    expect(await page.getByLabel("HEC token (required)").inputValue()).toBe("");
    const { rows } = await pool.query<{ row: string }>(
      `SELECT row_to_json(s)::text AS row FROM log_streams s
       JOIN organizations o ON o.id = s.org_id WHERE o.slug = $1`,
      [orgSlug],
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]?.row).not.toContain(hecToken);
    await shot("created");

    await page.getByRole("button", { name: "Pause SOC Splunk" }).click();
    await expect.poll(() => row("SOC Splunk").locator(".status").innerText()).toBe("Paused");
    await expectNoAxeViolations(page, "streams with a paused stream");
    await page.getByRole("button", { name: "Resume SOC Splunk" }).click();
    await expect.poll(() => row("SOC Splunk").locator(".status").innerText()).toBe("Active");

    await page.getByRole("button", { name: "Delete SOC Splunk" }).click();
    const dialog = page.getByRole("dialog", { name: "Delete stream" });
    await dialog.waitFor();
    await expectNoAxeViolations(page, "delete confirmation");
    // Cancel keeps it.
    await dialog.getByRole("button", { name: "Cancel" }).click();
    await dialog.waitFor({ state: "detached" });
    expect(await row("SOC Splunk").count()).toBe(1);
    await page.getByRole("button", { name: "Delete SOC Splunk" }).click();
    await dialog.getByRole("button", { name: "Delete stream", exact: true }).click();
    await page.getByText("No stream yet").waitFor();
    expect(await row("SOC Splunk").count()).toBe(0);
  });

  it("shows an https stream's generated signing secret once", async () => {
    await page.goto(streamsUrl());
    await section().waitFor({ timeout: 60_000 });
    await page.getByLabel("HTTPS").check();
    await page.getByLabel("Name (required)").fill("Our collector");
    await page.getByLabel("URL (required)", { exact: true }).fill("https://52.1.2.3/audit");
    await page.getByRole("button", { name: "Create stream" }).click();
    const notice = page.getByRole("status", { name: "Signing secret" });
    await notice.waitFor({ timeout: 30_000 });
    const secret = await notice.locator("code.stream-secret").innerText();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(await row("Our collector").innerText()).toContain(
      `Secret ending in ${secret.slice(-4)}`,
    );
    await expectNoAxeViolations(page, "signing secret shown");
    await notice.getByRole("button", { name: "I have stored it" }).click();
    await notice.waitFor({ state: "detached" });
    await page.reload();
    await row("Our collector").waitFor({ timeout: 60_000 });
    expect(await page.content()).not.toContain(secret);
  });

  for (const [name, width, height, theme] of [
    ["desktop-light", 1440, 900, "light"],
    ["phone-dark", 390, 844, "dark"],
  ] as const) {
    it(`has no axe violation nor sideways scroll (${name})`, async () => {
      await page.setViewportSize({ width, height });
      await page.emulateMedia({ colorScheme: theme });
      await page.goto(streamsUrl());
      await row("Our collector").waitFor({ timeout: 60_000 });
      await expectNoPageOverflow(page, name);
      await expectNoAxeViolations(page, `${name} streams`);
      await shot(name);
    });
  }
});
