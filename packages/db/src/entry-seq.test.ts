import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { newId } from "@auditlog/events";
import type pg from "pg";
import { from as copyFrom } from "pg-copy-streams";
import { describe, expect, it } from "vitest";
import {
  type AuditEntryRow,
  auditEntryCopyColumns,
  insertAuditEntries,
  insertAuditEntriesSettingAsideRefused,
  toCopyText,
  writeAuditEntries,
  writeLockClass,
} from "./entries.ts";
import { logTestDatabase } from "./log-test-database.ts";
import { readLogSize } from "./log-tree.ts";
import { auditEntryRow, createTestDatabase } from "./testing.ts";

// `seq` as the writes assign it (issue 14): 1, 2, 3 … per organisation, no number spent on a
// row that is not stored, whatever the path (COPY, INSERT, the refused-row split).

const { db, pool, orgIds } = logTestDatabase();

function newOrg(): string {
  const orgId = newId("org");
  orgIds.push(orgId);
  return orgId;
}

function rows(orgId: string, prefix: string, count: number): AuditEntryRow[] {
  return Array.from({ length: count }, (_, i) =>
    auditEntryRow(orgId, { id: `${prefix}-${String(i).padStart(4, "0")}` }),
  );
}

/** The organisation's stored ids by seq. */
async function storedBySeq(orgId: string): Promise<{ seq: number; id: string }[]> {
  const { rows: stored } = await pool.query<{ seq: number; id: string }>(
    "SELECT seq::int AS seq, id FROM audit_entries WHERE org_id = $1 ORDER BY seq",
    [orgId],
  );
  return stored;
}

/** Seqs are exactly 1..n, the counter says n, and `ids` are the entries in that order. */
async function expectLog(orgId: string, ids: string[]): Promise<void> {
  const stored = await storedBySeq(orgId);
  expect(stored.map((r) => r.seq)).toEqual(ids.map((_, i) => i + 1));
  expect(stored.map((r) => r.id)).toEqual(ids);
  expect(await readLogSize(db, orgId)).toBe(ids.length);
}

describe.each([
  ["writeAuditEntries", writeAuditEntries],
  ["insertAuditEntries", insertAuditEntries],
])("seq assigned by %s", (_name, write) => {
  it("numbers a batch 1..n in row order, and the next batch from n+1", async () => {
    const orgId = newOrg();
    const first = rows(orgId, "a", 5);
    const second = rows(orgId, "b", 3);
    expect(await write(db, first)).toBe(5);
    expect(await write(db, second)).toBe(3);
    await expectLog(
      orgId,
      [...first, ...second].map((r) => r.id),
    );
  });

  it("spends no seq on a redelivered batch, nor on the stored rows of a mixed one", async () => {
    const orgId = newOrg();
    const batch = rows(orgId, "a", 4);
    expect(await write(db, batch)).toBe(4);
    expect(await write(db, batch)).toBe(0); // a redelivered job
    const fresh = rows(orgId, "b", 3);
    // Stored and new entries interleaved, and one new entry repeated within the batch.
    const mixed = [batch[1], fresh[0], batch[3], fresh[1], fresh[0], fresh[2]] as AuditEntryRow[];
    expect(await write(db, mixed)).toBe(3);
    await expectLog(
      orgId,
      [...batch, ...fresh].map((r) => r.id),
    );
  });

  it("spends no seq on a batch PostgreSQL refuses (a NUL in text): it rolls back whole", async () => {
    const orgId = newOrg();
    const before = rows(orgId, "a", 2);
    await write(db, before);
    const refused = [...rows(orgId, "bad", 3), auditEntryRow(orgId, { actorName: "a\u0000b" })];
    await expect(write(db, refused)).rejects.toMatchObject({ code: "22021" });
    expect(await readLogSize(db, orgId)).toBe(2);
    const after = rows(orgId, "c", 2);
    await write(db, after);
    await expectLog(
      orgId,
      [...before, ...after].map((r) => r.id),
    );
  });
});

describe("seq with refused rows set aside", () => {
  it("numbers only the stored rows, with no hole where a refused row was", async () => {
    const orgId = newOrg();
    const good = rows(orgId, "good", 10);
    const batch = [
      ...good.slice(0, 3),
      auditEntryRow(orgId, { id: "nul", description: "x\u0000y" }),
      ...good.slice(3, 7),
      auditEntryRow(orgId, { id: "bad-ip", ip: "not-an-address" }),
      ...good.slice(7),
    ];
    const result = await insertAuditEntriesSettingAsideRefused(db, batch);
    expect(result.inserted).toBe(10);
    expect(result.refused.map((r) => r.row.id)).toEqual(["nul", "bad-ip"]);
    // A retry of the same job stores nothing and spends nothing.
    expect((await insertAuditEntriesSettingAsideRefused(db, batch)).inserted).toBe(0);
    await expectLog(
      orgId,
      good.map((r) => r.id),
    );
  });
});

