import { createApiKeyRecord, createDatabase, createOrganization } from "@auditlog/db";
import { driversOf } from "@auditlog/db/drivers";
import { migrateDatabase } from "@auditlog/db/migrate";
import { startPrivatePostgres } from "@auditlog/db/testing";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { generateApiKey } from "../src/auth/api-keys.ts";
import { post, sampleEvent, startTestApi, startTestWorker, waitFor } from "./support/test-stack.ts";

describe("PostgreSQL down while events arrive", () => {
  let postgres: Awaited<ReturnType<typeof startPrivatePostgres>>;
  let databaseUrl: string;

  beforeAll(async () => {
    postgres = await startPrivatePostgres();
    databaseUrl = postgres.url("auditlog_outage");
    await migrateDatabase(databaseUrl);
  }, 120_000);
  afterAll(() => postgres?.destroy());

  it("keeps accepting, retries with backoff, and stores everything once it is back", {
    timeout: 120_000,
  }, async () => {
    const setup = createDatabase({ url: databaseUrl, poolSize: 1, ormPoolSize: 1 });
    const org = await createOrganization(setup, { slug: "outage", name: "Outage", plan: "team" });
    const key = generateApiKey();
    await createApiKeyRecord(setup, {
      orgSlug: "outage",
      name: "k",
      prefix: key.prefix,
      keyHash: key.hash,
    });
    const unusedKey = generateApiKey();
    await createApiKeyRecord(setup, {
      orgSlug: "outage",
      name: "unused",
      prefix: unusedKey.prefix,
      keyHash: unusedKey.hash,
    });
    await setup.close();

    const stack = await startTestApi({ DATABASE_URL: databaseUrl });
    const worker = await startTestWorker(stack, { DATABASE_URL: databaseUrl });
    const probe = createDatabase({ url: databaseUrl, poolSize: 1 });
    const { pool } = driversOf(probe);
    const count = async () => {
      const { rows } = await pool.query<{ n: string }>(
        "SELECT count(*)::text AS n FROM audit_entries WHERE org_id = $1",
        [org.id],
      );
      return Number(rows[0]?.n);
    };
    try {
      expect((await post(stack.app, key.key, sampleEvent(0, { id: "before" }))).status).toBe(202);
      expect(await waitFor(count, (n) => n === 1)).toBe(1);

      await postgres.stop();
      // The key is already known, so ingestion goes on: events wait in Redis, not in PostgreSQL.
      const response = await post(stack.app, key.key, {
        events: Array.from({ length: 50 }, (_, i) => sampleEvent(i, { id: `during-${i}` })),
      });
      expect(response.status).toBe(202);
      const retried = await waitFor(
        async () => (await stack.services.ingestQueue.getJobs(["delayed", "wait", "active"]))[0],
        (job) => (job?.attemptsMade ?? 0) >= 1,
      );
      expect(retried?.attemptsMade).toBeGreaterThanOrEqual(1);
      // What needs PostgreSQL right now fails with a clear 503, not a 500 or a hang.
      expect((await stack.app.request("/readyz")).status).toBe(503);
      const uncachedKey = await post(stack.app, unusedKey.key, sampleEvent(1));
      expect(uncachedKey.status).toBe(503);

      await postgres.start();
      expect(await waitFor(count, (n) => n === 51, 60_000)).toBe(51);
    } finally {
      await worker.stop();
      await stack.services.ingestQueue.obliterate({ force: true });
      await stack.services.close();
      await pool.end();
    }
  });

  it("serves known keys from the cache however long PostgreSQL stays down", {
    timeout: 120_000,
  }, async () => {
    const setup = createDatabase({ url: databaseUrl, poolSize: 1, ormPoolSize: 1 });
    await createOrganization(setup, { slug: "outage-cache", name: "Outage", plan: "team" });
    const key = generateApiKey();
    await createApiKeyRecord(setup, {
      orgSlug: "outage-cache",
      name: "k",
      prefix: key.prefix,
      keyHash: key.hash,
    });
    await setup.close();
    const stack = await startTestApi({ DATABASE_URL: databaseUrl });
    try {
      expect((await post(stack.app, key.key, sampleEvent(0))).status).toBe(202);
      await postgres.stop();
      // Ten minutes later by every clock the API reads (no real wait): far past any cache
      // lifetime, the key is still served from what the API knew before the outage.
      vi.useFakeTimers({ toFake: ["Date"], shouldAdvanceTime: true });
      vi.setSystemTime(Date.now() + 10 * 60_000);
      for (let i = 1; i <= 3; i++) {
        const response = await post(stack.app, key.key, sampleEvent(i));
        expect(response.status, `request ${i}`).toBe(202);
      }
      // A key this process has never seen cannot be checked: a clear 503, not a 401.
      expect((await post(stack.app, generateApiKey().key, sampleEvent(9))).status).toBe(503);
      expect(await stack.services.ingestQueue.getWaitingCount()).toBe(4);
    } finally {
      vi.useRealTimers();
      await postgres.start();
      await stack.services.ingestQueue.obliterate({ force: true });
      await stack.services.close();
    }
  });
});
