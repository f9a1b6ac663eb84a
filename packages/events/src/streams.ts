import { z } from "zod";
import type { AuditEntry } from "./entry.ts";

/**
 * Log streams (issue 17): the API's request and answer shapes, shared by the API, the worker,
 * the CLI and the console. A stream delivers an organisation's entries in `seq` order, at least
 * once, to one destination, each entry with its `id` and `seq` so the receiver can deduplicate.
 *
 * Each destination's settings are split in two: what is not secret (kept as JSON and answered
 * by a GET) and its one secret (`token`, `apiKey`, `secretAccessKey` or `signingSecret`), sealed
 * at rest and answered only as its last four characters (`secretHint`).
 */

export const streamDestinationTypes = ["https", "splunk", "datadog", "s3"] as const;
export type StreamDestinationType = (typeof streamDestinationTypes)[number];

const name = z
  .string({ error: "is required" })
  .trim()
  .min(1, "must not be empty")
  .max(100, "must be at most 100 characters");
/** Checked against the webhook address rules by the API (and again by the worker). */
const url = z.string({ error: "is required" }).max(2000, "must be at most 2,000 characters");
const secret = (what: string) =>
  z
    .string({ error: `is required (the ${what})` })
    .min(8, "must be at least 8 characters")
    .max(1000, "must be at most 1,000 characters");
const label = z.string().max(200, "must be at most 200 characters");

/** `https`: batches POSTed as JSON, signed the Standard Webhooks way with `signingSecret`. */
export const httpsDestinationSchema = z.strictObject({
  type: z.literal("https"),
  url,
});
/** `splunk`: the HTTP Event Collector at `url` (`…/services/collector/event` is appended). */
export const splunkDestinationSchema = z.strictObject({
  type: z.literal("splunk"),
  url,
  index: label.optional(),
  source: label.optional(),
  sourcetype: label.default("auditlog"),
});
/** `datadog`: the logs intake API v2 of `site` (or an explicit `url`, for tests and proxies). */
export const datadogDestinationSchema = z.strictObject({
  type: z.literal("datadog"),
  site: z
    .string()
    .regex(/^[a-z0-9.-]+$/, "must be a Datadog site such as datadoghq.com or datadoghq.eu")
    .default("datadoghq.com"),
  url: url.optional(),
  service: label.default("auditlog"),
  ddsource: label.default("auditlog"),
  ddtags: z.string().max(1000, "must be at most 1,000 characters").optional(),
});
/** `s3`: gzip NDJSON objects at `<prefix>/<org>/<yyyy>/<mm>/<dd>/<firstSeq>-<lastSeq>.ndjson.gz`. */
export const s3DestinationSchema = z.strictObject({
  type: z.literal("s3"),
  bucket: z
    .string({ error: "is required" })
    .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, "must be an S3 bucket name"),
  prefix: z
    .string()
    .max(500, "must be at most 500 characters")
    .regex(/^[^/].*[^/]$|^$|^[^/]$/, "must not start or end with /")
    .default(""),
  region: z.string().max(50).default("us-east-1"),
  /** Any S3-compatible endpoint (MinIO, R2, a test server); AWS when absent. */
  endpoint: url.optional(),
  forcePathStyle: z.boolean().default(false),
  accessKeyId: z.string({ error: "is required" }).min(1).max(200),
});

/** A destination as created: its settings and its secret (required for every type). */
export const streamDestinationInputSchema = z.discriminatedUnion(
  "type",
  [
    httpsDestinationSchema.extend({ signingSecret: secret("signing secret, whsec_…").optional() }),
    splunkDestinationSchema.extend({ token: secret("HEC token") }),
    datadogDestinationSchema.extend({ apiKey: secret("Datadog API key") }),
    s3DestinationSchema.extend({ secretAccessKey: secret("secret access key") }),
  ],
  { error: `must have a type among ${streamDestinationTypes.join(", ")}` },
);
export type StreamDestinationInput = z.infer<typeof streamDestinationInputSchema>;

/** A destination as stored and answered: the settings without the secret. */
export const streamDestinationSchema = z.discriminatedUnion("type", [
  httpsDestinationSchema,
  splunkDestinationSchema,
  datadogDestinationSchema,
  s3DestinationSchema,
]);
export type StreamDestination = z.infer<typeof streamDestinationSchema>;

/** The name of the secret field of each destination type. */
export const streamSecretField = {
  https: "signingSecret",
  splunk: "token",
  datadog: "apiKey",
  s3: "secretAccessKey",
} as const satisfies Record<StreamDestinationType, string>;