describe("seq with two concurrent writers of one organisation", () => {
  it("gives each batch a contiguous range and the log 1..N with no gap or repeat", {
    timeout: 60_000,
  }, async () => {
    const orgId = newOrg();
    const writers = [createTestDatabase(), createTestDatabase()];
    const batchesPerWriter = 12;
    const batchSize = 40;
    const holder = await pool.connect();
    try {
      // The test takes the organisation's counter first, so the writers' first batches are
      // deterministically both in flight, queued on that row, when it lets go.
      await holder.query("BEGIN");
      await holder.query(
        `INSERT INTO audit_log_heads AS head (org_id, size) VALUES ($1, 0)
         ON CONFLICT (org_id) DO UPDATE SET size = head.size`,
        [orgId],
      );
      const holderPid = (await holder.query<{ pid: number }>("SELECT pg_backend_pid() AS pid"))
        .rows[0]?.pid;
      const batches = writers.map((_, w) =>
        Array.from({ length: batchesPerWriter }, (_, b) => rows(orgId, `w${w}-b${b}`, batchSize)),
      );
      const runs = writers.map(async (writer, w) => {
        let stored = 0;
        for (const [b, batch] of (batches[w] ?? []).entries()) {
          // Alternate the two write paths, as the worker does on a redelivered batch.
          stored += await (b % 2 === 0 ? writeAuditEntries : insertAuditEntries)(writer, batch);
        }
        return stored;
      });
      const blocked = async () =>
        (
          await pool.query<{ n: number }>(
            "SELECT count(*)::int AS n FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))",
            [holderPid],
          )
        ).rows[0]?.n;
      const deadline = Date.now() + 20_000;
      while ((await blocked()) !== 2) {
        if (Date.now() > deadline)
          throw new Error("the two writers never both waited on the counter");
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      await holder.query("ROLLBACK");
      expect(await Promise.all(runs)).toEqual([
        batchesPerWriter * batchSize,
        batchesPerWriter * batchSize,
      ]);

      const stored = await storedBySeq(orgId);
      const total = writers.length * batchesPerWriter * batchSize;
      expect(stored.map((r) => r.seq)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
      expect(new Set(stored.map((r) => r.id)).size).toBe(total);
      expect(await readLogSize(db, orgId)).toBe(total);
      // Each batch holds one contiguous range of seqs, in its rows' order.
      const seqOf = new Map(stored.map((r) => [r.id, r.seq]));
      for (const batch of batches.flat()) {
        const seqs = batch.map((r) => seqOf.get(r.id) as number);
        expect(seqs).toEqual(seqs.map((_, i) => (seqs[0] as number) + i));
      }
      // Both writers had batches committed in between the other's (they ran interleaved).
      const writerBySeq = stored.map((r) => r.id.slice(0, 2));
      const switches = writerBySeq.filter((w, i) => i > 0 && w !== writerBySeq[i - 1]).length;
      console.log(
        `two writers: ${total} entries, seq 1..${total}, writer switches along the log: ${switches}`,
      );
      expect(switches).toBeGreaterThan(0);
    } finally {
      holder.release();
      for (const writer of writers) await writer.close();
    }
  });
});

describe("a write following an uncommitted write of the same organisation", () => {
  /**
   * An open transaction that took the organisation's next `count` seqs, as a write of the
   * worker does (the counter's row lock is held until it ends); `store` sends its rows.
   */
  async function openWrite(orgId: string, count: number) {
    const client = await pool.connect();
    const lock = 1 + Math.floor(Math.random() * 1_000_000);
    await client.query("BEGIN");
    await client.query("SELECT pg_advisory_xact_lock($1, $2)", [writeLockClass, lock]);
    const { rows: head } = await client.query<{ size: number }>(
      "UPDATE audit_log_heads SET size = size + $2 WHERE org_id = $1 RETURNING size::int AS size",
      [orgId, count],
    );
    const size = head[0]?.size as number;
    const pid = (await client.query<{ pid: number }>("SELECT pg_backend_pid() AS pid")).rows[0]
      ?.pid as number;
    return {
      client,
      pid,
      size,
      lock,
      async store(batch: AuditEntryRow[]) {
        const first = size - count + 1;
        await pipeline(
          Readable.from([
            toCopyText(
              batch,
              batch.map((_, i) => first + i),
            ),
          ]),
          client.query(
            copyFrom(`COPY audit_entries (${auditEntryCopyColumns.join(", ")}, seq) FROM STDIN`),
          ),
        );
      },
    };
  }

  /** What the backends waiting on `pid` are running (their statements' first words). */
  async function waitingOn(pid: number): Promise<string[]> {
    const { rows: waiting } = await pool.query<{ query: string }>(
      "SELECT query FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))",
      [pid],
    );
    return waiting.map((r) => r.query.trim().split(/\s+/).slice(0, 2).join(" "));
  }

  async function until(what: string, check: () => Promise<boolean>): Promise<void> {
    const deadline = Date.now() + 20_000;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`never happened: ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  function settledYet(promise: Promise<unknown>): Promise<boolean> {
    let settled = false;
    promise.then(
      () => (settled = true),
      () => (settled = true),
    );
    return new Promise((resolve) => setImmediate(() => resolve(settled)));
  }

  /**
   * Two stored entries, then an open write of 3 (its rows not sent) and a write of 4 following
   * it, seen waiting for it with its rows sent. `end` commits the open write (with `held` as its
   * rows) or rolls it back, and answers what the follower stored.
   */
  async function followAnOpenWrite(orgId: string) {
    const before = rows(orgId, "a", 2);
    await writeAuditEntries(db, before);
    const open = await openWrite(orgId, 3);
    const held = rows(orgId, "held", 3);
    const follower = rows(orgId, "f", 4);
    const following = writeAuditEntries(db, follower, {
      following: new Map([[orgId, { size: open.size, lock: open.lock }]]),
    });
    try {
      // Its COPY is done: it waits for the open write to end with the statement after it.
      await until("the follower waiting for the open write", async () =>
        (await waitingOn(open.pid)).some((q) => q.includes("pg_advisory_xact_lock_shared")),
      );
      expect(await settledYet(following)).toBe(false);
    } catch (error) {
      open.client.release();
      throw error;
    }
    return {
      before,
      held,
      follower,
      async end(commit: boolean): Promise<number> {
        try {
          if (commit) await open.store(held);
          await open.client.query(commit ? "COMMIT" : "ROLLBACK");
        } finally {
          open.client.release();
        }
        return following;
      },
    };
  }

  it("sends its rows while the followed write is open, commits after it, and the log stays gap-free", async () => {
    const orgId = newOrg();
    const { before, held, follower, end } = await followAnOpenWrite(orgId);
    expect(await end(true)).toBe(4);
    await expectLog(
      orgId,
      [...before, ...held, ...follower].map((r) => r.id),
    );
  });

  it("is written again in turn when the followed write rolls back: no seq is left unused", async () => {
    const orgId = newOrg();
    const { before, follower, end } = await followAnOpenWrite(orgId);
    expect(await end(false)).toBe(4);
    await expectLog(
      orgId,
      [...before, ...follower].map((r) => r.id),
    );
  });

  it("is written again in turn when another writer took the seqs it expected", async () => {
    const orgId = newOrg();
    const before = rows(orgId, "a", 2);
    await writeAuditEntries(db, before);
    // Followed as if a write of 3 were under way, but another writer stored 5 meanwhile.
    const other = rows(orgId, "other", 5);
    await writeAuditEntries(db, other);
    const follower = rows(orgId, "f", 4);
    const told: number[] = [];
    expect(
      await writeAuditEntries(db, follower, {
        following: new Map([[orgId, { size: 5, lock: 1 }]]),
        onCounters: ({ sizes }) => told.push(sizes.get(orgId) as number),
      }),
    ).toBe(4);
    // It was told the counter it expected to leave, before it knew that was taken.
    expect(told).toEqual([9]);
    await expectLog(
      orgId,
      [...before, ...other, ...follower].map((r) => r.id),
    );
  });

  it("gives up at once when another writer holds the counter after the followed write, and is written after it", async () => {
    const orgId = newOrg();
    const before = rows(orgId, "a", 2);
    await writeAuditEntries(db, before);
    // The followed write commits; then another writer (another process) takes the counter and
    // holds it, its rows not sent yet.
    const followed = await openWrite(orgId, 3);
    const held = rows(orgId, "held", 3);
    await followed.store(held);
    await followed.client.query("COMMIT");
    followed.client.release();
    const other = await openWrite(orgId, 5);
    const others = rows(orgId, "other", 5);
    const follower = rows(orgId, "f", 4);
    let client: pg.PoolClient | undefined = other.client;
    try {
      const following = writeAuditEntries(db, follower, {
        following: new Map([[orgId, { size: followed.size, lock: followed.lock }]]),
      });
      // Having found the counter held, it rolled its rows back and queues for the counter.
      await until("the follower queuing for the counter the ordinary way", async () =>
        (await waitingOn(other.pid)).some((q) => q.startsWith("INSERT INTO")),
      );
      // The other writer's rows take the seqs the follower had taken: nothing blocks them.
      await other.store(others);
      await client.query("COMMIT");
      client.release();
      client = undefined;
      expect(await following).toBe(4);
    } finally {
      client?.release();
    }
    await expectLog(
      orgId,
      [...before, ...held, ...others, ...follower].map((r) => r.id),
    );
  });
});
