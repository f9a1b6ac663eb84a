import { z } from "zod";
import { categorySchema } from "./envelope.ts";

/**
 * `GET /v1/orgs/:org/audit-logs/histogram`: how many entries match a filter per hour or per day,
 * by category, so the console can draw activity over time. Buckets are UTC-aligned, contiguous
 * (empty ones included), oldest first, and bounded in number.
 */
export const histogramIntervals = ["hour", "day"] as const;
export const histogramIntervalSchema = z.enum(histogramIntervals);
export type HistogramInterval = z.infer<typeof histogramIntervalSchema>;

export const histogramIntervalMs: Record<HistogramInterval, number> = {
  hour: 3_600_000,
  day: 86_400_000,
};

/** At most this many buckets in one answer; a wider range keeps its most recent part. */
export const maxHistogramBuckets = 1000;

/** The range drawn when the filter sets no lower bound. */
export const defaultHistogramSpanMs: Record<HistogramInterval, number> = {
  hour: 48 * 3_600_000,
  day: 30 * 86_400_000,
};

export const histogramBucketSchema = z.object({
  /** Start of the bucket (UTC, `toISOString()` form); it ends where the next one starts. */
  start: z.iso.datetime(),
  /** Entries per category; categories without entries in the bucket are left out. */
  counts: z.partialRecord(categorySchema, z.number().int().nonnegative()),
});
export type HistogramBucket = z.infer<typeof histogramBucketSchema>;

export const histogramSchema = z.object({
  interval: histogramIntervalSchema,
  /** The range the buckets cover: `[from, to)`, from aligned to the interval. */
  from: z.iso.datetime(),
  to: z.iso.datetime(),
  buckets: z.array(histogramBucketSchema),
});
export type AuditHistogram = z.infer<typeof histogramSchema>;
