import {
  type Database,
  findNotificationRecipient,
  findOrgWebhook,
  insertNotification,
  toNotification,
} from "@auditlog/db";
import { type RealtimeMessage, realtimeChannels } from "@auditlog/events";
import { type NotifyEmailJob, type NotifyWebhookJob, producerFor } from "@auditlog/events/jobs";
import type { Logger } from "@auditlog/observability";
import type { Queue } from "bullmq";
import type { Redis } from "ioredis";
import {
  type FinishedExport,
  renderEmail,
  renderNotification,
  webhookPayload,
} from "./messages.ts";

export interface ExportNotifierDeps {
  /** Plain pg, not Prisma: an export-only worker never needs Prisma's query compiler. */
  db: Database;
  /** Publishes realtime messages; any ioredis connection (the worker's shared one is fine). */
  publisher: Pick<Redis, "publish">;
  /** The notifications queue (`NOTIFY_QUEUE`). */
  queue: Queue;
  /** True when SMTP is configured: an email job is queued for the requester. */
  emailEnabled: boolean;
  /** First retry delay of email and webhook jobs (exponential backoff). */
  retryBaseMs: number;
  logger: Logger;
}

/**
 * The hook the export worker calls once an export is ready or has failed. It (a) stores the
 * requester's notification, (b) publishes it for every API process to push to the requester's
 * open consoles, (c) queues an email when SMTP is configured and (d) queues a signed webhook
 * delivery when the organisation has an enabled webhook. Safe to call again for the same export:
 * the notification is stored once and the jobs are deduplicated by id while they are pending.
 */
export function createExportNotifier(deps: ExportNotifierDeps) {
  const deliveries = producerFor(deps.queue, "notifications");

  return async function onExportFinished(finished: FinishedExport): Promise<void> {
    const recipient = await findNotificationRecipient(deps.db, {
      userId: finished.requestedBy,
      orgId: finished.orgId,
    });
    if (!recipient) {
      deps.logger.warn("export finished for a user or organization that no longer exists", {
        exportId: finished.id,
      });
      return;
    }
    const { user, org } = recipient;
    const rendered = renderNotification(finished, org.slug);
    const { notification: row } = await insertNotification(deps.db, {
      userId: user.id,
      orgId: org.id,
      kind: rendered.kind,
      title: rendered.title,
      body: rendered.body,
      exportId: finished.id,
    });
    const notification = toNotification(row);

    // Live push is best effort: the notification is stored, and consoles list it on (re)connect.
    const message: RealtimeMessage = { userId: user.id, event: "notification", data: notification };
    try {
      await deps.publisher.publish(realtimeChannels.notifications, JSON.stringify(message));
    } catch (error) {
      deps.logger.warn("notification not published", {
        notificationId: notification.id,
        error: (error as Error).message,
      });
    }

    if (deps.emailEnabled) {
      const email = renderEmail(finished, org.slug, rendered);
      const job: NotifyEmailJob = {
        notificationId: notification.id,
        to: user.email,
        subject: email.subject,
        text: email.text,
      };
      await deliveries.add("notify.email", job, {
        jobId: `email-${notification.id}`,
        backoffDelayMs: deps.retryBaseMs,
      });
    }

    const webhook = await findOrgWebhook(deps.db, org.id);
    if (webhook && !webhook.disabledAt) {
      const job: NotifyWebhookJob = {
        messageId: notification.id,
        orgId: org.id,
        payload: webhookPayload(finished, org.slug, row.createdAt),
      };
      await deliveries.add("notify.webhook", job, {
        jobId: `webhook-${notification.id}`,
        backoffDelayMs: deps.retryBaseMs,
      });
    }
  };
}

export type ExportNotifier = ReturnType<typeof createExportNotifier>;
