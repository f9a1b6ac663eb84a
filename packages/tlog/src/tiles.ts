import { nodeHash } from "./hash.ts";
import { HASH_SIZE, isTreeIndex } from "./verify-plan.ts";

// C2SP tlog-tiles storage (https://c2sp.org/tlog-tiles): tile (L, N) holds the hashes of tree
// level 8·L at indexes N·256 … N·256+W−1, stored as their concatenation. Level 0 holds the leaf
// hashes; a hash at level 8·(L+1) is the root of a full tile at level L, so any complete subtree
// of the tree is either one stored hash or the root of a run of at most 128 hashes of one tile.

export const TILE_HEIGHT = 8;
export const TILE_WIDTH = 2 ** TILE_HEIGHT;
const MAX_TILE_LEVEL = 63;

export interface TileCoord {
  level: number;
  index: number;
}

export interface Tile extends TileCoord {
  /** The tile's W hashes, concatenated (W·32 bytes, 1 ≤ W ≤ 256). */
  hashes: Uint8Array;
}

/**
 * Where tiles come from. `readTiles` answers one entry per coordinate, in order: the stored
 * hashes of that tile (the widest version stored: a wider partial tile is only ever an
 * extension of a narrower one) or undefined when the tile is not stored. Every function here
 * makes at most one call per operation, so a database reader answers with one query.
 */
export interface TileReader {
  readTiles(coords: readonly TileCoord[]): Promise<(Uint8Array | undefined)[]>;
}

/** A subtree of the tree: `level` 0 is a leaf, `index` counts the subtrees of that level. */
export interface SubtreeCoord {
  level: number;
  index: number;
}

/**
 * The C2SP path of a tile, `tile/<L>/<N>[.p/<W>]`, N written in 3-digit groups all but the last
 * prefixed with "x" (index 1234067 → x001/x234/067). Go's `tlog.Tile.Path()` writes the same
 * path with the tile height after "tile/" (`tile/8/…`), the go.sum database's older layout.
 */
export function tilePath(level: number, index: number, width: number = TILE_WIDTH): string {
  if (!Number.isInteger(level) || level < 0 || level > MAX_TILE_LEVEL) {
    throw new RangeError(`tile level must be an integer from 0 to ${MAX_TILE_LEVEL}`);
  }
  if (!isTreeIndex(index)) throw new RangeError("tile index must be a non-negative integer");
  if (!Number.isInteger(width) || width < 1 || width > TILE_WIDTH) {
    throw new RangeError(`tile width must be an integer from 1 to ${TILE_WIDTH}`);
  }
  let rest = index;
  let digits = String(rest % 1000).padStart(3, "0");
  while (rest >= 1000) {
    rest = Math.floor(rest / 1000);
    digits = `x${String(rest % 1000).padStart(3, "0")}/${digits}`;
  }
  return `tile/${level}/${digits}${width === TILE_WIDTH ? "" : `.p/${width}`}`;
}

function tileKey(level: number, index: number): string {
  return `${level}/${index}`;
}

function hashAt(hashes: Uint8Array, position: number): Uint8Array {
  return hashes.subarray(position * HASH_SIZE, (position + 1) * HASH_SIZE);
}

/** The root of `count` (a power of two) consecutive hashes of a tile, starting at `first`. */
function runRoot(hashes: Uint8Array, first: number, count: number): Uint8Array {
  if (count === 1) return hashAt(hashes, first).slice();
  let level: Uint8Array[] = [];
  for (let i = 0; i < count; i++) level.push(hashAt(hashes, first + i));
  while (level.length > 1) {
    const parents: Uint8Array[] = [];
    for (let i = 0; i < level.length; i += 2) {
      parents.push(nodeHash(level[i] as Uint8Array, level[i + 1] as Uint8Array));
    }
    level = parents;
  }
  return level[0] as Uint8Array;
}

/**
 * The hashes of complete subtrees, read with one `readTiles` call. A subtree whose height is not
 * a multiple of 8 is the root of a run of hashes of the tile at the level below its own.
 * Throws when a tile is missing or too short: the tiles do not reach that far.
 */
export async function readSubtreeHashes(
  reader: TileReader,
  subtrees: readonly SubtreeCoord[],
): Promise<Uint8Array[]> {
  const wanted = new Map<string, TileCoord>();
  const plans = subtrees.map(({ level, index }) => {
    if (!Number.isInteger(level) || level < 0 || level > MAX_TILE_LEVEL || !isTreeIndex(index)) {
      throw new RangeError(`no subtree at level ${level}, index ${index}`);
    }
    const count = 2 ** (level % TILE_HEIGHT);
    const first = index * count;
    if (!Number.isSafeInteger((first + count) * TILE_WIDTH ** Math.floor(level / TILE_HEIGHT))) {
      throw new RangeError(`no subtree at level ${level}, index ${index}`);
    }
    const tile = { level: Math.floor(level / TILE_HEIGHT), index: Math.floor(first / TILE_WIDTH) };
    const key = tileKey(tile.level, tile.index);
    wanted.set(key, tile);
    return { key, tile, offset: first % TILE_WIDTH, count, level, index };
  });
  const coords = [...wanted.values()];
  const data = coords.length === 0 ? [] : await reader.readTiles(coords);
  if (data.length !== coords.length) {
    throw new Error(`readTiles answered ${data.length} tiles for ${coords.length} coordinates`);
  }
  const tiles = new Map<string, Uint8Array | undefined>();
  coords.forEach((coord, i) => tiles.set(tileKey(coord.level, coord.index), data[i]));
  return plans.map((plan) => {
    const hashes = tiles.get(plan.key);
    if (
      hashes === undefined ||
      hashes.length % HASH_SIZE !== 0 ||
      hashes.length / HASH_SIZE < plan.offset + plan.count
    ) {
      throw new Error(
        `tile ${plan.tile.level}/${plan.tile.index} is missing or too short for the subtree at ` +
          `level ${plan.level}, index ${plan.index}: the stored tiles do not reach that far`,
      );
    }
    return runRoot(hashes, plan.offset, plan.count);
  });
}

