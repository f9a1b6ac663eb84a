import { createDatabase, loadSecretBox, readReplicaFromEnv } from "@auditlog/db";
import { retentionBoundsFromEnv } from "@auditlog/events";
import { exportStorageFromEnv } from "@auditlog/exports";
import {
  createLogger,
  metricsAccessRule,
  registerReadReplicaGauges,
} from "@auditlog/observability";
import { createRedisConnection, queueConnection } from "@auditlog/redis";
import { type CreateDestinationSender, createDestinationSender } from "@auditlog/streams";
import { Queue } from "bullmq";
import { startAlertEngine } from "./alerts/alert-engine.ts";
import type { WorkerEnv } from "./env.ts";
import { startExportConsumer } from "./exports/export-consumer.ts";
import type { OnExportFinished } from "./exports/export-finished.ts";
import { openGeolocator } from "./geo/geolocate.ts";
import { startIngestConsumer } from "./ingest/ingest-consumer.ts";
import { startLifecycleConsumer } from "./lifecycle/lifecycle-consumer.ts";
import { startMetricsServer } from "./metrics/metrics-server.ts";
import { createWorkerMetrics, type WorkerMetrics } from "./metrics/worker-metrics.ts";
import { startNotificationConsumers } from "./notifications/start-notifications.ts";
import { startStreamDelivery } from "./streams/stream-delivery.ts";
import { createStreamNotifier, type StreamStateNotifier } from "./streams/stream-notifier.ts";
import { loadCheckpointSigner, startCheckpointSigner } from "./transparency/checkpoint-signer.ts";

