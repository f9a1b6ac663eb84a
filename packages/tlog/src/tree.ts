import { bytesEqual } from "./bytes.ts";
import { emptyRoot, nodeHash } from "./hash.ts";
import { readSubtreeHashes, type SubtreeCoord, type TileReader } from "./tiles.ts";
import {
  type ConsistencyCheck,
  consistencySteps,
  HASH_SIZE,
  type InclusionCheck,
  inclusionSides,
  isTreeIndex,
} from "./verify-plan.ts";

export type { ConsistencyCheck, InclusionCheck };

// RFC 9162 §2.1: tree hashes, inclusion and consistency proofs, and their verification.
// Every proof hash is the hash of a range of leaves [lo, hi) (MTH(D[lo:hi])), which splits into
// the complete subtrees of its binary decomposition; those are read from the tiles in one call.

/** Largest power of two strictly below n (n ≥ 2): the RFC's split point k. */
function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** The complete subtrees whose hashes, folded from the right, give MTH(D[lo:hi]). */
function rangeSubtrees(lo: number, hi: number): SubtreeCoord[] {
  const subtrees: SubtreeCoord[] = [];
  let start = lo;
  while (start < hi) {
    let size = 1;
    let level = 0;
    while (size * 2 <= hi - start) {
      size *= 2;
      level++;
    }
    if (start % size !== 0) throw new Error(`[${lo}, ${hi}) does not split into aligned subtrees`);
    subtrees.push({ level, index: start / size });
    start += size;
  }
  return subtrees;
}

function foldRange(hashes: readonly Uint8Array[]): Uint8Array {
  let root = hashes[hashes.length - 1] as Uint8Array;
  for (let i = hashes.length - 2; i >= 0; i--) root = nodeHash(hashes[i] as Uint8Array, root);
  return root;
}

/** Reads the subtrees of every range in one call and returns each range's hash. */
async function rangeHashes(
  reader: TileReader,
  ranges: readonly (readonly [number, number])[],
): Promise<Uint8Array[]> {
  const perRange = ranges.map(([lo, hi]) => rangeSubtrees(lo, hi));
  const hashes = await readSubtreeHashes(reader, perRange.flat());
  let next = 0;
  return perRange.map((subtrees) => foldRange(hashes.slice(next, (next += subtrees.length))));
}

/** MTH(D[0:size]): the root hash of the tree's first `size` leaves. */
export async function treeHash(reader: TileReader, size: number): Promise<Uint8Array> {
  if (!isTreeIndex(size)) throw new RangeError("tree size must be a non-negative integer");
  if (size === 0) return emptyRoot.slice();
  const [root] = await rangeHashes(reader, [[0, size]]);
  return root as Uint8Array;
}

/** PATH(m, D[lo:hi]) of RFC 9162 §2.1.3.1 as ranges, leaf side first. */
function inclusionRanges(m: number, lo: number, hi: number): [number, number][] {
  if (hi - lo === 1) return [];
  const k = splitPoint(hi - lo);
  if (m < lo + k) return [...inclusionRanges(m, lo, lo + k), [lo + k, hi]];
  return [...inclusionRanges(m, lo + k, hi), [lo, lo + k]];
}

/** SUBPROOF(m, D[lo:hi], b) of RFC 9162 §2.1.4.1 as ranges, in proof order. */
function consistencyRanges(m: number, lo: number, hi: number, b: boolean): [number, number][] {
  if (m === hi) return b ? [] : [[lo, hi]];
  const k = splitPoint(hi - lo);
  if (m <= lo + k) return [...consistencyRanges(m, lo, lo + k, b), [lo + k, hi]];
  return [...consistencyRanges(m, lo + k, hi, false), [lo, lo + k]];
}

/** The RFC 9162 inclusion proof of leaf `leafIndex` in the tree of `treeSize` leaves. */
export async function inclusionProof(
  reader: TileReader,
  leafIndex: number,
  treeSize: number,
): Promise<Uint8Array[]> {
  if (!isTreeIndex(leafIndex) || !isTreeIndex(treeSize) || leafIndex >= treeSize) {
    throw new RangeError("an inclusion proof needs 0 ≤ leafIndex < treeSize");
  }
  return rangeHashes(reader, inclusionRanges(leafIndex, 0, treeSize));
}

