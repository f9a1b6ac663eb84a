import { streamReadStats } from "@auditlog/db";
import type { WebhookReceiver } from "@auditlog/streams/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { insertStream, readStream, storedIds } from "./support/stream-fixtures.ts";
import {
  ingestSample,
  quickStreamWorkerEnv,
  startStreamTestApi,
  startWebhookReceiver,
  waitForDeliveries,
  waitForStored,
} from "./support/stream-stack.ts";
import {
  createOrgWithKey,
  entryRow,
  insertRows,
  startTestWorker,
  waitFor,
} from "./support/test-stack.ts";

/**
 * Issue 17, the shared read: ten streams of one organisation, some filtered, one worker. Each
 * receiver ends with exactly its own entries, in seq order, while PostgreSQL rendered each entry
 * about once for all of them (counted where the statements are sent: `streamReadStats`), not
 * once per stream. The streams backfill from seq 1 while more entries arrive.
 */
describe("log streams sharing one read per organisation", () => {
  let api: Awaited<ReturnType<typeof startStreamTestApi>>;
  let worker: Awaited<ReturnType<typeof startTestWorker>>;

  beforeAll(async () => {
    api = await startStreamTestApi("streams_shared", { WEBHOOK_ALLOW_LOCAL_URLS: "true" });
    worker = await startTestWorker(api.stack, {
      ...quickStreamWorkerEnv,
      STREAM_LEASE_MS: "20000",
      STREAM_DELIVERY_TIMEOUT_MS: "5000",
      // Long enough that a loaded machine does not age the chunks out mid-test (a re-read is
      // correct, but would blur the count of renderings this test bounds).
      STREAM_SHARED_READ_MAX_AGE_MS: "600000",
    });
  });
  afterAll(async () => {
    await worker?.stop();
    await api?.close();
  });

  const ingest = (apiKey: string, count: number, from: number) =>
    ingestSample(api, apiKey, count, from);
  const stored = (orgId: string, count: number) => waitForStored(api, orgId, count, 120_000);

  it("delivers exactly each stream's entries to 10 streams while rendering each entry about once", {
    timeout: 300_000,
  }, async () => {
    const { org, apiKey } = await createOrgWithKey("team", "streams-shared", api.db);
    const { pool } = api;
    await ingest(apiKey, 2000, 0);
    await stored(org.id, 2000);
    // The audit log's own (hidden) events: an unfiltered stream delivers them too.
    await insertRows(
      Array.from({ length: 5 }, () =>
        entryRow(org.id, { type: "org.audit_log.export", category: "org", hiddenByDefault: true }),
      ),
      api.isolated.url,
    );
    await stored(org.id, 2005);

    // Four unfiltered streams and six filters, each SQL condition the expected ids come from.
    const specs: Array<{ query: string; where: string | undefined }> = [
      { query: "", where: undefined },
      { query: "", where: undefined },
      { query: "", where: undefined },
      { query: "", where: undefined },
      { query: "type:repo.delete", where: "type = 'repo.delete'" },
      { query: "-type:repo.delete", where: "type <> 'repo.delete'" },
      { query: "type:org.audit_log.*", where: "hidden_by_default" },
      { query: "author:user3", where: "actor_name = 'user3'" },
      { query: "-author:user3", where: "actor_name <> 'user3'" },
      {
        query: "type:repo.delete -author:user3",
        where: "type = 'repo.delete' AND actor_name <> 'user3'",
      },
    ];
    const streams: Array<{ id: string; receiver: WebhookReceiver; where: string | undefined }> = [];
    const before = { ...streamReadStats };
    for (const spec of specs) {
      const receiver = await startWebhookReceiver();
      const id = await insertStream(pool, {
        orgId: org.id,
        destination: { type: "https", url: receiver.origin },
        secret: receiver.secret,
        query: spec.query,
      });
      streams.push({ id, receiver, where: spec.where });
    }
    // Backfill from seq 1 while more entries arrive.
    await ingest(apiKey, 1500, 2000);
    const total = 3505;
    await stored(org.id, total);

    try {
      for (const stream of streams) {
        const expected = await storedIds(pool, org.id, stream.where);
        const check = await waitForDeliveries(stream.receiver, expected, 240_000);
        expect(check.extra, stream.where ?? "unfiltered").toEqual([]);
        expect(check.firstOrder, stream.where ?? "unfiltered").toEqual(expected);
        // Each matches something, so no filter passes trivially.
        expect(expected.length).toBeGreaterThan(0);
        await waitFor(
          () => readStream(pool, stream.id),
          (row) => row.delivered_seq === total,
        );
      }
      const rendered = streamReadStats.renderedEntries - before.renderedEntries;
      const matchReads = streamReadStats.matchReads - before.matchReads;
      console.log(
        `shared read: ${rendered} entries rendered for ${total} entries and 10 streams (${streamReadStats.renderedReads - before.renderedReads} rendering reads, ${matchReads} seq-only reads)`,
      );
      // Each stream reading for itself renders every entry for each of the four unfiltered
      // streams and each match of the others: more than 4 × the log. Shared: about once.
      expect(rendered).toBeGreaterThanOrEqual(total);
      expect(rendered).toBeLessThanOrEqual(total * 1.5);
      // The filtered streams learned their seqs from PostgreSQL without a rendering.
      expect(matchReads).toBeGreaterThan(0);
    } finally {
      await Promise.all(streams.map((stream) => stream.receiver.stop()));
    }
  });
});
