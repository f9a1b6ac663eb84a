import { type AuditEntryRow, purgeOrganisationLog } from "@auditlog/db";
import { driversOf } from "@auditlog/db/drivers";
import { auditEntryRow, createTestDatabase, prepareTestDatabase } from "@auditlog/db/testing";
import { newId } from "@auditlog/events";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createInsertBatcher } from "./insert-batcher.ts";

const db = createTestDatabase();
const { pool } = driversOf(db);
const orgId = newId("org");
const otherOrgIds: string[] = [];

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
    for (const id of [orgId, ...otherOrgIds]) await purgeOrganisationLog(db, id);
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

  it("keeps one organisation's log gap-free and each job's rows together while its writes overlap, also when one of them fails", async () => {
    // Two writes at a time of one organisation, the second following the first (issue 14's
    // counter no longer makes them queue): jobs 0 and 1, 2 and 3, … A refused row fails the
    // first write of a pair (job 8) after it announced the counter it would leave, so the
    // write following it must not keep the seqs it took after that counter; another fails a
    // following write (job 13).
    const org = newId("org");
    otherOrgIds.push(org);
    const batcher = createInsertBatcher(db, { maxRows: 50, maxConcurrentWrites: 2 });
    const jobs = Array.from({ length: 24 }, (_, job) =>
      Array.from({ length: 50 }, (_, i) =>
        auditEntryRow(org, {
          id: `chain-${String(job).padStart(2, "0")}-${String(i).padStart(2, "0")}`,
          ...((job === 8 || job === 13) && i === 20 ? { actorName: "a\u0000" } : {}),
        }),
      ),
    );
    const refusedIds = ["chain-08-20", "chain-13-20"];
    const results = await Promise.all(jobs.map((rows) => batcher.insert(rows)));
    expect(results.map((refused, job) => [job, refused.map((r) => r.row.id)])).toEqual(
      jobs.map((_, job) => [
        job,
        refusedIds.filter((id) => id.startsWith(`chain-${String(job).padStart(2, "0")}-`)),
      ]),
    );
    const { rows: stored } = await pool.query<{ seq: number; id: string }>(
      "SELECT seq::int AS seq, id FROM audit_entries WHERE org_id = $1 ORDER BY seq",
      [org],
    );
    const expected = jobs.flat().filter((row) => !refusedIds.includes(row.id));
    expect(stored.map((r) => r.seq)).toEqual(expected.map((_, i) => i + 1));
    expect(new Set(stored.map((r) => r.id))).toEqual(new Set(expected.map((row) => row.id)));
    // Every job's rows hold one run of seqs, in their order; but the refused rows' jobs, whose
    // rows are stored in parts around them while the next writes go on.
    const seqOf = new Map(stored.map((r) => [r.id, r.seq]));
    for (const job of jobs.filter((_, i) => i !== 8 && i !== 13)) {
      const seqs = job.map((row) => seqOf.get(row.id));
      expect(seqs).toEqual(seqs.map((_, i) => (seqs[0] as number) + i));
    }
  });

  it("keeps each organisation's log gap-free when writes mix organisations, some followed and some locked", async () => {
    // Jobs of three organisations in turn, three jobs a write: a write follows the one before
    // it for the organisations they share and takes the others' counters itself.
    const orgs = [newId("org"), newId("org"), newId("org")];
    otherOrgIds.push(...orgs);
    const batcher = createInsertBatcher(db, { maxRows: 30, maxConcurrentWrites: 2 });
    const jobs = Array.from({ length: 30 }, (_, job) =>
      Array.from({ length: 10 }, (_, i) =>
        auditEntryRow(orgs[job % 3] as string, { id: `mix-${job}-${i}` }),
      ),
    );
    const results = await Promise.all(jobs.map((rows) => batcher.insert(rows)));
    expect(results.flat()).toEqual([]);
    for (const [o, org] of orgs.entries()) {
      const { rows: stored } = await pool.query<{ seq: number; id: string }>(
        "SELECT seq::int AS seq, id FROM audit_entries WHERE org_id = $1 ORDER BY seq",
        [org],
      );
      const expected = jobs.filter((_, job) => job % 3 === o).flat();
      expect(stored.map((r) => r.seq)).toEqual(expected.map((_, i) => i + 1));
      expect(new Set(stored.map((r) => r.id))).toEqual(new Set(expected.map((row) => row.id)));
    }
  });
});
