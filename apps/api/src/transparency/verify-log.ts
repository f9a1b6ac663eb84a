import { availableParallelism } from "node:os";
import type { Readable } from "node:stream";
import { type Database, type LogSnapshot, openLogSnapshot, readLogTiles } from "@auditlog/db";
import type { LogVerification } from "@auditlog/events";
import {
  bytesEqual,
  checkpointOrigin,
  emptyRoot,
  type NoteVerifier,
  nodeHash,
  openCheckpoint,
  toBase64,
} from "@auditlog/tlog";
import { type HashedChunk, lineChunks } from "./leaf-hash-lines.ts";
import { type LeafHasher, prepareLeafHashWorker, startLeafHasher } from "./leaf-hasher.ts";

// Also for callers that time verify (the bench): from source, the threads' code is bundled once
// per checkout, which is not part of any later verify's work.
export { prepareLeafHashWorker };

// `verify` (issue 14): recomputes every leaf of an organisation's log from its stored entries,
// folds them into the tree, and checks each signed checkpoint against it. What it trusts: the
// published checkpoint keys (`verifiers`) and nothing in the database. The checkpoints are the
// anchors; the stored tiles are only used, once a signed root vouches for them, to say which
// entry is the first bad one and how it went bad.

export interface VerifyLogInput {
  db: Database;
  orgId: string;
  /** The published keys (public parts of the key ring, retired keys included). */
  verifiers: readonly (NoteVerifier | string)[];
  /** LOG_ORIGIN: checkpoints must be of `<logOrigin>/orgs/<orgId>`. */
  logOrigin: string;
  /** Hashing threads; 0 hashes on this thread. Default: up to 2 for a large log, else 0. */
  workers?: number;
  /**
   * Entries per range a hashing thread reads on its own connection (a multiple of 256; default
   * 16,384). For tests (many ranges in a small log) and tuning.
   */
  rangeEntries?: number;
}

type Reason = Extract<LogVerification, { ok: false }>["firstBad"]["reason"];
interface Finding {
  seq: number;
  reason: Reason;
  detail?: string;
}

/** `logVerificationSchema`, plus how many entries the log holds (those past treeSize are not
 * yet covered by a checkpoint: neither proven nor bad). */
export type LogVerificationResult = LogVerification & { logSize?: number };

interface GoodCheckpoint {
  treeSize: number;
  rootHash: Uint8Array;
}

/** Below this many covered entries, starting threads costs more than it saves. */
const WORKER_THRESHOLD = 20_000;
const TILE_WIDTH = 256;
const zeroHash = new Uint8Array(32);

/** The tree's fold: the roots of its complete subtrees, left to right (RFC 9162's MTH). */
class Fold {
  stack: Uint8Array[] = [];
  size = 0;

  constructor(
    /** Called with each completed subtree whose height is a multiple of 8 (a tile hash). */
    private readonly onSubtree?: (level: number, index: number, hash: Uint8Array) => void,
  ) {}

  push(leaf: Uint8Array): void {
    let hash = leaf;
    let height = 0;
    for (let rest = this.size; rest % 2 === 1; rest = (rest - 1) / 2) {
      hash = nodeHash(this.stack.pop() as Uint8Array, hash);
      height++;
      if (height % 8 === 0 && this.onSubtree) {
        this.onSubtree(height / 8, (this.size + 1) / 2 ** height - 1, hash);
      }
    }
    this.stack.push(hash);
    this.size++;
  }

  /** A complete subtree of 2^height leaves; the fold's size must be a multiple of that. */
  pushSubtree(root: Uint8Array, height: number): void {
    const width = 2 ** height;
    if (this.size % width !== 0) throw new RangeError("a subtree must start at its own boundary");
    let hash = root;
    let h = height;
    if (h % 8 === 0 && this.onSubtree) this.onSubtree(h / 8, this.size / width, hash);
    for (let rest = this.size / width; rest % 2 === 1; rest = (rest - 1) / 2) {
      hash = nodeHash(this.stack.pop() as Uint8Array, hash);
      h++;
      if (h % 8 === 0 && this.onSubtree) {
        this.onSubtree(h / 8, (this.size + width) / 2 ** h - 1, hash);
      }
    }
    this.stack.push(hash);
    this.size += width;
  }

