import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  ReferenceTree,
  rfcVerifyConsistency,
  rfcVerifyInclusion,
} from "../test/support/rfc9162.ts";
import { CountingReader, hex, randomLeafHashes, tilesOf } from "../test/support/trees.ts";
import {
  appendToTiles,
  consistencyProof,
  inclusionProof,
  MemoryTileStore,
  RootBuilder,
  subtreeHash,
  type Tile,
  tilePath,
  treeHash,
} from "./index.ts";

/** The latest version of every tile, from the tiles each append returned. */
function latestTiles(appends: Tile[][]): Map<string, Tile> {
  const latest = new Map<string, Tile>();
  for (const tile of appends.flat()) latest.set(`${tile.level}/${tile.index}`, tile);
  return latest;
}

function widths(tiles: Map<string, Tile>): Record<string, number> {
  return Object.fromEntries([...tiles].map(([key, tile]) => [key, tile.hashes.length / 32]));
}

describe("tilePath", () => {
  it("writes C2SP paths: 3-digit groups, x-prefixed but the last, .p/W for partial tiles", () => {
    expect(tilePath(0, 0)).toBe("tile/0/000");
    expect(tilePath(0, 7, 256)).toBe("tile/0/007");
    expect(tilePath(1, 1234067, 3)).toBe("tile/1/x001/x234/067.p/3");
    expect(tilePath(2, 1000, 255)).toBe("tile/2/x001/000.p/255");
    expect(tilePath(63, 999)).toBe("tile/63/999");
  });

  it("refuses coordinates no tile has", () => {
    expect(() => tilePath(64, 0)).toThrow(RangeError);
    expect(() => tilePath(-1, 0)).toThrow(RangeError);
    expect(() => tilePath(0, -1)).toThrow(RangeError);
    expect(() => tilePath(0, 1.5)).toThrow(RangeError);
    expect(() => tilePath(0, 0, 0)).toThrow(RangeError);
    expect(() => tilePath(0, 0, 257)).toThrow(RangeError);
  });
});

describe("appendToTiles", () => {
  it("keeps the tiles C2SP describes (its own examples: sizes 70,000 and 256)", async () => {
    const leaves = randomLeafHashes(70_000);
    const small = new MemoryTileStore();
    expect(widths(latestTiles([await small.append(leaves.slice(0, 256))]))).toEqual({
      "0/0": 256,
      "1/0": 1,
    });
    const store = new MemoryTileStore();
    const appends = [
      await store.append(leaves.slice(0, 30_000)),
      await store.append(leaves.slice(30_000)),
    ];
    const tiles = widths(latestTiles(appends));
    // 273 full level-0 tiles and one of width 112; one full level-1 tile and one of width 17;
    // one level-2 tile of width 1.
    const level0 = Object.entries(tiles).filter(([key]) => key.startsWith("0/"));
    expect(level0.filter(([, width]) => width === 256)).toHaveLength(273);
    expect(tiles["0/273"]).toBe(112);
    expect(
      Object.keys(tiles)
        .filter((key) => !key.startsWith("0/"))
        .sort(),
    ).toEqual(["1/0", "1/1", "2/0"]);
    expect([tiles["1/0"], tiles["1/1"], tiles["2/0"]]).toEqual([256, 17, 1]);
  });

  it("gives the same tiles whatever the appends, and never rewrites a full tile", async () => {
    const leaves = randomLeafHashes(3000);
    const once = latestTiles([await new MemoryTileStore().append(leaves)]);
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 1, max: 700 }), { minLength: 1, maxLength: 40 }),
        async (chunks) => {
          const store = new MemoryTileStore();
          const appends: Tile[][] = [];
          const full = new Set<string>();
          for (let at = 0, i = 0; at < leaves.length; i++) {
            const chunk = chunks[i % chunks.length] as number;
            const tiles = await store.append(leaves.slice(at, at + chunk));
            for (const tile of tiles) {
              const key = `${tile.level}/${tile.index}`;
              expect(full.has(key), `full tile ${key} returned again`).toBe(false);
              if (tile.hashes.length === 256 * 32) full.add(key);
            }
            appends.push(tiles);
            at += chunk;
          }
          const built = latestTiles(appends);
          expect([...built.keys()].sort()).toEqual([...once.keys()].sort());
          for (const [key, tile] of built)
            expect(hex(tile.hashes)).toBe(hex((once.get(key) as Tile).hashes));
        },
      ),
      { numRuns: 40 },
    );
  });

  it("reads, in one call, only the partial tile of each level that changes", async () => {
    const leaves = randomLeafHashes(70_000);
    const store = new MemoryTileStore();
    await store.append(leaves.slice(0, 65_537 + 300));
    const reader = new CountingReader(store);
    const { size, tiles } = await appendToTiles(reader, store.size, leaves.slice(65_837));
    expect(size).toBe(70_000);
    expect(reader.calls).toBe(1);
    // Levels 0 and 1 were partial at 65,837 and change; level 2 (width 1) does not change.
    expect(reader.tiles).toBe(2);
    expect(tiles.every((tile) => tile.level <= 1)).toBe(true);
    const none = new CountingReader(store);
    await appendToTiles(none, 65_536, leaves.slice(0, 10));
    expect(none.calls).toBe(0);
  });

  it("makes a level-1 hash the root of its full level-0 tile (RFC 9162's MTH)", async () => {
    const leaves = randomLeafHashes(1024);
    const reference = new ReferenceTree(leaves);
    const latest = latestTiles([await new MemoryTileStore().append(leaves)]);
    const level1 = (latest.get("1/0") as Tile).hashes;
    expect(level1.length).toBe(4 * 32);
    for (let i = 0; i < 4; i++) {
      expect(hex(level1.subarray(i * 32, (i + 1) * 32))).toBe(
        hex(reference.mth(i * 256, (i + 1) * 256)),
      );
    }
  });

  it("refuses to extend tiles that do not reach the old size, or leaf hashes of another size", async () => {
    const store = await tilesOf(randomLeafHashes(300));
    await expect(appendToTiles(store, 310, randomLeafHashes(1))).rejects.toThrow(
      /tile 0\/1 is missing or shorter than 54 hashes/,
    );
    await expect(appendToTiles(new MemoryTileStore(), 5, randomLeafHashes(1))).rejects.toThrow(
      /tile 0\/0 is missing/,
    );
    await expect(appendToTiles(store, 300, [new Uint8Array(31)])).rejects.toThrow(RangeError);
    await expect(appendToTiles(store, -1, randomLeafHashes(1))).rejects.toThrow(RangeError);
    expect(await appendToTiles(store, 300, [])).toEqual({ size: 300, tiles: [] });
  });
});

