import { jobOptions, producerFor } from "@auditlog/events/jobs";
import { queueConnection, type RedisConnection } from "@auditlog/redis";
import { Queue } from "bullmq";
import type { WorkerMetrics } from "../metrics/worker-metrics.ts";
import { startConsumer } from "../queues/start-consumer.ts";
import { type LifecycleDeps, runLifecycle } from "./run-lifecycle.ts";

export interface LifecycleWorkerDeps extends Omit<LifecycleDeps, "ingest" | "signal"> {
  /** The worker's shared connection (maxRetriesPerRequest: null). */
  connection: RedisConnection;
  queueName: string;
  /** The ingest queue's name: purges are recorded through it. */
  ingestQueueName: string;
  lockDurationMs: number;
  /** LIFECYCLE_INTERVAL_MS; 0: this process does not schedule the run. */
  intervalMs: number;
  metrics?: WorkerMetrics | undefined;
}

/**
 * The consumer of the lifecycle queue (role `lifecycle`): `lifecycle.run`, which a job scheduler
 * adds every `intervalMs` (one schedule however many workers upsert it), one run at a time.
 */
export async function startLifecycleConsumer(deps: LifecycleWorkerDeps) {
  const shutdown = new AbortController();
  const queue = new Queue(deps.queueName, queueConnection(deps.connection, deps.queueName));
  const ingestQueue = new Queue(
    deps.ingestQueueName,
    queueConnection(deps.connection, deps.ingestQueueName),
  );
  for (const q of [queue, ingestQueue]) {
    q.on("error", (error) => deps.logger.error("lifecycle queue error", { error: error.message }));
  }
  const runDeps: LifecycleDeps = {
    ...deps,
    ingest: producerFor(ingestQueue, "ingest"),
    signal: shutdown.signal,
  };
  const consumer = await startConsumer({
    queue: "lifecycle",
    queueName: deps.queueName,
    connection: deps.connection,
    concurrency: 1,
    lockDurationMs: deps.lockDurationMs,
    logger: deps.logger,
    metrics: deps.metrics,
    handlers: { "lifecycle.run": () => runLifecycle(runDeps) },
  });
  if (deps.intervalMs > 0) {
    await queue.upsertJobScheduler(
      "lifecycle.run",
      { every: deps.intervalMs },
      { name: "lifecycle.run", data: {}, opts: jobOptions("lifecycle", "lifecycle.run") },
    );
  }
  let closing: Promise<void> | undefined;
  return {
    worker: consumer.worker,
    /** A purge in progress stops after its current batch; then everything closes. */
    close() {
      closing ??= (async () => {
        shutdown.abort();
        await consumer.close();
        await queue.close().catch(() => {});
        await ingestQueue.close().catch(() => {});
      })();
      return closing;
    },
  };
}
