import { z } from "zod";
import { auditEventSchema } from "./catalog/index.ts";

/**
 * The contract between the API (producer) and the worker (consumer). Queue names are
 * configurable so tests can run against their own queues.
 */
export const defaultQueueNames = {
  ingest: "auditlog-ingest",
  exports: "auditlog-exports",
  notifications: "auditlog-notifications",
} as const;

/**
 * Bump when a rule the JSON Schema below cannot express changes (a `.refine`, a describe-time
 * assumption), so that workers stop trusting jobs validated under the old rule.
 */
const catalogRulesRevision = 1;

/** FNV-1a, twice with different offsets: a version tag, not a security measure. */
function fingerprint(text: string): string {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ 0x5bd1e995;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    a = Math.imul(a ^ code, 0x01000193) >>> 0;
    b = Math.imul(b ^ code, 0x01000193) >>> 0;
  }
  return a.toString(16).padStart(8, "0") + b.toString(16).padStart(8, "0");
}

/**
 * Identifies the event catalog's rules: every type, field, length, pattern and format, from the
 * catalog's JSON Schema. The API stamps each ingest job with the fingerprint it validated the
 * events with; a worker whose catalog has the same fingerprint does not validate them again
 * (about a sixth of its time per event), and one with another catalog (a deployment rolling
 * out) validates every event itself.
 */
export const catalogFingerprint = fingerprintCatalog(auditEventSchema);

export function fingerprintCatalog(schema: z.ZodType): string {
  const jsonSchema = z.toJSONSchema(schema, { unrepresentable: "any", io: "input" });
  return fingerprint(`${catalogRulesRevision}:${JSON.stringify(jsonSchema)}`);
}

export const ingestBatchJobSchema = z.strictObject({
  orgId: z.string().min(1),
  receivedAt: z.iso.datetime(),
  /**
   * The `catalogFingerprint` of the API that validated `events` (and wrote them in their parsed
   * form). Absent or different: the worker validates every event, and refuses invalid ones.
   */
  catalog: z.string().max(64).optional(),
  events: z.array(z.unknown()).min(1).max(1000),
});
export type IngestBatchJob = z.infer<typeof ingestBatchJobSchema>;

export const ingestJobNames = { batch: "ingest.batch" } as const;

/** Every job name with its payload schema; workers must register a handler for each. */
export const ingestJobs = {
  [ingestJobNames.batch]: ingestBatchJobSchema,
} as const;
export type IngestJobName = keyof typeof ingestJobs;
export type IngestJobPayloads = { [K in IngestJobName]: z.infer<(typeof ingestJobs)[K]> };

// ─── Background exports (queue `auditlog-exports`) ─────────────────────────────────────────────

export const exportJobNames = { build: "export.build", expire: "export.expire" } as const;

/** Builds one export's file; the row in `exports` holds everything else (query, format …). */
export const exportBuildJobSchema = z.strictObject({
  exportId: z.string().regex(/^exp_[0-9a-f]{24}$/),
});
export type ExportBuildJob = z.infer<typeof exportBuildJobSchema>;

/** Scheduled (a BullMQ job scheduler): deletes files past their expiry. No payload. */
export const exportExpireJobSchema = z.strictObject({});
export type ExportExpireJob = z.infer<typeof exportExpireJobSchema>;

/** Every export job name with its payload schema; the worker registers a handler for each. */
export const exportJobs = {
  [exportJobNames.build]: exportBuildJobSchema,
  [exportJobNames.expire]: exportExpireJobSchema,
} as const;
export type ExportJobName = keyof typeof exportJobs;
export type ExportJobPayloads = { [K in ExportJobName]: z.infer<(typeof exportJobs)[K]> };

// ─── Notifications (queue `auditlog-notifications`): email and webhook deliveries ─────────────

export const notifyJobNames = { email: "notify.email", webhook: "notify.webhook" } as const;

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

/** Every notification job name with its payload schema; the worker registers a handler for each. */
export const notifyJobs = {
  [notifyJobNames.email]: notifyEmailJobSchema,
  [notifyJobNames.webhook]: notifyWebhookJobSchema,
} as const;
export type NotifyJobName = keyof typeof notifyJobs;
export type NotifyJobPayloads = { [K in NotifyJobName]: z.infer<(typeof notifyJobs)[K]> };
