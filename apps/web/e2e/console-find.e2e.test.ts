import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { expandTypePatterns } from "@auditlog/events";
import type { BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectNoAxeViolations } from "./axe.ts";
import { assertChromiumInstalled, launchConsole, signIn } from "./chromium.ts";
import { createAdminOrg, postEventsAndWait, type Stack, startStack } from "./stack.ts";

/**
 * Finding things in the console (issue 15, items 7 and 8), in a real headless Chromium against
 * the real stack: the facet rail, the active-filter chips, "only this / exclude / copy" pivots in
 * rows and in the details drawer, and the type picker all read and write the address's `q`, in
 * both directions; author completion comes from the server (accent-insensitive); unsupported
 * syntax is refused at the bad term. Screenshots go to apps/web/e2e-artifacts/console-find/.
 */

const screenshots = join(import.meta.dirname, "../e2e-artifacts/console-find");
const password = "correct-horse-battery";

const actors = {
  alice: { type: "user", id: "usr_alice", name: "alice" },
  zoe: { type: "user", id: "usr_zoe", name: "Zoë Martin" },
  bob: { type: "user", id: "usr_bob", name: "bob" },
};

/** 6 repo.create by alice (GB), 4 role changes by Zoë (US), 3 repo.delete by bob (GB). */
function makeEvents(now: number) {
  const plan: [string, keyof typeof actors, number, string][] = [
    ["repo.create", "alice", 6, "81.2.69.160"],
    ["org.change_role", "zoe", 4, "8.8.8.8"],
    ["repo.delete", "bob", 3, "81.2.69.160"],
  ];
  const events: unknown[] = [];
  for (const [type, actor, count, ip] of plan) {
    for (let i = 0; i < count; i++) {
      const n = events.length;
      const repo = `acme/model-${n % 2}`;
      events.push({
        type,
        occurredAt: new Date(now - (n + 1) * 600_000).toISOString(),
        actor: actors[actor],
        ...(type.startsWith("repo.") ? { target: { type: "model", id: repo, name: repo } } : {}),
        data:
          type === "org.change_role"
            ? { user: `member-${n}`, oldRole: "read", newRole: "write" }
            : { repo: { type: "model", name: repo } },
        context: { ip, userAgent: "e2e-test/1.0" },
      });
    }
  }
  return events;
}

