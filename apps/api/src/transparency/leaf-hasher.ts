import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import { type HashedChunk, hashEntryLines } from "./leaf-hash-lines.ts";

/** Hashes chunks of COPY lines; answers in any order, each `hash` call its own chunk. */
export interface LeafHasher {
  hash(chunk: Buffer): Promise<HashedChunk>;
  close(): Promise<void>;
}

// Under tsx or vitest the worker is TypeScript like the rest of the app: a bootstrap registers
// tsx's loader first (a worker's own --import does not apply to its entry module on Node 20).
// The production build (scripts/build-app.ts) compiles it to leaf-hash-worker.js beside the
// bundle that holds this module, which import.meta.filename names there (import.meta.url names
// this source file in both cases), and that runs on plain node.
const compiled = !import.meta.filename.endsWith(".ts");

function startWorker(orgId: string): Worker {
  if (compiled) {
    return new Worker(join(import.meta.dirname, "leaf-hash-worker.js"), { workerData: { orgId } });
  }
  const tsxApi = pathToFileURL(
    join(
      dirname(createRequire(import.meta.url).resolve("tsx/package.json")),
      "dist/esm/api/index.mjs",
    ),
  ).href;
  const workerUrl = new URL("./leaf-hash-worker.ts", import.meta.url).href;
  return new Worker(tsxBootstrap, { eval: true, workerData: { orgId, tsxApi, workerUrl } });
}

const tsxBootstrap = `
const { workerData } = require("node:worker_threads");
import(workerData.tsxApi)
  .then(({ register }) => { register(); return import(workerData.workerUrl); })
  .catch((error) => { console.error(error); process.exit(1); });
`;

function inlineHasher(orgId: string): LeafHasher {
  return {
    hash: async (chunk) => hashEntryLines(orgId, chunk),
    close: async () => {},
  };
}

/**
 * `workers` threads hashing chunks round-robin (0: on this thread, which is quicker for a small
 * log than starting threads). A worker that dies fails every chunk it holds.
 */
export function startLeafHasher(orgId: string, workers: number): LeafHasher {
  if (workers <= 0) return inlineHasher(orgId);
  let nextId = 0;
  const pending = new Map<
    number,
    { resolve: (chunk: HashedChunk) => void; reject: (error: Error) => void }
  >();
  const threads = Array.from({ length: workers }, () => {
    const worker = startWorker(orgId);
    const held = new Set<number>();
    worker.on("message", (message: HashedChunk & { id: number }) => {
      held.delete(message.id);
      const waiting = pending.get(message.id);
      pending.delete(message.id);
      waiting?.resolve(message);
    });
    const failAll = (error: Error) => {
      for (const id of held) {
        pending.get(id)?.reject(error);
        pending.delete(id);
      }
      held.clear();
    };
    worker.on("error", failAll);
    worker.on("exit", (code) => failAll(new Error(`a leaf-hash worker exited (${code})`)));
    return { worker, held };
  });
  return {
    hash(chunk) {
      const id = nextId++;
      const thread = threads[id % threads.length] as (typeof threads)[number];
      return new Promise<HashedChunk>((resolve, reject) => {
        pending.set(id, { resolve, reject });
        thread.held.add(id);
        const bytes = new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
        thread.worker.postMessage({ id, chunk: bytes });
      });
    },
    async close() {
      await Promise.all(threads.map(({ worker }) => worker.terminate()));
    },
  };
}