  root(): Uint8Array {
    if (this.stack.length === 0) return emptyRoot;
    let root = this.stack[this.stack.length - 1] as Uint8Array;
    for (let i = this.stack.length - 2; i >= 0; i--) {
      root = nodeHash(this.stack[i] as Uint8Array, root);
    }
    return root;
  }

  copy(): Fold {
    const copy = new Fold();
    copy.stack = this.stack.slice();
    copy.size = this.size;
    return copy;
  }
}

/** Which signed checkpoints are good, and the first bad one (as a finding). */
function openCheckpoints(
  rows: { treeSize: number; note: string }[],
  verifiers: readonly (NoteVerifier | string)[],
  origin: string,
): { good: GoodCheckpoint[]; bad: Finding[] } {
  const good = new Map<number, GoodCheckpoint>();
  const bad: Finding[] = [];
  for (const row of rows) {
    const seq = Math.max(1, row.treeSize);
    let opened: ReturnType<typeof openCheckpoint>;
    try {
      opened = openCheckpoint(row.note, verifiers, origin);
    } catch (error) {
      bad.push({
        seq,
        reason: "checkpoint",
        detail: `the checkpoint stored for tree size ${row.treeSize} does not verify: ${(error as Error).message}`,
      });
      continue;
    }
    if (opened.treeSize !== row.treeSize) {
      bad.push({
        seq,
        reason: "checkpoint",
        detail: `the checkpoint stored for tree size ${row.treeSize} is signed for size ${opened.treeSize}`,
      });
      continue;
    }
    const known = good.get(opened.treeSize);
    if (known && !bytesEqual(known.rootHash, opened.rootHash)) {
      bad.push({
        seq,
        reason: "checkpoint",
        detail: `two signed checkpoints of tree size ${row.treeSize} name different roots`,
      });
      continue;
    }
    good.set(opened.treeSize, { treeSize: opened.treeSize, rootHash: opened.rootHash });
  }
  return { good: [...good.values()].sort((a, b) => a.treeSize - b.treeSize), bad };
}

function earliest(...findings: (Finding | undefined)[]): Finding | undefined {
  let first: Finding | undefined;
  for (const finding of findings) {
    if (finding && (!first || finding.seq < first.seq)) first = finding;
  }
  return first;
}

/** The hash at `position` of a stored tile, or undefined when the tile does not hold it. */
function tileHash(tile: Uint8Array | undefined, position: number): Uint8Array | undefined {
  if (!tile || tile.length < (position + 1) * 32) return undefined;
  return tile.subarray(position * 32, position * 32 + 32);
}

/**
 * Hashes a stream of entry lines: cut into chunks of whole lines, hashed by `hasher` with at most
 * `maxInFlight` chunks out. `consume` sees the chunks in order; returning true stops early
 * (answers true then).
 */
async function hashLines(
  stream: Readable,
  hasher: LeafHasher,
  maxInFlight: number,
  consume: (chunk: HashedChunk) => Promise<boolean> | boolean,
): Promise<boolean> {
  const inFlight: Promise<HashedChunk>[] = [];
  try {
    for await (const bytes of lineChunks(stream)) {
      const hashed = hasher.hash(bytes);
      hashed.catch(() => {});
      inFlight.push(hashed);
      while (inFlight.length >= maxInFlight) {
        if (await consume(await (inFlight.shift() as Promise<HashedChunk>))) return true;
      }
    }
    while (inFlight.length > 0) {
      if (await consume(await (inFlight.shift() as Promise<HashedChunk>))) return true;
    }
    return false;
  } finally {
    stream.destroy();
  }
}

