import { mkdirSync, rmSync } from "node:fs";
import type { Page } from "playwright-core";
import { expect } from "vitest";
import { assertChromiumInstalled, launchConsole, signIn } from "./chromium.ts";
import { type AdminOrg, createAdminOrg, type Stack, startStack } from "./stack.ts";

/**
 * The start-up the settings e2e files share (streams, alerts, retention, refused events, who may
 * look): a fresh stack with one organisation and its admin, a Chromium signed in as a user, the
 * settings' addresses, and the checks each screen gets.
 */

/** Every e2e user's password (the operator CLI creates them with it). */
export const e2ePassword = "correct-horse-battery";

export interface SettingsStack {
  stack: Stack;
  /** `${slugPrefix}-${suffix}`. */
  orgSlug: string;
  /** What makes this run's names unique (the admin's email has it too). */
  suffix: string;
  admin: { email: string; password: string };
  credentials: AdminOrg;
}

/**
 * Checks Chromium is there, empties `artifacts` (the file's screenshots), starts the stack and
 * creates the organisation `${slugPrefix}-${suffix}` named `orgName`, with an admin
 * `admin-${suffix}@acme.test`.
 */
export async function startSettingsStack(options: {
  artifacts: string;
  slugPrefix: string;
  orgName: string;
  adminName?: string;
  /** Settings of this file's stack (its own database, more worker roles …). */
  env?: Record<string, string>;
}): Promise<SettingsStack> {
  assertChromiumInstalled();
  rmSync(options.artifacts, { recursive: true, force: true });
  mkdirSync(options.artifacts, { recursive: true });
  const stack = await startStack(options.env);
  const suffix = Date.now().toString(36);
  const orgSlug = `${options.slugPrefix}-${suffix}`;
  const admin = { email: `admin-${suffix}@acme.test`, password: e2ePassword };
  const credentials = await createAdminOrg(
    stack,
    { slug: orgSlug, name: options.orgName },
    options.adminName ? { ...admin, name: options.adminName } : admin,
  );
  return { stack, orgSlug, suffix, admin, credentials };
}

/** A fresh desktop-sized Chromium (`name` names its profile) signed in as `user`, at the log. */
export async function openSignedIn(
  name: string,
  stack: Stack,
  user: { email: string; password: string },
  orgSlug: string,
) {
  const launched = await launchConsole(name, { viewport: { width: 1440, height: 900 } });
  await signIn(launched.page, stack.baseUrl, user, orgSlug);
  return launched;
}

/** The address of one settings section ("retention", "streams", "viewer-links" …). */
export function settingsUrl(stack: Stack, orgSlug: string, section: string): string {
  return `${stack.baseUrl}/orgs/${orgSlug}/settings/${section}`;
}

/** The page does not scroll sideways; when it does, the message names what sticks out. */
export async function expectNoPageOverflow(page: Page, label: string): Promise<void> {
  const { scrollWidth, clientWidth, widest } = await page.evaluate(() => {
    const width = document.documentElement.clientWidth;
    const widest = [...document.querySelectorAll("body *")]
      .filter((element) => element.getBoundingClientRect().right > width + 0.5)
      .filter(
        (element) =>
          !element.parentElement ||
          element.parentElement.getBoundingClientRect().right <= width + 0.5,
      )
      .slice(0, 5)
      .map((element) => `${element.tagName.toLowerCase()}.${element.className}`);
    return { scrollWidth: document.documentElement.scrollWidth, clientWidth: width, widest };
  });
  expect(
    scrollWidth,
    `${label}: page scrollWidth ${scrollWidth} (${widest.join(", ")})`,
  ).toBeLessThanOrEqual(clientWidth);
}

/** Until the log's table has loaded and holds at least one entry row (a minute at most). */
export function waitForLogRows(page: Page) {
  return page.waitForFunction(
    () => {
      const table = document.querySelector('[role="table"]');
      return (
        table?.getAttribute("aria-busy") === "false" &&
        Number(table.getAttribute("aria-rowcount")) > 1
      );
    },
    undefined,
    { timeout: 60_000 },
  );
}
