import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { type Database, purgeOrganisationLog, readCheckpoint, readLogTree } from "@auditlog/db";
import { bypassingAppendOnly, createTestDatabase, createTestPool } from "@auditlog/db/testing";
import { testCheckpointSigner } from "@auditlog/tlog/testing";
import { advanceLogTree } from "@auditlog/worker";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectNoAxeViolations } from "./axe.ts";
import { assertChromiumInstalled, launchConsole, signIn } from "./chromium.ts";
import { repoRoot, type Stack, startStack, testDatabaseUrl } from "./stack.ts";

/**
 * The verifiable log in the console, in a real headless Chromium against the real stack: the
 * browser checks the checkpoints that `advanceLogTree` signs (the worker's builder, with the
 * test key the API publishes), proves an entry's inclusion itself, and notices an entry changed
 * in PostgreSQL and a log rebuilt with another history. Screenshots go to
 * test-artifacts/e2e-log-integrity/.
 */

const screenshots = join(repoRoot, "test-artifacts/e2e-log-integrity");
const password = "correct-horse-battery";
const signing = { signer: testCheckpointSigner, logOrigin: "auditlog.localhost" };

interface ListedEntry {
  id: string;
  seq: number;
  description: string;
}

describe("the verified log in the console, end to end", () => {
  let stack: Stack;
  let db: Database;
  let pool: ReturnType<typeof createTestPool>;
  let page: Page;
  let dispose: () => Promise<void>;
  let orgSlug: string;
  let orgId: string;
  let ingestKey: string;
  let readToken: string;
  let step = 0;

  const shot = async (name: string) => {
    step += 1;
    await page.screenshot({
      path: join(screenshots, `${String(step).padStart(2, "0")}-${name}.png`),
    });
  };

  /**
   * Builds and signs the tree up to `size` (all there is), and answers its size. The stack's
   * worker signs too: while its loop holds the organisation's lock this build does nothing
   * (treeSize 0), so it is tried again until the stored tree has `size`, by either signer, or
   * throws at its deadline.
   */
  const treeReaches = async (size: number) => {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const built = await advanceLogTree(db, orgId, signing);
      const stored = Math.max(built.treeSize, (await readLogTree(db, orgId))?.size ?? 0);
      if (stored >= size) return stored;
      if (Date.now() > deadline) throw new Error(`the tree stayed at ${stored}, not ${size}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };

  /** Posts `count` events through the ingestion API and waits until the log has `total`. */
  const post = async (count: number, label: string, total: number) => {
    const events = Array.from({ length: count }, (_, i) => ({
      type: "repo.create",
      occurredAt: new Date(Date.now() - i * 60_000).toISOString(),
      actor: { type: "user", id: "usr_alice", name: "alice" },
      target: { type: "model", id: `acme/${label}-${i}`, name: `acme/${label}-${i}` },
      data: { repo: { type: "model", name: `acme/${label}-${i}` } },
      context: { ip: "81.2.69.160", userAgent: "e2e-test/1.0" },
    }));
    const posted = await fetch(`${stack.baseUrl}/v1/events`, {
      method: "POST",
      headers: { authorization: `Bearer ${ingestKey}`, "content-type": "application/json" },
      body: JSON.stringify({ events }),
    });
    expect(posted.status).toBe(202);
    const deadline = Date.now() + 90_000;
    for (;;) {
      const entries = await listEntries();
      if (entries.length === total) return entries;
      if (Date.now() > deadline) throw new Error(`entries were not stored:\n${stack.logs()}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  };
  const listEntries = async (): Promise<ListedEntry[]> => {
    const response = await fetch(`${stack.baseUrl}/v1/orgs/${orgSlug}/audit-logs?limit=200`, {
      headers: { authorization: `Bearer ${readToken}` },
    });
    return ((await response.json()) as { entries: ListedEntry[] }).entries;
  };
  const badge = () => page.locator(".integrity");
  const openLog = async (search = "") => {
    await page.goto(`${stack.baseUrl}/orgs/${orgSlug}/audit-logs${search}`);
  };

  beforeAll(async () => {
    assertChromiumInstalled();
    rmSync(screenshots, { recursive: true, force: true });
    mkdirSync(screenshots, { recursive: true });
    stack = await startStack();
    db = createTestDatabase(testDatabaseUrl);
    pool = createTestPool(testDatabaseUrl);
    const suffix = Date.now().toString(36);
    orgSlug = `e2e-tlog-${suffix}`;
    const email = `admin-tlog-${suffix}@acme.test`;
    orgId = (
      (await stack.cli("org", "create", orgSlug, "--name", "Acme Tlog", "--plan", "team")) as {
        id: string;
      }
    ).id;
    await stack.cli(
      "user",
      "create",
      email,
      "--password",
      password,
      "--org",
      orgSlug,
      "--role",
      "admin",
    );
    ingestKey = (
      (await stack.cli("key", "create", "--org", orgSlug, "--name", "e2e")) as {
        key: string;
      }
    ).key;
    readToken = (
      (await stack.cli("token", "create", "--email", email, "--name", "e2e")) as {
        token: string;
      }
    ).token;

    ({ page, dispose } = await launchConsole("tlog", {
      viewport: { width: 1360, height: 900 },
      timezoneId: "Europe/Paris",
    }));
    await signIn(page, stack.baseUrl, { email, password }, orgSlug);
  });

  afterAll(async () => {
    await dispose?.();
    if (orgId) await purgeOrganisationLog(db, orgId).catch(() => {});
    await pool?.end().catch(() => {});
    await stack?.stop();
  });

  it("says there is no checkpoint yet, then shows the log verified through its last entry", async () => {
    await badge().filter({ hasText: "No signed checkpoint yet" }).waitFor();
    await post(6, "first", 6);
    // treeSize only: a builder loop in the worker may have got there first.
    expect(await treeReaches(6)).toBe(6);
    await page.getByRole("button", { name: "Refresh the log" }).click();
    const verified = page.getByRole("button", { name: /^Verified through entry 6 · / });
    await verified.waitFor();
    await shot("verified-6");
    await expectNoAxeViolations(page, "log, verified");
    await verified.click();
    const panel = page.getByRole("region", { name: "Log verification" });
    expect(await panel.textContent()).toContain(`auditlog.localhost/orgs/${orgId}`);
    expect(await panel.textContent()).toContain("first check in this browser");
    await shot("verified-details");
    await expectNoAxeViolations(page, "log verification panel");
    await page.keyboard.press("Escape");
  });

  it("shows an entry's inclusion proof checked in the browser", async () => {
    const entry = (await listEntries()).find((candidate) => candidate.seq === 4) as ListedEntry;
    await openLog(`?entry=${entry.id}`);
    const dialog = page.getByRole("dialog", { name: "Entry details" });
    await dialog.getByText("Included in the verified log at entry 4").waitFor();
    const summary = dialog.getByText(/^Proof: 3 hashes to the root of entries 1 to 6$/);
    await summary.click();
    expect(await dialog.locator(".inclusion-hashes li").count()).toBe(3);
    await shot("entry-included");
    await expectNoAxeViolations(page, "entry details with its inclusion proof");
  });

  it("checks that a grown log extends the checkpoint it saw, with a consistency proof", async () => {
    await post(3, "second", 9);
    expect(await treeReaches(9)).toBe(9);
    await openLog();
    const verified = page.getByRole("button", { name: /^Verified through entry 9 · / });
    await verified.waitFor();
    await verified.click();
    expect(await page.getByRole("region", { name: "Log verification" }).textContent()).toMatch(
      /a consistency proof that the log only grew since the checkpoint of 6 entries/,
    );
    await page.keyboard.press("Escape");
  });

  it("refuses an entry changed in the database", async () => {
    const entry = (await listEntries()).find((candidate) => candidate.seq === 2) as ListedEntry;
    const changed = await bypassingAppendOnly(
      pool,
      "UPDATE audit_entries SET description = $3 WHERE org_id = $1 AND id = $2",
      [orgId, entry.id, "alice did nothing at all"],
    );
    expect(changed.rowCount).toBe(1);
    await openLog(`?entry=${entry.id}`);
    const dialog = page.getByRole("dialog", { name: "Entry details" });
    await dialog.getByText("alice did nothing at all").first().waitFor();
    const failure = dialog.getByRole("alert");
    await failure.waitFor();
    expect(await failure.textContent()).toMatch(
      /Inclusion proof failed\. The entry as shown does not match the log/,
    );
    // The failure is in words (and a symbol), not only in colour.
    expect(await failure.textContent()).toContain("✗");
    await shot("entry-changed");
    await expectNoAxeViolations(page, "entry details, inclusion failed");
    // The log itself still verifies: its tiles and checkpoints were not touched.
    expect(await page.getByRole("button", { name: /^Verified through entry 9 · / }).count()).toBe(
      1,
    );
  });

  it("fails a log rebuilt with another history than the one this browser verified", async () => {
    // Purge and rebuild: 12 other entries, signed first at size 9 (the size this browser trusts,
    // with another root) and then 12, so the consistency proof from 9 is a real one that cannot
    // reach the root this browser saw. Posted in two batches: a checkpoint loop of any worker
    // sharing the test database may sign them before this test does, but never past a batch.
    await purgeOrganisationLog(db, orgId);
    await post(9, "rebuilt-a", 9);
    expect(await treeReaches(9)).toBe(9);
    await post(3, "rebuilt-b", 12);
    expect(await treeReaches(12)).toBe(12);
    expect((await readCheckpoint(db, orgId, 9))?.treeSize).toBe(9);
    await openLog();
    const failure = page.locator(".integrity-failed");
    await failure.waitFor();
    expect(await failure.getAttribute("role")).toBe("alert");
    const text = await failure.textContent();
    expect(text).toMatch(/Verification failed: Inconsistent with a checkpoint seen before\./);
    expect(text).toMatch(/The consistency proof does not show that the log only grew/);
    expect(text).toMatch(/Last verified in this browser: through entry 9/);
    expect(await page.getByRole("button", { name: /^Verified through/ }).count()).toBe(0);
    await shot("inconsistent");
    await expectNoAxeViolations(page, "log, verification failed");

    // An entry's details do not claim inclusion in a log that failed verification.
    const entry = (await listEntries()).find((candidate) => candidate.seq === 1) as ListedEntry;
    await openLog(`?entry=${entry.id}`);
    await page
      .getByRole("dialog", { name: "Entry details" })
      .getByText(/Not checked: the log itself failed verification/)
      .waitFor();
  });
});