/** Entries from … to of the snapshot, streamed here and hashed in chunks by `hasher`. */
function hashStream(
  source: { snapshot: LogSnapshot; hasher: LeafHasher; maxInFlight: number; rangeEntries: number },
  from: number,
  to: number,
  consume: (chunk: HashedChunk) => Promise<boolean> | boolean,
): Promise<boolean> {
  return hashLines(
    source.snapshot.entryLines(from, to),
    source.hasher,
    source.maxInFlight,
    consume,
  );
}

/**
 * Ranges of the log start at multiples of this (plus one): whole tiles, and COPYs long enough
 * that starting one costs little next to streaming it.
 */
const RANGE_ENTRIES = 64 * TILE_WIDTH;

/**
 * Entries from … to, read and hashed by the hashing threads in ranges, each thread on its own
 * connection to the shared snapshot; `consume` sees the chunks in seq order, as from
 * `hashLines`. At most `maxInFlight` ranges out (enough for every thread to have one queued).
 */
async function hashRanges(
  source: { hasher: LeafHasher; maxInFlight: number; rangeEntries: number },
  from: number,
  to: number,
  consume: (chunk: HashedChunk) => Promise<boolean> | boolean,
): Promise<boolean> {
  const hashRange = source.hasher.hashRange;
  if (!hashRange) throw new Error("the hasher reads no ranges");
  const inFlight: Promise<HashedChunk[]>[] = [];
  let next = from;
  while (next <= to || inFlight.length > 0) {
    while (next <= to && inFlight.length < source.maxInFlight) {
      const width = source.rangeEntries;
      const end = Math.min(to, (Math.floor((next - 1) / width) + 1) * width);
      const hashed = hashRange(next, end);
      hashed.catch(() => {});
      inFlight.push(hashed);
      next = end + 1;
    }
    for (const chunk of await (inFlight.shift() as Promise<HashedChunk[]>)) {
      if (await consume(chunk)) return true;
    }
  }
  return false;
}

/** Verifies an organisation's whole log against its signed checkpoints. */
export async function verifyOrganisationLog(input: VerifyLogInput): Promise<LogVerificationResult> {
  const { db, orgId } = input;
  if (
    input.rangeEntries !== undefined &&
    !(
      Number.isSafeInteger(input.rangeEntries) &&
      input.rangeEntries > 0 &&
      input.rangeEntries % TILE_WIDTH === 0
    )
  ) {
    throw new RangeError("rangeEntries must be a positive multiple of 256");
  }
  // The threads' compiled entry is made ready (from source: bundled, when its sources changed)
  // while the snapshot opens.
  if (input.workers !== 0) prepareLeafHashWorker();
  const snapshot = await openLogSnapshot(db, orgId);
  let hasher: LeafHasher | undefined;
  let closed = false;
  try {
    const { good, bad } = openCheckpoints(
      snapshot.checkpoints,
      input.verifiers,
      checkpointOrigin(input.logOrigin, orgId),
    );
    const badCheckpoint = earliest(...bad);
    const covered = good.at(-1)?.treeSize ?? 0;
    const workers =
      input.workers ??
      (covered >= WORKER_THRESHOLD ? Math.min(2, Math.max(1, availableParallelism())) : 0);
    // The threads read the entries themselves, in ranges of the same snapshot, when it can be
    // shared (`pg_export_snapshot`); else this thread streams them and hands out chunks.
    const share =
      workers > 0 && covered > 0 ? await snapshot.share().catch(() => undefined) : undefined;
    hasher = await startLeafHasher(orgId, workers, share);
    const maxInFlight = Math.max(2, workers * 3);
    const walked = await walkCoveredEntries({
      db,
      snapshot,
      orgId,
      good,
      covered,
      hasher,
      maxInFlight,
      rangeEntries: input.rangeEntries ?? RANGE_ENTRIES,
      badCheckpoint,
    });
    let firstBad: Finding | undefined;
    if ("failed" in walked) {
      // The walk's COPY stopped midway, which ends that snapshot's connection: diagnose on others.
      await snapshot.close();
      closed = true;
      const { verified, checkpoint } = walked.failed;
      firstBad = earliest(
        await diagnose({ db, orgId, hasher, maxInFlight }, verified, checkpoint),
        badCheckpoint,
      );
    } else {
      const tail = walked.finding ? undefined : await checkTail(snapshot, covered);
      firstBad = earliest(walked.finding, tail, badCheckpoint);
    }
    if (firstBad) return { ok: false, firstBad };
    const latest = good.at(-1);
    return {
      ok: true,
      treeSize: covered,
      rootHash: toBase64(latest ? latest.rootHash : emptyRoot),
      logSize: snapshot.logSize,
      retainedFrom: snapshot.retainedFrom,
    };
  } finally {
    if (!closed) await snapshot.close();
    await hasher?.close();
  }
}

