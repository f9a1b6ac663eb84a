import { parseQuery } from "@auditlog/events";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createOrganization } from "./accounts.ts";
import { driversOf } from "./database.ts";
import { insertAuditEntries } from "./entries.ts";
import { listEntries } from "./entry-queries.ts";
import {
  advanceStreamCursor,
  advanceStreamCursors,
  readStreamEntries,
  readStreamEntryRun,
  readStreamMatchingSeqs,
  streamReadStats,
} from "./stream-delivery.ts";
import { auditEntryRow, createTestDatabase, prepareTestDatabase, uniqueSlug } from "./testing.ts";

// The stream read renders each entry's JSON in PostgreSQL (the worker splices the texts into its
// senders' envelopes): it must be the query API's entry, and the bounds must never let the
// cursor pass an entry that was not read.

const db = createTestDatabase();
const pool = driversOf(db).pool;
let orgId: string;

const parsed = (q: string) => {
  const result = parseQuery(q);
  if (!result.ok) throw new Error(result.error.message);
  return result.query;
};

beforeAll(async () => {
  await prepareTestDatabase();
  const org = await createOrganization(db, {
    slug: uniqueSlug("stream-read"),
    name: "Stream read",
    plan: "enterprise",
  });
  orgId = org.id;
  const minute = (n: number) => new Date(Date.UTC(2026, 2, 1, 12, n));
  // Ten entries, seq 1…10: every third a repo.delete, the seventh hidden, one with every field
  // and characters JSON escapes (UTF-8 longer than its characters).
  await insertAuditEntries(
    db,
    Array.from({ length: 10 }, (_, i) =>
      auditEntryRow(orgId, {
        id: `evt_read_${String(i + 1).padStart(2, "0")}`,
        occurredAt: minute(i),
        receivedAt: minute(i),
        actorId: "user_1",
        actorName: "dana",
        description: i === 4 ? 'a "quote" \\ é 中文 😀\n' : `entry ${i + 1}`,
        ...(i % 3 === 2 ? { type: "repo.delete" } : {}),
        ...(i === 6
          ? { type: "org.audit_log.export", category: "org", hiddenByDefault: true }
          : {}),
        ...(i === 4
          ? {
              targetType: "repo",
              targetId: "repo_1",
              targetName: "dana/model",
              ip: "2001:db8::",
              countryCode: "FR",
              region: "Île-de-France",
              city: "Paris",
              oauthClientId: "oauth_1",
              oauthName: "CI",
              data: { nested: [1, 2.5, null, "x"] },
            }
          : {}),
      }),
    ),
  );
});

afterAll(async () => {
  await pool.query("DELETE FROM organizations WHERE id = $1", [orgId]);
  await db.close();
});

