import { type AuditEntryRow, purgeOrganisationLog } from "@auditlog/db";
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
    await purgeOrganisationLog(db, orgId);
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

  it("sets aside only the rows the database refuses: neither the jobs sharing the write nor the rest of the job fail", async () => {
    const batcher = createInsertBatcher(db, { maxConcurrentWrites: 1 });
    const before = (await storedIds()).length;
    const results = await Promise.all([
      batcher.insert([row("ok-1")]),
      batcher.insert([row("ok-2")]),
      // Violates the table's CHECK on actor_type, and PostgreSQL's text refuses NUL.
      batcher.insert([
        row("poison-check", { actorType: "robot" as "user" }),
        row("ok-beside-poison"),
        row("poison-nul", { actorName: "a\u0000" }),
      ]),
      batcher.insert([row("ok-3")]),
    ]);
    expect(results.map((refused) => refused.map((r) => [r.row.id, r.reason]))).toEqual([
      [],
      [],
      [
        ["poison-check", expect.stringMatching(/SQLSTATE 23514/)],
        ["poison-nul", expect.stringMatching(/SQLSTATE 22021/)],
      ],
      [],
    ]);
    const ids = await storedIds();
    expect(ids).toHaveLength(before + 4);
    expect(ids).toEqual(expect.arrayContaining(["ok-1", "ok-2", "ok-3", "ok-beside-poison"]));
  });

  it("reports each committed write's stored rows once (the live announcement), never a refused or failed one", async () => {
    const reported: string[][] = [];
    const batcher = createInsertBatcher(db, {
      maxConcurrentWrites: 1,
      onStored: (rows) => reported.push(rows.map((r) => r.id).sort()),
    });
    // A first write under way makes the next two jobs share one.
    await Promise.all([
      batcher.insert([row("live-1")]),
      batcher.insert([row("live-2"), row("live-3")]),
      batcher.insert([row("live-4")]),
    ]);
    expect(reported).toEqual([["live-1"], ["live-2", "live-3", "live-4"]]);

    reported.length = 0;
    await batcher.insert([row("live-poison", { actorType: "robot" as "user" }), row("live-5")]);
    expect(reported).toEqual([["live-5"]]);

    const unreachable = createTestDatabase("postgres://postgres@127.0.0.1:1/nowhere");
    try {
      reported.length = 0;
      const failing = createInsertBatcher(unreachable, {
        onStored: (rows) => reported.push(rows.map((r) => r.id)),
      });
      await expect(failing.insert([row("live-never")])).rejects.toThrow();
      expect(reported).toEqual([]);
    } finally {
      await unreachable.close();
    }
  });

  it("fails every job of a write when PostgreSQL is unreachable, so that each retries", async () => {
    const unreachable = createTestDatabase("postgres://postgres@127.0.0.1:1/nowhere");
    try {
      const batcher = createInsertBatcher(unreachable, { maxConcurrentWrites: 1 });
      const results = await Promise.allSettled([
        batcher.insert([row("never-1")]),
        batcher.insert([row("never-2", { actorType: "robot" as "user" })]),
      ]);
      expect(results.map((r) => r.status)).toEqual(["rejected", "rejected"]);
    } finally {
      await unreachable.close();
    }
  });
});