describe("finding things in the console, end to end", () => {
  let stack: Stack;
  let context: BrowserContext;
  let page: Page;
  let dispose: () => Promise<void>;
  let orgSlug: string;
  let step = 0;

  const shot = async (name: string) => {
    step += 1;
    await page.screenshot({
      path: join(screenshots, `${String(step).padStart(2, "0")}-${name}.png`),
    });
  };
  /** `q` as the address holds it now. */
  const addressQ = () => new URL(page.url()).searchParams.get("q") ?? "";
  const waitForQ = async (expected: string) => {
    try {
      await page.waitForFunction(
        (q) => (new URL(window.location.href).searchParams.get("q") ?? "") === q,
        expected,
        { timeout: 15_000 },
      );
    } catch (error) {
      await shot("failed-wait-for-q");
      throw new Error(`q is ${JSON.stringify(addressQ())}, not ${JSON.stringify(expected)}`, {
        cause: error,
      });
    }
  };
  const waitForRows = async (count: number) => {
    await page.waitForFunction(
      (expected) =>
        document.querySelector('[role="table"]')?.getAttribute("aria-rowcount") ===
          String(expected + 1) &&
        document.querySelector('[role="table"]')?.getAttribute("aria-busy") === "false",
      count,
      { timeout: 30_000 },
    );
  };
  const rail = () => page.getByRole("complementary", { name: "Facets" });
  /** The rail once its facets answered for the current filter. */
  const settledRail = async () => {
    await page.waitForFunction(
      () => document.querySelector(".facet-rail")?.getAttribute("aria-busy") === "false",
      undefined,
      { timeout: 15_000 },
    );
    return rail();
  };
  /** Each value of a facet with its count, as the rail shows them. */
  const facetValues = async (title: string) => {
    const section = (await settledRail()).getByRole("region", { name: title });
    const values: Record<string, string> = {};
    for (const item of await section.locator(".facet-pick").all()) {
      values[(await item.locator(".facet-label").textContent()) ?? ""] =
        (await item.locator(".facet-count").textContent()) ?? "";
    }
    return values;
  };
  const chips = async () => page.locator(".filter-chip-text").allTextContents();
  const typePicker = () =>
    page
      .locator(".toolbar-row .popover-root > button")
      .filter({ hasText: /types|repo|org\./i })
      .first();

  beforeAll(async () => {
    assertChromiumInstalled();
    rmSync(screenshots, { recursive: true, force: true });
    mkdirSync(screenshots, { recursive: true });
    stack = await startStack();
    const suffix = Date.now().toString(36);
    orgSlug = `find-${suffix}`;
    const admin = { email: `admin-${suffix}@acme.test`, password };
    const credentials = await createAdminOrg(stack, { slug: orgSlug, name: "Acme Find" }, admin);
    await postEventsAndWait(stack, orgSlug, credentials, makeEvents(Date.now()));

    ({ context, page, dispose } = await launchConsole("find", {
      viewport: { width: 1440, height: 900 },
      timezoneId: "UTC",
    }));
    context.setDefaultTimeout(20_000);
    await context.grantPermissions(["clipboard-read", "clipboard-write"], {
      origin: stack.baseUrl,
    });
    await signIn(page, stack.baseUrl, admin, orgSlug);
    await waitForRows(13);
  }, 180_000);

  afterAll(async () => {
    await dispose?.();
    await stack?.stop();
  });

  it("completes author:zo with Zoë from the server", async () => {
    const input = page.getByRole("combobox", { name: "Filter with a query" });
    await input.click();
    await input.pressSequentially("author:zo");
    const option = page.getByRole("option", { name: /Zoë Martin/ });
    await option.waitFor();
    expect(await page.getByRole("group", { name: "In this log" }).count()).toBe(1);
    await shot("completion-zoe");
    await expectNoAxeViolations(page, "completion-zoe");
    await option.click();
    expect(await input.inputValue()).toBe('author:"Zoë Martin" ');
    await input.press("Enter");
    await waitForQ('author:"Zoë Martin"');
    await waitForRows(4);
    expect(await chips()).toEqual(['author:"Zoë Martin"']);
    await page.getByRole("button", { name: 'Remove filter author:"Zoë Martin"' }).click();
    await waitForQ("");
    await waitForRows(13);
    expect(await chips()).toEqual([]);
  });

  it("shows facets for the filter, and a click on a value narrows q (and back)", async () => {
    expect(await facetValues("Actors")).toEqual({ alice: "6", "Zoë Martin": "4", bob: "3" });
    expect(await facetValues("Types")).toEqual({
      "repo.create": "6",
      "org.change_role": "4",
      "repo.delete": "3",
    });
    expect(await facetValues("Countries")).toEqual({ "United Kingdom": "9", "United States": "4" });
    await shot("facets");
    await expectNoAxeViolations(page, "facets");

    // Click → URL: only this actor.
    await rail().getByRole("button", { name: /^bob/ }).click();
    await waitForQ("author:bob");
    await waitForRows(3);
    expect(await chips()).toEqual(["author:bob"]);
    expect(await rail().getByRole("button", { name: /^bob/ }).getAttribute("aria-pressed")).toBe(
      "true",
    );
    expect(await facetValues("Types")).toEqual({ "repo.delete": "3" });
    await shot("facet-only-bob");

    // The facet's exclude button adds a negated term; a chip's × takes it away again.
    await page.getByRole("button", { name: "Exclude author bob" }).click();
    await waitForQ("-author:bob");
    await waitForRows(10);
    expect(await chips()).toEqual(["-author:bob"]);
    expect(await facetValues("Actors")).toEqual({ alice: "6", "Zoë Martin": "4" });
    await page.getByRole("button", { name: "Remove filter -author:bob" }).click();
    await waitForQ("");
    await waitForRows(13);
  });

  it("follows q edited in the address: chips, facets and the type picker", async () => {
    const q = "type:repo.* -author:bob";
    await page.goto(`${stack.baseUrl}/orgs/${orgSlug}/audit-logs?q=${encodeURIComponent(q)}`);
    await waitForRows(6);
    expect(await chips()).toEqual(["-author:bob", "type:repo.*"]);
    expect(await facetValues("Actors")).toEqual({ alice: "6" });
    expect(await facetValues("Types")).toEqual({ "repo.create": "6" });
    expect(await typePicker().textContent()).toContain("repo.*");
    await typePicker().click();
    const repoTypes = expandTypePatterns(["repo.*"]);
    for (const type of ["repo.create", "repo.delete"]) {
      expect(
        await page
          .getByRole("checkbox", { name: new RegExp(`^${type.replace(".", "\\.")}\\b`) })
          .isChecked(),
      ).toBe(true);
    }
    expect(await page.getByRole("checkbox", { name: /^org\.change_role\b/ }).isChecked()).toBe(
      false,
    );
    expect(repoTypes.length).toBeGreaterThan(10);
    await shot("address-to-picker");
    await page.keyboard.press("Escape");

    // And the query bar: typing q updates the chips and the facets the same way.
    const input = page.getByRole("combobox", { name: "Filter with a query" });
    await input.fill("country:US");
    // Close the suggestions first: one under the mouse pointer would take the Enter.
    await input.press("Escape");
    await input.press("Enter");
    await waitForQ("country:US");
    await waitForRows(4);
    expect(await chips()).toEqual(["country:US"]);
    expect(await facetValues("Actors")).toEqual({ "Zoë Martin": "4" });
    expect(await typePicker().textContent()).toContain("All types");
  });

  it("writes the type picker's choice as type: terms, a whole scope as scope.*", async () => {
    await page.getByRole("button", { name: "Remove filter country:US" }).click();
    await waitForQ("");
    await typePicker().click();
    await page.getByRole("checkbox", { name: /^org\.change_role\b/ }).check();
    await waitForQ("type:org.change_role");
    await waitForRows(4);
    await page.getByRole("checkbox", { name: "All Content & resources types" }).check();
    await page.waitForFunction(() =>
      new URL(window.location.href).searchParams.get("q")?.includes("type:repo.*"),
    );
    const q = addressQ();
    // Content is repo.*, spaces.* and collection.*: three wildcards, not 31 names.
    expect(q.split(" ").sort()).toEqual(
      ["type:collection.*", "type:org.change_role", "type:repo.*", "type:spaces.*"].sort(),
    );
    expect(q).not.toContain("repo.create");
    await waitForRows(13);
    await shot("picker-to-q");
    await page.keyboard.press("Escape");
    expect((await chips()).sort()).toEqual(
      ["type:collection.*", "type:org.change_role", "type:repo.*", "type:spaces.*"].sort(),
    );
    // The chip of one wildcard unticks its types in the picker.
    await page.getByRole("button", { name: "Remove filter type:repo.*" }).click();
    await waitForRows(4);
    await typePicker().click();
    expect(await page.getByRole("checkbox", { name: /^repo\.create\b/ }).isChecked()).toBe(false);
    expect(await page.getByRole("checkbox", { name: /^org\.change_role\b/ }).isChecked()).toBe(
      true,
    );
    await page.getByRole("button", { name: "Clear", exact: true }).click();
    await waitForQ("");
    await page.keyboard.press("Escape");
    await waitForRows(13);
  });

  it("pivots from a row and from the details drawer, and copies a value", async () => {
    // A row: exclude the author of the first row (alice's entries are the newest).
    const row = page.locator('.log-rows [role="row"]').first();
    await row.hover();
    await row.getByRole("button", { name: "Filter by author alice" }).click();
    await shot("row-pivot-menu");
    await expectNoAxeViolations(page, "row-pivot-menu");
    await page.getByRole("button", { name: "Exclude this author" }).click();
    await waitForQ("-author:alice");
    await waitForRows(7);
    expect(await chips()).toEqual(["-author:alice"]);

    // The drawer: only this type, from the details of the first row (now Zoë's role change).
    await page.locator('.log-rows [role="row"]').first().click();
    const drawer = page.getByRole("dialog", { name: "Entry details" });
    await drawer.waitFor();
    await drawer.getByRole("button", { name: "Filter by type org.change_role" }).click();
    await page.getByRole("button", { name: "Only this type" }).click();
    await waitForQ("-author:alice type:org.change_role");
    await waitForRows(4);
    expect(await chips()).toEqual(["-author:alice", "type:org.change_role"]);
    expect(await typePicker().textContent()).toContain("org.change_role");

    // Copy puts the value itself on the clipboard.
    const first = page.locator('.log-rows [role="row"]').first();
    await first.hover();
    await first.getByRole("button", { name: "Filter by author Zoë Martin" }).click();
    await page.getByRole("button", { name: "Copy “Zoë Martin”" }).click();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe("Zoë Martin");
    await shot("drawer-pivot");
    await expectNoAxeViolations(page, "drawer-pivot");
    await page.getByRole("button", { name: "Clear filters" }).click();
    await waitForQ("");
    await waitForRows(13);
  });

  it("refuses unsupported syntax at the bad term, typed or in the address", async () => {
    const input = page.getByRole("combobox", { name: "Filter with a query" });
    await input.fill("(type:repo.create OR");
    await input.press("Escape");
    await input.press("Enter");
    const alert = page.locator(".query-error");
    await alert.waitFor();
    expect(await alert.locator("mark").textContent()).toBe("(type:repo.create");
    expect(await alert.textContent()).toContain("Parentheses are not supported");
    expect(addressQ()).toBe("");
    await shot("unsupported-typed");
    await expectNoAxeViolations(page, "unsupported-typed");

    // In the address: the API answers 400 naming q at position 17 (the dangling OR).
    await page.goto(
      `${stack.baseUrl}/orgs/${orgSlug}/audit-logs?q=${encodeURIComponent("type:repo.create OR")}`,
    );
    await page.getByText("The query was refused").waitFor();
    const served = page.locator(".query-error");
    await served.waitFor();
    expect(await served.locator("mark").textContent()).toBe("OR");
    expect(await served.textContent()).toContain("OR is not supported");
    await shot("unsupported-address");
  });

  it("folds the rail on a phone, and it unfolds without widening the page", async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(
      `${stack.baseUrl}/orgs/${orgSlug}/audit-logs?q=${encodeURIComponent("author:bob")}`,
    );
    const toggle = rail().getByRole("button", { name: "Narrow down" });
    await toggle.waitFor();
    expect(await toggle.getAttribute("aria-expanded")).toBe("false");
    expect(await chips()).toEqual(["author:bob"]);
    await toggle.click();
    expect(await facetValues("Actors")).toEqual({ bob: "3" });
    const overflow = await page.evaluate(
      () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
    );
    expect(overflow).toBe(0);
    await shot("phone-rail");
    await expectNoAxeViolations(page, "phone-rail");
    await page.setViewportSize({ width: 1440, height: 900 });
  });
});
