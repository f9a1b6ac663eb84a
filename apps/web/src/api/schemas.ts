// First: zod's configuration, before any schema below is built (strict-csp.ts says why).
import "../strict-csp.ts";
import { notificationSchema, streamSchema } from "@auditlog/events";
import { z } from "zod";

/**
 * Every schema the console checks the API's answers against, in one module that client.ts
 * imports dynamically: zod (26 KB compressed) and the schemas' construction (a long task on a
 * slow CPU) then stay off the first screen's critical path. The first row needs no check before
 * it is drawn (the log's pages are checked when idle), and the answers checked at once wait for
 * this chunk, which loads while their requests are under way.
 */
export {
  alertRuleListSchema,
  alertRuleSchema,
  auditEntryPageSchema,
  auditEntrySchema,
  checkpointKeysSchema,
  consistencyProofSchema,
  createdViewerLinkSchema,
  deadLetterPageSchema,
  entriesStoredEventSchema,
  exportListSchema,
  exportProgressSchema,
  exportSchema,
  facetsSchema,
  histogramSchema,
  inclusionProofSchema,
  logCheckpointSchema,
  memberListSchema,
  notificationSchema,
  retentionSettingsSchema,
  savedViewListSchema,
  savedViewSchema,
  streamListSchema,
  streamSchema,
  suggestionsSchema,
  viewerEmbeddingSchema,
  viewerLinkListSchema,
} from "@auditlog/events";

/** `GET /v1/notifications`: `{ notifications: [...] }` (a bare array is accepted too). */
export const notificationListSchema = z.preprocess(
  (value) =>
    Array.isArray(value) ? value : (value as { notifications?: unknown } | null)?.notifications,
  notificationSchema.array(),
);

/** The create answer: the stream, and an https stream's generated signing secret (once). */
export const createdStreamSchema = streamSchema.extend({ signingSecret: z.string().optional() });
export type CreatedStream = z.infer<typeof createdStreamSchema>;