interface WalkInput {
  db: Database;
  snapshot: LogSnapshot;
  orgId: string;
  good: GoodCheckpoint[];
  covered: number;
  hasher: LeafHasher;
  maxInFlight: number;
  rangeEntries: number;
  badCheckpoint: Finding | undefined;
}

/** How a walk ended: a finding, or a checkpoint whose root the entries do not give. */
type WalkEnd =
  | { finding: Finding | undefined }
  | { failed: { verified: Fold; checkpoint: GoodCheckpoint } };

const TILE_BATCH = 64;

/**
 * Folds the entries 1 … covered into the tree and checks each good checkpoint on the way; also
 * compares the stored tiles with what the entries give. Stops at the first problem.
 */
async function walkCoveredEntries(walk: WalkInput): Promise<WalkEnd> {
  const { db, snapshot, orgId, good, covered, badCheckpoint } = walk;
  if (covered === 0) return { finding: undefined };
  // Tiles above level 0 are 1/256 of the leaves: read at once. Level-0 tiles are read along
  // with the entries, a batch ahead.
  const upperTiles = await readLogTiles(db, orgId, "above-0");
  const leafTiles = new Map<number, Uint8Array>();
  let leafTilesTo = -1;
  let nextBatch: Promise<Map<string, Uint8Array>> | undefined;
  const readBatch = (from: number) => {
    const batch = readLogTiles(db, orgId, 0, from, from + TILE_BATCH - 1);
    batch.catch(() => {});
    return batch;
  };
  /** Makes sure tiles fromTile … toTile are at hand, forgetting those before fromTile. */
  const loadLeafTiles = async (fromTile: number, toTile: number) => {
    for (const index of leafTiles.keys()) if (index < fromTile) leafTiles.delete(index);
    while (leafTilesTo < toTile) {
      const from = Math.max(leafTilesTo + 1, fromTile);
      const batch = await (nextBatch && from === leafTilesTo + 1 ? nextBatch : readBatch(from));
      for (const [key, hashes] of batch) leafTiles.set(Number(key.slice(2)), hashes);
      leafTilesTo = from + TILE_BATCH - 1;
      nextBatch = (leafTilesTo + 1) * TILE_WIDTH < covered ? readBatch(leafTilesTo + 1) : undefined;
    }
  };

  // A stored tile hash that differs from what the entries give: a finding only once the next
  // checkpoint shows the entries right (else the entries are what is wrong).
  let tileMismatch: Finding | undefined;
  const noteTile = (seq: number, detail: string) => {
    if (!tileMismatch || seq < tileMismatch.seq) tileMismatch = { seq, reason: "tile", detail };
  };
  const fold = new Fold((level, index, hash) => {
    const stored = tileHash(
      upperTiles.get(`${level}/${Math.floor(index / TILE_WIDTH)}`),
      index % TILE_WIDTH,
    );
    if (!stored || !bytesEqual(stored, hash)) {
      const first = index * 2 ** (8 * level) + 1;
      noteTile(
        first,
        `the stored tree hash of entries ${first} to ${first + 2 ** (8 * level) - 1} (tile level ${level}) ${stored ? "differs from the entries'" : "is missing"}; the entries themselves match the checkpoints`,
      );
    }
  });
  let checkpointAt = 0;
  let verified = fold.copy();
  let end: WalkEnd | undefined;

  /** Checks the checkpoints of the fold's current size; true when the walk must stop. */
  const checkCheckpoints = (): boolean => {
    while (
      checkpointAt < good.length &&
      (good[checkpointAt] as GoodCheckpoint).treeSize === fold.size
    ) {
      const checkpoint = good[checkpointAt] as GoodCheckpoint;
      if (!bytesEqual(fold.root(), checkpoint.rootHash)) {
        end = { failed: { verified, checkpoint } };
        return true;
      }
      if (tileMismatch || (badCheckpoint && badCheckpoint.seq <= checkpoint.treeSize)) {
        end = { finding: earliest(tileMismatch, badCheckpoint) };
        return true;
      }
      verified = fold.copy();
      checkpointAt++;
    }
    return false;
  };

  /** One place of the log: its entry's leaf hash, or none (no entry, or one with no leaf). */
  const pushLeaf = (hash: Uint8Array, seq: number, compareTile: boolean): boolean => {
    if (compareTile) {
      const index = seq - 1;
      const stored = tileHash(leafTiles.get(Math.floor(index / TILE_WIDTH)), index % TILE_WIDTH);
      if (!stored || !bytesEqual(stored, hash)) {
        noteTile(
          seq,
          `the stored leaf hash of entry ${seq} ${stored ? "differs from the entry's" : "is missing"}; the entry itself matches the checkpoints`,
        );
      }
    }
    fold.push(hash);
    return checkCheckpoints();
  };

  // Entries 1 … retainedFrom − 1 were purged by the retention: their leaves are the stored
  // level-0 tiles' hashes, trusted as any stored hash is here, only once a signed checkpoint's
  // root comes out of them together with the entries still held.
  const purgedThrough = Math.min(snapshot.retainedFrom - 1, covered);
  for (let fromTile = 0; fold.size < purgedThrough; fromTile += TILE_BATCH) {
    const tiles = await readLogTiles(db, orgId, 0, fromTile, fromTile + TILE_BATCH - 1);
    const last = Math.min(purgedThrough, (fromTile + TILE_BATCH) * TILE_WIDTH);
    while (fold.size < last) {
      const index = fold.size;
      const hash = tileHash(tiles.get(`0/${Math.floor(index / TILE_WIDTH)}`), index % TILE_WIDTH);
      if (!hash) {
        const missing: Finding = {
          seq: index + 1,
          reason: "tile",
          detail: `entry ${index + 1} was purged and the stored tree no longer holds its leaf hash, the only record of it`,
        };
        return { finding: earliest(missing, badCheckpoint) };
      }
      if (pushLeaf(hash, index + 1, false)) return end ?? { finding: undefined };
    }
  }

  /**
   * A whole tile at once (its root made by the hashing thread): only where no checkpoint falls
   * inside it and the stored tile holds exactly its leaf hashes; else false, and the caller
   * pushes its leaves one by one, which says which leaf differs.
   */
  const pushTile = (chunk: HashedChunk, line: number, tile: number): boolean => {
    const next = good[checkpointAt]?.treeSize;
    if (next !== undefined && next > fold.size && next < fold.size + TILE_WIDTH) return false;
    const stored = leafTiles.get(fold.size / TILE_WIDTH);
    if (!stored || stored.length !== TILE_WIDTH * 32) return false;
    const leaves = chunk.hashes.subarray(line * 32, (line + TILE_WIDTH) * 32);
    if (!Buffer.from(stored.buffer, stored.byteOffset, stored.length).equals(leaves)) return false;
    fold.pushSubtree(chunk.tileRoots.subarray(tile * 32, tile * 32 + 32), 8);
    return true;
  };

  const stopped = await (walk.hasher.hashRange ? hashRanges : hashStream)(
    {
      snapshot,
      hasher: walk.hasher,
      maxInFlight: walk.maxInFlight,
      rangeEntries: walk.rangeEntries,
    },
    fold.size + 1,
    covered,
    async (chunk) => {
      if (chunk.count === 0) return false;
      await loadLeafTiles(
        Math.floor(fold.size / TILE_WIDTH),
        Math.floor(((chunk.seqs[chunk.count - 1] as number) - 1) / TILE_WIDTH),
      );
      let tile = 0;
      for (let i = 0; i < chunk.count; i++) {
        const seq = chunk.seqs[i] as number;
        // A place with no entry (a deleted row) folds in as a hash no entry can have.
        while (fold.size + 1 < seq) if (pushLeaf(zeroHash, fold.size + 1, false)) return true;
        while (tile < chunk.tileLines.length && (chunk.tileLines[tile] as number) < i) tile++;
        if (chunk.tileLines[tile] === i && fold.size === seq - 1 && pushTile(chunk, i, tile)) {
          if (checkCheckpoints()) return true;
          i += TILE_WIDTH - 1;
          continue;
        }
        const ok = chunk.bad[i] === 0;
        const hash = ok ? chunk.hashes.subarray(i * 32, i * 32 + 32) : zeroHash;
        if (pushLeaf(hash, seq, ok)) return true;
      }
      return false;
    },
  );
  if (!stopped) {
    // Places missing at the end of what the checkpoints cover.
    while (fold.size < covered) if (pushLeaf(zeroHash, fold.size + 1, false)) break;
  }
  return end ?? { finding: undefined };
}

