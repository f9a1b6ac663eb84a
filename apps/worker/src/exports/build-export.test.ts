import { createOrganization, insertAuditEntries } from "@auditlog/db";
import { driversOf } from "@auditlog/db/drivers";
import {
  auditEntryRow,
  createTestDatabase,
  prepareTestDatabase,
  uniqueSlug,
} from "@auditlog/db/testing";
import { parseQuery } from "@auditlog/events";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { summariseWrittenEntries } from "./build-export.ts";

// The manifest's count and seq range come from the writer; the one thing that can still change
// an export's selection after its snapshot, the retention purge, is caught by where the
// retained entries begin. Without the writer's figures the selection is counted again.

const db = createTestDatabase();
const pool = driversOf(db).pool;
let orgId: string;
const selection = (() => {
  const parsed = parseQuery("type:repo.create");
  if (!parsed.ok) throw new Error(parsed.error.message);
  return { query: parsed.query, options: { includeHidden: true, maxSeq: 10 } };
})();

beforeAll(async () => {
  await prepareTestDatabase();
  const org = await createOrganization(db, {
    slug: uniqueSlug("export-summary"),
    name: "Export summary",
    plan: "enterprise",
  });
  orgId = org.id;
  // seq 1 … 10; seq 1 to 4 of another type, so the selection is seq 5 … 10.
  await insertAuditEntries(
    db,
    Array.from({ length: 10 }, (_, i) =>
      auditEntryRow(orgId, { type: i < 4 ? "repo.delete" : "repo.create" }),
    ),
  );
});

afterAll(async () => {
  await db.close();
});

const retainFrom = (seq: number) =>
  pool.query("UPDATE audit_log_heads SET retained_from = $2 WHERE org_id = $1", [orgId, seq]);

describe("summariseWrittenEntries", () => {
  it("states the writer's figures while no purge has passed the file's lowest seq", async () => {
    const written = { rowsWritten: 6, seqs: { first: 5, last: 10 } };
    for (const retainedFrom of [1, 5]) {
      await retainFrom(retainedFrom);
      expect(await summariseWrittenEntries(db, db, orgId, written, selection)).toEqual({
        count: 6,
        firstSeq: 5,
        lastSeq: 10,
      });
    }
    await retainFrom(1);
  });

  it("fails the build when a purge removed an entry the file holds", async () => {
    await retainFrom(6);
    try {
      await expect(
        summariseWrittenEntries(
          db,
          db,
          orgId,
          { rowsWritten: 6, seqs: { first: 5, last: 10 } },
          selection,
        ),
      ).rejects.toThrow(/no longer there/);
    } finally {
      await retainFrom(1);
    }
  });

  it("needs no check for an empty file", async () => {
    await retainFrom(11);
    try {
      expect(
        await summariseWrittenEntries(
          db,
          db,
          orgId,
          { rowsWritten: 0, seqs: { first: null, last: null } },
          selection,
        ),
      ).toEqual({ count: 0, firstSeq: null, lastSeq: null });
    } finally {
      await retainFrom(1);
    }
  });

  it("counts the selection when the writer gave no figures, and fails on a difference", async () => {
    expect(await summariseWrittenEntries(db, db, orgId, { rowsWritten: 6 }, selection)).toEqual({
      count: 6,
      firstSeq: 5,
      lastSeq: 10,
    });
    await expect(
      summariseWrittenEntries(db, db, orgId, { rowsWritten: 7 }, selection),
    ).rejects.toThrow(/no longer there/);
  });
});