/**
 * The RFC 9162 consistency proof from the tree of `fromSize` leaves to the tree of `toSize`
 * (empty when they are equal). A proof from the empty tree means nothing and is refused.
 */
export async function consistencyProof(
  reader: TileReader,
  fromSize: number,
  toSize: number,
): Promise<Uint8Array[]> {
  if (!isTreeIndex(fromSize) || !isTreeIndex(toSize) || fromSize < 1 || fromSize > toSize) {
    throw new RangeError("a consistency proof needs 1 ≤ fromSize ≤ toSize");
  }
  return rangeHashes(reader, consistencyRanges(fromSize, 0, toSize, true));
}

function allHashes(...hashes: readonly Uint8Array[]): boolean {
  return hashes.every((hash) => hash instanceof Uint8Array && hash.length === HASH_SIZE);
}

/** RFC 9162 §2.1.3.2: does `proof` show the leaf at `leafIndex` in the tree with `rootHash`? */
export function verifyInclusion({
  leafIndex,
  treeSize,
  leafHash,
  proof,
  rootHash,
}: InclusionCheck): boolean {
  if (!allHashes(leafHash, rootHash, ...proof)) return false;
  const sides = inclusionSides(leafIndex, treeSize, proof.length);
  if (sides === undefined) return false;
  let root = leafHash;
  sides.forEach((side, i) => {
    const hash = proof[i] as Uint8Array;
    root = side === "left" ? nodeHash(hash, root) : nodeHash(root, hash);
  });
  return bytesEqual(root, rootHash);
}

/**
 * RFC 9162 §2.1.4.2: does `proof` show that the tree of `toSize` leaves with `toRoot` extends
 * the tree of `fromSize` leaves with `fromRoot`? Equal sizes need an empty proof and equal
 * roots; a proof from the empty tree is refused (it would prove nothing).
 */
export function verifyConsistency({
  fromSize,
  toSize,
  fromRoot,
  toRoot,
  proof,
}: ConsistencyCheck): boolean {
  if (!isTreeIndex(fromSize) || !isTreeIndex(toSize) || fromSize < 1 || fromSize > toSize) {
    return false;
  }
  if (fromSize === toSize) return proof.length === 0 && bytesEqual(fromRoot, toRoot);
  if (!allHashes(fromRoot, toRoot, ...proof)) return false;
  const plan = consistencySteps(fromSize, toSize, proof.length);
  if (plan === undefined) return false;
  const path = plan.prependFirst ? [fromRoot, ...proof] : proof;
  let first = path[0] as Uint8Array;
  let second = first;
  plan.steps.forEach((step, i) => {
    const hash = path[i + 1] as Uint8Array;
    if (step === "both") {
      first = nodeHash(hash, first);
      second = nodeHash(hash, second);
    } else {
      second = nodeHash(second, hash);
    }
  });
  return bytesEqual(first, fromRoot) && bytesEqual(second, toRoot);
}

/**
 * Rebuilds a tree's root from its leaf hashes pushed in order, keeping only the roots of the
 * complete subtrees so far (at most log2(size) hashes): `root()` after N pushes is MTH(D[0:N]).
 * One node hash per leaf on average, which is what lets `verify` go through 200,000 leaves a
 * second.
 */
export class RootBuilder {
  readonly #stack: Uint8Array[] = [];
  #size = 0;

  get size(): number {
    return this.#size;
  }

  push(leafHash: Uint8Array): void {
    if (leafHash.length !== HASH_SIZE)
      throw new RangeError(`leaf hashes must be ${HASH_SIZE} bytes`);
    let hash = leafHash;
    // Each trailing 1 bit of the old size is a complete subtree the new leaf now pairs with.
    for (let rest = this.#size; rest % 2 === 1; rest = (rest - 1) / 2) {
      hash = nodeHash(this.#stack.pop() as Uint8Array, hash);
    }
    this.#stack.push(hash);
    this.#size++;
  }

  root(): Uint8Array {
    if (this.#stack.length === 0) return emptyRoot.slice();
    // A copy when the root is a pushed hash itself: the caller's array is not ours to hand out.
    if (this.#stack.length === 1) return (this.#stack[0] as Uint8Array).slice();
    return foldRange(this.#stack);
  }
}