/** Where a new stream starts: entries stored from now on, or every retained entry from `seq`. */
export const streamStartSchema = z.union([
  z.literal("now"),
  z.strictObject({ seq: z.number().int().min(1, "must be at least 1") }),
]);

/** `POST /v1/orgs/:org/streams`. */
export const createStreamSchema = z.strictObject({
  name,
  destination: streamDestinationInputSchema,
  /** The query language; empty: every entry, hidden types included. */
  q: z.string().max(2000, "must be at most 2,000 characters").default(""),
  start: streamStartSchema.default("now"),
});
export type CreateStream = z.infer<typeof createStreamSchema>;

/**
 * `PATCH /v1/orgs/:org/streams/:id`: any of name, q, paused, and the destination (whose secret
 * may be left out to keep the stored one, as long as the type does not change).
 */
export const updateStreamSchema = z.strictObject({
  name: name.optional(),
  q: z.string().max(2000, "must be at most 2,000 characters").optional(),
  paused: z.boolean().optional(),
  destination: z.record(z.string(), z.unknown()).optional(),
});
export type UpdateStream = z.infer<typeof updateStreamSchema>;

export const streamStates = ["active", "paused", "failing"] as const;
export type StreamState = (typeof streamStates)[number];

/** A stream as the API answers it (never its secret). */
export const streamSchema = z.object({
  id: z.string(),
  name: z.string(),
  destination: streamDestinationSchema,
  /** Last four characters of the destination's secret; null when it has none. */
  secretHint: z.string().nullable(),
  q: z.string(),
  state: z.enum(streamStates),
  /** Every entry with seq ≤ this was delivered (or did not match `q`). */
  deliveredSeq: z.number().int(),
  lag: z.object({
    /** Entries of the log after `deliveredSeq` (matching or not). */
    entries: z.number().int(),
    /** Age of the oldest entry not yet delivered; 0 when caught up. */
    seconds: z.number(),
  }),
  lastError: z.string().nullable(),
  lastErrorAt: z.iso.datetime().nullable(),
  lastSuccessAt: z.iso.datetime().nullable(),
  failingSince: z.iso.datetime().nullable(),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
});
export type LogStream = z.infer<typeof streamSchema>;

/**
 * Whether the stream delivered after its last error: the error is then history, kept with its
 * time for whoever looks into it, not the stream's present (the CLI and the console say so).
 */
export function deliveredSinceLastError(
  stream: Pick<LogStream, "lastErrorAt" | "lastSuccessAt">,
): boolean {
  if (!stream.lastErrorAt || !stream.lastSuccessAt) return false;
  return Date.parse(stream.lastSuccessAt) > Date.parse(stream.lastErrorAt);
}

export const streamListSchema = z.object({ streams: z.array(streamSchema) });
export type LogStreamList = z.infer<typeof streamListSchema>;

/** `POST …/streams/:id/test`: one test message sent now, and what the receiver answered. */
export const streamTestResultSchema = z.object({
  ok: z.boolean(),
  status: z.number().int().nullable(),
  message: z.string(),
});
export type StreamTestResult = z.infer<typeof streamTestResultSchema>;

/** The setting the API (to answer `state`) and the worker (to notify) must agree on. */
export const streamStateEnv = {
  /**
   * A stream whose deliveries have failed for longer than this is `failing`, and its admins are
   * told (console, email, webhook). Shorter outages only show as lag and `lastError`.
   */
  STREAM_FAILING_AFTER_SECONDS: z.coerce.number().int().min(10).max(604_800).default(900),
};

/**
 * One entry as a stream sends it: `json` is the entry exactly as the query API answers it
 * (`AuditEntry` as JSON text), beside the fields the protocols put outside the entry (the batch
 * id, the S3 key, Splunk's `time`, Datadog's `date`). The worker has PostgreSQL render `json`
 * (`readStreamEntries`), so a batch is read and sent without building an object per entry or
 * serialising it again; every sender splices the text into its own envelope.
 */
export interface StreamEntry {
  id: string;
  seq: number;
  /** ISO 8601, milliseconds, UTC (as `AuditEntry.occurredAt`). */
  occurredAt: string;
  receivedAt: string;
  json: string;
}

/** A `StreamEntry` from an entry object (the API's test message, tests). */
export function streamEntryOf(entry: AuditEntry): StreamEntry {
  return {
    id: entry.id,
    seq: entry.seq,
    occurredAt: entry.occurredAt,
    receivedAt: entry.receivedAt,
    json: JSON.stringify(entry),
  };
}
