import { type Database, readCheckpointLag, readStreamLag } from "@auditlog/db";
import {
  Counter,
  createMetricsRegistry,
  Gauge,
  Histogram,
  type Registry,
} from "@auditlog/observability";
import type { Queue } from "bullmq";

/** The worker process's figures, read at its `/metrics` (README, "Metrics and logs"). */
export interface WorkerMetrics {
  registry: Registry;
  /** Events written to the log by ingest jobs (a retried job's rows count again). */
  eventsCommitted: Counter;
  /** Events set aside as dead letters (refused by validation or by PostgreSQL). */
  eventsDeadLettered: Counter;
  /** One observation per job attempt, by queue, job name and outcome. */
  jobDuration: Histogram<"queue" | "name" | "outcome">;
  /** One observation per finished export build, by outcome (ready, failed). */
  exportDuration: Histogram<"outcome">;
  exportRows: Counter;
  exportBytes: Counter;
}

export const jobDurationBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/** Scrape-time readings wait at most this long; a reading that misses it is left out. */
const scrapeReadTimeoutMs = 1000;

function within<T>(probe: Promise<T>, timeoutMs = scrapeReadTimeoutMs): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    probe,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error("timeout")), timeoutMs);
    }),
  ]).finally(() => clearTimeout(timer));
}

/**
 * One reading shared by the gauges collected in the same scrape: a call within a second of the
 * last one gets its answer. Null when the reading failed or missed its deadline.
 */
function sharedReading<T>(read: () => Promise<T>): () => Promise<T | null> {
  let last: { at: number; value: Promise<T | null> } | undefined;
  return () => {
    const now = Date.now();
    if (!last || now - last.at > scrapeReadTimeoutMs) {
      last = { at: now, value: within(read()).catch(() => null) };
    }
    return last.value;
  };
}

export interface WorkerMetricsSources {
  /** The queues this deployment uses, by their catalog key (ingest, exports …). */
  queues: Record<string, Queue>;
  /** For the lag gauges (checkpoints, streams): one aggregate query each per scrape. */
  db: Database;
}

/**
 * One registry per worker process (and per in-process test worker). Counters and histograms
 * move as jobs run; the queue and lag gauges are read when scraped (BullMQ counts and one SQL
 * aggregate each, a second at most), never on the job path.
 */
export function createWorkerMetrics(sources: WorkerMetricsSources): WorkerMetrics {
  const registry = createMetricsRegistry("worker");
  const registers = [registry];
  const queues = Object.entries(sources.queues);
  const states = ["waiting", "active", "delayed", "prioritized", "failed"] as const;

  new Gauge({
    name: "auditlog_queue_jobs",
    help: "Jobs in each queue by state (read from Redis when scraped)",
    labelNames: ["queue", "state"],
    registers,
    async collect() {
      this.reset();
      await Promise.all(
        queues.map(async ([key, queue]) => {
          const counts = await within(queue.getJobCounts(...states)).catch(() => null);
          if (!counts) return;
          for (const state of states) this.set({ queue: key, state }, counts[state] ?? 0);
        }),
      );
    },
  });
  new Gauge({
    name: "auditlog_queue_oldest_waiting_job_age_seconds",
    help: "Age of the oldest job waiting in each queue (0 when none waits)",
    labelNames: ["queue"],
    registers,
    async collect() {
      this.reset();
      const now = Date.now();
      await Promise.all(
        queues.map(async ([key, queue]) => {
          // getWaiting lists oldest first.
          const oldest = await within(queue.getWaiting(0, 0)).catch(() => null);
          if (!oldest) return;
          const job = oldest[0];
          this.set({ queue: key }, job ? Math.max(0, (now - job.timestamp) / 1000) : 0);
        }),
      );
    },
  });
  // Gauges are collected side by side on a scrape: each of the three figures of one aggregate
  // reads the same query, run once per scrape.
  const checkpointLag = sharedReading(() => readCheckpointLag(sources.db));
  const streamLag = sharedReading(() => readStreamLag(sources.db));
  const readingGauge = <T>(
    name: string,
    help: string,
    reading: () => Promise<T | null>,
    pick: (value: T) => number,
  ) =>
    new Gauge({
      name,
      help,
      registers,
      async collect() {
        this.reset();
        const value = await reading();
        if (value !== null) this.set(pick(value));
      },
    });
  readingGauge(
    "auditlog_checkpoint_lag_entries",
    "Log entries no signed checkpoint covers yet, summed over organisations",
    checkpointLag,
    (lag) => lag.entriesBehind,
  );
  readingGauge(
    "auditlog_checkpoint_lag_organizations",
    "Organisations with entries no signed checkpoint covers yet",
    checkpointLag,
    (lag) => lag.orgsBehind,
  );
  readingGauge(
    "auditlog_checkpoint_lag_max_entries",
    "The most entries not yet covered by a signed checkpoint in one organisation's log",
    checkpointLag,
    (lag) => lag.maxEntriesBehind,
  );
  readingGauge(
    "auditlog_stream_lag_entries",
    "Log entries appended after each stream's cursor, summed over streams not paused",
    streamLag,
    (lag) => lag.entriesBehind,
  );
  readingGauge(
    "auditlog_stream_lag_max_entries",
    "The most entries one stream not paused is behind its organisation's log",
    streamLag,
    (lag) => lag.maxEntriesBehind,
  );
  readingGauge("auditlog_streams", "Log streams not paused", streamLag, (lag) => lag.streams);

  return {
    registry,
    eventsCommitted: new Counter({
      name: "auditlog_events_committed_total",
      help: "Events written to the log by ingest jobs",
      registers,
    }),
    eventsDeadLettered: new Counter({
      name: "auditlog_events_dead_lettered_total",
      help: "Events set aside as dead letters (refused by the worker's checks or by PostgreSQL)",
      registers,
    }),
    jobDuration: new Histogram({
      name: "auditlog_job_duration_seconds",
      help: "Time one job attempt took, by queue, job name and outcome (completed, failed)",
      labelNames: ["queue", "name", "outcome"],
      buckets: jobDurationBuckets,
      registers,
    }),
    exportDuration: new Histogram({
      name: "auditlog_export_build_duration_seconds",
      help: "Time an export build attempt took until its file was ready or it failed for good",
      labelNames: ["outcome"],
      buckets: [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800],
      registers,
    }),
    exportRows: new Counter({
      name: "auditlog_export_rows_total",
      help: "Entries written to finished export files",
      registers,
    }),
    exportBytes: new Counter({
      name: "auditlog_export_bytes_total",
      help: "Bytes of finished export files (gzip)",
      registers,
    }),
  };
}
