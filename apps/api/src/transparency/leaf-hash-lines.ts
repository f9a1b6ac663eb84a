import { hash } from "node:crypto";
import type { Readable } from "node:stream";
import {
  binaryCopyHeaderLength,
  entryLineLeafHash,
  entryLinesLeafHashesInto,
  entryRowCopyLine,
  entryRowsLeafHashes,
} from "@auditlog/db/entry-lines";

/** Leaf hashes of a chunk of entry lines: what a hashing worker answers for one chunk. */
export interface HashedChunk {
  count: number;
  /** seq of each line. */
  seqs: Float64Array;
  /** 32 bytes per line; all zero for a line that has no leaf (`bad`). */
  hashes: Uint8Array;
  /** 1 where the row cannot be made into a leaf at all (a NULL name, broken JSON…). */
  bad: Uint8Array;
  /**
   * Roots of the chunk's whole tiles (256 good leaves at places k·256+1 … k·256+256, in a
   * row): 32 bytes each, `tileLines` the line of each one's first leaf. The tree is folded
   * a tile at a time from these, so its node hashes are made on the hashing threads.
   */
  tileRoots: Uint8Array;
  tileLines: Int32Array;
}

const TILE_WIDTH = 256;
/** 0x01 ‖ left ‖ right, then the level being folded. */
const nodeInput = Buffer.alloc(65, 1);
const level = new Uint8Array(TILE_WIDTH * 32);

/** The root of 256 leaf hashes at `hashes[from …]` into `target` at `at` (RFC 9162 MTH). */
function tileRoot(hashes: Uint8Array, from: number, target: Uint8Array, at: number): void {
  let source = hashes;
  let offset = from;
  for (let width = TILE_WIDTH; width > 1; width /= 2) {
    for (let pair = 0; pair < width / 2; pair++) {
      const left = offset + pair * 64;
      for (let k = 0; k < 64; k++) nodeInput[k + 1] = source[left + k] as number;
      const node = hash("sha256", nodeInput, "binary");
      const into = width === 2 ? at : pair * 32;
      const destination = width === 2 ? target : level;
      for (let k = 0; k < 32; k++) destination[into + k] = node.charCodeAt(k);
    }
    source = level;
    offset = 0;
  }
}

function tileRootsOf(
  count: number,
  seqs: Float64Array,
  hashes: Uint8Array,
  bad: Uint8Array,
): { tileRoots: Uint8Array; tileLines: Int32Array } {
  const lines: number[] = [];
  for (let i = 0; i + TILE_WIDTH <= count; i++) {
    const first = seqs[i] as number;
    if ((first - 1) % TILE_WIDTH !== 0 || seqs[i + TILE_WIDTH - 1] !== first + TILE_WIDTH - 1) {
      continue;
    }
    let whole = true;
    for (let k = 0; k < TILE_WIDTH && whole; k++) {
      whole = bad[i + k] === 0 && seqs[i + k] === first + k;
    }
    if (!whole) continue;
    lines.push(i);
    i += TILE_WIDTH - 1;
  }
  const tileRoots = new Uint8Array(lines.length * 32);
  lines.forEach((line, t) => tileRoot(hashes, line * 32, tileRoots, t * 32));
  return { tileRoots, tileLines: Int32Array.from(lines) };
}

/**
 * Hashes every line of `bytes` (COPY lines of `openLogSnapshot`, each ending with "\n"). Lines
 * go through the byte path (`entryLinesLeafHashesInto`, WebAssembly) when it takes them, else
 * through the string path, one decoded line at a time: V8 decodes a few hundred bytes of UTF-8
 * many times faster per byte than a string of a quarter of a megabyte (measured: 6.5 GB/s at
 * 4 KiB, 0.1 GB/s at 256 KiB).
 */
export function hashEntryLines(orgId: string, bytes: Uint8Array): HashedChunk {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let count = 0;
  for (let end = buffer.indexOf(10); end !== -1; end = buffer.indexOf(10, end + 1)) count++;
  if (buffer.length > 0 && buffer[buffer.length - 1] !== 10) count++;
  const seqs = new Float64Array(count);
  const hashes = new Uint8Array(count * 32);
  const bad = new Uint8Array(count);
  // The seq is read apart from the rest, so a row whose other fields cannot be parsed still has
  // its place.
  const notTaken = entryLinesLeafHashesInto(orgId, buffer, count, hashes, seqs);
  hashHandedBack(orgId, notTaken, (start, end) => buffer.toString("utf8", start, end), {
    seqs,
    hashes,
    bad,
  });
  return { count, seqs, hashes, bad, ...tileRootsOf(count, seqs, hashes, bad) };
}

/**
 * The lines the byte path handed back ((index, start, end) triples), through the string path:
 * each gets its leaf hash, or is marked `bad` (no leaf can be written from it); a seq the byte
 * path could not read is taken from the line's text.
 */