/**
 * Entries the checkpoints do not cover yet (seq > covered) can be neither proven nor disproven;
 * only their numbering can be checked against the log's counter (same snapshot): a place the
 * counter gave out with no entry was deleted, an entry past the counter was added by hand.
 */
async function checkTail(snapshot: LogSnapshot, covered: number): Promise<Finding | undefined> {
  const { pastCounter, hole } = await snapshot.tailNumbering(covered);
  return earliest(
    pastCounter === null
      ? undefined
      : {
          seq: pastCounter,
          reason: "inserted",
          detail: `numbered past the log's counter (${snapshot.logSize}): no write gave out this place`,
        },
    hole === null
      ? undefined
      : {
          seq: hole,
          reason: "deleted",
          detail: `no entry holds this place, which the log's counter (${snapshot.logSize}) gave out (not yet covered by a checkpoint)`,
        },
  );
}

/**
 * The entries P+1 … N (P: the last checkpoint that verified) do not give the signed root of N.
 * The stored leaf hashes of those places are trusted only if they give that root themselves;
 * then the first place where an entry differs from them is the first bad entry, and how it went
 * bad is read from where its original hash and its current hash are found:
 *   - no entry at the place: deleted;
 *   - its original hash held by no entry, its current hash no place's: changed;
 *   - original gone, current one is another place's (later entries moved down): deleted;
 *   - original held by a later entry, current one unknown (later entries moved up): inserted;
 *   - original held by another entry, current one another place's: reordered.
 */
