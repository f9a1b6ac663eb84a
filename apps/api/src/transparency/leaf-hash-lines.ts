import { parseEntryLine } from "@auditlog/db/entry-lines";
import { entryLeafHash, type LeafEntry } from "@auditlog/tlog";

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

/** Hashes every line of `text` (COPY lines of `openLogSnapshot`, each ending with "\n"). */
export function hashEntryLines(orgId: string, text: string): HashedChunk {
  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop();
  const count = lines.length;
  const seqs = new Float64Array(count);
  const hashes = new Uint8Array(count * 32);
  const bad = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    const line = lines[i] as string;
    // The seq is read apart from the rest, so a row whose other fields cannot be parsed still
    // has its place.
    seqs[i] = Number(line.slice(0, line.indexOf("\t")));
    try {
      hashes.set(entryLeafHash(orgId, parseEntryLine(line).entry as LeafEntry), i * 32);
    } catch {
      bad[i] = 1;
    }
  }
  return { count, seqs, hashes, bad };
}
