import { z } from "zod";

/**
 * The background-export contract shared by the API (requests, status, downloads), the worker
 * (builds the files) and the console (dialog, progress, notifications).
 */
export const exportFormats = ["json", "ndjson", "csv"] as const;
export const exportFormatSchema = z.enum(exportFormats);
export type ExportFormat = z.infer<typeof exportFormatSchema>;

export const exportStatuses = ["queued", "running", "ready", "failed", "expired"] as const;
export const exportStatusSchema = z.enum(exportStatuses);
export type ExportStatus = z.infer<typeof exportStatusSchema>;

/** The same filters as the query API's parameters; combined with `q` (AND). */
export const exportFiltersSchema = z.strictObject({
  actor: z.string().max(300).optional(),
  type: z.array(z.string().max(200)).max(50).optional(),
  category: z.array(z.string().max(50)).max(10).optional(),
  target: z.string().max(300).optional(),
  ip: z.string().max(100).optional(),
  country: z.string().max(2).optional(),
  from: z.string().max(40).optional(),
  to: z.string().max(40).optional(),
  text: z.string().max(300).optional(),
  includeHidden: z.boolean().optional(),
});
export type ExportFilters = z.infer<typeof exportFiltersSchema>;

export const createExportRequestSchema = z.strictObject({
  q: z.string().max(2000).optional(),
  filters: exportFiltersSchema.optional(),
  format: exportFormatSchema,
});
export type CreateExportRequest = z.infer<typeof createExportRequestSchema>;

/**
 * What a finished export's manifest says (version 1): enough to check the file offline. Its
 * signature is a C2SP signed note, signed with the checkpoint key, whose text is the RFC 8785
 * canonical JSON of this object followed by a newline.
 */
export const exportManifestBodySchema = z.strictObject({
  version: z.literal(1),
  exportId: z.string(),
  orgId: z.string(),
  /** LOG_ORIGIN of the deployment: the checkpoint's origin is `<logOrigin>/orgs/<orgId>`. */
  logOrigin: z.string(),
  format: exportFormatSchema,
  /** Entries in the file. */
  rows: z.number().int().min(0),
  /** SHA-256 of the file as downloaded (the gzip bytes), lowercase hex as `sha256sum` prints. */
  fileSha256: z.string().regex(/^[0-9a-f]{64}$/),
  fileSize: z.number().int().min(0),
  /** The whole filter, printed in the query language ("" for none). */
  query: z.string(),
  includeHidden: z.boolean(),
  /**
   * No filter and hidden entries included: the file holds every entry with seq 1 … treeSize,
   * so its entries rebuild the checkpoint's root.
   */
  unfiltered: z.boolean(),
  /** Smallest and largest seq in the file (null when it is empty). */
  firstSeq: z.number().int().min(1).nullable(),
  lastSeq: z.number().int().min(1).nullable(),
  /** The signed checkpoint the export was cut at: it holds every entry with seq ≤ treeSize. */
  checkpoint: z.strictObject({
    treeSize: z.number().int().min(0),
    rootHash: z.string(),
    note: z.string(),
  }),
  createdAt: z.iso.datetime(),
});
export type ExportManifestBody = z.infer<typeof exportManifestBodySchema>;

export const exportManifestSchema = exportManifestBodySchema.extend({
  /** C2SP signed note: text = canonical JSON (RFC 8785) of every other member + "\n". */
  signature: z.string(),
});
export type ExportManifest = z.infer<typeof exportManifestSchema>;

export const exportSchema = z.object({
  id: z.string(),
  status: exportStatusSchema,
  format: exportFormatSchema,
  /** The whole filter, printed in the query language. */
  query: z.string(),
  requestedBy: z.object({ id: z.string(), name: z.string() }),
  rowsWritten: z.number().int(),
  estimatedTotal: z.number().int().nullable(),
  /** Bytes of the finished (gzip) file. */
  fileSize: z.number().int().nullable(),
  error: z.string().nullable(),
  createdAt: z.iso.datetime(),
  startedAt: z.iso.datetime().nullable(),
  finishedAt: z.iso.datetime().nullable(),
  expiresAt: z.iso.datetime().nullable(),
  /** The signed manifest of a ready export (also `GET …/exports/:id/manifest`); null before. */
  manifest: exportManifestSchema.nullable(),
});
export type AuditExport = z.infer<typeof exportSchema>;