async function diagnose(
  input: { db: Database; orgId: string; hasher: LeafHasher; maxInFlight: number },
  verified: Fold,
  checkpoint: GoodCheckpoint,
): Promise<Finding> {
  const { db, orgId, hasher, maxInFlight } = input;
  const from = verified.size;
  const to = checkpoint.treeSize;
  const unlocated: Finding = {
    seq: from + 1,
    reason: "changed",
    detail: `entries ${from + 1} to ${to} do not give the root signed for tree size ${to}, and the stored tree cannot say which (it does not match that checkpoint either)`,
  };
  const tiles = await readLogTiles(
    db,
    orgId,
    0,
    Math.floor(from / TILE_WIDTH),
    Math.floor((to - 1) / TILE_WIDTH),
  );
  const original: Uint8Array[] = [];
  const check = verified.copy();
  for (let index = from; index < to; index++) {
    const hash = tileHash(tiles.get(`0/${Math.floor(index / TILE_WIDTH)}`), index % TILE_WIDTH);
    if (!hash) return unlocated;
    original.push(hash);
    check.push(hash);
  }
  if (!bytesEqual(check.root(), checkpoint.rootHash)) return unlocated;
  const originalAt = (seq: number) => original[seq - from - 1] as Uint8Array;

  const snapshot = await openLogSnapshot(db, orgId);
  try {
    // First pass: the first place whose entry is not the original. Purged places hold no entry
    // by right: their originals are what the walk folded in.
    let firstBad: { seq: number; current?: Uint8Array } | undefined;
    let expected = Math.max(from + 1, snapshot.retainedFrom);
    let searchingFor: Uint8Array | undefined;
    let originalFound = false;
    await hashLines(
      snapshot.entryLines(expected, Number.MAX_SAFE_INTEGER),
      hasher,
      maxInFlight,
      (chunk) => {
        for (let i = 0; i < chunk.count; i++) {
          const seq = chunk.seqs[i] as number;
          const hash = chunk.bad[i] ? zeroHash : chunk.hashes.slice(i * 32, i * 32 + 32);
          if (!firstBad) {
            if (seq > expected && expected <= to) {
              firstBad = { seq: expected };
              return true;
            }
            // Every covered place holds its original: nothing to find further on.
            if (seq > to) return true;
            if (seq <= to && !bytesEqual(hash, originalAt(seq))) {
              firstBad = { seq, current: hash };
              searchingFor = originalAt(seq);
              continue;
            }
            expected = seq + 1;
          } else if (searchingFor && bytesEqual(hash, searchingFor)) {
            originalFound = true;
            return true;
          }
        }
        return false;
      },
    );
    if (!firstBad) {
      if (expected <= to) {
        return {
          seq: expected,
          reason: "deleted",
          detail: `no entry holds place ${expected}, which the checkpoint of tree size ${to} covers`,
        };
      }
      return unlocated;
    }
    const { seq, current } = firstBad;
    if (!current) {
      return {
        seq,
        reason: "deleted",
        detail: `no entry holds place ${seq}, which the checkpoint of tree size ${to} covers`,
      };
    }
    const currentPlace = await findLeafPlace(db, orgId, current, original, from, seq);
    if (originalFound && currentPlace !== undefined) {
      return {
        seq,
        reason: "reordered",
        detail: `entry ${seq} holds what was signed at place ${currentPlace}, and what was signed at ${seq} is at another place`,
      };
    }
    if (originalFound) {
      return {
        seq,
        reason: "inserted",
        detail: `entry ${seq} was never signed, and what was signed at ${seq} is at a later place`,
      };
    }
    if (currentPlace !== undefined) {
      return {
        seq,
        reason: "deleted",
        detail: `what was signed at place ${seq} is gone, and the later entries moved down (entry ${seq} is what was signed at ${currentPlace})`,
      };
    }
    return {
      seq,
      reason: "changed",
      detail: `entry ${seq} is not what the checkpoint of tree size ${to} signed`,
    };
  } finally {
    await snapshot.close();
  }
}

