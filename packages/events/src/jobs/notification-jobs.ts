import { z } from "zod";

/** One email to the requester of a finished export; rendered by the producer. */
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
 * One webhook delivery. The URL and secret are read when the delivery is attempted (never put in
 * Redis), so a changed URL, a rotated secret or a removed webhook apply to pending retries.
 */
export const notifyWebhookJobSchema = z.strictObject({
  /** The `webhook-id` header: the same on every retry, so receivers can deduplicate. */
  messageId: z.string().min(1),
  orgId: z.string().min(1),
  payload: exportWebhookPayloadSchema,
});
export type NotifyWebhookJob = z.infer<typeof notifyWebhookJobSchema>;
