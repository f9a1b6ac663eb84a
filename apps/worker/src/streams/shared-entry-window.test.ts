import {
  createOrganization,
  insertAuditEntries,
  readStreamEntries,
  type StreamRead,
  streamReadStats,
} from "@auditlog/db";
import { driversOf } from "@auditlog/db/drivers";
import {
  auditEntryRow,
  createTestDatabase,
  prepareTestDatabase,
  uniqueSlug,
} from "@auditlog/db/testing";
import { parseQuery } from "@auditlog/events";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSharedEntryWindow } from "./shared-entry-window.ts";

// The shared read must answer each stream what its own read would, up to where it says it
// accounted for every entry: the same entries (same JSON), none skipped, and progress whenever
// the log holds more. Chunks of 7 seqs put chunk ends everywhere in a log of 40.

const db = createTestDatabase();
const pool = driversOf(db).pool;
let orgId: string;

/** A window with chunks of 7 seqs, bounds no test reaches unless it overrides them. */
const testWindow = (overrides: Partial<Parameters<typeof createSharedEntryWindow>[0]> = {}) =>
  createSharedEntryWindow({
    chunkEntries: 7,
    maxBytes: 64 * 1024 * 1024,
    maxAgeMs: 600_000,
    erasureCheckMs: 600_000,
    scanWindow: 1000,
    ...overrides,
  });

const parsed = (q: string) => {
  const result = parseQuery(q);
  if (!result.ok) throw new Error(result.error.message);
  return result.query;
};

const rows = (from: number, count: number) =>
  Array.from({ length: count }, (_, k) => {
    const i = from + k;
    return auditEntryRow(orgId, {
      id: `evt_win_${orgId.slice(-6)}_${String(i).padStart(3, "0")}`,
      actorId: `user_${i % 4}`,
      actorName: ["ann", "bob", "cy", "dee"][i % 4] as string,
      description: `entry ${i} é 😀`,
      ...(i % 3 === 0 ? { type: "repo.delete" } : {}),
      ...(i % 11 === 5
        ? { type: "org.audit_log.export", category: "org", hiddenByDefault: true }
        : {}),
    });
  });

const queries = ["", "type:repo.delete", "-author:bob", "type:org.audit_log.*", "author:dee"];

/** The window's answer against the stream's own read from the same cursor. */
function expectConsistent(shared: StreamRead, own: StreamRead, afterSeq: number, what: string) {
  expect(shared.scannedThrough, what).toBeLessThanOrEqual(own.scannedThrough);
  if (own.scannedThrough > afterSeq) expect(shared.scannedThrough, what).toBeGreaterThan(afterSeq);
  const upTo = own.entries.filter((e) => e.seq <= shared.scannedThrough);
  expect(shared.entries, what).toEqual(upTo);
  expect(shared.bytes, what).toEqual(own.bytes.slice(0, upTo.length));
  expect(shared.storedAtMs, what).toEqual(own.storedAtMs.slice(0, upTo.length));
}

async function compareAll(window: ReturnType<typeof createSharedEntryWindow>, top: number) {
  for (const q of queries) {
    for (let afterSeq = 0; afterSeq <= top; afterSeq++) {
      for (const limit of [3, 100]) {
        const input = { orgId, query: parsed(q), afterSeq, limit };
        const shared = await window.read(db, input);
        const own = await readStreamEntries(db, { ...input, scanWindow: 1000 });
        expectConsistent(shared, own, afterSeq, JSON.stringify({ q, afterSeq, limit }));
      }
    }
  }
}

beforeAll(async () => {
  await prepareTestDatabase();
  const org = await createOrganization(db, {
    slug: uniqueSlug("shared-window"),
    name: "Shared window",
    plan: "enterprise",
  });
  orgId = org.id;
  await insertAuditEntries(db, rows(1, 40));
});

afterAll(async () => {
  await pool.query("DELETE FROM organizations WHERE id = $1", [orgId]);
  await db.close();
});

