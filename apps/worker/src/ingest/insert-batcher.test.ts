import type { AuditEntryRow } from "@auditlog/db";
import { driversOf } from "@auditlog/db/drivers";
import { auditEntryRow, createTestDatabase, prepareTestDatabase } from "@auditlog/db/testing";
import { newId } from "@auditlog/events";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createInsertBatcher } from "./insert-batcher.ts";

const db = createTestDatabase();
const { pool } = driversOf(db);
const orgId = newId("org");

function row(id: string, overrides: Partial<AuditEntryRow> = {}): AuditEntryRow {
  return auditEntryRow(orgId, { id, ...overrides });
}

async function storedIds(): Promise<string[]> {
  const { rows } = await pool.query<{ id: string }>(
    "SELECT id FROM audit_entries WHERE org_id = $1 ORDER BY id",
    [orgId],
  );
  return rows.map((r) => r.id);
}

describe("createInsertBatcher (group commit of ingest jobs)", () => {
  beforeAll(() => prepareTestDatabase());
  afterAll(async () => {
    await pool.query("DELETE FROM audit_entries WHERE org_id = $1", [orgId]);
    await db.close();
  });

  it("stores every job's rows, once, when many jobs write at the same time", async () => {
    const batcher = createInsertBatcher(db, { maxRows: 250, maxConcurrentWrites: 1 });
    const jobs = Array.from({ length: 20 }, (_, job) =>
      Array.from({ length: 50 }, (_, i) => row(`j${String(job).padStart(2, "0")}-${i}`)),
    );
    await Promise.all(jobs.map((rows) => batcher.insert(rows)));
    // A redelivered job is a no-op.
    await batcher.insert(jobs[3] ?? []);
    const ids = await storedIds();
    expect(ids).toHaveLength(1000);
    expect(new Set(ids).size).toBe(1000);
  });

  it("fails only the job whose rows the database refuses, not the ones sharing its write", async () => {
    const batcher = createInsertBatcher(db, { maxConcurrentWrites: 1 });
    const before = (await storedIds()).length;
    const results = await Promise.allSettled([
      batcher.insert([row("ok-1")]),
      batcher.insert([row("ok-2")]),
      // Violates the table's CHECK on actor_type.
      batcher.insert([row("poison", { actorType: "robot" as "user" })]),
      batcher.insert([row("ok-3")]),
    ]);
    expect(results.map((r) => r.status)).toEqual([
      "fulfilled",
      "fulfilled",
      "rejected",
      "fulfilled",
    ]);
    const ids = await storedIds();
    expect(ids).toHaveLength(before + 3);
    expect(ids).not.toContain("poison");
  });
});
