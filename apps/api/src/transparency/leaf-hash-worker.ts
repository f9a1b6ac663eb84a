import { parentPort, workerData } from "node:worker_threads";
import { hashEntryLines } from "./leaf-hash-lines.ts";

// A worker thread of `verify`: hashes chunks of COPY lines into leaf hashes. Hashing is most of
// verify's cost (RFC 8785 JSON and two SHA-256 per entry), so it runs beside the main thread,
// which only moves bytes and folds the tree.

const { orgId } = workerData as { orgId: string };

parentPort?.on("message", (message: { id: number; chunk: Uint8Array }) => {
  const hashed = hashEntryLines(orgId, message.chunk);
  parentPort?.postMessage({ id: message.id, ...hashed }, [
    hashed.seqs.buffer as ArrayBuffer,
    hashed.hashes.buffer as ArrayBuffer,
    hashed.bad.buffer as ArrayBuffer,
    hashed.tileRoots.buffer as ArrayBuffer,
    hashed.tileLines.buffer as ArrayBuffer,
  ]);
});
