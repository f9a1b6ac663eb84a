import { type Database, insertDeadLetters } from "@auditlog/db";
import {
  type IngestJobName,
  type IngestJobPayloads,
  ingestBatchJobSchema,
  ingestJobNames,
} from "@auditlog/events/jobs";
import type { Logger } from "@auditlog/observability";
import { type Job, UnrecoverableError, Worker } from "bullmq";
import type { Redis } from "ioredis";
import type { Geolocator } from "../geo/geolocate.ts";
import { buildEntries, withoutFullIp } from "./build-entries.ts";
import { createInsertBatcher, type EntryInserter } from "./insert-batcher.ts";

export interface IngestWorkerDeps {
  connection: Redis;
  queueName: string;
  db: Database;
  geolocator: Geolocator;
  logger: Logger;
  concurrency: number;
  lockDurationMs: number;
}

type Handlers = { [K in IngestJobName]: (job: Job<IngestJobPayloads[K]>) => Promise<unknown> };

export function createIngestWorker(deps: IngestWorkerDeps): Worker {
  const inserter = createInsertBatcher(deps.db);
  const handlers: Handlers = {
    [ingestJobNames.batch]: (job) => handleIngestBatch(job, { ...deps, inserter }),
  };
  const worker = new Worker(
    deps.queueName,
    async (job: Job) => {
      const handler = handlers[job.name as IngestJobName];
      if (!handler) throw new UnrecoverableError(`unknown job name "${job.name}"`);
      return handler(job);
    },
    {
      connection: deps.connection,
      concurrency: deps.concurrency,
      lockDuration: deps.lockDurationMs,
      stalledInterval: Math.max(1000, Math.floor(deps.lockDurationMs / 2)),
      // Recovering a job whose worker died is the point of stalled checks: never give up on it.
      maxStalledCount: 1_000,
      removeOnComplete: { count: 0 },
      removeOnFail: { age: 7 * 24 * 3600 },
    },
  );
  worker.on("failed", (job, error) => {
    deps.logger.warn("ingest job failed", {
      jobId: job?.id,
      attempt: job?.attemptsMade,
      error: error.message,
    });
  });
  worker.on("error", (error) => deps.logger.error("ingest worker error", { error: error.message }));
  return worker;
}

async function handleIngestBatch(job: Job, deps: IngestWorkerDeps & { inserter: EntryInserter }) {
  const parsed = ingestBatchJobSchema.safeParse(job.data);
  if (!parsed.success) {
    // The API never produces this; keep what can be kept rather than dropping it silently.
    const data = job.data as { orgId?: unknown; receivedAt?: unknown; events?: unknown };
    await insertDeadLetters(deps.db, [
      {
        orgId: typeof data?.orgId === "string" ? data.orgId : "unknown",
        dedupeKey: `job:${deps.queueName}:${job.id}`,
        eventId: null,
        eventType: null,
        reason: `malformed ingest job: ${parsed.error.issues.map((i) => `${i.path.join(".")} ${i.message}`).join("; ")}`,
        issues: parsed.error.issues.map((i) => ({ path: i.path.join("."), message: i.message })),
        payload: Array.isArray(data?.events) ? data.events.map(withoutFullIp) : null,
        receivedAt: new Date(),
      },
    ]);
    throw new UnrecoverableError("malformed ingest job");
  }
  const batch = buildEntries(parsed.data, deps.geolocator, `job:${deps.queueName}:${job.id}`);
  // Both inserts are idempotent, so a retry after a crash between them is harmless.
  await deps.inserter.insert(batch.entries);
  const deadLettered = await insertDeadLetters(deps.db, batch.deadLetters);
  if (batch.deadLetters.length > 0) {
    deps.logger.warn("events refused", {
      orgId: parsed.data.orgId,
      count: batch.deadLetters.length,
    });
  }
  return { stored: batch.entries.length, deadLettered };
}
