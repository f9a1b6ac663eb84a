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

/**
 * `GET /v1/orgs/:org/members`, as @auditlog/events' `memberListSchema` but with the role as a
 * string: that schema's role enum imports roles.ts, which the first screen shares (`roleCan`),
 * and a third importer made the bundler split roles.ts into a chunk of its own, one more request
 * before the first row. The database's check holds every stored role to the list.
 */
export const memberListSchema = z.object({
  members: z.array(
    z.object({
      userId: z.string(),
      email: z.string(),
      name: z.string(),
      role: z.string().min(1),
      joinedAt: z.iso.datetime(),
    }),
  ),
  nextCursor: z.string().nullable(),
});
