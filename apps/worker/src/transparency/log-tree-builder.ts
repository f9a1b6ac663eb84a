import {
  type Database,
  logTileReader,
  readEntriesBySeq,
  readLogTree,
  storeLogTree,
  tryLockLogTree,
  withLogTransaction,
} from "@auditlog/db";
import {
  appendToTiles,
  checkpointOrigin,
  emptyRoot,
  entryLeafHash,
  formatCheckpoint,
  type NoteSigner,
  signNote,
  treeHash,
} from "@auditlog/tlog";

/** What extending a tree needs: who signs, and the deployment's name in checkpoint origins. */
export interface CheckpointSigning {
  signer: NoteSigner;
  /** LOG_ORIGIN: the checkpoint origin is `<logOrigin>/orgs/<org id>`. */
  logOrigin: string;
}

export interface AdvanceResult {
  /** Leaves the tree had before. */
  fromSize: number;
  /** Leaves it has now (== fromSize when nothing was done). */
  treeSize: number;
}

/**
 * Extends one organisation's tree with the entries committed since it was last built (at most
 * `maxLeaves` of them), stores the changed tiles and signs a checkpoint for the new size, all in
 * one transaction: a checkpoint never names a tree whose tiles are not stored. Another process
 * building the same tree at the same time makes this one do nothing (an advisory lock), so
 * several workers can run the builder.
 */
export async function advanceLogTree(
  db: Database,
  orgId: string,
  signing: CheckpointSigning,
  maxLeaves = 50_000,
): Promise<AdvanceResult> {
  return withLogTransaction(db, async (client) => {
    const before = await readLogTree(client, orgId);
    const fromSize = before?.size ?? 0;
    if (!(await tryLockLogTree(client, orgId))) return { fromSize, treeSize: fromSize };
    // Read again under the lock: the holder before us may have just committed.
    const current = (await readLogTree(client, orgId))?.size ?? 0;
    const entries = await readEntriesBySeq(client, orgId, current + 1, current + maxLeaves);
    // Entries are committed in seq order, so what is read is a gap-free run from current + 1.
    entries.forEach((entry, i) => {
      if (entry.seq !== current + 1 + i) {
        throw new Error(`the log of ${orgId} has no entry ${current + 1 + i}`);
      }
    });
    if (entries.length === 0) return { fromSize: current, treeSize: current };
    const reader = logTileReader(client, orgId);
    const { size, tiles } = await appendToTiles(
      reader,
      current,
      entries.map((entry) => entryLeafHash(orgId, entry)),
    );
    // The root from the new tiles: the stored ones, overlaid with those just computed.
    const overlay = new Map(tiles.map((t) => [`${t.level}/${t.index}`, t.hashes]));
    const rootHash =
      size === 0
        ? emptyRoot
        : await treeHash(
            {
              async readTiles(coords) {
                const stored = await reader.readTiles(
                  coords.filter((c) => !overlay.has(`${c.level}/${c.index}`)),
                );
                let next = 0;
                return coords.map((c) => overlay.get(`${c.level}/${c.index}`) ?? stored[next++]);
              },
            },
            size,
          );
    const note = signNote(
      formatCheckpoint({
        origin: checkpointOrigin(signing.logOrigin, orgId),
        treeSize: size,
        rootHash,
      }),
      signing.signer,
    );
    await storeLogTree(client, orgId, current, { size, rootHash }, tiles, note);
    return { fromSize: current, treeSize: size };
  });
}
