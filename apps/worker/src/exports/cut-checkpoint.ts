import { type Database, readCheckpoint, readLogSize } from "@auditlog/db";
import {
  checkpointOrigin,
  emptyRoot,
  formatCheckpoint,
  readKeyRing,
  signNote,
  toBase64,
} from "@auditlog/tlog";
import { advanceLogTree, type CheckpointSigning } from "../transparency/log-tree-builder.ts";

/** The signed checkpoint an export is cut at: the file holds entries with seq ≤ treeSize only. */
export interface ExportCheckpoint {
  treeSize: number;
  /** Base64, as in the note. */
  rootHash: string;
  note: string;
}

export interface CheckpointCutOptions {
  /** CHECKPOINT_KEY_FILE: read at each build, so a rotated key signs without a restart. */
  keyFile: string;
  /** LOG_ORIGIN. */
  logOrigin: string;
  /**
   * How long to keep retrying, while another process holds the tree's lock, without seeing the
   * tree grow. One transaction of the builder (up to 50,000 leaves) can take several seconds on
   * a loaded machine, so this is generous: it only ends the wait for a builder that is stuck.
   */
  lockWaitMs?: number;
  lockRetryMs?: number;
}

const defaultLockWaitMs = 30_000;

export class CheckpointUnavailableError extends Error {}

/** The checkpoint key's signer and the log's name, for checkpoints and manifests. */
export async function loadCheckpointSigning(
  options: CheckpointCutOptions,
): Promise<CheckpointSigning> {
  const ring = await readKeyRing(options.keyFile);
  if (!ring.signer) {
    throw new CheckpointUnavailableError(
      "the checkpoint key file holds no signing key (PRIVATE+KEY line)",
    );
  }
  return { signer: ring.signer, logOrigin: options.logOrigin };
}

/**
 * Makes the organisation's tree cover its log as it is now (the entries committed before the
 * build started), signing a checkpoint, and answers the latest signed checkpoint. Another
 * process building the same tree holds its lock for one transaction at a time: this retries
 * while that one makes progress, and after `lockWaitMs` without any takes the latest checkpoint
 * there is (a little older, still signed; the export is cut there). An empty log gets a
 * checkpoint of the empty tree, signed here.
 */
export async function cutAtCheckpoint(
  db: Database,
  orgId: string,
  signing: CheckpointSigning,
  options: Pick<CheckpointCutOptions, "lockWaitMs" | "lockRetryMs"> = {},
): Promise<ExportCheckpoint> {
  const target = await readLogSize(db, orgId);
  let deadline = Date.now() + (options.lockWaitMs ?? defaultLockWaitMs);
  let lastSeen = -1;
  for (;;) {
    const { fromSize, treeSize } = await advanceLogTree(db, orgId, signing);
    if (treeSize >= target) break;
    // Some progress (the builder takes at most 50,000 leaves a call): go on at once.
    if (treeSize > fromSize) continue;
    // Locked out, but the tree grew since the last look: whoever holds the lock is building
    // towards the target, so waiting on is worth it. Give up only after lockWaitMs of no growth.
    if (fromSize > lastSeen) {
      lastSeen = fromSize;
      deadline = Date.now() + (options.lockWaitMs ?? defaultLockWaitMs);
    }
    if (Date.now() >= deadline) break;
    await new Promise((resolve) => setTimeout(resolve, options.lockRetryMs ?? 100));
  }
  const stored = await readCheckpoint(db, orgId);
  if (stored) {
    return { treeSize: stored.treeSize, rootHash: toBase64(stored.rootHash), note: stored.note };
  }
  if (target > 0) {
    throw new CheckpointUnavailableError(
      "the organisation's log has no signed checkpoint yet (its tree is being built elsewhere)",
    );
  }
  const note = signNote(
    formatCheckpoint({
      origin: checkpointOrigin(signing.logOrigin, orgId),
      treeSize: 0,
      rootHash: emptyRoot,
    }),
    signing.signer,
  );
  return { treeSize: 0, rootHash: toBase64(emptyRoot), note };
}
