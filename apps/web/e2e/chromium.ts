import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BrowserContext, chromium, type Page } from "playwright-core";

/** Debian's Chromium, or CHROMIUM_PATH. */
export const chromiumPath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/** Headless, and nothing that reaches out of the machine or updates itself during a test. */
export const chromiumArgs = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** A missing browser is a broken test machine, not a reason to skip: say how to fix it. */
export function assertChromiumInstalled(): void {
  if (!existsSync(chromiumPath)) {
    throw new Error(
      `Chromium not found at ${chromiumPath}: install it with \`apt-get install -y chromium\` (Debian/Ubuntu), or point CHROMIUM_PATH at a Chromium binary`,
    );
  }
}

/**
 * Chromium with a fresh profile (its own user-data directory) and one page, as a user's first
 * visit. `dispose` closes it and removes the profile.
 */
export async function launchConsole(
  name: string,
  options: Omit<
    NonNullable<Parameters<typeof chromium.launchPersistentContext>[1]>,
    "executablePath" | "headless" | "args"
  >,
): Promise<{ context: BrowserContext; page: Page; dispose: () => Promise<void> }> {
  const userDataDir = mkdtempSync(join(tmpdir(), `auditlog-e2e-${name}-`));
  const context = await chromium.launchPersistentContext(userDataDir, {
    locale: "en-GB",
    ...options,
    executablePath: chromiumPath,
    headless: true,
    args: chromiumArgs,
  });
  context.setDefaultTimeout(30_000);
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    context,
    page,
    dispose: async () => {
      await context.close().catch(() => {});
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

/** Signs in with the form on `baseUrl` and waits for the organisation's log to open. */
export async function signIn(
  page: Page,
  baseUrl: string,
  credentials: { email: string; password: string },
  orgSlug: string,
): Promise<void> {
  await page.goto(baseUrl);
  await page.getByLabel("Email").fill(credentials.email);
  await page.getByLabel("Password").fill(credentials.password);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await page.waitForURL(`**/orgs/${orgSlug}/audit-logs`);
}