function hashHandedBack(
  orgId: string,
  notTaken: number[],
  lineOf: (start: number, end: number) => string,
  into: { seqs: Float64Array; hashes: Uint8Array; bad: Uint8Array },
): void {
  for (let n = 0; n < notTaken.length; n += 3) {
    const i = notTaken[n] as number;
    const line = lineOf(notTaken[n + 1] as number, notTaken[n + 2] as number);
    if (Number.isNaN(into.seqs[i] as number)) {
      into.seqs[i] = Number(line.slice(0, line.indexOf("\t")));
    }
    try {
      into.hashes.set(entryLineLeafHash(orgId, line), i * 32);
    } catch {
      into.hashes.fill(0, i * 32, i * 32 + 32);
      into.bad[i] = 1;
    }
  }
}

const CHUNK_BYTES = 256 * 1024;

/** Of the seq at the start of a line, whether it starts a tile (seq − 1 a multiple of 256). */
function startsTile(bytes: Buffer, start: number): boolean {
  let seq = 0;
  for (let k = start; k < bytes.length && bytes[k] !== 9; k++)
    seq = seq * 10 + (bytes[k] as number) - 48;
  return seq > 0 && (seq - 1) % TILE_WIDTH === 0;
}

/**
 * Where to cut a chunk: after its last whole line, or rather before the last line that starts a
 * tile within the last tile's worth of lines, so the hashing threads see whole tiles and fold
 * them (`HashedChunk.tileRoots`); a tile cut in two is folded leaf by leaf by verify.
 */
function tileCut(bytes: Buffer): number {
  const cut = bytes.lastIndexOf(10) + 1;
  let start = cut;
  for (let lines = 0; lines < TILE_WIDTH + 1 && start > 0; lines++) {
    const previous = start >= 2 ? bytes.lastIndexOf(10, start - 2) + 1 : 0;
    if (previous > 0 && startsTile(bytes, previous)) return previous;
    start = previous;
  }
  return cut;
}

/** A stream of entry lines cut into chunks of whole lines (about 256 KiB, cut at tile starts). */
export async function* lineChunks(stream: Readable): AsyncGenerator<Buffer> {
  let pieces: Buffer[] = [];
  let pieceBytes = 0;
  for await (const piece of stream as AsyncIterable<Buffer>) {
    pieces.push(piece);
    pieceBytes += piece.length;
    if (pieceBytes < CHUNK_BYTES) continue;
    const all = pieces.length === 1 ? (pieces[0] as Buffer) : Buffer.concat(pieces);
    const cut = tileCut(all);
    pieces = cut < all.length ? [all.subarray(cut)] : [];
    pieceBytes = all.length - cut;
    if (cut > 0) yield all.subarray(0, cut);
  }
  if (pieceBytes > 0) yield Buffer.concat(pieces);
}

/**
 * A binary COPY of entry rows (`copyEntryRows`), hashed in chunks of about 256 KiB cut before a
 * tile's first entry, as `lineChunks` and `hashEntryLines` do for text lines. The byte path
 * takes the rows it can; each other row goes the string way, as the text line PostgreSQL would
 * have written for it.
 */
export async function* hashEntryRows(orgId: string, stream: Readable): AsyncGenerator<HashedChunk> {
  let pending: Buffer = Buffer.alloc(0);
  let headerSkipped = false;
  let trailer = false;
  const take = (final: boolean): HashedChunk[] => {
    const chunks: HashedChunk[] = [];
    for (;;) {
      if (!headerSkipped) {
        const header = binaryCopyHeaderLength(pending);
        if (header === undefined) return chunks;
        pending = pending.subarray(header);
        headerSkipped = true;
      }
      if (trailer || (!final && pending.length < CHUNK_BYTES)) return chunks;
      const rows = entryRowsLeafHashes(orgId, pending, final);
      trailer = rows.trailer;
      const { count, seqs, hashes } = rows;
      const bad = new Uint8Array(count);
      const rowBytes = pending;
      hashHandedBack(orgId, rows.notTaken, (start, end) => entryRowCopyLine(rowBytes, start, end), {
        seqs,
        hashes,
        bad,
      });
      if (count > 0)
        chunks.push({ count, seqs, hashes, bad, ...tileRootsOf(count, seqs, hashes, bad) });
      pending = pending.subarray(rows.consumed);
      // Nothing taken: the next row is not whole yet (more bytes to come), or the end.
      if (count === 0 && !rows.trailer) return chunks;
    }
  };
  let pieces: Buffer[] = [];
  let pieceBytes = 0;
  const join = () => (pieces.length === 1 ? (pieces[0] as Buffer) : Buffer.concat(pieces));
  for await (const piece of stream as AsyncIterable<Buffer>) {
    pieces.push(piece);
    pieceBytes += piece.length;
    if (pieceBytes < CHUNK_BYTES) continue;
    pending = join();
    yield* take(false);
    pieces = pending.length > 0 ? [pending] : [];
    pieceBytes = pending.length;
  }
  pending = pieces.length > 0 ? join() : Buffer.alloc(0);
  yield* take(true);
  if (!trailer || pending.length > 0) throw new Error("the entries' binary COPY ended mid-row");
}
