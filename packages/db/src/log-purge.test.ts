import { describe, expect, it } from "vitest";
import { createOrganization } from "./accounts.ts";
import { deleteAgedDeadLetters, deleteAgedNotifications } from "./data-ageing.ts";
import { writeAuditEntries } from "./entries.ts";
import { PurgeRefusedError, purgeAgedEntries, readRetainedFrom } from "./log-purge.ts";
import { logTestDatabase } from "./log-test-database.ts";
import { readFeed } from "./log-tree.ts";
import { auditEntryRow, bypassingAppendOnly, uniqueSlug } from "./testing.ts";

// The retention purge's engine (issue 16): what it removes, in which order, and what stops it.
// Trees are stood in for by their head row (the purge reads only its size).

const { db, pool, orgIds } = logTestDatabase();

async function newOrg(): Promise<string> {
  const org = await createOrganization(db, {
    slug: uniqueSlug("purge"),
    name: "purge",
    plan: "team",
  });
  orgIds.push(org.id);
  return org.id;
}

/** Writes `count` entries in one transaction; answers the time they were stored at. */
async function write(orgId: string, prefix: string, count: number): Promise<Date> {
  await writeAuditEntries(
    db,
    Array.from({ length: count }, (_, i) => auditEntryRow(orgId, { id: `${prefix}-${i}` })),
  );
  const { rows } = await pool.query<{ at: Date }>(
    "SELECT max(stored_at) AS at FROM audit_entries WHERE org_id = $1 AND id LIKE $2",
    [orgId, `${prefix}-%`],
  );
  return rows[0]?.at as Date;
}

async function setTreeSize(orgId: string, size: number) {
  await pool.query(
    `INSERT INTO audit_log_trees (org_id, size, root_hash) VALUES ($1, $2, $3)
     ON CONFLICT (org_id) DO UPDATE SET size = EXCLUDED.size`,
    [orgId, size, Buffer.alloc(32)],
  );
}

async function seqs(orgId: string): Promise<number[]> {
  const { rows } = await pool.query<{ seq: number }>(
    "SELECT seq::int AS seq FROM audit_entries WHERE org_id = $1 ORDER BY seq",
    [orgId],
  );
  return rows.map((row) => row.seq);
}

const range = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** A moment just after `at`: entries stored at `at` are older, later writes are not. */
const justAfter = (at: Date) => new Date(at.getTime() + 1);

describe("purgeAgedEntries", () => {
  it("removes old entries in seq order, in batches, only as far as the built tree covers", async () => {
    const orgId = await newOrg();
    const oldAt = await write(orgId, "old", 30);
    await new Promise((resolve) => setTimeout(resolve, 20));
    await write(orgId, "young", 10);
    await setTreeSize(orgId, 20);

    const first = await purgeAgedEntries(db, orgId, {
      storedBefore: justAfter(oldAt),
      batchSize: 7,
    });
    expect(first).toEqual({
      entries: 20,
      throughSeq: 20,
      retainedFrom: 21,
      stoppedBy: "tree-size",
    });
    expect(await seqs(orgId)).toEqual(range(21, 40));
    expect(await readRetainedFrom(db, orgId)).toBe(21);

    // The tree grows past the old entries: the purge stops at the first young one.
    await setTreeSize(orgId, 40);
    const second = await purgeAgedEntries(db, orgId, {
      storedBefore: justAfter(oldAt),
      batchSize: 7,
    });
    expect(second).toEqual({
      entries: 10,
      throughSeq: 30,
      retainedFrom: 31,
      stoppedBy: "young-entry",
    });
    expect(await seqs(orgId)).toEqual(range(31, 40));

    // Nothing more to do: the same answer, nothing removed.
    const third = await purgeAgedEntries(db, orgId, { storedBefore: justAfter(oldAt) });
    expect(third).toMatchObject({ entries: 0, retainedFrom: 31, stoppedBy: "young-entry" });
  });

  it("stops at a younger entry that sits before older ones, keeping the retained range whole", async () => {
    const orgId = await newOrg();
    const at = await write(orgId, "e", 12);
    await setTreeSize(orgId, 12);
    // Entry 5 stored later than the cutoff (a write that started late but took an early place).
    await bypassingAppendOnly(
      pool,
      "UPDATE audit_entries SET stored_at = stored_at + interval '1 hour' WHERE org_id = $1 AND seq = 5",
      [orgId],
    );
    const result = await purgeAgedEntries(db, orgId, { storedBefore: justAfter(at) });
    expect(result).toEqual({
      entries: 4,
      throughSeq: 4,
      retainedFrom: 5,
      stoppedBy: "young-entry",
    });
    expect(await seqs(orgId)).toEqual(range(5, 12));
  });

  it("removes nothing while the organisation is under legal hold", async () => {
    const orgId = await newOrg();
    const at = await write(orgId, "e", 10);
    await setTreeSize(orgId, 10);
    await pool.query(
      "INSERT INTO org_retention_settings (org_id, legal_hold, legal_hold_reason) VALUES ($1, true, 'case 12')",
      [orgId],
    );
    const held = await purgeAgedEntries(db, orgId, { storedBefore: justAfter(at) });
    expect(held).toEqual({ entries: 0, throughSeq: 0, retainedFrom: 1, stoppedBy: "legal-hold" });
    expect(await seqs(orgId)).toEqual(range(1, 10));

    await pool.query("UPDATE org_retention_settings SET legal_hold = false WHERE org_id = $1", [
      orgId,
    ]);
    const lifted = await purgeAgedEntries(db, orgId, { storedBefore: justAfter(at) });
    expect(lifted).toMatchObject({ entries: 10, retainedFrom: 11 });
  });

  it("refuses to purge over a place with no entry, which would bury the evidence", async () => {
    const orgId = await newOrg();
    const at = await write(orgId, "e", 10);
    await setTreeSize(orgId, 10);
    await bypassingAppendOnly(pool, "DELETE FROM audit_entries WHERE org_id = $1 AND seq = 6", [
      orgId,
    ]);
    await expect(
      purgeAgedEntries(db, orgId, { storedBefore: justAfter(at), batchSize: 100 }),
    ).rejects.toBeInstanceOf(PurgeRefusedError);
    expect(await seqs(orgId)).toEqual([1, 2, 3, 4, 5, 7, 8, 9, 10]);
    expect(await readRetainedFrom(db, orgId)).toBe(1);
  });

  it("stops between batches when asked to", async () => {
    const orgId = await newOrg();
    const at = await write(orgId, "e", 10);
    await setTreeSize(orgId, 10);
    const stop = new AbortController();
    stop.abort();
    const result = await purgeAgedEntries(db, orgId, {
      storedBefore: justAfter(at),
      signal: stop.signal,
    });
    expect(result.stoppedBy).toBe("aborted");
    expect(await seqs(orgId)).toEqual(range(1, 10));
  });
});