/** Starts every consumer of the worker process; `stop` drains in-flight jobs, then disconnects. */
export async function startWorker(
  env: WorkerEnv,
  options: {
    onExportFinished?: OnExportFinished;
    /** The lifecycle job's clock (tests move it instead of waiting days); the real one by default. */
    now?: () => Date;
    /** The destinations' senders of log streams (tests inject a recording one). */
    createStreamSender?: CreateDestinationSender;
    /** Who is told when a stream turns failing or recovers. */
    notifyStream?: StreamStateNotifier;
  } = {},
) {
  const logger = createLogger("worker", env.LOG_LEVEL);
  const roles = new Set(env.WORKER_ROLES);
  // Before anything connects or consumes: a worker that cannot sign refuses to start
  // (CheckpointKeyError, one line naming the file and the command that makes it).
  if (roles.has("checkpoints")) await loadCheckpointSigner(env.CHECKPOINT_KEY_FILE);
  const db = createDatabase({
    url: env.DATABASE_URL,
    // The checkpoint signer holds one connection at a time (listing, then one tree's transaction).
    poolSize:
      env.WORKER_CONCURRENCY +
      env.EXPORT_CONCURRENCY +
      2 +
      (roles.has("alerts") ? 2 : 0) +
      (roles.has("checkpoints") ? env.CHECKPOINT_CONCURRENCY : 0) +
      (roles.has("lifecycle") ? 1 : 0) +
      (roles.has("streams") ? env.STREAM_CONCURRENCY + 1 : 0),
    // Only the notification consumer uses Prisma (webhook settings), and only when it runs.
    ormPoolSize: 3,
    applicationName: "auditlog-worker",
    // Export builds and stream deliveries read there (each at most one connection at a time).
    readReplica: readReplicaFromEnv(
      env,
      (roles.has("exports") ? env.EXPORT_CONCURRENCY : 0) +
        (roles.has("streams") ? env.STREAM_CONCURRENCY : 0) +
        1,
    ),
  });
  // Workers block on Redis, so requests must wait for reconnection instead of failing (the
  // factory's `worker` role); a single Redis, or a cluster with REDIS_CLUSTER_NODES.
  const connection = createRedisConnection(env, "worker");
  const consumers: { close(): Promise<void> }[] = [];

  // Figures only when something can read them: a listener is configured and METRICS is on.
  const metricsQueues: Queue[] = [];
  let metrics: WorkerMetrics | undefined;
  let metricsServer: Awaited<ReturnType<typeof startMetricsServer>> | undefined;
  if (env.METRICS && env.WORKER_METRICS_PORT !== "") {
    // Producers' views of every queue of the deployment, for the depth and age gauges.
    const queueNames = {
      ingest: env.INGEST_QUEUE,
      exports: env.EXPORT_QUEUE,
      notifications: env.NOTIFY_QUEUE,
      lifecycle: env.LIFECYCLE_QUEUE,
    };
    const queues = Object.fromEntries(
      Object.entries(queueNames).map(([key, name]) => {
        const queue = new Queue(name, {
          ...queueConnection(connection, name),
          skipVersionCheck: true,
        });
        queue.on("error", () => {});
        metricsQueues.push(queue);
        return [key, queue];
      }),
    );
    metrics = createWorkerMetrics({ queues, db });
    registerReadReplicaGauges(metrics.registry, () => db.readReplicaStatus());
    metricsServer = await startMetricsServer({
      host: env.WORKER_METRICS_HOST,
      port: env.WORKER_METRICS_PORT,
      registry: metrics.registry,
      access: metricsAccessRule(env),
      logger,
    });
    logger.info("metrics listener started", { url: metricsServer.url });
  }

  if (roles.has("ingest")) {
    // ~130 MB of geolocation databases: loaded only by processes that ingest.
    const geolocator = openGeolocator({
      ipv4: env.GEOIP_IPV4_DATABASE,
      ipv6: env.GEOIP_IPV6_DATABASE,
    });
    const ingest = await startIngestConsumer({
      connection,
      queueName: env.INGEST_QUEUE,
      db,
      geolocator,
      logger,
      concurrency: env.WORKER_CONCURRENCY,
      lockDurationMs: env.WORKER_LOCK_DURATION_MS,
      metrics,
    });
    consumers.push(ingest);
    logger.info("ingest worker started", {
      queue: env.INGEST_QUEUE,
      concurrency: env.WORKER_CONCURRENCY,
    });
  }

  // The export hook, the alert engine and stream delivery (a stream turning failing or
  // recovering) enqueue notification deliveries, so they need the producer side of
  // notifications even when another process consumes them.
  const notifications =
    roles.has("notifications") ||
    roles.has("exports") ||
    roles.has("alerts") ||
    roles.has("streams")
      ? await startNotificationConsumers({
          env,
          connection,
          db,
          logger,
          consume: roles.has("notifications"),
          metrics,
        })
      : null;

  if (roles.has("exports")) {
    const exportStorage = exportStorageFromEnv(env);
    const exportConsumer = await startExportConsumer({
      connection,
      redis: env,
      queueName: env.EXPORT_QUEUE,
      db,
      storage: exportStorage,
      logger,
      concurrency: env.EXPORT_CONCURRENCY,
      lockDurationMs: env.WORKER_LOCK_DURATION_MS,
      retentionDays: env.EXPORT_RETENTION_DAYS,
      expiryIntervalMs: env.EXPORT_EXPIRY_INTERVAL_MS,
      checkpoint: { keyFile: env.CHECKPOINT_KEY_FILE, logOrigin: env.LOG_ORIGIN },
      metrics,
      // Console notification (stored and pushed live), email when SMTP is set, org webhook.
      onExportFinished:
        options.onExportFinished ??
        (notifications as NonNullable<typeof notifications>).onExportFinished,
    });
    consumers.push(exportConsumer);
    logger.info("export worker started", {
      queue: env.EXPORT_QUEUE,
      storage: exportStorage.location,
      concurrency: env.EXPORT_CONCURRENCY,
    });
  }
  if (roles.has("alerts") && notifications) {
    // Before the notifications in `consumers`: a pass in progress finishes sending first.
    consumers.push(
      await startAlertEngine({
        db,
        redis: env,
        notifyOrgAdmins: notifications.notifyOrgAdmins,
        notifyQueue: notifications.queue,
        retryBaseMs: env.NOTIFY_RETRY_BASE_MS,
        logger,
        pollIntervalMs: env.ALERT_POLL_INTERVAL_MS,
        scanLimit: env.ALERT_SCAN_LIMIT,
        consoleUrl: env.PUBLIC_URL.replace(/\/$/, ""),
      }),
    );
  }
  if (notifications) consumers.push(notifications);

  if (roles.has("lifecycle")) {
    consumers.push(
      await startLifecycleConsumer({
        connection,
        queueName: env.LIFECYCLE_QUEUE,
        ingestQueueName: env.INGEST_QUEUE,
        db,
        logger,
        storage: exportStorageFromEnv(env),
        // A bad pair of bounds refuses to start, as the API does.
        bounds: retentionBoundsFromEnv(env),
        periods: {
          deadLetterDays: env.DEAD_LETTER_RETENTION_DAYS,
          notificationDays: env.NOTIFICATION_RETENTION_DAYS,
          expiredSessionDays: env.SESSION_EXPIRED_RETENTION_DAYS,
          exportRecordDays: env.EXPORT_RECORD_RETENTION_DAYS,
        },
        purge: { batchSize: env.PURGE_BATCH_SIZE, pauseMs: env.PURGE_PAUSE_MS },
        now: options.now ?? (() => new Date()),
        lockDurationMs: env.WORKER_LOCK_DURATION_MS,
        intervalMs: env.LIFECYCLE_INTERVAL_MS,
        metrics,
      }),
    );
    logger.info("lifecycle worker started", {
      queue: env.LIFECYCLE_QUEUE,
      intervalMs: env.LIFECYCLE_INTERVAL_MS,
    });
  }

  let streamDelivery: { close(): Promise<void> } | undefined;
  if (roles.has("streams")) {
    streamDelivery = await startStreamDelivery({
      db,
      // Its own connection: a subscribed ioredis connection takes no other command.
      subscriber: createRedisConnection(env, "subscriber", { connectionName: "auditlog-streams" }),
      secrets: loadSecretBox(env.SECRETS_KEY_FILE),
      createSender: options.createStreamSender ?? createDestinationSender,
      notify:
        options.notifyStream ??
        createStreamNotifier((notifications as NonNullable<typeof notifications>).notifyOrgAdmins),
      logger,
      config: {
        concurrency: env.STREAM_CONCURRENCY,
        batchMaxEntries: env.STREAM_BATCH_MAX_ENTRIES,
        batchMaxBytes: env.STREAM_BATCH_MAX_BYTES,
        batchMaxWaitMs: env.STREAM_BATCH_MAX_WAIT_MS,
        pollIntervalMs: env.STREAM_POLL_INTERVAL_MS,
        retryBaseMs: env.STREAM_RETRY_BASE_MS,
        retryMaxMs: env.STREAM_RETRY_MAX_MS,
        leaseMs: env.STREAM_LEASE_MS,
        deliveryTimeoutMs: env.STREAM_DELIVERY_TIMEOUT_MS,
        failingAfterSeconds: env.STREAM_FAILING_AFTER_SECONDS,
        allowLocal: env.WEBHOOK_ALLOW_LOCAL_URLS,
        sharedReadMaxBytes: env.STREAM_SHARED_READ_MAX_BYTES,
        sharedReadMaxAgeMs: env.STREAM_SHARED_READ_MAX_AGE_MS,
      },
    });
  }

  if (roles.has("checkpoints")) {
    // Closed last: a pass in progress commits its tree while the pool is still open.
    consumers.push(
      await startCheckpointSigner({
        db,
        logger,
        keyFile: env.CHECKPOINT_KEY_FILE,
        logOrigin: env.LOG_ORIGIN,
        intervalMs: env.CHECKPOINT_INTERVAL_MS,
        concurrency: env.CHECKPOINT_CONCURRENCY,
      }),
    );
  }

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      logger.info("worker stopping");
      // Stream batches drain first: one may still tell admins of a failure or a recovery.
      await streamDelivery?.close();
      // In start order: ingest and export builds drain before the notifications they may send.
      for (const consumer of consumers) await consumer.close();
      // Scrapes stop being answered once the jobs are drained, before the pool closes.
      await metricsServer?.close();
      for (const queue of metricsQueues) await queue.close().catch(() => {});
      await db.close();
      connection.disconnect();
      logger.info("worker stopped");
    })();
    return stopping;
  };
  return { stop, logger, metrics, metricsUrl: metricsServer?.url };
}
