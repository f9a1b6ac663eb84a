import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AuditEvent, AuditLogClient, type RejectInfo } from "../src/index.ts";
import { compareIds, type Stack, sampleEvent, startStack } from "./support/stack.ts";

/** The real API and worker processes; every stored row counted by id in PostgreSQL. */
describe("AuditLogClient under load, against the real API", () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack();
    await stack.api.start();
    stack.worker.start();
  });
  afterAll(async () => {
    await stack?.close();
  });

  it("sends 20,000 events from 8 concurrent producers in batches, every one stored once", async () => {
    const client = new AuditLogClient({
      baseUrl: stack.url,
      apiKey: stack.apiKey,
      maxBatchEvents: 500,
      maxBufferedEvents: 4000,
      handleExit: false,
    });
    const producers = 8;
    const perProducer = 2500;
    const ids: string[] = [];
    let mostPending = 0;
    await Promise.all(
      Array.from({ length: producers }, async (_, producer) => {
        for (let index = 0; index < perProducer; index++) {
          // "block" (the default): a producer faster than the API waits here for room.
          const id = await client.record(sampleEvent(producer, index));
          expect(id).toMatch(/^evt_[0-9a-f]{24}$/);
          ids.push(id as string);
          mostPending = Math.max(mostPending, client.stats().pending);
        }
      }),
    );
    await client.flush();
    const stats = await client.close();
    const stored = await stack.waitForStored(producers * perProducer);
    const comparison = compareIds(stored, ids);
    console.log("[client load]", JSON.stringify({ stats, comparison, mostPending }));
    // The producers outran the API and were held at the bound: never more than it, plus one
    // blocked event per producer.
    expect(mostPending).toBeGreaterThanOrEqual(4000);
    expect(mostPending).toBeLessThanOrEqual(4000 + producers);
    expect(stats).toMatchObject({
      recorded: 20_000,
      acknowledged: 20_000,
      dropped: 0,
      abandoned: 0,
      rejected: 0,
      pending: 0,
    });
    // Batches, not one request per event: 40 full ones at least, plus a few partial.
    expect(stats.requests).toBeGreaterThanOrEqual(40);
    expect(stats.requests).toBeLessThan(200);
    expect(comparison).toEqual({
      stored: 20_000,
      expected: 20_000,
      missing: 0,
      unexpected: 0,
      twice: 0,
    });
  });

  it('drops what does not fit with onFull "drop", counts every drop, and stores the rest once', async () => {
    const dropped: AuditEvent[] = [];
    const client = new AuditLogClient({
      baseUrl: stack.url,
      apiKey: stack.apiKey,
      maxBatchEvents: 100,
      maxBufferedEvents: 200,
      onFull: "drop",
      onDrop: (event, reason) => {
        expect(reason).toBe("buffer_full");
        dropped.push(event);
      },
      handleExit: false,
    });
    const before = new Set(await stack.storedIds());
    const kept: string[] = [];
    // Recorded in one go, faster than any answer can come: the buffer fills at once.
    const outcomes = await Promise.all(
      Array.from({ length: 1000 }, (_, index) => client.record(sampleEvent(99, index))),
    );
    for (const id of outcomes) if (id !== undefined) kept.push(id);
    const stats = await client.close();
    const stored = (await stack.waitForStored(before.size + kept.length)).filter(
      (id) => !before.has(id),
    );
    const comparison = compareIds(stored, kept);
    console.log("[client drop]", JSON.stringify({ stats, comparison, dropped: dropped.length }));
    expect(stats.dropped).toBe(dropped.length);
    expect(stats.dropped).toBeGreaterThan(0);
    expect(kept.length + stats.dropped).toBe(1000);
    expect(stats).toMatchObject({ recorded: 1000, acknowledged: kept.length, abandoned: 0 });
    expect(comparison).toMatchObject({ missing: 0, unexpected: 0, twice: 0 });
    // A dropped event was never sent.
    const storedSet = new Set(stored);
    expect(dropped.filter((event) => storedSet.has(event.id as string))).toEqual([]);
  });

  it("refuses only the events the API names (403 for a reserved type, 400 for a bad field) and sends the rest", async () => {
    const refused: Array<{ ids: string[]; info: RejectInfo }> = [];
    const client = new AuditLogClient({
      baseUrl: stack.url,
      apiKey: stack.apiKey,
      onReject: (events, info) => refused.push({ ids: events.map((e) => e.id as string), info }),
      handleExit: false,
    });
    const before = new Set(await stack.storedIds());
    const good: string[] = [];
    for (let index = 0; index < 8; index++) {
      good.push((await client.record(sampleEvent(7, index))) as string);
    }
    // What a caller without the types could send: a type only the API records, an empty name.
    const reserved = (await client.record({
      type: "org.audit_log.export",
      actor: { type: "user", id: "u", name: "u" },
    } as unknown as AuditEvent)) as string;
    const invalid = (await client.record({
      ...sampleEvent(7, 99),
      data: { repo: { type: "model", name: "" } },
    })) as string;
    const stats = await client.close();
    const stored = (await stack.waitForStored(before.size + 8)).filter((id) => !before.has(id));
    console.log("[client refusals]", JSON.stringify({ stats, refused }));
    expect(refused).toEqual([
      { ids: [reserved], info: expect.objectContaining({ status: 403, code: "forbidden" }) },
      { ids: [invalid], info: expect.objectContaining({ status: 400, code: "validation_failed" }) },
    ]);
    expect(stats).toMatchObject({ recorded: 10, acknowledged: 8, rejected: 2, pending: 0 });
    expect(compareIds(stored, good)).toMatchObject({ missing: 0, unexpected: 0, twice: 0 });
  });
});
