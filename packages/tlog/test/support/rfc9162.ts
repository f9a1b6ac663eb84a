// An independent RFC 9162 implementation for the tests, written from the RFC's text and
// importing nothing from src/: the Merkle Tree Hash (§2.1.1), the proofs' definitions (§2.1.3.1,
// §2.1.4.1) and the verification algorithms (§2.1.3.2, §2.1.4.2), step by step, on bigints as
// the RFC's unsigned integers. Slow on purpose: it is the reference, not the implementation.

import { createHash } from "node:crypto";

export function sha256(...parts: Uint8Array[]): Uint8Array {
  const hash = createHash("sha256");
  for (const part of parts) hash.update(part);
  return new Uint8Array(hash.digest());
}

/** HASH(0x00 || d) */
export function refLeafHash(d: Uint8Array): Uint8Array {
  return sha256(Uint8Array.of(0x00), d);
}

/** HASH(0x01 || left || right), for children of any length (as the RFC's HASH accepts). */
export function refNodeHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  return sha256(Uint8Array.of(0x01), left, right);
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

/** "k is the largest power of two smaller than n (i.e., k < n <= 2k)" */
function largestPowerOfTwoBelow(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/**
 * MTH(D[n]) over leaf hashes (§2.1.1): MTH({}) = HASH(), MTH({d0}) = HASH(0x00 || d0),
 * MTH(D[n]) = HASH(0x01 || MTH(D[0:k]) || MTH(D[k:n])). Memoised by range, which the
 * recursions below share.
 */
export class ReferenceTree {
  readonly #leafHashes: Uint8Array[];
  readonly #memo = new Map<string, Uint8Array>();

  constructor(leafHashes: Uint8Array[]) {
    this.#leafHashes = leafHashes;
  }

  mth(lo: number, hi: number): Uint8Array {
    if (hi === lo) return sha256();
    if (hi - lo === 1) return this.#leafHashes[lo] as Uint8Array;
    const key = `${lo},${hi}`;
    const known = this.#memo.get(key);
    if (known !== undefined) return known;
    const k = largestPowerOfTwoBelow(hi - lo);
    const hash = refNodeHash(this.mth(lo, lo + k), this.mth(lo + k, hi));
    this.#memo.set(key, hash);
    return hash;
  }

  root(size: number): Uint8Array {
    return this.mth(0, size);
  }

  /** PATH(m, D[n]) (§2.1.3.1) for the first `size` leaves. */
  path(m: number, size: number): Uint8Array[] {
    const path = (index: number, lo: number, hi: number): Uint8Array[] => {
      if (hi - lo === 1) return [];
      const k = largestPowerOfTwoBelow(hi - lo);
      return index < k
        ? [...path(index, lo, lo + k), this.mth(lo + k, hi)]
        : [...path(index - k, lo + k, hi), this.mth(lo, lo + k)];
    };
    return path(m, 0, size);
  }

  /** PROOF(m, D[n]) = SUBPROOF(m, D[n], true) (§2.1.4.1). */
  proof(m: number, size: number): Uint8Array[] {
    const subproof = (first: number, lo: number, hi: number, b: boolean): Uint8Array[] => {
      if (first === hi - lo) return b ? [] : [this.mth(lo, hi)];
      const k = largestPowerOfTwoBelow(hi - lo);
      return first <= k
        ? [...subproof(first, lo, lo + k, b), this.mth(lo + k, hi)]
        : [...subproof(first - k, lo + k, hi, false), this.mth(lo, lo + k)];
    };
    return subproof(m, 0, size, true);
  }
}

const lsb = (x: bigint): boolean => (x & 1n) === 1n;
const isHash = (value: Uint8Array): boolean => value.length === 32;

/** §2.1.3.2: verifying an inclusion proof. */
export function rfcVerifyInclusion(
  leafIndex: bigint,
  treeSize: bigint,
  hash: Uint8Array,
  inclusionPath: readonly Uint8Array[],
  rootHash: Uint8Array,
): boolean {
  // Every value here is a HASH output (SHA-256: 32 bytes); anything else is not a hash.
  if (![hash, rootHash, ...inclusionPath].every(isHash)) return false;
  // 1. If leaf_index is greater than or equal to tree_size, then fail the proof verification.
  if (leafIndex < 0n || treeSize < 0n || leafIndex >= treeSize) return false;
  // 2. Set fn to leaf_index and sn to tree_size - 1.
  let fn = leafIndex;
  let sn = treeSize - 1n;
  // 3. Set r to hash.
  let r = hash;
  // 4. For each value p in the inclusion_path array:
  for (const p of inclusionPath) {
    // a. If sn is 0, then stop the iteration and fail the proof verification.
    if (sn === 0n) return false;
    // b. If LSB(fn) is set, or if fn is equal to sn, then:
    if (lsb(fn) || fn === sn) {
      // 1. Set r to HASH(0x01 || p || r).
      r = refNodeHash(p, r);
      // 2. If LSB(fn) is not set, then right-shift both fn and sn equally until either
      //    LSB(fn) is set or fn is 0.
      while (!lsb(fn) && fn !== 0n) {
        fn >>= 1n;
        sn >>= 1n;
      }
    } else {
      // Otherwise: Set r to HASH(0x01 || r || p).
      r = refNodeHash(r, p);
    }
    // c. Finally, right-shift both fn and sn one time.
    fn >>= 1n;
    sn >>= 1n;
  }
  // 5. Compare sn to 0. Compare r against the root_hash. If sn is equal to 0 and r and the
  //    root_hash are equal, then the log has proven the inclusion of hash.
  return sn === 0n && equal(r, rootHash);
}

/** §2.1.4.2: verifying consistency between two tree heads (0 < first < second). */
export function rfcVerifyConsistency(
  first: bigint,
  second: bigint,
  firstHash: Uint8Array,
  secondHash: Uint8Array,
  consistencyPath: readonly Uint8Array[],
): boolean {
  // The algorithm is stated for 0 < first < second; equal sizes need no proof (the RFC's
  // SUBPROOF(m, D[m], true) is empty), so the heads must simply be the same.
  if (first === second && first > 0n)
    return consistencyPath.length === 0 && equal(firstHash, secondHash);
  if (!(0n < first && first < second)) return false;
  if (![firstHash, secondHash, ...consistencyPath].every(isHash)) return false;
  // 1. If consistency_path is an empty array, stop and fail the proof verification.
  if (consistencyPath.length === 0) return false;
  // 2. If first is an exact power of 2, then prepend first_hash to the consistency_path array.
  const path =
    (first & (first - 1n)) === 0n ? [firstHash, ...consistencyPath] : [...consistencyPath];
  // 3. Set fn to first - 1 and sn to second - 1.
  let fn = first - 1n;
  let sn = second - 1n;
  // 4. If LSB(fn) is set, then right-shift both fn and sn equally until LSB(fn) is not set.
  while (lsb(fn)) {
    fn >>= 1n;
    sn >>= 1n;
  }
  // 5. Set both fr and sr to the first value in the consistency_path array.
  let fr = path[0] as Uint8Array;
  let sr = path[0] as Uint8Array;
  // 6. For each subsequent value c in the consistency_path array:
  for (const c of path.slice(1)) {
    // a. If sn is 0, then stop the iteration and fail the proof verification.
    if (sn === 0n) return false;
    // b. If LSB(fn) is set, or if fn is equal to sn, then:
    if (lsb(fn) || fn === sn) {
      // 1. Set fr to HASH(0x01 || c || fr).  2. Set sr to HASH(0x01 || c || sr).
      fr = refNodeHash(c, fr);
      sr = refNodeHash(c, sr);
      // 3. If LSB(fn) is not set, then right-shift both fn and sn equally until either
      //    LSB(fn) is set or fn is 0.
      while (!lsb(fn) && fn !== 0n) {
        fn >>= 1n;
        sn >>= 1n;
      }
    } else {
      // Otherwise: Set sr to HASH(0x01 || sr || c).
      sr = refNodeHash(sr, c);
    }
    // c. Finally, right-shift both fn and sn one time.
    fn >>= 1n;
    sn >>= 1n;
  }
  // 7. Verify that the fr calculated is equal to the first_hash supplied, that the sr calculated
  //    is equal to the second_hash supplied, and that sn is 0.
  return equal(fr, firstHash) && equal(sr, secondHash) && sn === 0n;
}
