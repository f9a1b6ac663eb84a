import { z } from "zod";
import { categorySchema } from "./envelope.ts";

/**
 * `GET /v1/orgs/:org/audit-logs/histogram`: how many entries match a filter per bucket of time,
 * by category, so the console can draw activity over time. Buckets are aligned to the interval in
 * the requested time zone (`tz`, UTC by default), contiguous (empty ones included), oldest first,
 * and bounded in number.
 */
export const histogramIntervals = ["minute", "hour", "day", "week", "month"] as const;
export const histogramIntervalSchema = z.enum(histogramIntervals);
export type HistogramInterval = z.infer<typeof histogramIntervalSchema>;

/** Nominal lengths (a day can be 23 or 25 hours in a zone with summer time, a month 28–31 days). */
export const histogramIntervalMs: Record<HistogramInterval, number> = {
  minute: 60_000,
  hour: 3_600_000,
  day: 86_400_000,
  week: 7 * 86_400_000,
  month: 30 * 86_400_000,
};

/** At most this many buckets in one answer; a wider range keeps its most recent part. */
export const maxHistogramBuckets = 1000;

/** `interval=auto` picks the finest interval that draws the range in at most this many bars. */
export const targetHistogramBuckets = 200;

/**
 * The bucket size for a range of `spanMs`: minutes up to 200 minutes, hours up to about 8 days,
 * days up to 200 days, then weeks, then months (never more than `maxHistogramBuckets`).
 */
export function pickHistogramInterval(spanMs: number): HistogramInterval {
  for (const interval of histogramIntervals) {
    if (Math.ceil(spanMs / histogramIntervalMs[interval]) <= targetHistogramBuckets) {
      return interval;
    }
  }
  return "month";
}

/** The range drawn when no entry matches and the filter sets no lower bound. */
export const defaultHistogramSpanMs: Record<HistogramInterval, number> = {
  minute: 3 * 3_600_000,
  hour: 48 * 3_600_000,
  day: 30 * 86_400_000,
  week: 26 * 7 * 86_400_000,
  month: 365 * 86_400_000,
};

/** IANA time zone names as the API accepts them in `tz` ("UTC", "Europe/Paris", "Etc/GMT+5"). */
export const timeZoneNamePattern = /^[A-Za-z][A-Za-z0-9_+\-/]{0,63}$/;

export const histogramBucketSchema = z.object({
  /** Start of the bucket (`toISOString()` form); it ends where the next one starts. */
  start: z.iso.datetime(),
  /** Entries per category; categories without entries in the bucket are left out. */
  counts: z.partialRecord(categorySchema, z.number().int().nonnegative()),
});
export type HistogramBucket = z.infer<typeof histogramBucketSchema>;

export const histogramSchema = z.object({
  interval: histogramIntervalSchema,
  /**
   * The range the buckets cover: `[from, to)`, from aligned to the interval. Without a lower
   * bound in the filter it starts at the oldest matching entry; without an upper bound it ends
   * now, or after the newest matching entry if that is later.
   */
  from: z.iso.datetime(),
  to: z.iso.datetime(),
  /** The zone buckets are aligned in (the `tz` asked for, "UTC" by default). */
  timeZone: z.string(),
  /**
   * How many entries match the filter over the whole range: the list's count for the same
   * filter, even when the buckets keep only the most recent `maxHistogramBuckets`.
   */
  total: z.number().int().nonnegative(),
  buckets: z.array(histogramBucketSchema),
});
export type AuditHistogram = z.infer<typeof histogramSchema>;
