import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import type { LogSnapshotShare } from "@auditlog/db/entry-line-reader";
import { type HashedChunk, hashEntryLines } from "./leaf-hash-lines.ts";
import type { HashAnswer, HashRequest } from "./leaf-hash-worker.ts";

/** Hashes chunks of COPY lines; answers in any order, each `hash` call its own chunk. */
export interface LeafHasher {
  hash(chunk: Buffer): Promise<HashedChunk>;
  /**
   * The entries from … to (seq) of the shared snapshot, read and hashed by a thread on its own
   * connection, as chunks in seq order. Only when the hasher was started with a share.
   */
  hashRange?: (from: number, to: number) => Promise<HashedChunk[]>;
  close(): Promise<void>;
}

/** How long closing waits for the threads to end their connections before ending the threads. */
const CLOSE_WAIT_MS = 2000;

// The threads run compiled JavaScript. The production build (scripts/build-app.ts) compiles the
// worker to leaf-hash-worker.js beside the bundle that holds this module, which
// import.meta.filename names there (import.meta.url names this source file in both cases).
// Under tsx or vitest the worker is bundled once into the app's node_modules/.cache
// (leaf-hash-worker-bundle.ts): starting a thread through tsx cost seconds under load. Should
// that bundle not be made (no esbuild, a read-only checkout), a bootstrap registers tsx's loader
// in the thread first (a worker's own --import does not apply to its entry module on Node 20).
const compiled = !import.meta.filename.endsWith(".ts");

let bundled: Promise<string | undefined> | undefined;

/**
 * Makes sure the threads' compiled entry is at hand (from source: bundles it, once per process
 * and only when its sources changed). Called early, so that overlaps the snapshot's opening.
 */
export function prepareLeafHashWorker(): Promise<string | undefined> {
  if (compiled) return Promise.resolve(join(import.meta.dirname, "leaf-hash-worker.js"));
  bundled ??= (async () => {
    // A computed specifier: the production bundle must not take esbuild in.
    const bundler = new URL("./leaf-hash-worker-bundle.ts", import.meta.url).href;
    const { leafHashWorkerBundle } = (await import(
      bundler
    )) as typeof import("./leaf-hash-worker-bundle.ts");
    return leafHashWorkerBundle();
  })().catch(() => undefined);
  return bundled;
}

function startWorker(file: string | undefined, workerData: Record<string, unknown>): Worker {
  if (file) return new Worker(file, { workerData });
  const tsxApi = pathToFileURL(
    join(
      dirname(createRequire(import.meta.url).resolve("tsx/package.json")),
      "dist/esm/api/index.mjs",
    ),
  ).href;
  const workerUrl = new URL("./leaf-hash-worker.ts", import.meta.url).href;
  return new Worker(tsxBootstrap, { eval: true, workerData: { ...workerData, tsxApi, workerUrl } });
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
 * log than starting threads). With `share`, they can also read ranges of a shared snapshot
 * themselves (`hashRange`). A worker that dies fails every request it holds.
 */
export async function startLeafHasher(
  orgId: string,
  workers: number,
  share?: LogSnapshotShare,
): Promise<LeafHasher> {
  if (workers <= 0) return inlineHasher(orgId);
  const file = await prepareLeafHashWorker();
  let nextId = 0;
  const pending = new Map<
    number,
    { resolve: (answer: HashAnswer) => void; reject: (error: Error) => void }
  >();
  const threads = Array.from({ length: workers }, () => {
    const worker = startWorker(file, { orgId, ...(share ? { share } : {}) });
    const held = new Set<number>();
    worker.on("message", (message: HashAnswer) => {
      held.delete(message.id);
      const waiting = pending.get(message.id);
      pending.delete(message.id);
      if ("error" in message) waiting?.reject(new Error(message.error));
      else waiting?.resolve(message);
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
  const request = (
    thread: (typeof threads)[number],
    message: (id: number) => HashRequest,
  ): Promise<HashAnswer> => {
    const id = nextId++;
    return new Promise<HashAnswer>((resolve, reject) => {
      pending.set(id, { resolve, reject });
      thread.held.add(id);
      thread.worker.postMessage(message(id));
    });
  };
  // The thread with the fewest requests held (in turn among equals), not strictly in turn: a
  // thread that fell behind (descheduled, its backend slower) is not given more, so at the end
  // of a walk neither thread is left with several ranges while the other has none.
  let turn = 0;
  const nextThread = () => {
    let best = threads[turn++ % threads.length] as (typeof threads)[number];
    for (const thread of threads) if (thread.held.size < best.held.size) best = thread;
    return best;
  };
  return {
    async hash(chunk) {
      const bytes = new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      return (await request(nextThread(), (id) => ({ id, chunk: bytes }))) as HashedChunk;
    },
    ...(share
      ? {
          async hashRange(from: number, to: number) {
            const answer = await request(nextThread(), (id) => ({ id, range: { from, to } }));
            return (answer as { chunks: HashedChunk[] }).chunks;
          },
        }
      : {}),
    async close() {
      // Let each thread end its connection (a read-only transaction: nothing is lost if it
      // cannot), then end the threads.
      await Promise.all(
        threads.map(async (thread) => {
          let timer: NodeJS.Timeout | undefined;
          await Promise.race([
            request(thread, (id) => ({ id, close: true })).catch(() => {}),
            new Promise((resolve) => {
              timer = setTimeout(resolve, CLOSE_WAIT_MS);
            }),
          ]);
          clearTimeout(timer);
          await thread.worker.terminate();
        }),
      );
    },
  };
}