describe("the feed after a purge", () => {
  it("starts at the first entry still held, whatever `after` asks for before it", async () => {
    const orgId = await newOrg();
    const at = await write(orgId, "e", 10);
    await setTreeSize(orgId, 10);
    await purgeAgedEntries(db, orgId, { storedBefore: justAfter(at), batchSize: 100 });
    await write(orgId, "later", 3);
    expect(await readRetainedFrom(db, orgId)).toBe(11);
    const page = await readFeed(db, orgId, 0, 2);
    expect(page.map((entry) => entry.seq)).toEqual([11, 12]);
    expect((await readFeed(db, orgId, 11, 10)).map((entry) => entry.seq)).toEqual([12, 13]);
  });
});

describe("ageing of other data", () => {
  it("removes dead letters and notifications older than their periods, and only those", async () => {
    const orgId = await newOrg();
    const { rows: users } = await pool.query<{ id: string }>(
      "INSERT INTO users (id, email, name, password_hash) VALUES ($1, $2, 'Ageing', 'x') RETURNING id",
      [`usr_${orgId.slice(-12)}`, `ageing-${orgId.slice(-12)}@example.test`],
    );
    const userId = users[0]?.id as string;
    // Far in the past, so the shared test database's other rows are never the ones removed.
    for (const [key, at] of [
      ["old", "2001-01-01T00:00:00Z"],
      ["recent", "2001-03-01T00:00:00Z"],
    ]) {
      await pool.query(
        `INSERT INTO dead_letters (org_id, dedupe_key, reason, payload, received_at, created_at)
         VALUES ($1, $2, 'invalid', '{}', $3, $3)`,
        [orgId, key, at],
      );
      await pool.query(
        `INSERT INTO notifications (id, user_id, org_id, kind, title, body, created_at)
         VALUES ($1, $2, $3, 'export.ready', 't', 'b', $4)`,
        [`ntf_${key}_${orgId.slice(-12)}`, userId, orgId, at],
      );
    }
    const cutoff = new Date("2001-02-01T00:00:00Z");
    expect(await deleteAgedDeadLetters(db, cutoff)).toBeGreaterThanOrEqual(1);
    expect(await deleteAgedNotifications(db, cutoff)).toBeGreaterThanOrEqual(1);
    const { rows: letters } = await pool.query(
      "SELECT dedupe_key FROM dead_letters WHERE org_id = $1",
      [orgId],
    );
    expect(letters).toEqual([{ dedupe_key: "recent" }]);
    const { rows: notes } = await pool.query<{ id: string }>(
      "SELECT id FROM notifications WHERE org_id = $1",
      [orgId],
    );
    expect(notes.map((n) => n.id)).toEqual([`ntf_recent_${orgId.slice(-12)}`]);
    await pool.query("DELETE FROM dead_letters WHERE org_id = $1", [orgId]);
    await pool.query("DELETE FROM users WHERE id = $1", [userId]);
  });
});
