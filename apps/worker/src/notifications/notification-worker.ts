import { type Database, disableOrgWebhook, findOrgWebhook } from "@auditlog/db";
import {
  type NotifyJobName,
  type NotifyJobPayloads,
  notifyEmailJobSchema,
  notifyJobNames,
  notifyWebhookJobSchema,
} from "@auditlog/events/jobs";
import type { Logger } from "@auditlog/observability";
import { type Job, UnrecoverableError, Worker } from "bullmq";
import type { Redis } from "ioredis";
import type { Transporter } from "nodemailer";
import { deliverWebhook } from "./deliver-webhook.ts";

export interface NotificationWorkerDeps {
  connection: Redis;
  queueName: string;
  db: Database;
  logger: Logger;
  /** Null when SMTP is not configured; email jobs then fail without retry. */
  mailer: Transporter | null;
  mailFrom: string;
  webhookTimeoutMs: number;
  concurrency: number;
}

type Handlers = {
  [K in NotifyJobName]: (job: Job<NotifyJobPayloads[K]>) => Promise<unknown>;
};

function issuesOf(error: { issues: Array<{ path: PropertyKey[]; message: string }> }): string {
  return error.issues.map((i) => `${i.path.join(".")} ${i.message}`).join("; ");
}

/** Consumes `notify.email` and `notify.webhook` jobs (retry policy is set by the producer). */
export function createNotificationWorker(deps: NotificationWorkerDeps): Worker {
  const handlers: Handlers = {
    [notifyJobNames.email]: (job) => handleEmail(job, deps),
    [notifyJobNames.webhook]: (job) => handleWebhook(job, deps),
  };
  const worker = new Worker(
    deps.queueName,
    async (job: Job) => {
      const handler = handlers[job.name as NotifyJobName];
      if (!handler) throw new UnrecoverableError(`unknown job name "${job.name}"`);
      return handler(job);
    },
    {
      connection: deps.connection,
      concurrency: deps.concurrency,
      removeOnComplete: { count: 0 },
      removeOnFail: { age: 7 * 24 * 3600 },
    },
  );
  worker.on("failed", (job, error) => {
    deps.logger.warn("notification job failed", {
      jobId: job?.id,
      name: job?.name,
      attempt: job?.attemptsMade,
      error: error.message,
    });
  });
  worker.on("error", (error) =>
    deps.logger.error("notification worker error", { error: error.message }),
  );
  return worker;
}

async function handleEmail(job: Job, deps: NotificationWorkerDeps) {
  const parsed = notifyEmailJobSchema.safeParse(job.data);
  if (!parsed.success) {
    throw new UnrecoverableError(`malformed email job: ${issuesOf(parsed.error)}`);
  }
  if (!deps.mailer) throw new UnrecoverableError("SMTP is not configured (SMTP_URL)");
  const { notificationId, to, subject, text } = parsed.data;
  try {
    const info = await deps.mailer.sendMail({
      from: deps.mailFrom,
      to,
      subject,
      text,
      // Stable across retries, so a receiving server can tell a repeat from a new message.
      messageId: `<${notificationId}@auditlog>`,
    });
    return { messageId: info.messageId };
  } catch (error) {
    const responseCode = (error as { responseCode?: number }).responseCode;
    // A permanent SMTP refusal (5xx: no such mailbox, relay denied) will not change on retry.
    if (typeof responseCode === "number" && responseCode >= 500 && responseCode < 600) {
      throw new UnrecoverableError(
        `SMTP server refused the message (${responseCode}): ${(error as Error).message}`,
      );
    }
    throw error;
  }
}

async function handleWebhook(job: Job, deps: NotificationWorkerDeps) {
  const parsed = notifyWebhookJobSchema.safeParse(job.data);
  if (!parsed.success) {
    throw new UnrecoverableError(`malformed webhook job: ${issuesOf(parsed.error)}`);
  }
  const webhook = await findOrgWebhook(deps.db, parsed.data.orgId);
  if (!webhook || webhook.disabledAt) {
    // Removed or disabled since the message was queued: nothing to deliver.
    return { skipped: webhook ? "webhook disabled" : "no webhook" };
  }
  const outcome = await deliverWebhook({
    url: webhook.url,
    secret: webhook.secret,
    job: parsed.data,
    timeoutMs: deps.webhookTimeoutMs,
  });
  switch (outcome.kind) {
    case "delivered":
      return { status: outcome.status, attempts: job.attemptsMade + 1 };
    case "rejected":
      throw new UnrecoverableError(`webhook receiver rejected the message (${outcome.status})`);
    case "gone":
      await disableOrgWebhook(deps.db, { orgId: webhook.orgId, url: webhook.url });
      deps.logger.warn("webhook disabled: receiver answered 410 Gone", { orgId: webhook.orgId });
      throw new UnrecoverableError("webhook receiver answered 410 Gone; webhook disabled");
    case "retry":
      throw new Error(`webhook delivery failed: ${outcome.reason}`);
  }
}
