import type { StreamEntry } from "@auditlog/events";

// Why a cache keyed by the entry object: the worker's shared read hands the very same entry
// objects to every stream of an organisation, so ten streams sending one entry encoded its JSON
// text to UTF-8 ten times (and, joined into one string per batch first, copied it twice more).
// Encoded once here, each sender takes the bytes as they are. Weak: an entry's bytes live as
// long as the entry does (held by the shared read's chunk, or by a batch in flight).
const encoded = new WeakMap<StreamEntry, Buffer>();

/**
 * Memory of `encodeEntryRun`: entries encoded there lie one after the other, a comma between
 * two, in a buffer of their own, so a batch of consecutive entries is one slice of it, sent
 * without a copy (and without a body-sized allocation per stream and batch, which the garbage
 * collector paid for).
 */
const commaJoined = new WeakSet<ArrayBufferLike>();

/** The entry's JSON text as UTF-8, encoded once per entry object. */
export function entryJsonBytes(entry: StreamEntry): Buffer {
  let bytes = encoded.get(entry);
  if (bytes === undefined) {
    bytes = Buffer.from(entry.json, "utf8");
    encoded.set(entry, bytes);
  }
  return bytes;
}

/**
 * Encodes entries read together (ascending, as the shared read holds them) into one buffer,
 * comma-separated, given each one's UTF-8 length (PostgreSQL's count); when the counts do not
 * match the texts, nothing is kept and each entry is encoded on its own when sent.
 */
export function encodeEntryRun(entries: readonly StreamEntry[], sizes: readonly number[]): void {
  if (entries.length === 0 || sizes.length !== entries.length) return;
  let length = entries.length - 1;
  for (const size of sizes) length += size;
  const text = entries.map((entry) => entry.json).join(",");
  // Its own memory (never the shared pool's), with room to tell a short count from an exact one:
  // a text longer than `length` writes at least one byte more.
  const segment = Buffer.allocUnsafeSlow(length + 4);
  if (segment.write(text, 0, "utf8") !== length) return;
  commaJoined.add(segment.buffer);
  let at = 0;
  for (let i = 0; i < entries.length; i++) {
    const size = sizes[i] as number;
    encoded.set(entries[i] as StreamEntry, segment.subarray(at, at + size));
    at += size + 1;
  }
}

/**
 * Entries whose JSON was rendered together into `bytes` (`readStreamEntryRun`), each followed by
 * a comma, in a buffer of their own: taken as their encoded bytes, as `encodeEntryRun` would
 * have made them, without decoding or encoding anything.
 */
export function adoptEntryRun(
  entries: readonly StreamEntry[],
  run: { bytes: Buffer; starts: readonly number[]; ends: readonly number[] },
): void {
  if (entries.length === 0 || run.starts.length !== entries.length) return;
  commaJoined.add(run.bytes.buffer);
  for (let i = 0; i < entries.length; i++) {
    encoded.set(
      entries[i] as StreamEntry,
      run.bytes.subarray(run.starts[i] as number, run.ends[i] as number),
    );
  }
}

/** More pieces than this (entries not encoded together) are copied into one buffer instead. */
const maxPieces = 16;

/**
 * `prefix`, the entries' JSON bytes separated by `separator`, and `suffix`, as the pieces of one
 * body: consecutive entries encoded together are one slice of their buffer (no copy); pieces
 * beyond a few are copied into one buffer.
 */
export function entryBodyPieces(
  prefix: string,
  entries: readonly StreamEntry[],
  separator: number,
  suffix: string,
): Buffer[] {
  const separatorBytes = Buffer.from([separator]);
  const pieces: Buffer[] = [Buffer.from(prefix, "utf8")];
  let run: Buffer | undefined;
  let runEnd = 0;
  const endRun = () => {
    if (run === undefined) return;
    pieces.push(
      runEnd === run.byteOffset + run.length
        ? run
        : Buffer.from(run.buffer, run.byteOffset, runEnd - run.byteOffset),
    );
  };
  for (const entry of entries) {
    const bytes = entryJsonBytes(entry);
    if (
      run !== undefined &&
      separator === comma &&
      bytes.buffer === run.buffer &&
      bytes.byteOffset === runEnd + 1 &&
      commaJoined.has(bytes.buffer)
    ) {
      runEnd = bytes.byteOffset + bytes.length;
      continue;
    }
    if (run !== undefined) {
      endRun();
      pieces.push(separatorBytes);
    }
    run = bytes;
    runEnd = bytes.byteOffset + bytes.length;
  }
  endRun();
  pieces.push(Buffer.from(suffix, "utf8"));
  return pieces.length > maxPieces ? [Buffer.concat(pieces)] : pieces;
}

const comma = 0x2c;