describe("readStreamEntries", () => {
  it("renders each entry as the query API answers it, ascending seq, hidden types included", async () => {
    const read = await readStreamEntries(db, {
      orgId,
      query: parsed(""),
      afterSeq: 0,
      limit: 100,
      scanWindow: 1000,
    });
    expect(read.entries.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(read.scannedThrough).toBe(10);
    const api = await listEntries(db, {
      orgId,
      query: parsed(""),
      limit: 100,
      cursor: null,
      options: { includeHidden: true },
    });
    const expected = JSON.parse(JSON.stringify([...api.entries].reverse()));
    const rendered = read.entries.map((e) => JSON.parse(e.json));
    expect(rendered).toStrictEqual(expected);
    rendered.forEach((entry, i) => {
      expect(Object.keys(entry)).toEqual(Object.keys(expected[i]));
    });
    read.entries.forEach((entry, i) => {
      expect(entry.id).toBe(expected[i].id);
      expect(entry.occurredAt).toBe(expected[i].occurredAt);
      expect(entry.receivedAt).toBe(expected[i].receivedAt);
      expect(read.bytes[i]).toBe(Buffer.byteLength(entry.json));
    });
    expect(read.storedAtMs.every((ms) => Math.abs(ms - Date.now()) < 3_600_000)).toBe(true);
  });

  it("ends a full page at its last entry, a short one at the window's top", async () => {
    const page = await readStreamEntries(db, {
      orgId,
      query: parsed(""),
      afterSeq: 2,
      limit: 3,
      scanWindow: 1000,
    });
    expect(page.entries.map((e) => e.seq)).toEqual([3, 4, 5]);
    expect(page.scannedThrough).toBe(5);
    // A filter: only repo.delete (3, 6, 9) in a window of 5 seqs after 3 (4…8).
    const filtered = await readStreamEntries(db, {
      orgId,
      query: parsed("type:repo.delete"),
      afterSeq: 3,
      limit: 100,
      scanWindow: 5,
    });
    expect(filtered.entries.map((e) => e.seq)).toEqual([6]);
    expect(filtered.scannedThrough).toBe(8);
    // Nothing matches in the window: the bounds alone move the cursor over it.
    const none = await readStreamEntries(db, {
      orgId,
      query: parsed("type:org.audit_log.export"),
      afterSeq: 0,
      limit: 100,
      scanWindow: 4,
    });
    expect(none.entries).toEqual([]);
    expect(none.scannedThrough).toBe(4);
  });

  it("answers the cursor itself when the log holds nothing after it", async () => {
    const read = await readStreamEntries(db, {
      orgId,
      query: parsed(""),
      afterSeq: 10,
      limit: 100,
      scanWindow: 1000,
    });
    expect(read).toEqual({ entries: [], storedAtMs: [], bytes: [], scannedThrough: 10 });
  });
});

describe("readStreamEntryRun", () => {
  // The shared read's chunks, rendered by the worker from COPY text: every field of the answer as
  // `readStreamEntries` with no filter gives it (the JSON byte for byte), and each entry's bytes
  // are its JSON's UTF-8, one comma after each, in one buffer.
  let awkwardOrg: string;
  beforeAll(async () => {
    const org = await createOrganization(db, {
      slug: uniqueSlug("stream-run"),
      name: "Stream run",
      plan: "enterprise",
    });
    awkwardOrg = org.id;
    await insertAuditEntries(
      db,
      Array.from({ length: 12 }, (_, i) =>
        auditEntryRow(awkwardOrg, {
          id: `evt_run_${String(i + 1).padStart(2, "0")}`,
          description: ["tab\there", 'ctl \u0001\u001f \\ "q"', "é 中文 😀\r\n", ""][i % 4],
          ...(i % 5 === 1 ? { type: "org.audit_log.export", hiddenByDefault: true } : {}),
          ...(i % 3 === 0
            ? {
                targetType: "repo",
                targetId: `repo_${i}`,
                targetName: "a\\b",
                city: i % 2 ? "Paris" : "",
                region: "Île",
                countryCode: i % 2 ? "FR" : null,
                oauthClientId: "oauth_1",
                oauthName: 'CI "bot"',
                ip: "192.0.2.1",
              }
            : {}),
          data: { s: 'x\u0002y\\z"', n: [1e100, -0, 12345678901234567890], o: { b: i } },
        }),
      ),
    );
  });
  afterAll(async () => {
    await pool.query("DELETE FROM organizations WHERE id = $1", [awkwardOrg]);
  });

  for (const c of [
    { afterSeq: 0, limit: 100, scanWindow: 100 },
    { afterSeq: 0, limit: 5, scanWindow: 100 },
    { afterSeq: 4, limit: 100, scanWindow: 3 },
    { afterSeq: 7, limit: 2, scanWindow: 2 },
    { afterSeq: 12, limit: 100, scanWindow: 100 },
    { afterSeq: 11, limit: 100, scanWindow: 100 },
  ]) {
    it(`answers what readStreamEntries answers unfiltered: ${JSON.stringify(c)}`, async () => {
      for (const org of [orgId, awkwardOrg]) {
        const input = { orgId: org, ...c };
        const own = await readStreamEntries(db, { ...input, query: parsed("") });
        const { run, ...read } = await readStreamEntryRun(db, input);
        expect(read).toEqual(own);
        read.entries.forEach((entry, i) => {
          const bytes = run.bytes.subarray(run.starts[i], run.ends[i]);
          expect(bytes.equals(Buffer.from(entry.json, "utf8"))).toBe(true);
          expect(run.bytes[run.ends[i] as number]).toBe(0x2c);
          if (i > 0) expect(run.starts[i]).toBe((run.ends[i - 1] as number) + 1);
        });
      }
    });
  }

  it("starts at the retained start after a purge", async () => {
    await pool.query("UPDATE audit_log_heads SET retained_from = 6 WHERE org_id = $1", [
      awkwardOrg,
    ]);
    try {
      for (const afterSeq of [0, 5, 6]) {
        const input = { orgId: awkwardOrg, afterSeq, limit: 100, scanWindow: 4 };
        const own = await readStreamEntries(db, { ...input, query: parsed("") });
        const { run: _run, ...read } = await readStreamEntryRun(db, input);
        expect(read).toEqual(own);
      }
    } finally {
      await pool.query("UPDATE audit_log_heads SET retained_from = 1 WHERE org_id = $1", [
        awkwardOrg,
      ]);
    }
  });
});

describe("readStreamMatchingSeqs", () => {
  // The shared read's filter: the seqs a filtered stream's own read would render, with the same
  // bounds, and nothing rendered.
  const cases: Array<{ q: string; afterSeq: number; limit: number; scanWindow: number }> = [
    { q: "type:repo.delete", afterSeq: 0, limit: 100, scanWindow: 1000 },
    { q: "type:repo.delete", afterSeq: 3, limit: 100, scanWindow: 5 },
    { q: "type:repo.delete", afterSeq: 0, limit: 2, scanWindow: 1000 },
    { q: "type:org.audit_log.*", afterSeq: 0, limit: 100, scanWindow: 1000 },
    { q: "type:org.audit_log.export", afterSeq: 0, limit: 100, scanWindow: 4 },
    { q: "-type:repo.delete", afterSeq: 4, limit: 3, scanWindow: 1000 },
    { q: "author:dana", afterSeq: 10, limit: 100, scanWindow: 1000 },
  ];
  for (const c of cases) {
    it(`answers what readStreamEntries selects: ${JSON.stringify(c)}`, async () => {
      const input = {
        orgId,
        query: parsed(c.q),
        afterSeq: c.afterSeq,
        limit: c.limit,
        scanWindow: c.scanWindow,
      };
      const rendered = await readStreamEntries(db, input);
      const before = { ...streamReadStats };
      const match = await readStreamMatchingSeqs(db, input);
      expect(match.seqs).toEqual(rendered.entries.map((e) => e.seq));
      expect(match.scannedThrough).toBe(rendered.scannedThrough);
      expect(streamReadStats.matchReads).toBe(before.matchReads + 1);
      expect(streamReadStats.renderedEntries).toBe(before.renderedEntries);
    });
  }
});

describe("advanceStreamCursors", () => {
  it("moves each stream as a move of its own would, only under its owner's live lease", async () => {
    const failingSince = new Date(Date.UTC(2026, 2, 1));
    const stream = async (n: number, lease: { owner: string; seconds: number }) => {
      const id = `str_adv_${orgId.slice(-6)}_${n}`;
      await pool.query(
        `INSERT INTO log_streams (id, org_id, name, destination_type, destination, delivered_seq,
           failing_since, failing_notified_at, consecutive_failures, next_attempt_at, lease_owner,
           lease_until, created_by)
         VALUES ($1, $2, $1, 'https', '{}', 3, $3, $3, 4, $3, $4,
           now() + make_interval(secs => $5), 'test')`,
        [id, orgId, failingSince, lease.owner, lease.seconds],
      );
      return id;
    };
    const delivered = await stream(1, { owner: "a", seconds: 60 });
    const skipped = await stream(2, { owner: "a", seconds: 60 });
    const otherOwner = await stream(3, { owner: "b", seconds: 60 });
    const expired = await stream(4, { owner: "a", seconds: -1 });
    const behind = await stream(5, { owner: "a", seconds: 60 });
    const moved = await advanceStreamCursors(db, "a", [
      { streamId: otherOwner, throughSeq: 9, delivered: true },
      { streamId: delivered, throughSeq: 8, delivered: true },
      { streamId: expired, throughSeq: 9, delivered: true },
      { streamId: skipped, throughSeq: 7, delivered: false },
      { streamId: behind, throughSeq: 2, delivered: true },
    ]);
    expect(moved.map((m) => m && { ...m, updatedAt: null })).toEqual([
      null,
      { paused: false, updatedAt: null, wasReportedFailing: true, endedFailureSince: failingSince },
      null,
      { paused: false, updatedAt: null, wasReportedFailing: false, endedFailureSince: null },
      { paused: false, updatedAt: null, wasReportedFailing: true, endedFailureSince: failingSince },
    ]);
    const { rows } = await pool.query<{
      id: string;
      delivered_seq: string;
      consecutive_failures: number;
      failing: boolean;
    }>(
      `SELECT id, delivered_seq::text, consecutive_failures, failing_since IS NOT NULL AS failing
       FROM log_streams WHERE org_id = $1 ORDER BY id`,
      [orgId],
    );
    expect(rows).toEqual([
      { id: delivered, delivered_seq: "8", consecutive_failures: 0, failing: false },
      { id: skipped, delivered_seq: "7", consecutive_failures: 4, failing: true },
      { id: otherOwner, delivered_seq: "3", consecutive_failures: 4, failing: true },
      { id: expired, delivered_seq: "3", consecutive_failures: 4, failing: true },
      // Never backwards: a cursor already past the move stays where it is.
      { id: behind, delivered_seq: "3", consecutive_failures: 0, failing: false },
    ]);
    // The one-stream form answers as before.
    expect(
      await advanceStreamCursor(db, {
        streamId: otherOwner,
        owner: "a",
        throughSeq: 9,
        delivered: true,
      }),
    ).toBeNull();
    expect(await advanceStreamCursors(db, "a", [])).toEqual([]);
  });
});
