import {
  listCheckpoints,
  purgeOrganisationLog,
  readEntriesBySeq,
  readLogTree,
  writeAuditEntries,
} from "@auditlog/db";
import { auditEntryRow, createTestDatabase, prepareTestDatabase } from "@auditlog/db/testing";
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
import { advanceLogTree } from "./log-tree-builder.ts";

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
});
