import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { getEventDefinition } from "@auditlog/events";
import type { Locator, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectNoAxeViolations } from "./axe.ts";
import { assertChromiumInstalled, launchConsole, signIn } from "./chromium.ts";
import { waitForLogRows } from "./settings-console.ts";
import { createAdminOrg, postEventsAndWait, repoRoot, type Stack, startStack } from "./stack.ts";

/**
 * The console's layout in a real headless Chromium against the real stack, at 1024×768,
 * 1440×900 and 390×844, in the light and the dark theme, with entries full of long unbroken
 * strings (actor, target, description, user agent, data): nothing makes the page or the details
 * drawer scroll sideways, every popover opens inside the window, the time-range labels do not
 * overlap, compact rows show 15 or more entries at 1440×900, the chart's and the rows' settings
 * survive a reload, a phone has one scroll, and axe-core finds no violation on any screen.
 * Screenshots go to apps/web/e2e-artifacts/console-layout/.
 */

const artifacts = join(repoRoot, "apps/web/e2e-artifacts/console-layout");
const password = "correct-horse-battery";
const hour = 3_600_000;

const viewports = [
  { name: "1024", width: 1024, height: 768 },
  { name: "1440", width: 1440, height: 900 },
  { name: "phone", width: 390, height: 844 },
] as const;
const themes = ["light", "dark"] as const;

/** Unbroken: no space, hyphen or slash where a line could break. */
const unbroken = (seed: string, length: number) =>
  seed.repeat(Math.ceil(length / seed.length)).slice(0, length);
const longName = unbroken("Maximilianus", 190);
const longRepo = `acme/${unbroken("averyveryveryverylongmodelname", 280)}`;

/** Types of every category but the audit log's own, so each badge colour is checked. */
const otherTypes = [
  "billing.update_payment_method",
  "resource_group.create",
  "jobs.create",
  "org.settings.sso.enable",
];

function makeEvents(now: number) {
  const events: Record<string, unknown>[] = [];
  for (let n = 0; n < 60; n++) {
    const long = n % 10 === 0;
    const repo = long ? `${longRepo.slice(0, 290)}${n}` : `acme/model-${n}`;
    const type = n % 3 === 0 ? "org.change_role" : n % 7 === 1 ? otherTypes[n % 4] : "repo.create";
    events.push({
      type,
      occurredAt: new Date(now - n * 0.9 * hour).toISOString(),
      actor: long
        ? { type: "user", id: `usr_${unbroken("x", 150)}`, name: longName }
        : { type: "user", id: "usr_alice", name: "alice" },
      target: { type: "model", id: repo, name: repo },
      data:
        type !== "org.change_role" && type !== "repo.create"
          ? getEventDefinition(type as string)?.example
          : n % 3 === 0
            ? {
                user: long ? unbroken("member", 290) : `member-${n}`,
                oldRole: "read",
                newRole: "write",
              }
            : { repo: { type: "model", name: repo } },
      context: {
        ip: n % 2 ? "81.2.69.160" : "2a00:1450:4007:80e::200e",
        userAgent: long ? unbroken("Mozilla/5.0(X11;Linux)", 900) : "e2e-test/1.0",
      },
    });
  }
  return events;
}

interface Box {
  left: number;
  right: number;
  top: number;
  bottom: number;
}