/** `GET /v1/orgs/:org/exports`: the organisation's exports, newest first. */
export const exportListSchema = z.object({ exports: z.array(exportSchema) });
export type AuditExportList = z.infer<typeof exportListSchema>;

/** `POST /v1/orgs/:org/exports/:id/link`: a download link that needs no session, until expiresAt. */
export const exportLinkSchema = z.object({ url: z.string(), expiresAt: z.iso.datetime() });
export type ExportLink = z.infer<typeof exportLinkSchema>;

export const notificationKinds = [
  "export.ready",
  "export.failed",
  // Issue 17: an alert rule matched; a stream turned failing, or recovered.
  "alert.fired",
  "stream.failing",
  "stream.recovered",
] as const;
export const notificationSchema = z.object({
  id: z.string(),
  kind: z.enum(notificationKinds),
  title: z.string(),
  body: z.string(),
  orgSlug: z.string(),
  exportId: z.string().nullable(),
  /** The alert rule or stream a notification is about (null for exports). */
  subjectId: z.string().nullable(),
  /** Where the console takes the reader: a path of the console (the filtered log for an alert). */
  link: z.string().nullable(),
  createdAt: z.iso.datetime(),
  readAt: z.iso.datetime().nullable(),
});
export type Notification = z.infer<typeof notificationSchema>;

/**
 * Server-Sent Events on `GET /v1/notifications/stream`: `event: notification` carries a
 * Notification; `event: export.progress` carries an ExportProgress for the requester's
 * running exports, so progress bars move without polling.
 */
export const exportProgressSchema = z.object({
  exportId: z.string(),
  orgSlug: z.string(),
  status: exportStatusSchema,
  rowsWritten: z.number().int(),
  estimatedTotal: z.number().int().nullable(),
});
export type ExportProgress = z.infer<typeof exportProgressSchema>;

/**
 * Redis pub/sub channels that carry live updates from the worker to every API process, which
 * forwards them to the right user's open consoles. Each message is JSON `{ userId, event, data }`
 * where `event` is the SSE event name and `data` its payload.
 */
export const realtimeChannels = {
  notifications: "auditlog:realtime:notifications",
  exportProgress: "auditlog:realtime:export-progress",
  /** Per organisation, not per user: `EntriesStoredMessage`, relayed to the org's admins. */
  entriesStored: "auditlog:realtime:entries-stored",
} as const;

export const realtimeMessageSchema = z.discriminatedUnion("event", [
  z.object({ userId: z.string(), event: z.literal("notification"), data: notificationSchema }),
  z.object({ userId: z.string(), event: z.literal("export.progress"), data: exportProgressSchema }),
]);
export type RealtimeMessage = z.infer<typeof realtimeMessageSchema>;

/**
 * Published by the worker on `realtimeChannels.entriesStored` after a write committed: how many
 * entries of one organisation it stored and the highest `seq` it reached. Counts only, never an
 * entry's content (no names, addresses or descriptions cross Redis or reach a console this way);
 * one message per organisation per group write, however many jobs shared it.
 */
export const entriesStoredMessageSchema = z.object({
  orgId: z.string(),
  count: z.number().int().positive(),
  highestSeq: z.number().int().positive(),
});
export type EntriesStoredMessage = z.infer<typeof entriesStoredMessageSchema>;

/**
 * `event: entries.stored` on the live stream, sent to each admin of the organisation: the
 * console's "N new entries" pill. The organisation is named by slug, as the console knows it.
 */
export const entriesStoredEventSchema = z.object({
  orgSlug: z.string(),
  count: z.number().int().positive(),
  highestSeq: z.number().int().positive(),
});
export type EntriesStoredEvent = z.infer<typeof entriesStoredEventSchema>;
