import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { getEventDefinition } from "@auditlog/events";
import type { BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectNoAxeViolations } from "./axe.ts";
import { assertChromiumInstalled, launchConsole } from "./chromium.ts";
import { createAdminOrg, postEventsAndWait, repoRoot, type Stack, startStack } from "./stack.ts";

/**
 * The console in a real headless Chromium against the real stack: sign in, see the entries the
 * test posted through the ingestion API, filter them with the query bar and the type picker,
 * open one, export the filtered log, get the "ready" notification and download the file.
 * A screenshot of every step goes to test-artifacts/e2e/.
 */

const screenshots = join(repoRoot, "test-artifacts/e2e");
const password = "correct-horse-battery";
const hour = 3_600_000;

interface PostedEvent {
  type: string;
  occurredAt: string;
  actor: Record<string, string>;
  target?: Record<string, string>;
  data: unknown;
  context: Record<string, string>;
}

const actors = {
  alice: { type: "user", id: "usr_alice", name: "alice" },
  bob: { type: "user", id: "usr_bob", name: "bob" },
  bot: { type: "token", id: "tok_ci", name: "ci-bot", tokenRole: "write", tokenLast4: "9f3a" },
};
const ips = ["81.2.69.160", "8.8.8.8", "203.0.113.77", "2a00:1450:4007:80e::200e", "1.1.1.1"];

/** 40 events over the last five days; 8 of them are bob's role changes. */
function makeEvents(now: number): PostedEvent[] {
  const plan: [string, keyof typeof actors, number][] = [
    ["repo.create", "alice", 12],
    ["org.change_role", "bob", 8],
    ["billing.update_payment_method", "alice", 5],
    ["resource_group.create", "bot", 5],
    ["jobs.create", "bot", 6],
    ["org.settings.sso.enable", "alice", 4],
  ];
  const events: PostedEvent[] = [];
  for (const [type, actor, count] of plan) {
    for (let i = 0; i < count; i++) {
      const n = events.length;
      const example = getEventDefinition(type)?.example as Record<string, unknown>;
      events.push({
        type,
        occurredAt: new Date(now - ((n * 37) % 110) * hour - n * 60_000).toISOString(),
        actor: actors[actor],
        ...(type === "repo.create"
          ? { target: { type: "model", id: `acme/model-${n}`, name: `acme/model-${n}` } }
          : {}),
        data:
          type === "repo.create"
            ? { repo: { type: "model", name: `acme/model-${n}` } }
            : type === "org.change_role"
              ? { user: `member-${n}`, oldRole: "read", newRole: "write" }
              : example,
        context: { ip: ips[n % ips.length] as string, userAgent: "e2e-test/1.0" },
      });
    }
  }
  return events;
}

