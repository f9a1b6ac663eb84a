import {
  type Database,
  findOrgAdmins,
  findOrgWebhook,
  insertNotification,
  toNotification,
} from "@auditlog/db";
import { type Notification, newId, type RealtimeMessage, realtimeChannels } from "@auditlog/events";
import {
  type NotifyEmailJob,
  type NotifyWebhookJob,
  producerFor,
  type WebhookPayload,
} from "@auditlog/events/jobs";
import type { Logger } from "@auditlog/observability";
import type { Queue } from "bullmq";
import type { Redis } from "ioredis";

export interface AdminNotifierDeps {
  /** Plain pg: the notifier's reads and writes never need Prisma. */
  db: Database;
  /** Publishes realtime messages; any ioredis connection (the worker's shared one is fine). */
  publisher: Pick<Redis, "publish">;
  /** The notifications queue (`NOTIFY_QUEUE`). */
  queue: Queue;
  /** True when SMTP is configured: an email job is queued per admin. */
  emailEnabled: boolean;
  /** First retry delay of email and webhook jobs (exponential backoff). */
  retryBaseMs: number;
  logger: Logger;
}

/** What every admin of an organisation is told (an alert fired, a stream failing …). */
export interface AdminNotice {
  orgId: string;
  kind: Exclude<Notification["kind"], "export.ready" | "export.failed">;
  title: string;
  body: string;
  /** The alert rule or stream the notice is about. */
  subjectId: string;
  /** A console path (`/orgs/acme?q=…`), shown as the notification's link and in the email. */
  link: string;
  /**
   * Identifies this notice across retries of whoever sends it (an alert's firing): the webhook
   * message id and the job ids are derived from it, so a repeated call while the jobs are
   * pending queues nothing twice and a receiver can deduplicate by `webhook-id`.
   */
  noticeId?: string;
  /** Which channels: the console (stored + live) and email by default, the webhook when given. */
  channels?: { console?: boolean; email?: boolean };
  /** The org webhook's message; none is sent without it (or when the org has no webhook). */
  webhookPayload?: WebhookPayload;
}

export interface AdminNoticeResult {
  noticeId: string;
  /** The stored notifications, one per admin (none when the console channel is off). */
  notifications: Notification[];
  emailsQueued: number;
  webhookQueued: boolean;
}

/**
 * Tells every admin of an organisation about something that concerns the organisation, not one
 * user (an alert rule matched, a stream is failing): (a) stores a notification per admin and
 * (b) publishes each for the API processes to push to that admin's open consoles (the bell),
 * (c) queues an email per admin when SMTP is configured and (d) queues one signed delivery to
 * the organisation's webhook when it has an enabled one and a payload is given. The export
 * notifier does the same for one requester.
 */
export function createAdminNotifier(deps: AdminNotifierDeps) {
  const deliveries = producerFor(deps.queue, "notifications");

  return async function notifyOrgAdmins(notice: AdminNotice): Promise<AdminNoticeResult> {
    const noticeId = notice.noticeId ?? newId("msg");
    const result: AdminNoticeResult = {
      noticeId,
      notifications: [],
      emailsQueued: 0,
      webhookQueued: false,
    };
    const found = await findOrgAdmins(deps.db, notice.orgId);
    if (!found) {
      deps.logger.warn("notice for an organization that no longer exists", {
        subjectId: notice.subjectId,
      });
      return result;
    }
    const { org, admins } = found;
    const toConsole = notice.channels?.console ?? true;
    const byEmail = (notice.channels?.email ?? true) && deps.emailEnabled;

    for (const admin of admins) {
      if (toConsole) {
        const { notification: row } = await insertNotification(deps.db, {
          userId: admin.id,
          orgId: org.id,
          kind: notice.kind,
          title: notice.title,
          body: notice.body,
          exportId: null,
          subjectId: notice.subjectId,
          link: notice.link,
        });
        const notification = toNotification(row);
        result.notifications.push(notification);
        // Live push is best effort: the notification is stored, consoles list it on (re)connect.
        const message: RealtimeMessage = {
          userId: admin.id,
          event: "notification",
          data: notification,
        };
        try {
          await deps.publisher.publish(realtimeChannels.notifications, JSON.stringify(message));
        } catch (error) {
          deps.logger.warn("notification not published", {
            notificationId: notification.id,
            error: (error as Error).message,
          });
        }
      }
      if (byEmail) {
        const job: NotifyEmailJob = {
          notificationId: `${noticeId}-${admin.id}`,
          to: admin.email,
          subject: `[auditlog] ${notice.title}: ${org.slug}`,
          text: [
            notice.body,
            "",
            `Organization: ${org.slug}`,
            `In the audit log console: ${notice.link}`,
            "",
            `You receive this email because you are an admin of ${org.slug}.`,
          ].join("\n"),
        };
        await deliveries.add("notify.email", job, {
          jobId: `email-${noticeId}-${admin.id}`,
          backoffDelayMs: deps.retryBaseMs,
        });
        result.emailsQueued += 1;
      }
    }

    if (notice.webhookPayload) {
      const webhook = await findOrgWebhook(deps.db, org.id);
      if (webhook && !webhook.disabledAt) {
        const job: NotifyWebhookJob = {
          messageId: noticeId,
          orgId: org.id,
          payload: notice.webhookPayload,
        };
        await deliveries.add("notify.webhook", job, {
          jobId: `webhook-${noticeId}`,
          backoffDelayMs: deps.retryBaseMs,
        });
        result.webhookQueued = true;
      }
    }
    return result;
  };
}

export type AdminNotifier = ReturnType<typeof createAdminNotifier>;
