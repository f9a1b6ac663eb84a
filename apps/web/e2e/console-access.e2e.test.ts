import { join } from "node:path";
import type { BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectNoAxeViolations } from "./axe.ts";
import {
  e2ePassword,
  expectNoPageOverflow,
  openSignedIn,
  settingsUrl as settingsUrlOf,
  startSettingsStack,
  waitForLogRows,
} from "./settings-console.ts";
import { postEventsAndWait, repoRoot, type Stack } from "./stack.ts";

/**
 * Who may look (issue 20), in the console, in a real Chromium against the production build.
 * An auditor reads the log and starts an export, sees the settings without a control that
 * changes them, and is not offered Members nor Viewer links. An admin creates a viewer link
 * bound to a filter (a filter the parser refuses is named at its field), opens its embed address
 * and sees only the matching entries, revokes it and sees the viewer refuse it; changes a
 * member's role (the member's next sign-in opens the log) and is told plainly that the last
 * admin cannot be demoted. axe-core on every new screen, desktop and phone; no sideways scroll
 * at 1024×768 and 390×844. Screenshots: apps/web/e2e-artifacts/console-access/.
 */

const artifacts = join(repoRoot, "apps/web/e2e-artifacts/console-access");
const password = e2ePassword;

const layouts = [
  ["desktop", 1440, 900],
  ["small-desktop", 1024, 768],
  ["phone", 390, 844],
] as const;

/** axe and sideways scroll at each size, a screenshot of each; the page is left at desktop size. */
async function checkLayouts(page: Page, name: string, ready: () => Promise<unknown>) {
  for (const [size, width, height] of layouts) {
    await page.setViewportSize({ width, height });
    await ready();
    await expectNoPageOverflow(page, `${name} at ${width}×${height}`);
    await expectNoAxeViolations(page, `${name} (${size})`);
    await page.screenshot({ path: join(artifacts, `${name}-${size}.png`), fullPage: true });
  }
  await page.setViewportSize({ width: 1440, height: 900 });
}

