import { randomBytes } from "node:crypto";
import { MemoryTileStore, type TileCoord, type TileReader } from "../../src/index.ts";

export function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("hex");
}

export function fromHex(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, "hex"));
}

export function b64(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("base64");
}

/** Lenient on purpose: vectors hold "" and short garbage that a verifier must refuse. */
export function fromB64(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, "base64"));
}

export function randomLeafHashes(count: number): Uint8Array[] {
  const bytes = randomBytes(count * 32);
  return Array.from(
    { length: count },
    (_, i) => new Uint8Array(bytes.subarray(i * 32, (i + 1) * 32)),
  );
}

/** Tiles of `leafHashes`, appended in chunks of random sizes from 1 to `maxChunk`. */
export async function tilesOf(
  leafHashes: readonly Uint8Array[],
  maxChunk = 300,
): Promise<MemoryTileStore> {
  const store = new MemoryTileStore();
  for (let at = 0; at < leafHashes.length; ) {
    const chunk = 1 + Math.floor(Math.random() * maxChunk);
    await store.append(leafHashes.slice(at, at + chunk));
    at += chunk;
  }
  return store;
}

/** A reader that counts what it is asked, to show how many reads an operation needs. */
export class CountingReader implements TileReader {
  calls = 0;
  tiles = 0;
  constructor(private readonly inner: TileReader) {}
  async readTiles(coords: readonly TileCoord[]): Promise<(Uint8Array | undefined)[]> {
    this.calls++;
    this.tiles += coords.length;
    return this.inner.readTiles(coords);
  }
}

export function flipBit(hash: Uint8Array, bit: number): Uint8Array {
  const flipped = hash.slice();
  flipped[bit >> 3] = (flipped[bit >> 3] as number) ^ (1 << (bit & 7));
  return flipped;
}
