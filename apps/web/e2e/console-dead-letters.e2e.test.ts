import { join } from "node:path";
import { createTestPool } from "@auditlog/db/testing";
import { jobCatalog, producerFor } from "@auditlog/events/jobs";
import { Queue } from "bullmq";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectNoAxeViolations } from "./axe.ts";
import { openSignedIn, startSettingsStack } from "./settings-console.ts";
import { type AdminOrg, repoRoot, type Stack, testDatabaseUrl } from "./stack.ts";

/**
 * Issue 18 in a real Chromium against the real stack: an event the worker refused (a job from
 * an API of another catalog, with a type this worker's catalog does not know) shows in the
 * organisation's settings under "Refused events" with its reason, its failing field and the
 * event with only its truncated address; no axe violation. Screenshots:
 * apps/web/e2e-artifacts/console-dead-letters/.
 */

const artifacts = join(repoRoot, "apps/web/e2e-artifacts/console-dead-letters");

describe("console: refused events (dead letters)", () => {
  let stack: Stack;
  let page: Page;
  let dispose: () => Promise<void>;
  let orgSlug: string;
  let credentials: AdminOrg;
  const pool = createTestPool(testDatabaseUrl);

  /** The API's answer for the organisation's dead letters, as its admin. */
  async function deadLetterCount(): Promise<number> {
    const response = await fetch(`${stack.baseUrl}/v1/orgs/${orgSlug}/dead-letters`, {
      headers: { authorization: `Bearer ${credentials.token}` },
    });
    const body = (await response.json()) as { deadLetters?: unknown[] };
    return body.deadLetters?.length ?? -1;
  }

  beforeAll(async () => {
    let admin: { email: string; password: string };
    ({ stack, orgSlug, admin, credentials } = await startSettingsStack({
      artifacts,
      slugPrefix: "refused",
      orgName: "Acme Robotics",
    }));
    const { rows } = await pool.query<{ id: string }>(
      "SELECT id FROM organizations WHERE slug = $1",
      [orgSlug],
    );

    // A job as an API with a newer catalog writes it (stamped with that catalog's fingerprint):
    // this worker validates it with its own and refuses the type it does not know.
    const redisUrl = new URL(stack.env.REDIS_URL ?? "redis://127.0.0.1:6379");
    const queue = new Queue(stack.env.INGEST_QUEUE ?? jobCatalog.ingest.defaultName, {
      connection: { host: redisUrl.hostname, port: Number(redisUrl.port || 6379) },
    });
    try {
      await producerFor(queue, "ingest").add("ingest.batch", {
        orgId: rows[0]?.id ?? "",
        receivedAt: new Date().toISOString(),
        catalog: "feedc0defeedc0de",
        events: [
          {
            id: "evt_refused_teleport",
            type: "repo.teleport",
            actor: { type: "user", id: "usr_alice", name: "alice" },
            target: { type: "model", id: "acme/bert", name: "acme/bert" },
            data: { repo: { type: "model", name: "acme/bert" }, to: "mars" },
            context: { ip: "203.0.113.77", userAgent: "e2e-dead-letters/1.0" },
          },
        ],
      });
    } finally {
      await queue.close();
    }
    // The worker has refused it: the API lists it (throws at the deadline, with the logs).
    const deadline = Date.now() + 120_000;
    for (let count = await deadLetterCount(); count !== 1; count = await deadLetterCount()) {
      if (Date.now() > deadline) {
        throw new Error(`${count} dead letters listed, not 1:\n${stack.logs()}`);
      }
      await new Promise((resolveWait) => setTimeout(resolveWait, 250));
    }

    ({ page, dispose } = await openSignedIn("dead-letters", stack, admin, orgSlug));
  }, 480_000);

  afterAll(async () => {
    await dispose?.();
    await stack?.stop();
    await pool.end();
  });

  it("shows the refused event with its reason, failing field and truncated IP, reached from the settings", async () => {
    await page.getByRole("link", { name: "Settings: retention and legal hold" }).click();
    await page.waitForURL(`**/orgs/${orgSlug}/settings/retention`);
    await page.getByRole("link", { name: "Refused events" }).click();
    await page.waitForURL(`**/orgs/${orgSlug}/settings/dead-letters`);

    const list = page.getByRole("list", { name: "Refused events, newest first" });
    await list.waitFor({ timeout: 60_000 });
    const item = list.getByRole("listitem").filter({ hasText: "repo.teleport" });
    expect(await item.count()).toBe(1);
    expect(await item.locator(".dead-letter-reason").innerText()).toContain("unknown event type");
    expect(await item.getByRole("list", { name: "Failing fields" }).innerText()).toBe(
      "type unknown event type",
    );
    expect(await item.locator(".status").innerText()).toBe("Refused");
    await page.getByRole("link", { name: "Refused events" }).waitFor();
    expect(
      await page.getByRole("link", { name: "Refused events" }).getAttribute("aria-current"),
    ).toBe("page");

    // The event, folded until asked for: the truncated address only, anywhere on the page.
    await item.getByText("The event as received (IP truncated)").click();
    const json = item.locator("pre.json");
    await json.waitFor();
    expect(JSON.parse(await json.innerText())).toMatchObject({
      id: "evt_refused_teleport",
      type: "repo.teleport",
      context: { ip: "203.0.113.0", userAgent: "e2e-dead-letters/1.0" },
    });
    expect(await page.content()).not.toContain("203.0.113.77");
    await expectNoAxeViolations(page, "refused events with one event open");
    await page.screenshot({ path: join(artifacts, "refused-events.png"), fullPage: true });

    // A reload lands on the same section.
    await page.reload();
    await list.waitFor({ timeout: 60_000 });
    expect(await list.getByRole("listitem").filter({ hasText: "repo.teleport" }).count()).toBe(1);
  });
});
