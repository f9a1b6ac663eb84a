import { z } from "zod";

/** One email (to an export's requester, or to an organisation's admin); rendered by the producer. */
export const notifyEmailJobSchema = z.strictObject({
  notificationId: z.string().min(1),
  to: z.email(),
  subject: z.string().min(1).max(300),
  text: z.string().min(1).max(20_000),
});
export type NotifyEmailJob = z.infer<typeof notifyEmailJobSchema>;

/**
 * What an organisation's webhook receives (the HTTP body), in the Standard Webhooks shape
 * `{ type, timestamp, data }`. Signed with the headers webhook-id, webhook-timestamp and
 * webhook-signature (`v1,<base64 HMAC-SHA256 of "id.timestamp.body">`).
 */
export const exportWebhookPayloadSchema = z.strictObject({
  type: z.enum(["export.ready", "export.failed"]),
  timestamp: z.iso.datetime(),
  data: z.strictObject({
    exportId: z.string(),
    /** The organisation's slug. */
    org: z.string(),
    format: z.string(),
    status: z.enum(["ready", "failed"]),
    rowsWritten: z.number().int(),
    fileSize: z.number().int().nullable(),
    error: z.string().nullable(),
  }),
});
export type ExportWebhookPayload = z.infer<typeof exportWebhookPayloadSchema>;

/**
 * `alert.fired` (issue 17): an alert rule matched new entries. `matched` counts the entries this
 * message is about: 1 for the first match, N for "N more matches" at the end of a grouping
 * window. `entry` is the first of them (its description, never its IP address or metadata).
 * `link` is the console path of the filtered log.
 */
export const alertFiredWebhookPayloadSchema = z.strictObject({
  type: z.literal("alert.fired"),
  timestamp: z.iso.datetime(),
  data: z.strictObject({
    ruleId: z.string(),
    ruleName: z.string(),
    /** The organisation's slug. */
    org: z.string(),
    q: z.string(),
    matched: z.number().int().positive(),
    /** True for a window's summary ("N more matches"), false for the first match. */
    grouped: z.boolean(),
    entry: z
      .strictObject({
        id: z.string(),
        seq: z.number().int().positive(),
        type: z.string(),
        description: z.string(),
        occurredAt: z.iso.datetime(),
      })
      .nullable(),
    link: z.string(),
  }),
});
export type AlertFiredWebhookPayload = z.infer<typeof alertFiredWebhookPayloadSchema>;

/**
 * `stream.failing` / `stream.recovered` (issue 17): a log stream could not deliver for longer
 * than STREAM_FAILING_AFTER_SECONDS, or delivered again after that. Never the destination's
 * secret nor its full URL: the stream is named by id, name and destination type.
 */
export const streamFailingWebhookPayloadSchema = z.strictObject({
  type: z.literal("stream.failing"),
  timestamp: z.iso.datetime(),
  data: z.strictObject({
    streamId: z.string(),
    streamName: z.string(),
    org: z.string(),
    destinationType: z.string(),
    failingSince: z.iso.datetime(),
    /** The last error, as the stream's status shows it (bounded, no secret). */
    lastError: z.string().max(1000).nullable(),
    /** Entries waiting: the log's size minus the stream's cursor. */
    behindBy: z.number().int().nonnegative().nullable(),
    link: z.string(),
  }),
});
export type StreamFailingWebhookPayload = z.infer<typeof streamFailingWebhookPayloadSchema>;

export const streamRecoveredWebhookPayloadSchema = z.strictObject({
  type: z.literal("stream.recovered"),
  timestamp: z.iso.datetime(),
  data: z.strictObject({
    streamId: z.string(),
    streamName: z.string(),
    org: z.string(),
    destinationType: z.string(),
    /** When the failure that was reported began. */
    failingSince: z.iso.datetime().nullable(),
    recoveredAt: z.iso.datetime(),
    link: z.string(),
  }),
});
export type StreamRecoveredWebhookPayload = z.infer<typeof streamRecoveredWebhookPayloadSchema>;

/** Every message an organisation's webhook can receive. */
export const webhookPayloadSchema = z.union([
  exportWebhookPayloadSchema,
  alertFiredWebhookPayloadSchema,
  streamFailingWebhookPayloadSchema,
  streamRecoveredWebhookPayloadSchema,
]);
export type WebhookPayload = z.infer<typeof webhookPayloadSchema>;

/**
 * One webhook delivery. The URL and secret are read when the delivery is attempted (never put in
 * Redis), so a changed URL, a rotated secret or a removed webhook apply to pending retries.
 */
export const notifyWebhookJobSchema = z.strictObject({
  /** The `webhook-id` header: the same on every retry, so receivers can deduplicate. */
  messageId: z.string().min(1),
  orgId: z.string().min(1),
  payload: webhookPayloadSchema,
});
export type NotifyWebhookJob = z.infer<typeof notifyWebhookJobSchema>;

/**
 * One message to an alert rule's Slack-compatible incoming webhook (issue 17). The URL is a
 * secret: it never enters Redis. The consumer reads the rule's sealed URL when it delivers, so
 * a changed or removed URL applies to pending retries (a deleted rule: nothing is sent).
 */
export const notifySlackJobSchema = z.strictObject({
  /** Stable across retries (the firing's id), for logs and deduplication. */
  messageId: z.string().min(1),
  orgId: z.string().min(1),
  ruleId: z.string().min(1),
  /** Slack's `text` (mrkdwn). */
  text: z.string().min(1).max(4000),
});
export type NotifySlackJob = z.infer<typeof notifySlackJobSchema>;
