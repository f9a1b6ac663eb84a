import { newId } from "@auditlog/events";
import { describe, expect, it } from "vitest";
import { writeAuditEntries } from "./entries.ts";
import { logTestDatabase } from "./log-test-database.ts";
import { readEntriesAfter, readEntriesBySeq } from "./log-tree.ts";
import { auditEntryRow, bypassingAppendOnly } from "./testing.ts";

// The checkpoint builder reads every organisation's new entries in one statement
// (`readEntriesAfter`); it must answer what reading them one organisation at a time answers.

const { db, pool, orgIds } = logTestDatabase();

describe("readEntriesAfter", () => {
  it("answers each organisation's seq range, as one read per organisation does", async () => {
    // Twelve organisations (hash partitions differ), 0 to 40 entries each, written interleaved
    // in batches, as group commit writes them.
    const counts = [0, 1, 2, 5, 9, 13, 17, 21, 26, 30, 35, 40];
    const orgs = counts.map(() => newId("org"));
    orgIds.push(...orgs);
    for (let round = 0; round < 40; round += 10) {
      const rows = orgs.flatMap((orgId, o) =>
        Array.from({ length: Math.max(0, Math.min(10, (counts[o] as number) - round)) }, (_, i) =>
          auditEntryRow(orgId, {
            id: `evt_${round + i}`,
            description: `entry ${round + i} of ${o}`,
          }),
        ),
      );
      await writeAuditEntries(db, rows);
    }
    // A gap in one log (deleted behind the triggers' back): the read shows it, the builder stops there.
    await bypassingAppendOnly(pool, "DELETE FROM audit_entries WHERE org_id = $1 AND seq = 7", [
      orgs[7],
    ]);
    const afterSeqs = [0, 0, 1, 2, 0, 13, 3, 4, 25, 30, 0, 39];
    const limit = 8;
    const ranges = orgs.map((orgId, o) => ({ orgId, afterSeq: afterSeqs[o] as number }));
    const client = await pool.connect();
    try {
      const read = await readEntriesAfter(client, ranges, limit);
      expect([...read.keys()]).toEqual(orgs);
      let total = 0;
      for (const { orgId, afterSeq } of ranges) {
        const expected = await readEntriesBySeq(client, orgId, afterSeq + 1, afterSeq + limit);
        expect(read.get(orgId)).toEqual(expected);
        total += expected.length;
      }
      // The cases are not all empty: ranges cut by the limit, by the log's end, and the gap.
      expect(total).toBe(38);
      expect(read.get(orgs[7] as string)?.map((e) => e.seq)).toEqual([5, 6, 8, 9, 10, 11, 12]);
      expect(read.get(orgs[11] as string)?.map((e) => e.seq)).toEqual([40]);
      expect(read.get(orgs[5] as string)).toEqual([]);
      expect(await readEntriesAfter(client, [], limit)).toEqual(new Map());

      // The plan of that very statement probes each organisation's range in a nested loop
      // (run-time partition pruning), never a join that reads every partition.
      let sent: { text: string; values: unknown[] } | undefined;
      const recording = {
        query: (text: string, values: unknown[]) => {
          sent = { text, values };
          return client.query(text, values);
        },
      } as unknown as typeof client;
      await readEntriesAfter(recording, ranges, limit);
      if (!sent) throw new Error("readEntriesAfter sent no statement");
      const { rows: plan } = await client.query<{ "QUERY PLAN": string }>(
        `EXPLAIN ${sent.text}`,
        sent.values,
      );
      const text = plan.map((row) => row["QUERY PLAN"]).join("\n");
      expect(text).toContain("Nested Loop");
      expect(text).not.toMatch(/Hash Join|Merge Join/);
    } finally {
      client.release();
    }
  });
});