describe("console: who may look", () => {
  let stack: Stack;
  let orgSlug: string;
  let admin: { email: string; password: string };
  const auditor = { email: "", password };
  const writer = { email: "", password };
  const contexts: { context: BrowserContext; dispose: () => Promise<void> }[] = [];

  /** A Chromium of its own signed in as `user`, closed after the file. */
  const open = async (name: string, user: { email: string; password: string }) => {
    const launched = await openSignedIn(`access-${name}`, stack, user, orgSlug);
    contexts.push(launched);
    return launched.page;
  };
  const settingsUrl = (section: string) => settingsUrlOf(stack, orgSlug, section);

  beforeAll(async () => {
    const started = await startSettingsStack({
      artifacts,
      slugPrefix: "access",
      orgName: "Acme Hub",
      adminName: "Ada Admin",
    });
    ({ stack, orgSlug, admin } = started);
    const { suffix, credentials } = started;
    auditor.email = `auditor-${suffix}@acme.test`;
    writer.email = `writer-${suffix}@acme.test`;
    for (const [who, role, name] of [
      [auditor, "auditor", "Audrey Auditor"],
      [writer, "write", "Wes Writer"],
    ] as const) {
      await stack.cli(
        "user",
        "create",
        who.email,
        "--password",
        password,
        "--org",
        orgSlug,
        "--role",
        role,
        "--name",
        name,
      );
    }
    await postEventsAndWait(
      stack,
      orgSlug,
      credentials,
      ["acme/bert", "acme/bert", "acme/bert", "acme/gpt", "other/x"].map((target) => ({
        type: "repo.create",
        actor: { type: "user", id: "usr_alice", name: "alice" },
        target: { type: "model", id: target, name: target },
        data: { repo: { type: "model", name: target } },
        context: { ip: "81.2.69.160", userAgent: "e2e-access/1.0" },
      })),
    );
  }, 240_000);

  afterAll(async () => {
    for (const { dispose } of contexts) await dispose();
    await stack?.stop();
  });

  describe("as an auditor", () => {
    let page: Page;
    beforeAll(async () => {
      page = await open("auditor", auditor);
    });

    it("reads the log and starts an export", async () => {
      await waitForLogRows(page);
      await page.getByText("acme/gpt").first().waitFor();
      await page.getByRole("button", { name: "New export…" }).click();
      const dialog = page.getByRole("dialog", { name: "Export audit log" });
      await dialog.getByRole("button", { name: "Start export" }).click();
      const panel = page.getByRole("dialog", { name: "Export history" });
      await panel.getByRole("listitem").first().waitFor();
      expect(await panel.getByRole("listitem").count()).toBe(1);
      await page.screenshot({ path: join(artifacts, "auditor-export.png") });
    });

    it("sees the settings read-only, without Members nor Viewer links", async () => {
      await page.goto(settingsUrl("retention"));
      await page.getByText(/shown read-only/).waitFor({ timeout: 60_000 });
      const nav = page.getByRole("navigation", { name: "Settings sections" });
      expect(await nav.getByRole("link").allInnerTexts()).toEqual([
        "Retention",
        "Streams",
        "Alerts",
      ]);
      await page.getByRole("region", { name: "Retention and legal hold" }).waitFor();
      expect(await page.locator("main form, main input, main select, main textarea").count()).toBe(
        0,
      );
      await expectNoAxeViolations(page, "auditor settings");
      await page.screenshot({ path: join(artifacts, "auditor-settings.png") });
      for (const [section, wait] of [
        ["streams", "No stream yet."],
        ["alerts", "Alert rules"],
      ] as const) {
        await page.goto(settingsUrl(section));
        await page.getByText(wait).first().waitFor({ timeout: 60_000 });
        expect(
          await page.getByRole("button", { name: /create|new|edit|delete|pause/i }).count(),
        ).toBe(0);
      }
      // The admin-only sections' addresses show retention instead, and ask the API nothing.
      for (const section of ["members", "viewer-links"]) {
        const asked: string[] = [];
        const listen = (request: { url: () => string }) => asked.push(request.url());
        page.on("request", listen);
        await page.goto(settingsUrl(section));
        await page.getByRole("region", { name: "Retention and legal hold" }).waitFor();
        page.off("request", listen);
        expect(await page.getByRole("region", { name: /Members|Viewer links/ }).count()).toBe(0);
        expect(asked.filter((url) => /\/v1\/.*(members|viewer-)/.test(url))).toEqual([]);
      }
    });
  });

  describe("as an admin", () => {
    let page: Page;
    let linkUrl: string;
    const links = () => page.getByRole("region", { name: "Viewer links" });
    const linkRow = (name: string) =>
      page.locator("tr", { has: page.locator("th", { hasText: name }) });

    beforeAll(async () => {
      page = await open("admin", admin);
    });

    it("creates a viewer link bound to a filter, its address shown once with the snippet", async () => {
      await page.goto(settingsUrl("retention"));
      await page
        .getByRole("navigation", { name: "Settings sections" })
        .getByRole("link", { name: "Viewer links" })
        .click();
      await page.waitForURL(`**/orgs/${orgSlug}/settings/viewer-links`);
      await links().getByText("No viewer link yet").waitFor({ timeout: 60_000 });
      await checkLayouts(page, "viewer-links-empty", () =>
        links().getByText("No viewer link yet").waitFor(),
      );

      await page.getByLabel("Name (required)").fill("bert owners");
      const filter = page.getByLabel("Filter (required)");
      // A filter the server's parser refuses: its 400 names `q`, shown at the field.
      await filter.fill("nope:x");
      await page.getByRole("button", { name: "Create viewer link" }).click();
      await expect.poll(() => filter.getAttribute("aria-invalid")).toBe("true");
      const described = (await filter.getAttribute("aria-describedby")) ?? "";
      const errorId = described.split(" ").find((id) => id.endsWith("-error")) ?? "";
      expect(await page.locator(`[id="${errorId}"]`).innerText()).toContain('Unknown key "nope"');
      await filter.fill("target:acme/bert");
      await page.getByLabel("Expires after").selectOption({ label: "7 days" });
      await page.getByRole("button", { name: "Create viewer link" }).click();

      const notice = page.getByRole("status", { name: "New viewer link" });
      await notice.waitFor({ timeout: 30_000 });
      linkUrl = (await notice.locator("a.viewer-link-url").getAttribute("href")) ?? "";
      expect(linkUrl).toMatch(
        new RegExp(`^${stack.baseUrl}/embed/viewer/vwl_[0-9a-z]+#avl_[A-Za-z0-9_-]{43}$`),
      );
      const snippet = await notice.locator("pre").innerText();
      expect(snippet).toContain(`src="${linkUrl}"`);
      expect(snippet).toContain('referrerpolicy="no-referrer"');
      await notice.getByRole("button", { name: "Copy link" }).waitFor();
      const row = linkRow("bert owners");
      await row.waitFor();
      expect(await row.innerText()).toContain("target:acme/bert");
      expect(await row.locator(".status").innerText()).toBe("Active");
      expect(await row.innerText()).toContain("Ada Admin");
      await checkLayouts(page, "viewer-link-created", () => notice.waitFor());

      await notice.getByRole("button", { name: "I have stored it" }).click();
      await notice.waitFor({ state: "detached" });
      const token = linkUrl.split("#")[1] ?? "";
      expect(await page.content()).not.toContain(token);
    });

    it("saves the allowed framing origins", async () => {
      const box = page.getByLabel("Origins that may embed the viewer");
      await box.fill("https://hub.example.com/path");
      await page.getByRole("button", { name: "Save origins" }).click();
      await expect
        .poll(() => page.locator(".field-error").first().innerText())
        .toContain("https://hub.example.com/path: must be an origin");
      await box.fill("https://hub.example.com\nhttp://127.0.0.1:8081");
      await page.getByRole("button", { name: "Save origins" }).click();
      await page.getByText("Saved.").waitFor();
      await page.reload();
      await expect
        .poll(() => page.getByLabel("Origins that may embed the viewer").inputValue())
        .toBe("https://hub.example.com\nhttp://127.0.0.1:8081");
    });

    it("opens the link's embed address and sees only the entries matching its filter", async () => {
      const viewer = await page.context().newPage();
      await viewer.goto(linkUrl);
      const rows = viewer.locator("tbody tr");
      await rows.nth(2).waitFor({ timeout: 30_000 });
      expect(await rows.count()).toBe(3);
      expect(await viewer.locator("tbody tr td:nth-child(5)").allTextContents()).toEqual([
        "acme/bert",
        "acme/bert",
        "acme/bert",
      ]);
      await viewer.screenshot({ path: join(artifacts, "embed-active.png") });
      await viewer.close();
      // The use is shown in the list.
      await page.reload();
      await expect
        .poll(async () => {
          await page.reload();
          await linkRow("bert owners").waitFor({ timeout: 30_000 });
          return linkRow("bert owners").locator("td").nth(3).innerText();
        })
        .not.toBe("Never");
    });

    it("revokes the link after confirming, and the viewer refuses it", async () => {
      await page.getByRole("button", { name: "Revoke bert owners" }).click();
      const dialog = page.getByRole("dialog", { name: "Revoke viewer link" });
      await dialog.waitFor();
      await expectNoAxeViolations(page, "revoke confirmation");
      await page.screenshot({ path: join(artifacts, "revoke-dialog.png") });
      await dialog.getByRole("button", { name: "Cancel" }).click();
      await dialog.waitFor({ state: "detached" });
      expect(await linkRow("bert owners").locator(".status").innerText()).toBe("Active");
      await page.getByRole("button", { name: "Revoke bert owners" }).click();
      await dialog.getByRole("button", { name: "Revoke link" }).click();
      await dialog.waitFor({ state: "detached" });
      await expect
        .poll(() => linkRow("bert owners").locator(".status").innerText())
        .toBe("Revoked");
      expect(await page.getByRole("button", { name: "Revoke bert owners" }).count()).toBe(0);
      await checkLayouts(page, "viewer-links-revoked", () => linkRow("bert owners").waitFor());

      const viewer = await page.context().newPage();
      await viewer.goto(linkUrl);
      const alert = viewer.getByRole("alert");
      await alert.waitFor({ timeout: 30_000 });
      expect(await alert.innerText()).toBe("This viewer link has expired or was revoked.");
      expect(await viewer.locator("tbody tr").count()).toBe(0);
      await viewer.screenshot({ path: join(artifacts, "embed-revoked.png") });
      await viewer.close();
    });

    it("changes a member's role, which takes effect; the last admin cannot be demoted", async () => {
      await page.goto(settingsUrl("retention"));
      await page
        .getByRole("navigation", { name: "Settings sections" })
        .getByRole("link", { name: "Members" })
        .click();
      await page.waitForURL(`**/orgs/${orgSlug}/settings/members`);
      const memberRow = (name: string) =>
        page.locator("tr", { has: page.locator("th", { hasText: name }) });
      await memberRow("Wes Writer").waitFor({ timeout: 60_000 });
      expect(await page.getByLabel("Role of Wes Writer", { exact: true }).inputValue()).toBe(
        "write",
      );
      expect(await page.getByLabel("Role of Audrey Auditor", { exact: true }).inputValue()).toBe(
        "auditor",
      );
      expect(await page.getByLabel("Role of Ada Admin", { exact: true }).inputValue()).toBe(
        "admin",
      );
      await checkLayouts(page, "members", () => memberRow("Wes Writer").waitFor());

      // Before: a write member's sign-in opens no log.
      const wes = await open("writer", writer);
      await wes.getByText("Your role: write").waitFor({ timeout: 30_000 });

      await page.getByLabel("Role of Wes Writer", { exact: true }).selectOption("auditor");
      await page.getByRole("button", { name: "Change role of Wes Writer" }).click();
      await memberRow("Wes Writer").getByText("Changed to auditor.").waitFor();
      await page.reload();
      await memberRow("Wes Writer").waitFor({ timeout: 60_000 });
      expect(await page.getByLabel("Role of Wes Writer", { exact: true }).inputValue()).toBe(
        "auditor",
      );

      // After: the same session, on its next request, reads the log.
      await wes.reload();
      await waitForLogRows(wes);
      await wes.getByText("acme/bert").first().waitFor();
      expect(await wes.getByText("Your role: write").count()).toBe(0);

      await page.getByLabel("Role of Ada Admin", { exact: true }).selectOption("auditor");
      await page.getByRole("button", { name: "Change role of Ada Admin" }).click();
      const alert = memberRow("Ada Admin").getByRole("alert");
      await alert.waitFor();
      expect(await alert.innerText()).toBe(
        "Ada Admin is the organisation's last admin: make another member an admin first.",
      );
      expect(await page.getByLabel("Role of Ada Admin", { exact: true }).inputValue()).toBe(
        "admin",
      );
      await expectNoAxeViolations(page, "members, last admin refused");
      await page.screenshot({ path: join(artifacts, "members-last-admin.png") });
    });
  });
});