describe("subtreeHash", () => {
  it("gives any complete subtree, from one stored hash or a run of a tile below", async () => {
    const leaves = randomLeafHashes(70_000);
    const reference = new ReferenceTree(leaves);
    const store = await tilesOf(leaves, 20_000);
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 16 }), fc.nat(), async (level, seed) => {
        const count = Math.floor(70_000 / 2 ** level);
        const index = seed % count;
        const expected = reference.mth(index * 2 ** level, (index + 1) * 2 ** level);
        expect(hex(await subtreeHash(store, level, index))).toBe(hex(expected));
      }),
      { numRuns: 300 },
    );
    await expect(subtreeHash(store, 17, 0)).rejects.toThrow(/missing or too short/);
    await expect(subtreeHash(store, 0, 70_000)).rejects.toThrow(/missing or too short/);
  });
});

describe("a tree of 1,000,000 leaves, appended 100,000 at a time", () => {
  it("answers roots and proofs from a handful of tiles read in one call", {
    timeout: 240_000,
  }, async () => {
    const leaves = randomLeafHashes(1_000_000);
    const store = new MemoryTileStore();
    const builder = new RootBuilder();
    for (let at = 0; at < leaves.length; at += 100_000) {
      await store.append(leaves.slice(at, at + 100_000));
    }
    for (const leaf of leaves) builder.push(leaf);
    const root = await treeHash(store, 1_000_000);
    // Two different computations of the root: the tiles and RootBuilder's compact range.
    expect(hex(root)).toBe(hex(builder.root()));

    for (const index of [0, 123_456, 999_999, 765_432]) {
      const reader = new CountingReader(store);
      const proof = await inclusionProof(reader, index, 1_000_000);
      expect(reader.calls).toBe(1);
      expect(reader.tiles).toBeLessThanOrEqual(8);
      expect(
        rfcVerifyInclusion(BigInt(index), 1_000_000n, leaves[index] as Uint8Array, proof, root),
      ).toBe(true);
    }
    for (const from of [1, 65_536, 500_001, 999_999]) {
      const reader = new CountingReader(store);
      const proof = await consistencyProof(reader, from, 1_000_000);
      expect(reader.calls).toBe(1);
      expect(reader.tiles).toBeLessThanOrEqual(8);
      const fromRoot = await treeHash(store, from);
      expect(rfcVerifyConsistency(BigInt(from), 1_000_000n, fromRoot, root, proof)).toBe(true);
    }
  });
});