describe("the console's layout at three sizes, in light and dark", () => {
  let stack: Stack;
  let page: Page;
  let dispose: () => Promise<void>;
  let orgSlug: string;
  let freeSlug: string;
  let total: number;
  const figures: string[] = [];

  const shot = (name: string, target: Page = page) =>
    target.screenshot({ path: join(artifacts, `${name}.png`) });
  const logUrl = (search = "") => `${stack.baseUrl}/orgs/${orgSlug}/audit-logs${search}`;
  const waitForList = (target: Page = page) => waitForLogRows(target);

  /** The page does not scroll sideways. */
  const expectNoPageOverflow = async (label: string) => {
    const { scrollWidth, clientWidth } = await page.evaluate(() => ({
      scrollWidth: document.documentElement.scrollWidth,
      clientWidth: document.documentElement.clientWidth,
    }));
    expect(
      scrollWidth,
      `${label}: page scrollWidth ${scrollWidth} > ${clientWidth}`,
    ).toBeLessThanOrEqual(clientWidth);
  };

  /** The element is entirely inside the window. */
  const expectInViewport = async (locator: Locator, label: string) => {
    const box = (await locator.evaluate((element) => {
      const rect = element.getBoundingClientRect();
      return { left: rect.left, right: rect.right, top: rect.top, bottom: rect.bottom };
    })) as Box;
    const view = await page.evaluate(() => ({
      width: document.documentElement.clientWidth,
      height: window.innerHeight,
    }));
    const where = `${label}: ${JSON.stringify(box)} in ${view.width}×${view.height}`;
    expect(box.left, where).toBeGreaterThanOrEqual(0);
    expect(box.right, where).toBeLessThanOrEqual(view.width);
    expect(box.top, where).toBeGreaterThanOrEqual(0);
    expect(box.bottom, where).toBeLessThanOrEqual(view.height);
  };

  /** A popover is not cut off by a scrolling area it is in (the page's main area on a desktop). */
  const expectNotClipped = async (locator: Locator, label: string) => {
    const clippedBy = await locator.evaluate((element) => {
      const rect = element.getBoundingClientRect();
      const out: string[] = [];
      for (let parent = element.parentElement; parent; parent = parent.parentElement) {
        if (getComputedStyle(parent).overflowY === "visible") continue;
        const area = parent.getBoundingClientRect();
        if (rect.bottom > area.bottom + 0.5 || rect.right > area.right + 0.5) {
          out.push(`${parent.className}: ${JSON.stringify(area)}`);
        }
      }
      return out;
    });
    expect(clippedBy, label).toEqual([]);
  };

  /** Opens a popover with its button, checks it and closes it again with Escape. */
  const checkPopover = async (button: Locator, panelName: string, label: string) => {
    await button.click();
    const panel = page.getByRole("region", { name: panelName });
    await panel.waitFor();
    await expectInViewport(panel, label);
    await expectNotClipped(panel, label);
    await expectNoPageOverflow(label);
    await expectNoAxeViolations(page, label);
    await shot(label.replace(/[^a-z0-9]+/gi, "-"));
    await page.keyboard.press("Escape");
    await panel.waitFor({ state: "detached" });
  };

  beforeAll(async () => {
    assertChromiumInstalled();
    rmSync(artifacts, { recursive: true, force: true });
    mkdirSync(artifacts, { recursive: true });
    stack = await startStack();
    const suffix = Date.now().toString(36);
    orgSlug = `layout-${suffix}`;
    freeSlug = `layout-free-${suffix}`;
    const admin = { email: `admin-${suffix}@acme.test`, password };
    const credentials = await createAdminOrg(
      stack,
      { slug: orgSlug, name: "Acme Robotics" },
      admin,
    );
    await stack.cli("org", "create", freeSlug, "--name", "Hobby Org", "--plan", "free");
    await stack.cli(
      "user",
      "create",
      admin.email,
      "--password",
      password,
      "--org",
      freeSlug,
      "--role",
      "admin",
    );
    const events = makeEvents(Date.now());
    total = events.length;
    await postEventsAndWait(stack, orgSlug, credentials, events);

    ({ page, dispose } = await launchConsole("layout", {
      viewport: { width: 1440, height: 900 },
      timezoneId: "Europe/Paris",
    }));
    await signIn(page, stack.baseUrl, admin, orgSlug);
    await waitForList();
  }, 240_000);

  afterAll(async () => {
    if (figures.length > 0) console.log(`console layout figures:\n${figures.join("\n")}`);
    await dispose?.();
    await stack?.stop();
  });

  for (const viewport of viewports) {
    for (const theme of themes) {
      const name = `${viewport.name}-${theme}`;
      it(`lays out every screen at ${viewport.width}×${viewport.height} in the ${theme} theme`, async () => {
        await page.setViewportSize({ width: viewport.width, height: viewport.height });
        await page.emulateMedia({ colorScheme: theme });
        await page.goto(logUrl());
        await waitForList();
        expect(await page.evaluate(() => document.documentElement.dataset.theme)).toBe(theme);
        await expectNoPageOverflow(`${name} log`);
        await expectNoAxeViolations(page, `${name} log`);
        await shot(`${name}-log`);

        // A bar's tooltip stays inside the chart card at both edges (it overflowed on the right).
        for (const edge of ["first", "last"] as const) {
          // The bar's group: at its centre is its hit area or one of its coloured segments, by
          // the data (the chart follows the pointer's column, whichever it is over).
          const bars = page.locator(".chart-bar");
          await (edge === "first" ? bars.first() : bars.last()).hover();
          const tooltip = page.locator(".chart-tooltip");
          await tooltip.waitFor();
          const [tip, card] = await Promise.all(
            [tooltip, page.locator(".chart-card")].map((locator) =>
              locator.evaluate((element) => {
                const rect = element.getBoundingClientRect();
                return { left: rect.left, right: rect.right };
              }),
            ),
          );
          const where = `${name} ${edge} bar tooltip ${JSON.stringify(tip)} in card ${JSON.stringify(card)}`;
          expect(tip?.left, where).toBeGreaterThanOrEqual((card?.left ?? 0) - 0.5);
          expect(tip?.right, where).toBeLessThanOrEqual((card?.right ?? 0) + 0.5);
        }
        await page.mouse.move(0, 0);

        // Columns share the width: Description is the widest column on a desktop.
        if (viewport.name !== "phone") {
          const widths = await page.evaluate(() =>
            Object.fromEntries(
              [...document.querySelectorAll(".log-row-head > .cell")].map((cell) => [
                cell.className.replace(/.*cell-col-/, ""),
                Math.round(cell.getBoundingClientRect().width),
              ]),
            ),
          );
          figures.push(`${name}: column widths ${JSON.stringify(widths)}`);
          for (const column of ["time", "actor", "type", "location"]) {
            expect(widths.description, JSON.stringify(widths)).toBeGreaterThan(widths[column] ?? 0);
          }
          expect(widths.description).toBeGreaterThanOrEqual(250);
        }

        const header = page.locator("header.header");
        await checkPopover(
          header.getByRole("button", { name: /^Notifications/ }),
          "Notifications",
          `${name} notifications`,
        );
        await checkPopover(
          header.getByRole("button", { name: /^Account/ }),
          "Account",
          `${name} account menu`,
        );
        await checkPopover(
          page.getByRole("button", { name: /^Type / }),
          "Choose event types",
          `${name} type picker`,
        );
        await checkPopover(
          page.getByRole("button", { name: /^Custom time range/ }),
          "Custom time range",
          `${name} custom range`,
        );

        // A custom range: its long label does not overlap the presets.
        const from = new Date(Date.now() - 30 * hour).toISOString();
        const to = new Date(Date.now() - 2 * hour).toISOString();
        await page.goto(
          logUrl(`?range=custom&from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`),
        );
        await waitForList();
        const segments = await page.locator(".segmented .segment").evaluateAll((elements) =>
          elements.map((element) => {
            const rect = element.getBoundingClientRect();
            return { left: rect.left, right: rect.right, top: rect.top, bottom: rect.bottom };
          }),
        );
        // Five range presets and the Local/UTC switch: none may overlap another.
        expect(segments).toHaveLength(7);
        for (const [i, a] of segments.entries()) {
          for (const b of segments.slice(i + 1)) {
            const overlap =
              a.left < b.right - 0.5 &&
              b.left < a.right - 0.5 &&
              a.top < b.bottom - 0.5 &&
              b.top < a.bottom - 0.5;
            expect(overlap, `${JSON.stringify(a)} overlaps ${JSON.stringify(b)}`).toBe(false);
          }
        }
        // No label is cut short.
        const clipped = await page
          .locator(".segmented .segment")
          .evaluateAll((elements) =>
            elements
              .filter((element) => element.scrollWidth > element.clientWidth)
              .map((element) => element.textContent),
          );
        expect(clipped, "time-range labels cut short").toEqual([]);
        await expectNoPageOverflow(`${name} custom range`);
        await expectNoAxeViolations(page, `${name} log, custom range`);
        await shot(`${name}-custom-range`);

        // The entry with the longest strings, in the details drawer.
        await page.goto(logUrl());
        await waitForList();
        const longRow = page
          .locator('.log-rows [role="row"]')
          .filter({ hasText: longName.slice(0, 40) })
          .first();
        await longRow.click();
        const drawer = page.getByRole("dialog", { name: "Entry details" });
        await drawer.locator(".details").waitFor();
        await drawer.getByText(longName).first().waitFor();
        const overflow = await drawer.evaluate((dialog) => {
          const out: string[] = [];
          const box = dialog.getBoundingClientRect();
          for (const element of dialog.querySelectorAll<HTMLElement>("*")) {
            const rect = element.getBoundingClientRect();
            if (rect.width > 0 && (rect.right > box.right + 0.5 || rect.left < box.left - 0.5)) {
              out.push(`${element.tagName}.${element.className}: ${rect.left}–${rect.right}`);
            }
          }
          for (const element of [
            dialog,
            ...dialog.querySelectorAll<HTMLElement>(".modal-body, .json"),
          ]) {
            if (element.scrollWidth > element.clientWidth) {
              out.push(
                `${element.className} scrolls sideways: ${element.scrollWidth} > ${element.clientWidth}`,
              );
            }
          }
          return out;
        });
        expect(overflow).toEqual([]);
        await expectInViewport(drawer, `${name} details drawer`);
        await expectNoPageOverflow(`${name} details`);
        await expectNoAxeViolations(page, `${name} entry details`);
        await shot(`${name}-details`);
        await page.keyboard.press("Escape");
        await drawer.waitFor({ state: "detached" });

        // Export dialog and export history.
        await page.getByRole("button", { name: "New export…" }).click();
        const exportDialog = page.getByRole("dialog", { name: "Export audit log" });
        await exportDialog.getByRole("checkbox", { name: "Include hidden entries" }).waitFor();
        await expectInViewport(exportDialog, `${name} export dialog`);
        await expectNoAxeViolations(page, `${name} export dialog`);
        await shot(`${name}-export-dialog`);
        await page.keyboard.press("Escape");
        await exportDialog.waitFor({ state: "detached" });
        await page.getByRole("button", { name: /^Export history/ }).click();
        const history = page.getByRole("dialog", { name: "Export history" });
        await history.waitFor();
        await expectNoAxeViolations(page, `${name} export history`);
        await page.keyboard.press("Escape");
        await history.waitFor({ state: "detached" });

        // The free-plan notice, with its upgrade link.
        await page.goto(`${stack.baseUrl}/orgs/${freeSlug}/audit-logs`);
        const upgrade = page.getByRole("link", { name: "Upgrade Hobby Org" });
        await upgrade.waitFor();
        expect(await upgrade.getAttribute("href")).toBe(
          `https://example.com/pricing?org=${freeSlug}`,
        );
        await expectNoPageOverflow(`${name} free-plan notice`);
        await expectNoAxeViolations(page, `${name} free-plan notice`);
        await shot(`${name}-free-plan`);
      });
    }
  }

  it("shows 15 or more entries in compact mode at 1440×900, and remembers it", async () => {
    await page.setViewportSize({ width: 1440, height: 900 });
    await page.emulateMedia({ colorScheme: "light" });
    await page.goto(logUrl());
    await waitForList();
    const fullyVisibleRows = () =>
      page.evaluate(() => {
        const scroller = document.querySelector(".log-scroll")?.getBoundingClientRect();
        if (!scroller) throw new Error("no .log-scroll");
        const bottom = Math.min(scroller.bottom, window.innerHeight);
        return [...document.querySelectorAll('.log-rows [role="row"]')].filter((row) => {
          const rect = row.getBoundingClientRect();
          return rect.top >= scroller.top - 0.5 && rect.bottom <= bottom + 0.5;
        }).length;
      });
    const comfortable = await fullyVisibleRows();
    const toggle = page.getByRole("button", { name: "Compact" });
    expect(await toggle.getAttribute("aria-pressed")).toBe("false");
    await toggle.click();
    expect(await toggle.getAttribute("aria-pressed")).toBe("true");
    const compact = await fullyVisibleRows();
    figures.push(`1440×900: ${comfortable} rows visible comfortable, ${compact} compact`);
    expect(compact).toBeGreaterThanOrEqual(15);
    await expectNoAxeViolations(page, "compact rows");
    await shot("1440-compact");

    // Kept across a reload; the chart's state too.
    await page.getByRole("button", { name: "Hide chart" }).click();
    expect(await page.locator(".chart-card").count()).toBe(0);
    const withoutChart = await fullyVisibleRows();
    figures.push(`1440×900: ${withoutChart} rows visible compact with the chart collapsed`);
    await page.reload();
    await waitForList();
    expect(await page.getByRole("button", { name: "Compact" }).getAttribute("aria-pressed")).toBe(
      "true",
    );
    await page.getByRole("button", { name: "Show chart" }).waitFor();
    expect(await page.locator(".chart-card").count()).toBe(0);
    await shot("1440-compact-no-chart");
    await page.getByRole("button", { name: "Show chart" }).click();
    await page.locator(".chart-card").waitFor();
    await page.getByRole("button", { name: "Compact" }).click();
    expect(await page.getByRole("button", { name: "Compact" }).getAttribute("aria-pressed")).toBe(
      "false",
    );
  });

  it("has one scroll on a phone, and the end of the log says so", async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(logUrl());
    await waitForList();
    const scrollers = () =>
      page.evaluate(() =>
        [...document.querySelectorAll<HTMLElement>("body *")]
          .filter((element) => {
            const style = getComputedStyle(element);
            return (
              /auto|scroll/.test(style.overflowY) && element.scrollHeight > element.clientHeight + 1
            );
          })
          .map((element) => element.className),
      );
    expect(await scrollers()).toEqual([]);
    expect(await page.evaluate(() => document.documentElement.scrollHeight)).toBeGreaterThan(844);
    // Scrolling the page to its end shows the last entries and the end marker.
    const marker = page.getByText(`Beginning of the log: all ${total} entries shown.`);
    for (let i = 0; i < 20 && (await marker.count()) === 0; i++) {
      await page.mouse.wheel(0, 3000);
      await page.waitForTimeout(100);
    }
    await marker.waitFor();
    expect(await page.locator('.log-rows [role="row"]').last().textContent()).toBeTruthy();
    await expectNoPageOverflow("phone, end of the log");
    await expectNoAxeViolations(page, "phone, end of the log");
    await shot("phone-end-of-log");
  });

  it("switches to the dark theme from the account menu and keeps it", async () => {
    await page.setViewportSize({ width: 1440, height: 900 });
    await page.emulateMedia({ colorScheme: "light" });
    await page.goto(logUrl());
    await waitForList();
    await page.getByRole("button", { name: /^Account/ }).click();
    await page.getByRole("radio", { name: "Dark" }).check();
    expect(await page.evaluate(() => document.documentElement.dataset.theme)).toBe("dark");
    await page.keyboard.press("Escape");
    await page.reload();
    await waitForList();
    expect(await page.evaluate(() => document.documentElement.dataset.theme)).toBe("dark");
    const background = await page.evaluate(
      () => getComputedStyle(document.documentElement).backgroundColor,
    );
    figures.push(`dark theme chosen under a light system setting: body ${background}`);
    await expectNoAxeViolations(page, "dark theme chosen in the account menu");
    await shot("1440-dark-chosen");
    // The sign-in page, dark (chosen) and light (the system's once the choice is reset).
    await page.getByRole("button", { name: /^Account/ }).click();
    await Promise.all([
      page.waitForResponse((response) => response.url().endsWith("/v1/auth/logout")),
      page.getByRole("button", { name: "Sign out" }).click(),
    ]);
    // Loaded again: this test is about the page's colours, not about how sign-out redraws.
    await page.goto(stack.baseUrl);
    await page.getByRole("heading", { name: "Sign in" }).waitFor();
    expect(await page.evaluate(() => document.documentElement.dataset.theme)).toBe("dark");
    await expectNoAxeViolations(page, "sign-in, dark");
    await shot("1440-dark-sign-in");
    await page.evaluate(() => window.localStorage.setItem("auditlog.theme", "system"));
    await page.reload();
    await page.getByRole("heading", { name: "Sign in" }).waitFor();
    expect(await page.evaluate(() => document.documentElement.dataset.theme)).toBe("light");
    await expectNoAxeViolations(page, "sign-in, light");
  });
});
