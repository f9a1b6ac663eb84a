import type { Database } from "@auditlog/db";
import type { HostLookup } from "@auditlog/events/webhooks";
import type { Logger } from "@auditlog/observability";
import { queueConnection, type RedisConnection } from "@auditlog/redis";
import { Queue } from "bullmq";
import nodemailer from "nodemailer";
import type { WorkerEnv } from "../env.ts";
import type { WorkerMetrics } from "../metrics/worker-metrics.ts";
import { createAdminNotifier } from "./admin-notifier.ts";
import { createExportNotifier } from "./export-notifier.ts";
import { lazySecretBox, startNotificationConsumer } from "./notification-consumer.ts";

export type NotificationEnv = Pick<
  WorkerEnv,
  | "DATABASE_URL"
  | "NOTIFY_QUEUE"
  | "SMTP_URL"
  | "SMTP_FROM"
  | "NOTIFY_RETRY_BASE_MS"
  | "WEBHOOK_TIMEOUT_MS"
  | "WEBHOOK_ALLOW_LOCAL_URLS"
  | "WORKER_CONCURRENCY"
  | "SECRETS_KEY_FILE"
>;

/**
 * Everything notifications need in the worker process: the `onExportFinished` hook for the export
 * worker, `notifyOrgAdmins` for alerts and streams (every admin of an organisation), and the consumer of the notifications queue (emails, webhook deliveries).
 * `connection` is the worker's shared ioredis connection (maxRetriesPerRequest: null).
 */
export async function startNotificationConsumers(input: {
  env: NotificationEnv;
  connection: RedisConnection;
  /** The worker's database handle (an export-only process never starts its Prisma side). */
  db: Database;
  logger: Logger;
  /** False for a process that only produces deliveries (an export-only worker). */
  consume?: boolean;
  /** Resolves webhook hosts; tests inject one so that they need no DNS. */
  lookupHost?: HostLookup;
  /** Where each delivery's duration is observed. */
  metrics?: WorkerMetrics | undefined;
}) {
  const { env, connection, logger } = input;
  const queue = new Queue(env.NOTIFY_QUEUE, queueConnection(connection, env.NOTIFY_QUEUE));
  queue.on("error", (error) => logger.error("notifications queue error", { error: error.message }));
  const mailer = env.SMTP_URL ? nodemailer.createTransport(env.SMTP_URL) : null;
  const consumer =
    input.consume === false
      ? null
      : await startNotificationConsumer({
          connection,
          queueName: env.NOTIFY_QUEUE,
          db: input.db,
          logger,
          mailer,
          mailFrom: env.SMTP_FROM,
          webhookTimeoutMs: env.WEBHOOK_TIMEOUT_MS,
          webhookAllowLocal: env.WEBHOOK_ALLOW_LOCAL_URLS,
          ...(input.lookupHost ? { lookupHost: input.lookupHost } : {}),
          concurrency: env.WORKER_CONCURRENCY,
          secrets: lazySecretBox(env.SECRETS_KEY_FILE),
          metrics: input.metrics,
        });
  const onExportFinished = createExportNotifier({
    db: input.db,
    publisher: connection,
    queue,
    emailEnabled: mailer !== null,
    retryBaseMs: env.NOTIFY_RETRY_BASE_MS,
    logger,
  });
  const notifyOrgAdmins = createAdminNotifier({
    db: input.db,
    publisher: connection,
    queue,
    emailEnabled: mailer !== null,
    retryBaseMs: env.NOTIFY_RETRY_BASE_MS,
    logger,
  });
  logger.info("notifications started", { queue: env.NOTIFY_QUEUE, email: mailer !== null });

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      await consumer?.close();
      await queue.close();
      mailer?.close();
    })();
    return closing;
  };
  return { onExportFinished, notifyOrgAdmins, queue, worker: consumer?.worker ?? null, close };
}

export type NotificationConsumers = Awaited<ReturnType<typeof startNotificationConsumers>>;
