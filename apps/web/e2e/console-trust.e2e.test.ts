import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { getEventDefinition } from "@auditlog/events";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectNoAxeViolations } from "./axe.ts";
import { assertChromiumInstalled, launchConsole, signIn } from "./chromium.ts";
import { createAdminOrg, postEventsAndWait, repoRoot, type Stack, startStack } from "./stack.ts";

/**
 * What the console must not misstate, in a real Chromium against the real stack, with a known
 * dataset of 900 entries over 90 days (10 a day, a third of them bob's), in a browser whose zone
 * is Australia/Adelaide (UTC+10:30 in its summer, so a wrong zone shows in the minutes too;
 * Asia/Kolkata would do too, but Chromium names it by its older alias, Asia/Calcutta):
 * - the chart's total is the list's count for the same filter, under All time (not the last 30
 *   days), a query, a preset and a range dragged across the chart;
 * - rows of the previous filter are dimmed and the table busy while the new filter loads;
 * - one declared zone: the Time header names it, rows, drawer and chart follow the UTC switch;
 * - sign-out shows the sign-in page at once, with no entry left in the DOM.
 * Screenshots: apps/web/e2e-artifacts/console-trust/.
 */

const screenshots = join(repoRoot, "apps/web/e2e-artifacts/console-trust");
const password = "correct-horse-battery";
const minute = 60_000;
const hour = 60 * minute;
const day = 24 * hour;
const days = 90;
const perDay = 10;
const browserZone = "Australia/Adelaide";
const types = [
  "org.change_role",
  "billing.update_payment_method",
  "jobs.create",
  "resource_group.create",
  "org.settings.sso.enable",
];

interface Seeded {
  type: string;
  occurredAt: string;
  actor: Record<string, string>;
  data: unknown;
  context: Record<string, string>;
}

/**
 * Day d's entries lie 6 h to 7.5 h after the start of "d days ago" (counting back from `now`):
 * every preset boundary (24 h, 7 d, 30 d) falls at least 16 h away from any entry.
 */
function makeEvents(now: number): Seeded[] {
  const events: Seeded[] = [];
  for (let d = 0; d < days; d++) {
    for (let i = 0; i < perDay; i++) {
      const n = events.length;
      const type = types[n % types.length] as string;
      const bob = n % 3 === 0;
      events.push({
        type,
        occurredAt: new Date(now - d * day - 6 * hour - i * 10 * minute).toISOString(),
        actor: bob
          ? { type: "user", id: "usr_bob", name: "bob" }
          : { type: "user", id: "usr_alice", name: "alice" },
        data:
          type === "org.change_role"
            ? { user: `member-${n}`, oldRole: "read", newRole: "write" }
            : getEventDefinition(type)?.example,
        context: { ip: "81.2.69.160", userAgent: "e2e-trust/1.0" },
      });
    }
  }
  return events;
}

/** Wall-clock "HH:MM" of an instant in a zone, as the console writes it (24-hour). */
function clock(iso: string, timeZone: string): string {
  return new Intl.DateTimeFormat("en-GB", {
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
    timeZone,
  }).format(Date.parse(iso));
}

