import { describe, expect, it } from "vitest";
import { ReferenceTree } from "../test/support/rfc9162.ts";
import { hex, randomLeafHashes, tilesOf } from "../test/support/trees.ts";
import {
  emptyRoot,
  inclusionProof,
  MemoryTileStore,
  nodeHash,
  RootBuilder,
  treeHash,
  verifyConsistency,
  verifyInclusion,
} from "./index.ts";

describe("RootBuilder", () => {
  it("gives MTH of every prefix as leaves are pushed", () => {
    const leaves = randomLeafHashes(600);
    const reference = new ReferenceTree(leaves);
    const builder = new RootBuilder();
    const failures: number[] = [];
    expect(hex(builder.root())).toBe(hex(emptyRoot));
    for (const [i, leaf] of leaves.entries()) {
      builder.push(leaf);
      if (hex(builder.root()) !== hex(reference.root(i + 1))) failures.push(i + 1);
    }
    expect(failures).toEqual([]);
    expect(builder.size).toBe(600);
  });

  it("hands out copies, and takes only 32-byte hashes", () => {
    const [leaf] = randomLeafHashes(1) as [Uint8Array];
    const builder = new RootBuilder();
    builder.push(leaf);
    const root = builder.root();
    root.fill(0);
    expect(hex(builder.root())).toBe(hex(leaf));
    expect(() => builder.push(new Uint8Array(33))).toThrow(RangeError);
  });
});

describe("treeHash", () => {
  it("of the empty tree is SHA-256 of nothing, and a size past the tiles is refused", async () => {
    const store = await tilesOf(randomLeafHashes(10));
    expect(hex(await treeHash(store, 0))).toBe(
      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    );
    await expect(treeHash(store, 11)).rejects.toThrow(/do not reach that far/);
    await expect(treeHash(new MemoryTileStore(), 1)).rejects.toThrow(/missing/);
    await expect(treeHash(store, 1.5)).rejects.toThrow(RangeError);
  });
});

describe("nodeHash", () => {
  it("is SHA-256(0x01 ‖ left ‖ right) and takes hashes only", () => {
    const [left, right] = randomLeafHashes(2) as [Uint8Array, Uint8Array];
    expect(hex(nodeHash(left, right))).toBe(hex(new ReferenceTree([left, right]).root(2)));
    expect(() => nodeHash(left, new Uint8Array(31))).toThrow(RangeError);
  });
});

describe("the verifiers", () => {
  it("refuse sizes and indexes that are not safe non-negative integers", async () => {
    const leaves = randomLeafHashes(5);
    const store = await tilesOf(leaves);
    const rootHash = await treeHash(store, 5);
    const proof = await inclusionProof(store, 1, 5);
    const leafHash = leaves[1] as Uint8Array;
    expect(verifyInclusion({ leafIndex: 1, treeSize: 5, leafHash, proof, rootHash })).toBe(true);
    for (const [leafIndex, treeSize] of [
      [1.0000001, 5],
      [1, 5.5],
      [1, Number.NaN],
      [Number.POSITIVE_INFINITY, 5],
      [2 ** 64 + 1, 5],
    ] as const) {
      expect(verifyInclusion({ leafIndex, treeSize, leafHash, proof, rootHash })).toBe(false);
    }
    const fromRoot = await treeHash(store, 2);
    expect(
      verifyConsistency({ fromSize: 0, toSize: 0, fromRoot, toRoot: fromRoot, proof: [] }),
    ).toBe(false);
    expect(
      verifyConsistency({ fromSize: 2, toSize: 2, fromRoot, toRoot: fromRoot, proof: [] }),
    ).toBe(true);
    expect(
      verifyConsistency({ fromSize: 2, toSize: 2, fromRoot, toRoot: rootHash, proof: [] }),
    ).toBe(false);
    expect(
      verifyConsistency({ fromSize: 2, toSize: 2, fromRoot, toRoot: fromRoot, proof: [fromRoot] }),
    ).toBe(false);
  });
});
