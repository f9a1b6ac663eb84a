import { entryLineLeafHash } from "@auditlog/db/entry-lines";

/** Leaf hashes of a chunk of entry lines: what a hashing worker answers for one chunk. */
export interface HashedChunk {
  count: number;
  /** seq of each line. */
  seqs: Float64Array;
  /** 32 bytes per line; all zero for a line that has no leaf (`bad`). */
  hashes: Uint8Array;
  /** 1 where the row cannot be made into a leaf at all (a NULL name, broken JSON…). */
  bad: Uint8Array;
}

/**
 * Hashes every line of `bytes` (COPY lines of `openLogSnapshot`, each ending with "\n"). Each line
 * is decoded on its own: V8 decodes a few hundred bytes of UTF-8 many times faster per byte than
 * a string of a quarter of a megabyte (measured: 6.5 GB/s at 4 KiB, 0.1 GB/s at 256 KiB).
 */
export function hashEntryLines(orgId: string, bytes: Uint8Array): HashedChunk {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const ends: number[] = [];
  for (let end = buffer.indexOf(10); end !== -1; end = buffer.indexOf(10, end + 1)) ends.push(end);
  if (ends.at(-1) !== buffer.length - 1 && buffer.length > 0) ends.push(buffer.length);
  const count = ends.length;
  const seqs = new Float64Array(count);
  const hashes = new Uint8Array(count * 32);
  const bad = new Uint8Array(count);
  let start = 0;
  for (let i = 0; i < count; i++) {
    const end = ends[i] as number;
    const line = buffer.toString("utf8", start, end);
    start = end + 1;
    // The seq is read apart from the rest, so a row whose other fields cannot be parsed still
    // has its place.
    seqs[i] = Number(line.slice(0, line.indexOf("\t")));
    try {
      hashes.set(entryLineLeafHash(orgId, line), i * 32);
    } catch {
      bad[i] = 1;
    }
  }
  return { count, seqs, hashes, bad };
}
