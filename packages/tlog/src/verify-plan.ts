// The index arithmetic of RFC 9162's verification algorithms (§2.1.3.2 and §2.1.4.2), kept apart
// from the hashing so that the synchronous Node verifier and the asynchronous WebCrypto one run
// exactly the same steps. Numbers, not bigints: tree sizes stay far below 2^53, and halving with
// Math.floor keeps every step exact up to there (bit operators would stop at 2^31).

export const HASH_SIZE = 32;

/** Where a proof hash goes when it is combined with the running hash. */
export type ProofSide = "left" | "right";

/** How one consistency-path hash is used: hashed into both running roots, or the second only. */
export type ConsistencyStep = "both" | "second";

export function isTreeIndex(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
}

function half(value: number): number {
  return Math.floor(value / 2);
}

function isOdd(value: number): boolean {
  return value % 2 === 1;
}

// Math.log2 rounds near 2^53, so halve instead.
function isPowerOfTwo(value: number): boolean {
  let rest = value;
  while (rest > 1 && !isOdd(rest)) rest = half(rest);
  return rest === 1;
}

/**
 * RFC 9162 §2.1.3.2, steps 1, 2, 4 and the `sn` test of step 5: for each inclusion-path hash,
 * whether it is the left operand (r = HASH(0x01 ‖ p ‖ r)) or the right one. Undefined when the
 * indexes alone already fail the proof (a path too long or too short for this leaf and size).
 */
export function inclusionSides(
  leafIndex: number,
  treeSize: number,
  pathLength: number,
): ProofSide[] | undefined {
  if (!isTreeIndex(leafIndex) || !isTreeIndex(treeSize) || leafIndex >= treeSize) return undefined;
  let fn = leafIndex;
  let sn = treeSize - 1;
  const sides: ProofSide[] = [];
  for (let i = 0; i < pathLength; i++) {
    if (sn === 0) return undefined;
    if (isOdd(fn) || fn === sn) {
      sides.push("left");
      while (!isOdd(fn) && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    } else {
      sides.push("right");
    }
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 ? sides : undefined;
}

/**
 * RFC 9162 §2.1.4.2 for 0 < first < second, steps 1 to 6 and the `sn` test of step 7:
 * `prependFirst` says whether the first tree's hash opens the path (step 2), `steps` how each
 * path hash after the first is used. Undefined when the indexes alone already fail the proof.
 */
export function consistencySteps(
  first: number,
  second: number,
  proofLength: number,
): { prependFirst: boolean; steps: ConsistencyStep[] } | undefined {
  if (!isTreeIndex(first) || !isTreeIndex(second) || first < 1 || first >= second) {
    return undefined;
  }
  if (proofLength === 0) return undefined;
  const prependFirst = isPowerOfTwo(first);
  const pathLength = proofLength + (prependFirst ? 1 : 0);
  let fn = first - 1;
  let sn = second - 1;
  while (isOdd(fn)) {
    fn = half(fn);
    sn = half(sn);
  }
  const steps: ConsistencyStep[] = [];
  for (let i = 1; i < pathLength; i++) {
    if (sn === 0) return undefined;
    if (isOdd(fn) || fn === sn) {
      steps.push("both");
      while (!isOdd(fn) && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    } else {
      steps.push("second");
    }
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 ? { prependFirst, steps } : undefined;
}

/** An inclusion proof to check: the leaf at `leafIndex` is in the tree with `rootHash`. */
export interface InclusionCheck {
  leafIndex: number;
  treeSize: number;
  leafHash: Uint8Array;
  proof: readonly Uint8Array[];
  rootHash: Uint8Array;
}

/** A consistency proof to check: the tree of `toSize` leaves extends the one of `fromSize`. */
export interface ConsistencyCheck {
  fromSize: number;
  toSize: number;
  fromRoot: Uint8Array;
  toRoot: Uint8Array;
  proof: readonly Uint8Array[];
}
