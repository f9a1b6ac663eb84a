import { describe, expect, it } from "vitest";
import {
  consistencyProof,
  emptyRoot,
  inclusionProof,
  leafHash,
  RootBuilder,
  subtreeHash,
  treeHash,
  verifyConsistency,
  verifyInclusion,
} from "../src/index.ts";
import {
  ReferenceTree,
  refLeafHash,
  refNodeHash,
  rfcVerifyConsistency,
  rfcVerifyInclusion,
  sha256,
} from "./support/rfc9162.ts";
import { fromB64, fromHex, hex, tilesOf } from "./support/trees.ts";
import vectors from "./vectors/transparency-dev-merkle.json" with { type: "json" };

// The RFC 6962/9162 vectors of transparency-dev/merkle (see vectors/README.md): the constants of
// an 8-leaf tree, and probes that a verifier must accept (wantErr false) or refuse.

interface InclusionProbe {
  file: string;
  leafIdx: number;
  treeSize: number;
  root: string;
  leafHash: string;
  proof: string[] | null;
  desc: string;
  wantErr: boolean;
}

interface ConsistencyProbe {
  file: string;
  size1: number;
  size2: number;
  root1: string;
  root2: string;
  proof: string[] | null;
  desc: string;
  wantErr: boolean;
}

const inclusionProbes = vectors.inclusion as InclusionProbe[];
const consistencyProbes = vectors.consistency as ConsistencyProbe[];
const leafInputs = vectors.leafInputsHex.map(fromHex);
const leafHashes = leafInputs.map((input) => leafHash(input));

describe("the transparency-dev/merkle vectors", () => {
  it("are all there (98 inclusion and 98 consistency probes, both outcomes)", () => {
    expect(inclusionProbes).toHaveLength(98);
    expect(consistencyProbes).toHaveLength(98);
    expect(new Set(inclusionProbes.map((probe) => probe.wantErr))).toEqual(new Set([true, false]));
    expect(new Set(consistencyProbes.map((probe) => probe.wantErr))).toEqual(
      new Set([true, false]),
    );
  });

  it("hash as RFC 6962's reference hasher does", () => {
    expect(hex(emptyRoot)).toBe(vectors.hasher.emptyRootHex);
    expect(hex(leafHash(new Uint8Array(0)))).toBe(vectors.hasher.emptyLeafHashHex);
    expect(hex(leafHash("L123456"))).toBe(vectors.hasher.leafL123456Hex);
    expect(hex(leafHash(new TextEncoder().encode("L123456")))).toBe(vectors.hasher.leafL123456Hex);
    // The reference's HASH takes children of any length; ours takes hashes only.
    const node = refNodeHash(new TextEncoder().encode("N123"), new TextEncoder().encode("N456"));
    expect(hex(node)).toBe(vectors.hasher.nodeN123N456Hex);
    expect(hex(sha256())).toBe(vectors.hasher.emptyRootHex);
  });

  it("give the leaf hashes, every subtree hash and every root of the 8-leaf tree", async () => {
    expect(leafHashes.map(hex)).toEqual(vectors.nodeHashesHex[0]);
    expect(leafInputs.map((input) => hex(refLeafHash(input)))).toEqual(vectors.nodeHashesHex[0]);
    const tiles = await tilesOf(leafHashes, 3);
    for (const [level, hashes] of vectors.nodeHashesHex.entries()) {
      for (const [index, expected] of hashes.entries()) {
        expect(hex(await subtreeHash(tiles, level, index))).toBe(expected);
      }
    }
    const reference = new ReferenceTree(leafHashes);
    const builder = new RootBuilder();
    for (const [size, expected] of vectors.rootHashesHex.entries()) {
      expect(hex(await treeHash(tiles, size))).toBe(expected);
      expect(hex(reference.root(size))).toBe(expected);
      expect(hex(builder.root())).toBe(expected);
      if (size < leafHashes.length) builder.push(leafHashes[size] as Uint8Array);
    }
  });

  it.each(inclusionProbes.map((probe) => [probe.file, probe] as const))(
    "inclusion %s: both verifiers answer as the vector says",
    (_file, probe) => {
      const check = {
        leafIndex: probe.leafIdx,
        treeSize: probe.treeSize,
        leafHash: fromB64(probe.leafHash),
        proof: (probe.proof ?? []).map(fromB64),
        rootHash: fromB64(probe.root),
      };
      expect(verifyInclusion(check)).toBe(!probe.wantErr);
      const reference = rfcVerifyInclusion(
        BigInt(probe.leafIdx),
        BigInt(probe.treeSize),
        check.leafHash,
        check.proof,
        check.rootHash,
      );
      expect(reference).toBe(!probe.wantErr);
    },
  );

  it.each(consistencyProbes.map((probe) => [probe.file, probe] as const))(
    "consistency %s: both verifiers answer as the vector says",
    (_file, probe) => {
      const check = {
        fromSize: probe.size1,
        toSize: probe.size2,
        fromRoot: fromB64(probe.root1),
        toRoot: fromB64(probe.root2),
        proof: (probe.proof ?? []).map(fromB64),
      };
      expect(verifyConsistency(check)).toBe(!probe.wantErr);
      const reference = rfcVerifyConsistency(
        BigInt(probe.size1),
        BigInt(probe.size2),
        check.fromRoot,
        check.toRoot,
        check.proof,
      );
      expect(reference).toBe(!probe.wantErr);
    },
  );

  it("have happy paths whose proofs our tiles and the reference both produce", async () => {
    const tiles = await tilesOf(leafHashes, 2);
    const reference = new ReferenceTree(leafHashes);
    const happyInclusion = inclusionProbes.filter((probe) => probe.desc === "happy path");
    const happyConsistency = consistencyProbes.filter((probe) => probe.desc === "happy path");
    expect(happyInclusion.length).toBeGreaterThanOrEqual(5);
    expect(happyConsistency.length).toBeGreaterThanOrEqual(5);
    for (const probe of happyInclusion) {
      // Every happy path is over the vectors' own leaves.
      expect(probe.root).toBe(Buffer.from(reference.root(probe.treeSize)).toString("base64"));
      const expected = (probe.proof ?? []).map((hash) => hex(fromB64(hash)));
      expect((await inclusionProof(tiles, probe.leafIdx, probe.treeSize)).map(hex)).toEqual(
        expected,
      );
      expect(reference.path(probe.leafIdx, probe.treeSize).map(hex)).toEqual(expected);
    }
    for (const probe of happyConsistency) {
      expect(probe.root2).toBe(Buffer.from(reference.root(probe.size2)).toString("base64"));
      const expected = (probe.proof ?? []).map((hash) => hex(fromB64(hash)));
      expect((await consistencyProof(tiles, probe.size1, probe.size2)).map(hex)).toEqual(expected);
      expect(reference.proof(probe.size1, probe.size2).map(hex)).toEqual(expected);
    }
  });
});
