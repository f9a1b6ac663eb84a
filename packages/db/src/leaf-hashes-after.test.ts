import { newId } from "@auditlog/events";
import { entryLeafHash } from "@auditlog/tlog";
import { describe, expect, it } from "vitest";
import { writeAuditEntries } from "./entries.ts";
import { readLeafHashesAfter } from "./leaf-hashes-after.ts";
import { logTestDatabase } from "./log-test-database.ts";
import { readEntriesAfter } from "./log-tree.ts";
import { auditEntryRow, bypassingAppendOnly } from "./testing.ts";

// The tree builder hashes its new leaves straight from COPY lines (`readLeafHashesAfter`); each
// must be the hash the entry path gives (`readEntriesAfter`, then `entryLeafHash` of the entry),
// for every kind of value a row can hold, or the checkpoints would sign a tree `verify` refuses.

const { db, pool, orgIds } = logTestDatabase();

/** Rows that differ in every way a leaf can: escapes, non-ASCII, NULLs, empty strings, data. */
function variedRow(orgId: string, i: number) {
  const kinds = [
    {},
    { description: 'tab\there, newline\nthere, back\\slash, CR\r, "quoted"', actorName: "Zoë ☃ 𝄞" },
    {
      targetType: "repo",
      targetId: "acme/widgets",
      targetName: "widgets\tpro",
      ip: "203.0.113.0",
      countryCode: "FR",
      region: "Île-de-France",
      city: "Paris",
    },
    {
      ip: "2001:db8:85a3::",
      userAgent: "curl/8.0 \\ \u0001",
      oauthClientId: "oac_1",
      oauthName: 'Deploy "bot"',
      actorType: "token" as const,
      actorTokenRole: "write",
      actorTokenLast4: "abcd",
    },
    { data: { nested: { b: [1, 2.5, -0, 1e21, "x\ty"], a: null }, é: true, "\u0007": "bell" } },
    // Truthiness as the entry path tests it: empty strings count as absent there.
    { targetType: "", targetId: "t", oauthClientId: "", countryCode: "", region: "", city: "" },
    {
      hiddenByDefault: true,
      actorAvatarUrl: "https://example.com/a.png",
      data: { big: "€".repeat(500) },
    },
  ];
  return auditEntryRow(orgId, {
    id: `evt_${i}`,
    occurredAt: new Date(Date.UTC(2026, 11, 2, 14, 0, 0, i * 7)),
    ...(kinds[i % kinds.length] as object),
  });
}

describe("readLeafHashesAfter", () => {
  it("gives every organisation's leaf hashes in seq order, as the entry path computes them", async () => {
    const counts = [0, 1, 3, 9, 14, 20, 30];
    const orgs = counts.map(() => newId("org"));
    orgIds.push(...orgs);
    for (let round = 0; round < 30; round += 10) {
      const rows = orgs.flatMap((orgId, o) =>
        Array.from({ length: Math.max(0, Math.min(10, (counts[o] as number) - round)) }, (_, i) =>
          variedRow(orgId, round + i),
        ),
      );
      await writeAuditEntries(db, rows);
    }
    // Microseconds (the worker writes milliseconds; a row from elsewhere may have more), and an
    // erased entry (it keeps its personal digest and no salt), each written behind the triggers.
    await bypassingAppendOnly(
      pool,
      "UPDATE audit_entries SET occurred_at = occurred_at + interval '123 microseconds' WHERE org_id = $1 AND seq IN (2, 5)",
      [orgs[4]],
    );
    await bypassingAppendOnly(
      pool,
      `UPDATE audit_entries SET personal_digest = sha256(commit_salt), commit_salt = NULL
       WHERE org_id = $1 AND seq = 3`,
      [orgs[5]],
    );
    // A gap: the builder stops there, so the read must show it.
    await bypassingAppendOnly(pool, "DELETE FROM audit_entries WHERE org_id = $1 AND seq = 4", [
      orgs[6],
    ]);
    const afterSeqs = [0, 0, 1, 0, 2, 0, 1];
    const limit = 12;
    const ranges = orgs.map((orgId, o) => ({ orgId, afterSeq: afterSeqs[o] as number }));
    const client = await pool.connect();
    try {
      await client.query("BEGIN");
      const read = await readLeafHashesAfter(client, ranges, limit);
      const entries = await readEntriesAfter(client, ranges, limit);
      await client.query("COMMIT");
      expect([...read.keys()]).toEqual(orgs);
      let total = 0;
      for (const orgId of orgs) {
        const expected = entries.get(orgId) ?? [];
        const got = read.get(orgId);
        expect(got?.seqs).toEqual(expected.map((entry) => entry.seq));
        expect(got?.hashes.map((h) => Buffer.from(h).toString("hex"))).toEqual(
          expected.map((entry) => Buffer.from(entryLeafHash(orgId, entry)).toString("hex")),
        );
        total += expected.length;
      }
      // Not all empty: ranges cut by the limit, by the log's end, and the gap.
      expect(total).toBe(0 + 1 + 2 + 9 + 12 + 12 + 11);
      expect(read.get(orgs[6] as string)?.seqs).toEqual([2, 3, 5, 6, 7, 8, 9, 10, 11, 12, 13]);
      expect(await readLeafHashesAfter(client, [], limit)).toEqual(new Map());
    } finally {
      client.release();
    }
  });

  it("fails, after reading the whole COPY, when an entry cannot have a leaf", async () => {
    const orgId = newId("org");
    orgIds.push(orgId);
    await writeAuditEntries(db, [variedRow(orgId, 0), variedRow(orgId, 1), variedRow(orgId, 2)]);
    // Data that is not an object: no leaf can be written for it.
    await bypassingAppendOnly(
      pool,
      "UPDATE audit_entries SET data = '[1]'::jsonb WHERE org_id = $1 AND seq = 2",
      [orgId],
    );
    const client = await pool.connect();
    try {
      await client.query("BEGIN");
      await expect(readLeafHashesAfter(client, [{ orgId, afterSeq: 0 }], 10)).rejects.toThrow(
        /data must be an object/,
      );
      await client.query("ROLLBACK");
      // The connection is usable again: the COPY was read to its end.
      const { rows } = await client.query<{ one: number }>("SELECT 1 AS one");
      expect(rows).toEqual([{ one: 1 }]);
    } finally {
      client.release();
    }
  });
});
