import { type Database, insertDeadLetters } from "@auditlog/db";
import type { IngestBatchJob } from "@auditlog/events/jobs";
import type { Logger } from "@auditlog/observability";
import type { RedisConnection } from "@auditlog/redis";
import type { Job } from "bullmq";
import type { Geolocator } from "../geo/geolocate.ts";
import type { WorkerMetrics } from "../metrics/worker-metrics.ts";
import { startConsumer } from "../queues/start-consumer.ts";
import { createStoredAnnouncer } from "./announce-stored.ts";
import { buildEntries, refusedEntryDeadLetter, withoutFullIp } from "./build-entries.ts";
import { createInsertBatcher, type EntryInserter } from "./insert-batcher.ts";

export interface IngestConsumerDeps {
  connection: RedisConnection;
  queueName: string;
  db: Database;
  geolocator: Geolocator;
  logger: Logger;
  concurrency: number;
  lockDurationMs: number;
  metrics?: WorkerMetrics | undefined;
}

/** The consumer of the ingest queue: validated, anonymised, described and stored events. */
export function startIngestConsumer(deps: IngestConsumerDeps) {
  const announce = createStoredAnnouncer({
    db: deps.db,
    publisher: deps.connection,
    logger: deps.logger,
  });
  const inserter = createInsertBatcher(deps.db, { onStored: (rows) => void announce(rows) });
  return startConsumer({
    queue: "ingest",
    queueName: deps.queueName,
    connection: deps.connection,
    concurrency: deps.concurrency,
    lockDurationMs: deps.lockDurationMs,
    logger: deps.logger,
    metrics: deps.metrics,
    handlers: {
      "ingest.batch": (payload, job) => storeIngestBatch(payload, job, { ...deps, inserter }),
    },
    // A failed job stays in Redis for a week (removeOnFail): only truncated addresses stay.
    onFailedForGood: (job) => job.updateData(withoutFullIps(job.data)),
    // The API never produces this; keep what can be kept rather than dropping it silently.
    onMalformed: async (job, issues) => {
      const data = job.data as { orgId?: unknown; events?: unknown } | undefined;
      const kept = await insertDeadLetters(deps.db, [
        {
          orgId: typeof data?.orgId === "string" ? data.orgId : "unknown",
          dedupeKey: `job:${deps.queueName}:${job.id}`,
          eventId: null,
          eventType: null,
          reason: `malformed ingest job: ${issues.map((i) => `${i.path} ${i.message}`).join("; ")}`,
          issues,
          payload: Array.isArray(data?.events) ? data.events.map(withoutFullIp) : null,
          receivedAt: new Date(),
        },
      ]);
      if (kept > 0) deps.metrics?.eventsDeadLettered.inc(kept);
    },
  });
}

/** The job's data with each event's `context.ip` truncated (or removed, when not an address). */
function withoutFullIps(data: unknown): unknown {
  if (typeof data !== "object" || data === null) return data;
  const { events } = data as { events?: unknown };
  return Array.isArray(events) ? { ...data, events: events.map(withoutFullIp) } : data;
}

async function storeIngestBatch(
  payload: IngestBatchJob,
  job: Job,
  deps: IngestConsumerDeps & { inserter: EntryInserter },
) {
  const jobKey = `job:${deps.queueName}:${job.id}`;
  const batch = buildEntries(payload, deps.geolocator, jobKey);
  // Both inserts are idempotent, so a retry after a crash between them is harmless.
  const refused = await deps.inserter.insert(batch.entries);
  const deadLetters = batch.deadLetters;
  if (refused.length > 0) {
    const positions = new Map(batch.entries.map((row, i) => [row, batch.positions[i] as number]));
    for (const { row, reason } of refused) {
      deadLetters.push(
        refusedEntryDeadLetter(payload, positions.get(row) as number, reason, jobKey),
      );
    }
  }
  const deadLettered = await insertDeadLetters(deps.db, deadLetters);
  if (deadLetters.length > 0) {
    deps.logger.warn("events refused", { orgId: payload.orgId, count: deadLetters.length });
  }
  const stored = batch.entries.length - refused.length;
  deps.metrics?.eventsCommitted.inc(stored);
  if (deadLettered > 0) deps.metrics?.eventsDeadLettered.inc(deadLettered);
  return { stored, deadLettered };
}
