import {
  batchedLogTileReaders,
  type Database,
  type LogTreeUpdate,
  readLeafHashesAfter,
  readLogTrees,
  storeLogTrees,
  tryLockLogTrees,
  withLogTransaction,
} from "@auditlog/db";
import {
  appendToTiles,
  checkpointOrigin,
  emptyRoot,
  formatCheckpoint,
  type NoteSigner,
  signNote,
  type TileReader,
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
  /** Why this organisation's tree could not be extended (its log has a gap); others were. */
  error?: Error;
}

/** A reader that answers the tiles just computed and asks `stored` for the rest. */
function overlaid(
  stored: TileReader,
  tiles: readonly { level: number; index: number; hashes: Uint8Array }[],
): TileReader {
  const overlay = new Map(tiles.map((t) => [`${t.level}/${t.index}`, t.hashes]));
  return {
    async readTiles(coords) {
      const missing = coords.filter((c) => !overlay.has(`${c.level}/${c.index}`));
      const read = await stored.readTiles(missing);
      let next = 0;
      return coords.map((c) => overlay.get(`${c.level}/${c.index}`) ?? read[next++]);
    },
  };
}

/**
 * Extends the trees of `orgIds` with the entries committed since they were last built, stores
 * the changed tiles and signs a checkpoint for each new size, all in one transaction: a
 * checkpoint never names a tree whose tiles are not stored. The organisations share every
 * statement (their entries, their tiles and the writes are each one query), so a pass over many
 * organisations costs about what one costs. At most `maxLeaves` entries are taken in all,
 * shared between the organisations. An organisation whose tree another process is extending
 * (an advisory lock) is left alone, so several workers can run the builder; one whose log has
 * a gap (tampered with) is extended up to the gap, never past it, and reported, and the others
 * are extended all the same.
 */
export async function advanceLogTrees(
  db: Database,
  orgIds: readonly string[],
  signing: CheckpointSigning,
  maxLeaves = 50_000,
): Promise<Map<string, AdvanceResult>> {
  const unique = [...new Set(orgIds)];
  return withLogTransaction(db, async (client) => {
    const locked = await tryLockLogTrees(client, unique);
    // Read under the locks: a holder before us may have just committed.
    const trees = await readLogTrees(client, [...locked]);
    const results = new Map<string, AdvanceResult>();
    for (const orgId of unique) {
      const size = trees.get(orgId)?.size ?? 0;
      results.set(orgId, { fromSize: size, treeSize: size });
    }
    if (locked.size === 0) return results;
    const perOrg = Math.max(1, Math.ceil(maxLeaves / locked.size));
    // Leaf hashes straight from COPY lines, as `verify` computes them: no entry objects.
    const leafHashes = await readLeafHashesAfter(
      client,
      [...locked].map((orgId) => ({ orgId, afterSeq: trees.get(orgId)?.size ?? 0 })),
      perOrg,
    );
    const readers = batchedLogTileReaders(client);
    const built = await Promise.all(
      [...locked].map(async (orgId): Promise<LogTreeUpdate | undefined> => {
        const current = trees.get(orgId)?.size ?? 0;
        const run = leafHashes.get(orgId) ?? { seqs: [], hashes: [] };
        // Entries commit in seq order, so what is read is a gap-free run from current + 1.
        // A gap means an entry was removed behind the triggers' back: the tree is extended up
        // to it, never past it, and the gap is reported.
        const gap = run.seqs.findIndex((seq, i) => seq !== current + 1 + i);
        const error =
          gap >= 0 ? new Error(`the log of ${orgId} has no entry ${current + 1 + gap}`) : undefined;
        const leaves = gap >= 0 ? run.hashes.slice(0, gap) : run.hashes;
        if (error) results.set(orgId, { fromSize: current, treeSize: current, error });
        if (leaves.length === 0) return undefined;
        const reader = readers.forOrg(orgId);
        const { size, tiles } = await appendToTiles(reader, current, leaves);
        const rootHash = size === 0 ? emptyRoot : await treeHash(overlaid(reader, tiles), size);
        const checkpointNote = signNote(
          formatCheckpoint({
            origin: checkpointOrigin(signing.logOrigin, orgId),
            treeSize: size,
            rootHash,
          }),
          signing.signer,
        );
        results.set(orgId, { fromSize: current, treeSize: size, ...(error ? { error } : {}) });
        return { orgId, tree: { size, rootHash }, tiles, checkpointNote };
      }),
    );
    await storeLogTrees(
      client,
      built.filter((update): update is LogTreeUpdate => update !== undefined),
    );
    return results;
  });
}

/**
 * Extends one organisation's tree (at most `maxLeaves` entries): `advanceLogTrees` for one.
 * Throws when its log has a gap.
 */
export async function advanceLogTree(
  db: Database,
  orgId: string,
  signing: CheckpointSigning,
  maxLeaves = 50_000,
): Promise<AdvanceResult> {
  const result = (await advanceLogTrees(db, [orgId], signing, maxLeaves)).get(
    orgId,
  ) as AdvanceResult;
  if (result.error) throw result.error;
  return { fromSize: result.fromSize, treeSize: result.treeSize };
}