describe("the console tells the truth: totals, staleness, time zones, sign-out", () => {
  let stack: Stack;
  let page: Page;
  let dispose: () => Promise<void>;
  let orgSlug: string;
  let email: string;
  let token: string;
  let events: Seeded[];

  const shot = (name: string) => page.screenshot({ path: join(screenshots, `${name}.png`) });

  /** The list's count for a filter: every page of the list API, as the console pages it. */
  const listCount = async (params: Record<string, string>): Promise<number> => {
    let count = 0;
    let cursor: string | null = null;
    do {
      const search = new URLSearchParams({ ...params, limit: "200" });
      if (cursor) search.set("cursor", cursor);
      const response = await fetch(`${stack.baseUrl}/v1/orgs/${orgSlug}/audit-logs?${search}`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(response.status).toBe(200);
      const body = (await response.json()) as { entries: unknown[]; nextCursor: string | null };
      count += body.entries.length;
      cursor = body.nextCursor;
    } while (cursor);
    return count;
  };

  /** The chart's total once the chart for the filter in the address has loaded. */
  const chartTotal = async (): Promise<number> => {
    const total = page.locator(".chart-total");
    await total.waitFor();
    const text = await total.getAttribute("data-total");
    return Number(text);
  };

  /** Waits until the chart shows `expected` and the table is idle; throws at its deadline. */
  const waitForChartTotal = async (expected: number) => {
    await page.waitForFunction(
      (n) =>
        document.querySelector(".chart-total")?.getAttribute("data-total") === String(n) &&
        document.querySelector(".chart-card")?.getAttribute("aria-busy") === "false" &&
        document.querySelector('[role="table"]')?.getAttribute("aria-busy") === "false",
      expected,
      { timeout: 30_000 },
    );
  };

  const rangeInUrl = () => {
    const url = new URL(page.url());
    return { from: url.searchParams.get("from"), to: url.searchParams.get("to") };
  };

  beforeAll(async () => {
    assertChromiumInstalled();
    rmSync(screenshots, { recursive: true, force: true });
    mkdirSync(screenshots, { recursive: true });
    stack = await startStack();
    const suffix = Date.now().toString(36);
    orgSlug = `e2e-trust-${suffix}`;
    email = `trust-${suffix}@acme.test`;
    const credentials = await createAdminOrg(
      stack,
      { slug: orgSlug, name: "Trust Co" },
      { email, password },
    );
    ({ token } = credentials);
    events = makeEvents(Date.now());
    await postEventsAndWait(stack, orgSlug, credentials, events);

    ({ page, dispose } = await launchConsole("trust", {
      viewport: { width: 1360, height: 900 },
      timezoneId: browserZone,
    }));
    await signIn(page, stack.baseUrl, { email, password }, orgSlug);
  });

  afterAll(async () => {
    await dispose?.();
    await stack?.stop();
  });

  it("All time: the chart spans the whole log and its total is the list's count", async () => {
    await waitForChartTotal(events.length);
    const total = await chartTotal();
    const listed = await listCount({});
    console.log(`All time: chart total ${total}, list count ${listed}, seeded ${events.length}`);
    expect(total).toBe(listed);
    expect(total).toBe(days * perDay);
    // The subtitle names the range: from the oldest entry, 89 days ago, not 30 days.
    const subtitle = (await page.locator(".chart-subtitle").textContent()) ?? "";
    const oldest = events.at(-1)?.occurredAt as string;
    const oldestDay = new Intl.DateTimeFormat("en-GB", {
      day: "numeric",
      month: "short",
      timeZone: browserZone,
    }).format(Date.parse(oldest));
    expect(subtitle).toContain(oldestDay);
    expect(subtitle).toContain("per day");
    expect(subtitle).toContain(`(${browserZone})`);
    await shot("01-all-time-total");
    await expectNoAxeViolations(page, "01-all-time-total");
  });

  it("dims the previous filter's rows and sets aria-busy while a slow new filter loads", async () => {
    const delayMs = 2500;
    await page.route(
      (url) => url.pathname.endsWith("/audit-logs") && url.searchParams.get("q") === "author:bob",
      async (route) => {
        await new Promise((resolve) => setTimeout(resolve, delayMs));
        await route.continue();
      },
    );
    const input = page.getByRole("combobox", { name: "Filter with a query" });
    await input.fill("author:bob");
    await input.press("Escape");
    await input.press("Enter");
    // While the delayed list call is pending: old rows still there, dimmed, table busy.
    await page.waitForFunction(
      () => {
        const table = document.querySelector('[role="table"]');
        const rows = document.querySelector(".log-rows");
        return (
          table?.getAttribute("aria-busy") === "true" &&
          table.classList.contains("is-stale") &&
          rows !== null &&
          Number(getComputedStyle(rows).opacity) < 0.6
        );
      },
      undefined,
      { timeout: delayMs - 500 },
    );
    const stale = await page.evaluate(() => ({
      rows: document.querySelectorAll('.log-rows [role="row"]').length,
      opacity: getComputedStyle(document.querySelector(".log-rows") as Element).opacity,
      busy: document.querySelector('[role="table"]')?.getAttribute("aria-busy"),
    }));
    console.log(
      `While loading: ${stale.rows} old rows at opacity ${stale.opacity}, aria-busy ${stale.busy}`,
    );
    expect(stale.rows).toBeGreaterThan(0);
    await shot("02-stale-rows-dimmed");
    // Then the new rows, not dimmed, not busy.
    const bob = events.filter((event) => event.actor.name === "bob").length;
    await waitForChartTotal(bob);
    await page.waitForFunction(
      () => !document.querySelector('[role="table"]')?.classList.contains("is-stale"),
    );
    expect(
      await page.evaluate(
        () => getComputedStyle(document.querySelector(".log-rows") as Element).opacity,
      ),
    ).toBe("1");
    const names = await page
      .locator('.log-rows [role="row"] .cell-col-actor .cell-primary')
      .allTextContents();
    expect(names.length).toBeGreaterThan(0);
    expect(new Set(names)).toEqual(new Set(["bob"]));
    await page.unroute(() => true);
  });

  it("under a query, the chart's total is the list's count", async () => {
    const bob = events.filter((event) => event.actor.name === "bob").length;
    const total = await chartTotal();
    const listed = await listCount({ q: "author:bob" });
    console.log(`author:bob: chart total ${total}, list count ${listed}, seeded ${bob}`);
    expect(total).toBe(listed);
    expect(total).toBe(bob);
    await shot("03-query-total");
  });

  it("under a narrower range (7 days, and 7 days of bob's), the totals agree", async () => {
    await page.getByRole("button", { name: "7 days" }).click();
    const bobWeek = events.filter(
      (event) => event.actor.name === "bob" && Date.parse(event.occurredAt) > Date.now() - 7 * day,
    ).length;
    await waitForChartTotal(bobWeek);
    const from = new Date(Date.now() - 7 * day).toISOString();
    expect(await chartTotal()).toBe(await listCount({ q: "author:bob", from }));
    await page.getByRole("button", { name: "Clear the query" }).click();
    await waitForChartTotal(7 * perDay);
    const total = await chartTotal();
    const listed = await listCount({ from });
    console.log(`7 days: chart total ${total}, list count ${listed}; bob's: ${bobWeek}`);
    expect(total).toBe(listed);
    expect(await page.locator(".chart-subtitle").textContent()).toContain("per hour");
    await shot("04-seven-days-total");
  });

  it("drag across the chart: the address gets the custom range, the totals still agree", async () => {
    await page.getByRole("button", { name: "All time" }).click();
    await waitForChartTotal(events.length);
    const box = await page.locator(".chart-plot").boundingBox();
    if (!box) throw new Error("no chart on screen");
    const plotLeft = box.x + 40;
    const plotWidth = box.width - 40;
    const y = box.y + 60;
    // From about 40 % to 60 % of the way across: some 18 daily bars.
    await page.mouse.move(plotLeft + plotWidth * 0.4, y);
    await page.mouse.down();
    await page.mouse.move(plotLeft + plotWidth * 0.5, y, { steps: 5 });
    await page.locator(".chart-selection").waitFor();
    await shot("05-drag-selecting");
    await page.mouse.move(plotLeft + plotWidth * 0.6, y, { steps: 5 });
    await page.mouse.up();
    await page.waitForURL(/range=custom/);
    const { from, to } = rangeInUrl();
    if (!from || !to) throw new Error(`no custom range in ${page.url()}`);
    const span = Date.parse(to) - Date.parse(from);
    console.log(`Dragged range: ${from} – ${to} (${(span / day).toFixed(1)} days)`);
    expect(span).toBeGreaterThan(10 * day);
    expect(span).toBeLessThan(30 * day);
    // Bucket edges: midnight in the browser's zone (Adelaide is UTC+10:30 in December).
    expect(clock(from, browserZone)).toBe("00:00");
    const expected = events.filter(
      (event) => event.occurredAt >= from && event.occurredAt < to,
    ).length;
    await waitForChartTotal(expected);
    const listed = await listCount({ from, to });
    console.log(`Dragged range: chart total ${expected}, list count ${listed}`);
    expect(listed).toBe(expected);
    await shot("06-dragged-range");
  });

  it("zoom out doubles the range; a few hours draw minute buckets, chosen with Shift+arrows", async () => {
    const before = rangeInUrl();
    await page.getByRole("button", { name: "Zoom out" }).click();
    await page.waitForURL((url) => url.searchParams.get("from") !== before.from);
    const after = rangeInUrl();
    const oldSpan = Date.parse(before.to ?? "") - Date.parse(before.from ?? "");
    expect(Date.parse(after.to ?? "") - Date.parse(after.from ?? "")).toBe(2 * oldSpan);

    const to = new Date(Date.now() - 5 * hour).toISOString();
    const from = new Date(Date.now() - 8 * hour).toISOString();
    await page.goto(
      `${stack.baseUrl}/orgs/${orgSlug}/audit-logs?range=custom&from=${from}&to=${to}`,
    );
    await waitForChartTotal(perDay);
    expect(await listCount({ from, to })).toBe(perDay);
    expect(await page.locator(".chart-subtitle").textContent()).toContain("per minute");
    await shot("07-minute-buckets");
    await expectNoAxeViolations(page, "07-minute-buckets");
    // The keyboard's drag: Home, then Shift+→ four times, then Enter: five minute buckets.
    await page.locator(".chart-plot").focus();
    await page.keyboard.press("Home");
    for (let i = 0; i < 4; i++) await page.keyboard.press("Shift+ArrowRight");
    await page.keyboard.press("Enter");
    await page.waitForURL((url) => url.searchParams.get("from") !== from);
    const chosen = rangeInUrl();
    expect(Date.parse(chosen.to ?? "") - Date.parse(chosen.from ?? "")).toBe(5 * minute);
    await page.getByRole("button", { name: "All time" }).click();
    await waitForChartTotal(events.length);
  });

  it("one declared zone: the Time header names it, rows and drawer follow the UTC switch", async () => {
    const header = page.getByRole("columnheader", { name: /^Time/ });
    const newest = events[0] as Seeded;
    const firstTime = page
      .locator('.log-rows [role="row"]')
      .first()
      .locator(".cell-time .cell-primary");
    expect(await header.textContent()).toBe(`Time (${browserZone})`);
    const local = clock(newest.occurredAt, browserZone);
    const utc = clock(newest.occurredAt, "UTC");
    expect(local).not.toBe(utc);
    expect(await firstTime.textContent()).toContain(local);
    await shot("08-local-time");
    await expectNoAxeViolations(page, "08-local-time");

    await page.getByRole("button", { name: "UTC", exact: true }).click();
    await page.waitForFunction(
      () =>
        document.querySelector('[role="columnheader"].cell-col-time')?.textContent === "Time (UTC)",
    );
    expect(await firstTime.textContent()).toContain(utc);
    expect(await page.locator(".chart-subtitle").textContent()).toContain("(UTC)");
    await shot("09-utc-time");
    await expectNoAxeViolations(page, "09-utc-time");

    // Remembered across a reload.
    await page.reload();
    await header.waitFor();
    expect(await header.textContent()).toBe("Time (UTC)");
    await page.locator('.log-rows [role="row"]').first().click();
    const when = page.getByRole("dialog", { name: "Entry details" }).locator("time").first();
    expect(await when.getAttribute("data-time-zone")).toBe("UTC");
    expect(await when.textContent()).toContain(utc);
    await page.keyboard.press("Escape");

    await page.getByRole("button", { name: "Local", exact: true }).click();
    await page.waitForFunction(
      (zone) =>
        document.querySelector('[role="columnheader"].cell-col-time')?.textContent ===
        `Time (${zone})`,
      browserZone,
    );
    expect(await firstTime.textContent()).toContain(local);
  });

  it("sign-out returns to the sign-in page at once, with no entry left in the DOM", async () => {
    await page.getByRole("button", { name: `Account: ${email}` }).click();
    const started = Date.now();
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByRole("heading", { name: "Sign in" }).waitFor({ timeout: 5_000 });
    const elapsed = Date.now() - started;
    const left = await page.evaluate(() => ({
      rows: document.querySelectorAll('[role="row"]').length,
      tables: document.querySelectorAll('[role="table"]').length,
      accountMenus: document.querySelectorAll('[aria-label^="Account:"]').length,
      chart: document.querySelectorAll(".chart-card").length,
    }));
    console.log(
      `Sign-out: sign-in page after ${elapsed} ms; left in the DOM: ${JSON.stringify(left)}`,
    );
    expect(left).toEqual({ rows: 0, tables: 0, accountMenus: 0, chart: 0 });
    expect(await page.getByLabel("Email").isVisible()).toBe(true);
    await shot("10-signed-out");
    await expectNoAxeViolations(page, "10-signed-out");

    await page.reload();
    await page.getByRole("heading", { name: "Sign in" }).waitFor();
    expect(await page.locator('[role="row"]').count()).toBe(0);
    const me = await page.evaluate(async () => (await fetch("/v1/me")).status);
    expect(me).toBe(401);
  });
});
