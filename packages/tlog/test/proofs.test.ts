import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import {
  consistencyProof,
  inclusionProof,
  type MemoryTileStore,
  treeHash,
  verifyConsistency,
  verifyInclusion,
} from "../src/index.ts";
import { ReferenceTree, rfcVerifyConsistency, rfcVerifyInclusion } from "./support/rfc9162.ts";
import { flipBit, hex, randomLeafHashes, tilesOf } from "./support/trees.ts";

// The package's proofs against the independent RFC 9162 verifier (test/support/rfc9162.ts), with
// roots from the RFC's own MTH definition, never from the code under test.

const SIZE = 1000;
let leaves: Uint8Array[];
let tiles: MemoryTileStore;
let reference: ReferenceTree;

beforeAll(async () => {
  leaves = randomLeafHashes(SIZE);
  tiles = await tilesOf(leaves);
  reference = new ReferenceTree(leaves);
});

function bothAcceptInclusion(index: number, size: number, proof: Uint8Array[]): [boolean, boolean] {
  const root = reference.root(size);
  const leafHash = leaves[index] as Uint8Array;
  return [
    verifyInclusion({ leafIndex: index, treeSize: size, leafHash, proof, rootHash: root }),
    rfcVerifyInclusion(BigInt(index), BigInt(size), leafHash, proof, root),
  ];
}

function bothAcceptConsistency(from: number, to: number, proof: Uint8Array[]): [boolean, boolean] {
  const fromRoot = reference.root(from);
  const toRoot = reference.root(to);
  return [
    verifyConsistency({ fromSize: from, toSize: to, fromRoot, toRoot, proof }),
    rfcVerifyConsistency(BigInt(from), BigInt(to), fromRoot, toRoot, proof),
  ];
}

describe("inclusion proofs", () => {
  it("are RFC 9162's PATH and verify, for every leaf of every size 1 … 256", async () => {
    // Failures are collected rather than asserted one by one: 32,896 proofs × expect is slow.
    const failures: string[] = [];
    let checked = 0;
    for (let size = 1; size <= 256; size++) {
      if (hex(await treeHash(tiles, size)) !== hex(reference.root(size)))
        failures.push(`root ${size}`);
      for (let index = 0; index < size; index++) {
        const proof = await inclusionProof(tiles, index, size);
        if (proof.map(hex).join() !== reference.path(index, size).map(hex).join()) {
          failures.push(`PATH(${index}, ${size})`);
        }
        const [ours, rfc] = bothAcceptInclusion(index, size, proof);
        if (!ours || !rfc) failures.push(`verify(${index}, ${size}): ours ${ours}, RFC ${rfc}`);
        checked++;
      }
    }
    expect(failures).toEqual([]);
    expect(checked).toBe((256 * 257) / 2);
  });

  it("verify for random leaves of random sizes up to 1,000", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc
          .integer({ min: 1, max: SIZE })
          .chain((size) => fc.tuple(fc.constant(size), fc.integer({ min: 0, max: size - 1 }))),
        async ([size, index]) => {
          const proof = await inclusionProof(tiles, index, size);
          expect(proof.map(hex)).toEqual(reference.path(index, size).map(hex));
          expect(bothAcceptInclusion(index, size, proof)).toEqual([true, true]);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it("are refused by both verifiers when a bit, the index, the size or the length is wrong", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc
          .integer({ min: 2, max: SIZE })
          .chain((size) =>
            fc.tuple(
              fc.constant(size),
              fc.integer({ min: 0, max: size - 1 }),
              fc.integer({ min: 0, max: size - 1 }),
              fc.integer({ min: 1, max: SIZE }),
              fc.nat(),
              fc.integer({ min: 0, max: 255 }),
            ),
          ),
        async ([size, index, otherIndex, otherSize, position, bit]) => {
          const proof = await inclusionProof(tiles, index, size);
          const leafHash = leaves[index] as Uint8Array;
          const root = reference.root(size);
          const refused = (
            leafIndex: number,
            treeSize: number,
            path: Uint8Array[],
            rootHash = root,
          ) => {
            expect(verifyInclusion({ leafIndex, treeSize, leafHash, proof: path, rootHash })).toBe(
              false,
            );
            expect(
              rfcVerifyInclusion(BigInt(leafIndex), BigInt(treeSize), leafHash, path, rootHash),
            ).toBe(false);
          };
          // A flipped bit anywhere in the proof.
          const at = position % proof.length;
          refused(
            index,
            size,
            proof.map((hash, i) => (i === at ? flipBit(hash, bit) : hash)),
          );
          // Another index; another size with that size's true root.
          if (otherIndex !== index) refused(otherIndex, size, proof);
          if (otherSize !== size && index < otherSize) {
            refused(index, otherSize, proof, reference.root(otherSize));
          }
          // Truncated at either end, extended at either end.
          refused(index, size, proof.slice(0, -1));
          refused(index, size, proof.slice(1));
          refused(index, size, [...proof, proof[at] as Uint8Array]);
          refused(index, size, [proof[at] as Uint8Array, ...proof]);
          // A wrong leaf, a wrong root.
          expect(
            verifyInclusion({
              leafIndex: index,
              treeSize: size,
              leafHash: flipBit(leafHash, bit),
              proof,
              rootHash: root,
            }),
          ).toBe(false);
          refused(index, size, proof, flipBit(root, bit));
        },
      ),
      { numRuns: 1000 },
    );
  });
});