describe("the web console, end to end", () => {
  let stack: Stack;
  let context: BrowserContext;
  let page: Page;
  let dispose: () => Promise<void>;
  let downloads: string;
  let orgSlug: string;
  let freeSlug: string;
  let email: string;
  let events: PostedEvent[];
  let step = 0;
  /** Every Content-Security-Policy violation any page of the browser reported. */
  const cspViolations: string[] = [];

  const shot = async (name: string, target: Page = page) => {
    step += 1;
    await target.screenshot({
      path: join(screenshots, `${String(step).padStart(2, "0")}-${name}.png`),
    });
  };
  const waitForRows = async (count: number) => {
    await page.waitForFunction(
      (expected) =>
        document.querySelector('[role="table"]')?.getAttribute("aria-rowcount") ===
          String(expected + 1) &&
        document.querySelector('[role="table"]')?.getAttribute("aria-busy") === "false",
      count,
      { timeout: 60_000 },
    );
  };
  const visibleRows = () => page.locator('.log-rows [role="row"]');

  beforeAll(async () => {
    assertChromiumInstalled();
    rmSync(screenshots, { recursive: true, force: true });
    mkdirSync(screenshots, { recursive: true });
    stack = await startStack();
    const suffix = Date.now().toString(36);
    orgSlug = `e2e-${suffix}`;
    email = `admin-${suffix}@acme.test`;
    const credentials = await createAdminOrg(
      stack,
      { slug: orgSlug, name: "Acme Robotics" },
      { email, password, name: "Ada Admin" },
    );
    // The same admin belongs to a free-plan organisation, which has no audit log.
    freeSlug = `e2e-free-${suffix}`;
    await stack.cli("org", "create", freeSlug, "--name", "Hobby Org", "--plan", "free");
    await stack.cli(
      "user",
      "create",
      email,
      "--password",
      password,
      "--org",
      freeSlug,
      "--role",
      "admin",
    );

    // Through the ingestion API; the worker stores them.
    events = makeEvents(Date.now());
    await postEventsAndWait(stack, orgSlug, credentials, events);

    // Downloads are saved beside the test's own files.
    downloads = mkdtempSync(join(tmpdir(), "auditlog-e2e-downloads-"));
    ({ context, page, dispose } = await launchConsole("console", {
      viewport: { width: 1360, height: 900 },
      acceptDownloads: true,
      timezoneId: "Europe/Paris",
    }));
    // The console must work under its Content-Security-Policy: every violation is recorded (the
    // browser also logs each one as a console error) and fails the last test.
    await context.addInitScript(() => {
      document.addEventListener("securitypolicyviolation", (event) => {
        console.error(
          `CSP violation: ${event.violatedDirective} blocked ${event.blockedURI || "inline"} (${event.sourceFile}:${event.lineNumber})`,
        );
      });
    });
    context.on("console", (message) => {
      if (
        message.type() === "error" &&
        /Content Security Policy|CSP violation/.test(message.text())
      ) {
        cspViolations.push(message.text());
      }
    });
  });

  afterAll(async () => {
    await dispose?.();
    if (downloads) rmSync(downloads, { recursive: true, force: true });
    await stack?.stop();
  });

  it("signs in and shows the entries posted through the ingestion API", async () => {
    const document = await page.goto(stack.baseUrl);
    const csp = document?.headers()["content-security-policy"] ?? "";
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    await page.getByRole("heading", { name: "Sign in" }).waitFor();
    await page.getByLabel("Email").fill(email);
    await page.getByLabel("Password").fill(password);
    await shot("sign-in");
    await expectNoAxeViolations(page, "sign-in");
    await page.getByRole("button", { name: "Sign in", exact: true }).click();

    await page.waitForURL(`**/orgs/${orgSlug}/audit-logs`);
    await waitForRows(events.length);
    await page.locator(".chart-plot").waitFor();
    expect(await page.locator(".org-switcher select").inputValue()).toBe(orgSlug);
    const newest = [...events].sort((a, b) => b.occurredAt.localeCompare(a.occurredAt))[0];
    const firstRow = visibleRows().first();
    expect(await firstRow.getByText(newest?.type ?? "", { exact: true }).count()).toBe(1);
    expect(
      await page.getByRole("link", { name: "IP Geolocation by DB-IP" }).getAttribute("href"),
    ).toBe("https://db-ip.com");
    await shot("log");
    await expectNoAxeViolations(page, "log");
  });

  it("filters with the query bar, with completion and errors at the bad term", async () => {
    const input = page.getByRole("combobox", { name: "Filter with a query" });
    await input.click();
    await input.pressSequentially("author:");
    await page.getByRole("option", { name: "bob" }).waitFor();
    await shot("query-completion");
    await expectNoAxeViolations(page, "query completion");
    await input.pressSequentially("bob");
    await input.press("Escape");
    await input.press("Enter");
    await waitForRows(8);
    expect(page.url()).toContain("q=author%3Abob");
    for (const row of await visibleRows().all()) {
      expect(await row.locator(".cell-col-actor .cell-primary").textContent()).toBe("bob");
    }
    await shot("query-filtered");

    await input.fill("author:bob created:>=yesterday");
    await input.press("Enter");
    const alert = page.locator(".query-error");
    await alert.waitFor();
    expect(await alert.locator("mark").textContent()).toBe("created:>=yesterday");
    await shot("query-error");
    await expectNoAxeViolations(page, "query error");
    await page.getByRole("button", { name: "Clear the query" }).click();
    await waitForRows(events.length);
  });

  it("filters with the type picker", async () => {
    await page.getByRole("button", { name: /^Type / }).click();
    await page.getByLabel("Search event types").fill("change_role");
    await page.getByRole("checkbox", { name: /org\.change_role/ }).check();
    await waitForRows(8);
    await shot("type-picker");
    await expectNoAxeViolations(page, "type picker");
    await page.keyboard.press("Escape");
    expect(page.url()).toContain("q=type%3Aorg.change_role");
    for (const row of await visibleRows().all()) {
      expect(await row.locator(".badge").textContent()).toBe("org.change_role");
    }
    await shot("type-filtered");
  });

  it("opens an entry's details with the keyboard", async () => {
    await visibleRows().first().focus();
    await page.keyboard.press("ArrowDown");
    await page.keyboard.press("Enter");
    const dialog = page.getByRole("dialog", { name: "Entry details" });
    await dialog.waitFor();
    const json = await dialog.getByLabel("Entry data as JSON").textContent();
    expect(JSON.parse(json ?? "{}")).toMatchObject({ oldRole: "read", newRole: "write" });
    expect(page.url()).toContain("entry=evt_");
    await shot("entry-details");
    await expectNoAxeViolations(page, "entry details");
    await page.keyboard.press("Escape");
    await dialog.waitFor({ state: "detached" });
  });

  it("narrows the time range by clicking a bar of the chart", async () => {
    const bars = page.locator(".chart-bar").filter({ has: page.locator('rect[class^="fill-"]') });
    await bars.last().click();
    expect(page.url()).toContain("range=custom");
    await page.waitForFunction(() => {
      const table = document.querySelector('[role="table"]');
      const count = Number(table?.getAttribute("aria-rowcount"));
      return table?.getAttribute("aria-busy") === "false" && count > 1 && count < 9;
    });
    await shot("chart-zoomed");
    await expectNoAxeViolations(page, "log, custom range from the chart");
    await page.getByRole("button", { name: "All time" }).click();
    await waitForRows(8);
  });

  it("requests an export of the filtered log and shows its progress", async () => {
    await page.getByRole("button", { name: "New export…" }).click();
    const dialog = page.getByRole("dialog", { name: "Export audit log" });
    await dialog.getByRole("radio", { name: /NDJSON/ }).check();
    expect(await dialog.textContent()).toContain("org.change_role");
    await shot("export-dialog");
    await expectNoAxeViolations(page, "export dialog");
    await dialog.getByRole("button", { name: "Start export" }).click();
    const panel = page.getByRole("dialog", { name: "Export history" });
    await panel.waitFor();
    await panel.getByRole("listitem").first().waitFor();
    expect(await panel.getByRole("listitem").first().textContent()).toContain(
      "type:org.change_role",
    );
    await shot("exports-progress");
    await expectNoAxeViolations(page, "export history, in progress");
  });

  const expectExportFile = (file: string) => {
    const lines = gunzipSync(readFileSync(file)).toString("utf8").split("\n").filter(Boolean);
    expect(lines).toHaveLength(8);
    for (const line of lines) expect(JSON.parse(line)).toMatchObject({ type: "org.change_role" });
  };

  it("follows the export to ready and downloads the file from the list", async () => {
    const panel = page.getByRole("dialog", { name: "Export history" });
    const item = panel.getByRole("listitem").first();
    const link = item.getByRole("link", { name: /^Download/ });
    await link.waitFor({ timeout: 120_000 }).catch((error: Error) => {
      throw new Error(`${error.message}\n--- API and worker logs ---\n${stack.logs()}`);
    });
    expect(await item.textContent()).toContain("Ready");
    await shot("export-ready");
    await expectNoAxeViolations(page, "export history, ready");
    const [download] = await Promise.all([page.waitForEvent("download"), link.click()]);
    expect(download.suggestedFilename()).toMatch(/\.ndjson\.gz$/);
    const file = join(downloads, "export-from-list.ndjson.gz");
    await download.saveAs(file);
    expectExportFile(file);
  });

  it("announces the finished export with a toast and the bell, and downloads from there", async () => {
    const toast = page
      .locator(".toast")
      .filter({ has: page.getByRole("link", { name: "Download" }) });
    await toast.waitFor({ timeout: 60_000 }).catch((error: Error) => {
      throw new Error(
        `no "export ready" notification reached the console (is the worker's export-finished hook wired to notifications?): ${error.message}\n--- API and worker logs ---\n${stack.logs()}`,
      );
    });
    await page.keyboard.press("Escape");
    await page.getByRole("button", { name: /Notifications, 1 unread/ }).click();
    await page.locator(".notification.is-unread").first().waitFor();
    await shot("export-ready-notification");
    await expectNoAxeViolations(page, "notifications");
    await page.keyboard.press("Escape");

    const [download] = await Promise.all([
      page.waitForEvent("download"),
      toast.getByRole("link", { name: "Download" }).click(),
    ]);
    const file = join(downloads, "export-from-toast.ndjson.gz");
    await download.saveAs(file);
    expectExportFile(file);
    // Downloading from the toast marks the notification read.
    await page.getByRole("button", { name: "Notifications", exact: true }).waitFor();
  });

  it("switches organisation, and explains why a free-plan organisation has no log", async () => {
    if (await page.getByRole("dialog").count()) await page.keyboard.press("Escape");
    await page.getByRole("combobox", { name: /^Organisation/ }).selectOption(freeSlug);
    await page.waitForURL(`**/orgs/${freeSlug}/audit-logs`);
    await page.getByRole("heading", { name: /Team and Enterprise feature/ }).waitFor();
    expect(await page.getByRole("table").count()).toBe(0);
    await shot("free-plan-notice");
    await expectNoAxeViolations(page, "free-plan notice");
    await page.getByRole("combobox", { name: /^Organisation/ }).selectOption(orgSlug);
    await waitForRows(events.length);
  });

  it("works at phone width", async () => {
    const phone = await context.newPage();
    await phone.setViewportSize({ width: 390, height: 844 });
    await phone.goto(`${stack.baseUrl}/orgs/${orgSlug}/audit-logs`);
    await phone.locator('.log-rows [role="row"]').first().waitFor();
    // The whole log is listed at this width too (no filter in this page's URL).
    await phone.waitForFunction(
      (expected) =>
        document.querySelector('[role="table"]')?.getAttribute("aria-rowcount") ===
          String(expected + 1) &&
        document.querySelector('[role="table"]')?.getAttribute("aria-busy") === "false",
      events.length,
      { timeout: 60_000 },
    );
    expect(await phone.getByRole("table").getAttribute("aria-rowcount")).toBe(
      String(events.length + 1),
    );
    // The phone layout: rows are stacked cards (taller than the desktop's table rows) that fit
    // the screen, and nothing makes the page scroll sideways.
    const card = await phone.locator('.log-rows [role="row"]').first().boundingBox();
    expect(card?.height).toBe(92);
    expect(card?.width).toBeLessThanOrEqual(390);
    expect(await phone.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(
      390,
    );
    await shot("phone", phone);
    await expectNoAxeViolations(phone, "log at phone width");
    await phone.close();
  });

  it("met no Content-Security-Policy violation on any page, and serves no source map", async () => {
    expect(cspViolations).toEqual([]);
    const assets = readdirSync(join(repoRoot, "apps/web/dist/assets"));
    expect(assets.filter((name) => name.endsWith(".map"))).toEqual([]);
    const script = assets.find((name) => name.endsWith(".js"));
    expect(script).toBeDefined();
    const map = await fetch(`${stack.baseUrl}/assets/${script}.map`);
    expect(map.status).toBe(404);
  });
});
