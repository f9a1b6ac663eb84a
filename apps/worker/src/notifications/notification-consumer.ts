import {
  type Database,
  disableOrgWebhook,
  findAlertRule,
  findOrgWebhook,
  loadSecretBox,
  type SecretBox,
} from "@auditlog/db";
import type { NotifyEmailJob, NotifySlackJob, NotifyWebhookJob } from "@auditlog/events/jobs";
import type { HostLookup } from "@auditlog/events/webhooks";
import type { Logger } from "@auditlog/observability";
import type { RedisConnection } from "@auditlog/redis";
import { type Job, UnrecoverableError } from "bullmq";
import type { Transporter } from "nodemailer";
import type { WorkerMetrics } from "../metrics/worker-metrics.ts";
import { startConsumer } from "../queues/start-consumer.ts";
import { deliverSlack } from "./deliver-slack.ts";
import { deliverWebhook } from "./deliver-webhook.ts";

export interface NotificationConsumerDeps {
  connection: RedisConnection;
  queueName: string;
  db: Database;
  logger: Logger;
  /** Null when SMTP is not configured; email jobs then fail without retry. */
  mailer: Transporter | null;
  mailFrom: string;
  webhookTimeoutMs: number;
  /** WEBHOOK_ALLOW_LOCAL_URLS: the API's rule, applied again at every delivery. */
  webhookAllowLocal: boolean;
  /** Resolves webhook hosts; the machine's resolver unless a test injects one. */
  lookupHost?: HostLookup;
  concurrency: number;
  /**
   * Opens the sealed Slack URLs of alert rules (SECRETS_KEY_FILE); read on the first Slack
   * message, so a process that never sends one never reads the key file.
   */
  secrets?: () => SecretBox;
  metrics?: WorkerMetrics | undefined;
}

/** Consumes `notify.email` and `notify.webhook` jobs (their retry policy is the job catalog's). */
export function startNotificationConsumer(deps: NotificationConsumerDeps) {
  return startConsumer({
    queue: "notifications",
    queueName: deps.queueName,
    connection: deps.connection,
    concurrency: deps.concurrency,
    logger: deps.logger,
    metrics: deps.metrics,
    handlers: {
      "notify.email": (payload) => sendEmail(payload, deps),
      "notify.webhook": (payload, job) => deliverWebhookJob(payload, job, deps),
      "notify.slack": (payload, job) => deliverSlackJob(payload, job, deps),
    },
  });
}

async function sendEmail(
  { notificationId, to, subject, text }: NotifyEmailJob,
  deps: NotificationConsumerDeps,
) {
  if (!deps.mailer) throw new UnrecoverableError("SMTP is not configured (SMTP_URL)");
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

async function deliverWebhookJob(
  delivery: NotifyWebhookJob,
  job: Job,
  deps: NotificationConsumerDeps,
) {
  const webhook = await findOrgWebhook(deps.db, delivery.orgId);
  if (!webhook || webhook.disabledAt) {
    // Removed or disabled since the message was queued: nothing to deliver.
    return { skipped: webhook ? "webhook disabled" : "no webhook" };
  }
  const outcome = await deliverWebhook({
    url: webhook.url,
    secret: webhook.secret,
    job: delivery,
    timeoutMs: deps.webhookTimeoutMs,
    allowLocal: deps.webhookAllowLocal,
    ...(deps.lookupHost ? { lookup: deps.lookupHost } : {}),
  });
  switch (outcome.kind) {
    case "delivered":
      return { status: outcome.status, attempt: job.attemptsMade + 1 };
    case "rejected":
      throw new UnrecoverableError(`webhook receiver rejected the message (${outcome.status})`);
    case "gone":
      await disableOrgWebhook(deps.db, { orgId: webhook.orgId, url: webhook.url });
      deps.logger.warn("webhook disabled: receiver answered 410 Gone", { orgId: webhook.orgId });
      throw new UnrecoverableError("webhook receiver answered 410 Gone; webhook disabled");
    case "refused":
      // Nothing was sent. The URL has to change (or the setting): retrying cannot help.
      deps.logger.warn("webhook URL refused", { orgId: webhook.orgId, reason: outcome.reason });
      throw new UnrecoverableError(`webhook URL refused: ${outcome.reason}`);
    case "retry":
      throw new Error(`webhook delivery failed: ${outcome.reason}`);
  }
}

/** The worker's secrets box, loaded once (the default: SECRETS_KEY_FILE of the environment). */
export function lazySecretBox(file: string): () => SecretBox {
  let box: SecretBox | undefined;
  return () => {
    box ??= loadSecretBox(file);
    return box;
  };
}

async function deliverSlackJob(delivery: NotifySlackJob, job: Job, deps: NotificationConsumerDeps) {
  const rule = await findAlertRule(deps.db, { orgId: delivery.orgId, id: delivery.ruleId });
  if (!rule?.slackUrlSealed) {
    // Deleted, or its Slack URL removed, since the message was queued: nothing to deliver.
    return { skipped: rule ? "no Slack URL" : "no rule" };
  }
  if (!deps.secrets) throw new UnrecoverableError("no secrets key to open the Slack URL with");
  const url = deps.secrets().open(rule.slackUrlSealed);
  const outcome = await deliverSlack({
    url,
    text: delivery.text,
    timeoutMs: deps.webhookTimeoutMs,
    allowLocal: deps.webhookAllowLocal,
    ...(deps.lookupHost ? { lookup: deps.lookupHost } : {}),
  });
  // Never the URL (a secret) nor an address in what is thrown or logged: the rule's id only.
  switch (outcome.kind) {
    case "delivered":
      return { status: outcome.status, attempt: job.attemptsMade + 1 };
    case "rejected":
      throw new UnrecoverableError(`Slack webhook rejected the message (${outcome.status})`);
    case "gone":
      throw new UnrecoverableError("Slack webhook answered 410 Gone");
    case "refused":
      deps.logger.warn("Slack URL refused", { ruleId: rule.id, reason: outcome.reason });
      throw new UnrecoverableError(`Slack URL refused: ${outcome.reason}`);
    case "retry":
      throw new Error(`Slack delivery failed: ${outcome.reason}`);
  }
}