describe("consistency proofs", () => {
  it("are RFC 9162's PROOF and verify, for every pair of sizes up to 64", async () => {
    const failures: string[] = [];
    let checked = 0;
    for (let to = 1; to <= 64; to++) {
      for (let from = 1; from <= to; from++) {
        const proof = await consistencyProof(tiles, from, to);
        if (proof.map(hex).join() !== reference.proof(from, to).map(hex).join()) {
          failures.push(`PROOF(${from}, ${to})`);
        }
        const [ours, rfc] = bothAcceptConsistency(from, to, proof);
        if (!ours || !rfc) failures.push(`verify(${from}, ${to}): ours ${ours}, RFC ${rfc}`);
        checked++;
      }
    }
    expect(failures).toEqual([]);
    expect(checked).toBe((64 * 65) / 2);
  });

  it("verify for random pairs of sizes up to 1,000", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc
          .integer({ min: 1, max: SIZE })
          .chain((to) => fc.tuple(fc.integer({ min: 1, max: to }), fc.constant(to))),
        async ([from, to]) => {
          const proof = await consistencyProof(tiles, from, to);
          expect(proof.map(hex)).toEqual(reference.proof(from, to).map(hex));
          expect(bothAcceptConsistency(from, to, proof)).toEqual([true, true]);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it("are refused by both verifiers when a bit, a size or the length is wrong", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc
          .integer({ min: 2, max: SIZE })
          .chain((to) =>
            fc.tuple(
              fc.integer({ min: 1, max: to - 1 }),
              fc.constant(to),
              fc.integer({ min: 1, max: SIZE }),
              fc.nat(),
              fc.integer({ min: 0, max: 255 }),
            ),
          ),
        async ([from, to, otherSize, position, bit]) => {
          const proof = await consistencyProof(tiles, from, to);
          const refused = (
            fromSize: number,
            toSize: number,
            path: Uint8Array[],
            fromRoot = reference.root(fromSize),
            toRoot = reference.root(toSize),
          ) => {
            expect(verifyConsistency({ fromSize, toSize, fromRoot, toRoot, proof: path })).toBe(
              false,
            );
            expect(
              rfcVerifyConsistency(BigInt(fromSize), BigInt(toSize), fromRoot, toRoot, path),
            ).toBe(false);
          };
          const at = position % proof.length;
          refused(
            from,
            to,
            proof.map((hash, i) => (i === at ? flipBit(hash, bit) : hash)),
          );
          // Another first or second size, each with its true root.
          if (otherSize !== from && otherSize < to) refused(otherSize, to, proof);
          if (otherSize !== to && otherSize > from) refused(from, otherSize, proof);
          refused(from, to, proof.slice(0, -1));
          refused(from, to, proof.slice(1));
          refused(from, to, [...proof, proof[at] as Uint8Array]);
          refused(from, to, [proof[at] as Uint8Array, ...proof]);
          // Wrong roots, or the two swapped.
          refused(from, to, proof, flipBit(reference.root(from), bit));
          refused(from, to, proof, reference.root(from), flipBit(reference.root(to), bit));
          refused(from, to, proof, reference.root(to), reference.root(from));
        },
      ),
      { numRuns: 1000 },
    );
  });

  it("from a size to itself is empty, and a proof from the empty tree is refused", async () => {
    expect(await consistencyProof(tiles, 7, 7)).toEqual([]);
    expect(bothAcceptConsistency(7, 7, [])).toEqual([true, true]);
    await expect(consistencyProof(tiles, 0, 7)).rejects.toThrow(RangeError);
    await expect(consistencyProof(tiles, 8, 7)).rejects.toThrow(RangeError);
    await expect(inclusionProof(tiles, 7, 7)).rejects.toThrow(RangeError);
    await expect(inclusionProof(tiles, -1, 7)).rejects.toThrow(RangeError);
  });
});