describe("the shared entry window", () => {
  it("answers every cursor, filter and limit as the stream's own read, rendering each entry once", async () => {
    const window = testWindow();
    const rendered = streamReadStats.renderedEntries;
    // Own reads render too: count the window's alone by reading it first, for every stream.
    for (const q of queries) {
      for (let afterSeq = 0; afterSeq <= 40; afterSeq++) {
        await window.read(db, { orgId, query: parsed(q), afterSeq, limit: 100 });
      }
    }
    expect(streamReadStats.renderedEntries - rendered).toBe(40);
    await compareAll(window, 40);
  });

  it("reads on past a chunk's top when more entries are committed", async () => {
    const window = testWindow();
    const first = await window.read(db, { orgId, query: parsed(""), afterSeq: 36, limit: 100 });
    expect(first.entries.map((e) => e.seq)).toEqual([37, 38, 39, 40]);
    expect(first.scannedThrough).toBe(40);
    // Seq 41 lies in the same chunk (36…42) as the entries already held.
    await insertAuditEntries(db, rows(41, 5));
    await compareAll(window, 45);
  });

  it("answers a poll from a read begun since the poller began to wait, and reads afresh otherwise", async () => {
    const window = createSharedEntryWindow({
      chunkEntries: 1000,
      maxBytes: 64 * 1024 * 1024,
      maxAgeMs: 600_000,
      erasureCheckMs: 600_000,
      scanWindow: 1000,
    });
    const top = (await window.read(db, { orgId, query: parsed(""), afterSeq: 0, limit: 1000 }))
      .scannedThrough;
    const waitedFrom = performance.now();
    // Another stream's read of the chunk, begun after this one began to wait: nothing new.
    const other = await window.read(db, { orgId, query: parsed(""), afterSeq: top, limit: 10 });
    expect(other.entries).toEqual([]);
    await insertAuditEntries(db, rows(top + 1, 2));
    const reads = streamReadStats.renderedReads;
    // The poll takes that answer without a statement of its own: it sees the new entries later.
    const poll = { orgId, query: parsed(""), afterSeq: top, limit: 10, freshAfter: waitedFrom };
    expect(await window.read(db, poll)).toEqual({
      entries: [],
      storedAtMs: [],
      bytes: [],
      scannedThrough: top,
    });
    expect(streamReadStats.renderedReads).toBe(reads);
    // A read that must see what was committed before it (the default) reads the log again.
    const fresh = await window.read(db, { orgId, query: parsed(""), afterSeq: top, limit: 10 });
    expect(fresh.entries.map((e) => e.seq)).toEqual([top + 1, top + 2]);
    expect(streamReadStats.renderedReads).toBe(reads + 1);
    // So does a poll that began to wait after the latest read of the chunk.
    await insertAuditEntries(db, rows(top + 3, 1));
    const later = await window.read(db, {
      ...poll,
      afterSeq: top + 2,
      freshAfter: performance.now(),
    });
    expect(later.entries.map((e) => e.seq)).toEqual([top + 3]);
    await compareAll(window, top + 3);
  });

  it("starts at the retained start after a purge, and holds no more than its byte bound", async () => {
    await pool.query("UPDATE audit_log_heads SET retained_from = 19 WHERE org_id = $1", [orgId]);
    try {
      // A bound below one chunk's entries: every read evicts the others, answers stay right.
      const window = testWindow({ maxBytes: 1000 });
      await compareAll(window, 45);
      expect(window.held().chunks).toBeLessThanOrEqual(1);
    } finally {
      await pool.query("UPDATE audit_log_heads SET retained_from = 1 WHERE org_id = $1", [orgId]);
    }
  });

  it("drops what it holds once the organisation has had an erasure, and serves the erased text", async () => {
    const window = testWindow({ erasureCheckMs: 0 });
    const input = { orgId, query: parsed(""), afterSeq: 0, limit: 5 };
    const before = await window.read(db, input);
    expect(before.entries[1]?.seq).toBe(2);
    expect(before.entries[1]?.json).toContain('"name":"cy"');
    // An erasure as eraseActor commits one: the personal columns rewritten with its row.
    const client = await pool.connect();
    try {
      await client.query("BEGIN");
      await client.query("SET LOCAL auditlog.maintenance = 'erase'");
      await client.query(
        `UPDATE audit_entries SET actor_name = 'Erased person', commit_salt = NULL,
           personal_digest = sha256('kept digest') WHERE org_id = $1 AND seq = 2`,
        [orgId],
      );
      await client.query(
        `INSERT INTO erasures (id, org_id, actor_id, pseudonym, requested_by, status, entries)
         VALUES ($1, $2, 'user_2', 'Erased person', 'test', 'completed', 1)`,
        [`era_win_${orgId.slice(-8)}`, orgId],
      );
      await client.query("COMMIT");
    } finally {
      client.release();
    }
    const after = await window.read(db, input);
    expect(after.entries[1]?.json).toContain('"name":"Erased person"');
    expectConsistent(
      after,
      await readStreamEntries(db, { ...input, scanWindow: 1000 }),
      0,
      "erased",
    );
  });
});
