import { parentPort, workerData } from "node:worker_threads";
import {
  joinLogSnapshot,
  type LogSnapshotShare,
  type SharedLogSnapshot,
} from "@auditlog/db/entry-line-reader";
import { entryLeafBytesAvailable } from "@auditlog/db/entry-lines";
import { type HashedChunk, hashEntryLines, hashEntryRows, lineChunks } from "./leaf-hash-lines.ts";

// A worker thread of `verify`: hashes COPY lines into leaf hashes. Hashing is most of verify's
// cost (RFC 8785 JSON and two SHA-256 per entry), so it runs beside the main thread, which only
// folds the tree. Given a shared snapshot, the thread also reads its own seq ranges from
// PostgreSQL on a connection of its own: the lines then never pass through the main thread
// (receiving them cost it about a microsecond per entry, and serialised every thread behind
// one COPY).

const { orgId, share } = workerData as { orgId: string; share?: LogSnapshotShare };

export type HashRequest =
  | { id: number; chunk: Uint8Array }
  | { id: number; range: { from: number; to: number } }
  | { id: number; close: true };

export type HashAnswer =
  | ({ id: number } & HashedChunk)
  | { id: number; chunks: HashedChunk[] }
  | { id: number; error: string }
  | { id: number; closed: true };

const transferOf = (chunk: HashedChunk): ArrayBuffer[] =>
  [chunk.seqs, chunk.hashes, chunk.bad, chunk.tileRoots, chunk.tileLines].map(
    (array) => array.buffer as ArrayBuffer,
  );

// The thread joins the snapshot as it starts, so its connection is ready when the first range
// is asked for (a failure to join is answered to that range).
let reader: Promise<SharedLogSnapshot> | undefined = share ? joinLogSnapshot(share) : undefined;
reader?.catch(() => {});
/** Ranges are read one after another: one COPY at a time on the thread's connection. */
let ranges: Promise<void> = Promise.resolve();

async function hashRange(from: number, to: number): Promise<HashedChunk[]> {
  if (!share) throw new Error("this hashing thread has no snapshot to read ranges from");
  reader ??= joinLogSnapshot(share);
  const chunks: HashedChunk[] = [];
  // As binary rows where the byte path runs: PostgreSQL sends them for about a third less CPU.
  if (entryLeafBytesAvailable()) {
    const stream = (await reader).entryRows(orgId, from, to);
    for await (const chunk of hashEntryRows(orgId, stream)) chunks.push(chunk);
    return chunks;
  }
  const stream = (await reader).entryLines(orgId, from, to);
  for await (const bytes of lineChunks(stream)) chunks.push(hashEntryLines(orgId, bytes));
  return chunks;
}

parentPort?.on("message", (message: HashRequest) => {
  const port = parentPort;
  if (!port) return;
  const { id } = message;
  if ("chunk" in message) {
    const hashed = hashEntryLines(orgId, message.chunk);
    port.postMessage({ id, ...hashed } satisfies HashAnswer, transferOf(hashed));
    return;
  }
  if ("range" in message) {
    const { from, to } = message.range;
    ranges = ranges.then(async () => {
      try {
        const chunks = await hashRange(from, to);
        port.postMessage({ id, chunks } satisfies HashAnswer, chunks.flatMap(transferOf));
      } catch (error) {
        port.postMessage({ id, error: (error as Error).message } satisfies HashAnswer);
      }
    });
    return;
  }
  // Closing: end the connection (its transaction is read-only) once the queued ranges are done.
  ranges = ranges.then(async () => {
    if (reader) await (await reader.catch(() => undefined))?.close().catch(() => {});
    port.postMessage({ id, closed: true } satisfies HashAnswer);
  });
});