/**
 * Where the tree holds `hash` as a leaf, other than at `skip`: first among the vouched-for
 * places `from + 1 …`, then in the rest of the stored level-0 tiles (a hint, not proof: enough
 * to tell a moved entry from a changed one once the place itself is proven bad).
 */
async function findLeafPlace(
  db: Database,
  orgId: string,
  hash: Uint8Array,
  original: readonly Uint8Array[],
  from: number,
  skip: number,
): Promise<number | undefined> {
  for (let i = 0; i < original.length; i++) {
    if (from + i + 1 !== skip && bytesEqual(original[i] as Uint8Array, hash)) return from + i + 1;
  }
  const startTile = Math.floor((from + original.length) / TILE_WIDTH);
  for (let tileFrom = startTile; ; tileFrom += 1024) {
    const tiles = await readLogTiles(db, orgId, 0, tileFrom, tileFrom + 1023);
    if (tiles.size === 0) return undefined;
    for (const [key, hashes] of tiles) {
      const tileIndex = Number(key.slice(2));
      for (let position = 0; position * 32 < hashes.length; position++) {
        const place = tileIndex * TILE_WIDTH + position + 1;
        if (place <= from + original.length || place === skip) continue;
        if (bytesEqual(hashes.subarray(position * 32, position * 32 + 32), hash)) return place;
      }
    }
  }
}
