/**
 * The consumer half of the raw BullMQ baseline, in its own process like the real worker: drains
 * `BENCH_JOBS` no-op jobs from `BENCH_QUEUE`, then prints when the last one completed and exits.
 */
import { Worker } from "bullmq";
import { Redis } from "ioredis";

const total = Number(process.env.BENCH_JOBS);
const connection = new Redis(process.env.BENCH_REDIS_URL ?? "redis://127.0.0.1:6379", {
  maxRetriesPerRequest: null,
});
let done = 0;
const worker = new Worker(process.env.BENCH_QUEUE as string, async () => undefined, {
  connection,
  concurrency: Number(process.env.BENCH_CONCURRENCY ?? 4),
  removeOnComplete: { count: 0 },
});
worker.on("completed", () => {
  done++;
  if (done === total) {
    process.stdout.write(`${JSON.stringify({ lastCompletedAt: Date.now() })}\n`);
    worker.close().finally(() => {
      connection.disconnect();
      process.exit(0);
    });
  }
});