/** The hash of one complete subtree (2^level leaves from index·2^level). */
export async function subtreeHash(
  reader: TileReader,
  level: number,
  index: number,
): Promise<Uint8Array> {
  const [hash] = await readSubtreeHashes(reader, [{ level, index }]);
  return hash as Uint8Array;
}

/**
 * Extends the tiles of a tree of `oldSize` leaves with `newLeafHashes` and returns the tiles
 * that changed, in level then index order: every tile that gained hashes, the rightmost partial
 * one of each level included (C2SP: a partial tile at every level that has one). Reads, in one
 * call, only the partial tile each changed level had at `oldSize`.
 */
export async function appendToTiles(
  reader: TileReader,
  oldSize: number,
  newLeafHashes: readonly Uint8Array[],
): Promise<{ size: number; tiles: Tile[] }> {
  if (!isTreeIndex(oldSize)) throw new RangeError("oldSize must be a non-negative integer");
  for (const hash of newLeafHashes) {
    if (hash.length !== HASH_SIZE) throw new RangeError(`leaf hashes must be ${HASH_SIZE} bytes`);
  }
  const newSize = oldSize + newLeafHashes.length;
  if (!Number.isSafeInteger(newSize)) throw new RangeError("the tree would grow past 2^53");
  if (newLeafHashes.length === 0) return { size: oldSize, tiles: [] };

  // Hash counts of each tile level before and after; a level whose count does not change stops
  // the climb (the levels above it cannot change either).
  const levels: { level: number; oldCount: number; newCount: number }[] = [];
  for (let level = 0, span = 1; ; level++, span *= TILE_WIDTH) {
    const oldCount = Math.floor(oldSize / span);
    const newCount = Math.floor(newSize / span);
    if (newCount === oldCount) break;
    levels.push({ level, oldCount, newCount });
  }
  const partials = levels
    .filter(({ oldCount }) => oldCount % TILE_WIDTH !== 0)
    .map(({ level, oldCount }) => ({ level, index: Math.floor(oldCount / TILE_WIDTH) }));
  const partialData = partials.length === 0 ? [] : await reader.readTiles(partials);
  const partialByLevel = new Map<number, Uint8Array | undefined>();
  partials.forEach((coord, i) => partialByLevel.set(coord.level, partialData[i]));

  const tiles: Tile[] = [];
  let incoming: readonly Uint8Array[] = newLeafHashes;
  for (const { level, oldCount, newCount } of levels) {
    const kept = oldCount % TILE_WIDTH;
    const firstTile = Math.floor(oldCount / TILE_WIDTH);
    const lastTile = Math.floor((newCount - 1) / TILE_WIDTH);
    let prefix: Uint8Array | undefined;
    if (kept > 0) {
      const stored = partialByLevel.get(level);
      if (stored === undefined || stored.length < kept * HASH_SIZE) {
        throw new Error(
          `tile ${level}/${firstTile} is missing or shorter than ${kept} hashes: ` +
            `the stored tiles do not reach size ${oldSize}`,
        );
      }
      prefix = stored.subarray(0, kept * HASH_SIZE);
    }
    const completed: Uint8Array[] = [];
    let next = 0;
    for (let index = firstTile; index <= lastTile; index++) {
      const width = Math.min(newCount, (index + 1) * TILE_WIDTH) - index * TILE_WIDTH;
      const hashes = new Uint8Array(width * HASH_SIZE);
      let filled = 0;
      if (index === firstTile && prefix !== undefined) {
        hashes.set(prefix, 0);
        filled = kept;
      }
      for (; filled < width; filled++)
        hashes.set(incoming[next++] as Uint8Array, filled * HASH_SIZE);
      tiles.push({ level, index, hashes });
      if (width === TILE_WIDTH) completed.push(runRoot(hashes, 0, TILE_WIDTH));
    }
    incoming = completed;
  }
  return { size: newSize, tiles };
}

/**
 * Tiles in memory: what the tests, the bench and an offline verifier use in place of the
 * database's tile table.
 */
export class MemoryTileStore implements TileReader {
  readonly #tiles = new Map<string, Uint8Array>();
  #size = 0;

  /** The number of leaves `append` has stored. */
  get size(): number {
    return this.#size;
  }

  async readTiles(coords: readonly TileCoord[]): Promise<(Uint8Array | undefined)[]> {
    return coords.map(({ level, index }) => this.#tiles.get(tileKey(level, index)));
  }

  writeTiles(tiles: readonly Tile[]): void {
    for (const tile of tiles) this.#tiles.set(tileKey(tile.level, tile.index), tile.hashes);
  }

  /** Appends leaf hashes and stores the changed tiles; returns them. */
  async append(leafHashes: readonly Uint8Array[]): Promise<Tile[]> {
    const { size, tiles } = await appendToTiles(this, this.#size, leafHashes);
    this.writeTiles(tiles);
    this.#size = size;
    return tiles;
  }
}
