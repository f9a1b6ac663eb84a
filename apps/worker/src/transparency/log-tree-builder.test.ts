import {
  listCheckpoints,
  purgeOrganisationLog,
  readEntriesBySeq,
  readLogTree,
  writeAuditEntries,
} from "@auditlog/db";
import { driversOf } from "@auditlog/db/drivers";
import {
  auditEntryRow,
  bypassingAppendOnly,
  createTestDatabase,
  prepareTestDatabase,
} from "@auditlog/db/testing";
import { newId } from "@auditlog/events";
import {
  entryLeafHash,
  generateSignerKey,
  MemoryTileStore,
  openCheckpoint,
  parseSignerKey,
  toBase64,
  treeHash,
} from "@auditlog/tlog";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { advanceLogTree, advanceLogTrees } from "./log-tree-builder.ts";

const db = createTestDatabase();
const orgId = newId("org");
const signer = parseSignerKey(generateSignerKey("builder.test"));
const signing = { signer, logOrigin: "builder.test" };

describe("advanceLogTree", () => {
  beforeAll(() => prepareTestDatabase());
  afterAll(async () => {
    await purgeOrganisationLog(db, orgId);
    await db.close();
  });

  it("extends the tree in steps to the root of every stored leaf, signing a checkpoint at each", async () => {
    const rows = Array.from({ length: 700 }, (_, i) =>
      auditEntryRow(orgId, { id: `evt_b${String(i).padStart(4, "0")}`, description: `n${i}` }),
    );
    await writeAuditEntries(db, rows.slice(0, 300));
    expect(await advanceLogTree(db, orgId, signing, 257)).toEqual({ fromSize: 0, treeSize: 257 });
    expect(await advanceLogTree(db, orgId, signing)).toEqual({ fromSize: 257, treeSize: 300 });
    await writeAuditEntries(db, rows.slice(300));
    expect(await advanceLogTree(db, orgId, signing)).toEqual({ fromSize: 300, treeSize: 700 });
    expect(await advanceLogTree(db, orgId, signing)).toEqual({ fromSize: 700, treeSize: 700 });

    const entries = await readEntriesBySeq(db, orgId, 1, 700);
    expect(entries.map((e) => e.seq)).toEqual(Array.from({ length: 700 }, (_, i) => i + 1));
    const memory = new MemoryTileStore();
    await memory.append(entries.map((entry) => entryLeafHash(orgId, entry)));
    const checkpoints = await listCheckpoints(db, orgId);
    expect(checkpoints.map((c) => c.treeSize)).toEqual([257, 300, 700]);
    for (const checkpoint of checkpoints) {
      const opened = openCheckpoint(
        checkpoint.note,
        [signer.verifierKey],
        `builder.test/orgs/${orgId}`,
      );
      expect(opened.treeSize).toBe(checkpoint.treeSize);
      expect(toBase64(opened.rootHash)).toBe(toBase64(await treeHash(memory, checkpoint.treeSize)));
    }
    expect(toBase64((await readLogTree(db, orgId))?.rootHash as Uint8Array)).toBe(
      toBase64(await treeHash(memory, 700)),
    );
  });

  it("extends many organisations' trees in one build, sharing the leaf budget, and leaves out only one whose log has a gap", async () => {
    const orgs = [1, 255, 256, 257, 600].map((count) => ({ id: newId("org"), count }));
    const gapped = newId("org");
    try {
      for (const org of [...orgs, { id: gapped, count: 40 }]) {
        await writeAuditEntries(
          db,
          Array.from({ length: org.count }, (_, i) =>
            auditEntryRow(org.id, {
              id: `evt_m${String(i).padStart(4, "0")}`,
              description: `m${i}`,
            }),
          ),
        );
      }
      // Seq 20 of one organisation removed behind the triggers' back: its tree must not grow
      // past 19, and the others must not wait for it.
      await bypassingAppendOnly(
        driversOf(db).pool,
        "DELETE FROM audit_entries WHERE org_id = $1 AND seq = 20",
        [gapped],
      );
      const ids = [...orgs.map((o) => o.id), gapped];
      // A budget of 600 leaves over six organisations: 100 each per build, repeated.
      let builds = 0;
      for (;;) {
        const results = await advanceLogTrees(db, ids, signing, 600);
        builds++;
        // Extended up to the gap (19 leaves, in the first build), never past it, and reported.
        expect(results.get(gapped)).toEqual({
          fromSize: builds === 1 ? 0 : 19,
          treeSize: 19,
          error: new Error(`the log of ${gapped} has no entry 20`),
        });
        if (![...results.values()].some((r) => r.treeSize > r.fromSize)) break;
        expect(builds).toBeLessThan(20);
      }
      expect(builds).toBe(7);
      for (const org of orgs) {
        const entries = await readEntriesBySeq(db, org.id, 1, org.count);
        const memory = new MemoryTileStore();
        await memory.append(entries.map((entry) => entryLeafHash(org.id, entry)));
        expect((await readLogTree(db, org.id))?.size).toBe(org.count);
        const checkpoints = await listCheckpoints(db, org.id);
        for (const checkpoint of checkpoints) {
          const opened = openCheckpoint(
            checkpoint.note,
            [signer.verifierKey],
            `builder.test/orgs/${org.id}`,
          );
          expect(toBase64(opened.rootHash)).toBe(
            toBase64(await treeHash(memory, checkpoint.treeSize)),
          );
        }
        expect(checkpoints.at(-1)?.treeSize).toBe(org.count);
      }
      expect((await readLogTree(db, gapped))?.size).toBe(19);
      await expect(advanceLogTree(db, gapped, signing)).rejects.toThrow(`has no entry 20`);
    } finally {
      for (const id of [...orgs.map((o) => o.id), gapped]) await purgeOrganisationLog(db, id);
    }
  });
});
