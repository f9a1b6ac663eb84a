import { type AuditHistogram, type Category, categories } from "@auditlog/events";
import type { ResolvedFilters } from "../audit-log/filters.ts";

export interface BarSegment {
  category: Category;
  count: number;
  y: number;
  height: number;
}

export interface Bar {
  index: number;
  start: string;
  end: string;
  total: number;
  x: number;
  width: number;
  segments: BarSegment[];
}

export interface ChartLayout {
  bars: Bar[];
  maxTotal: number;
  total: number;
  totals: Partial<Record<Category, number>>;
}

/** A "nice" axis maximum: 1, 2 or 5 times a power of ten, at least `value`. */
export function niceMax(value: number): number {
  if (value <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}

/** Stacked bars (categories in catalog order, bottom up) filling `width` × `height`. */
export function layoutChart(histogram: AuditHistogram, width: number, height: number): ChartLayout {
  const step =
    Date.parse(histogram.buckets[1]?.start ?? histogram.to) -
    Date.parse(histogram.buckets[0]?.start ?? histogram.from);
  const totals: Partial<Record<Category, number>> = {};
  let total = 0;
  let peak = 0;
  for (const bucket of histogram.buckets) {
    let sum = 0;
    for (const category of categories) {
      const count = bucket.counts[category] ?? 0;
      sum += count;
      if (count > 0) totals[category] = (totals[category] ?? 0) + count;
    }
    total += sum;
    peak = Math.max(peak, sum);
  }
  const maxTotal = niceMax(peak);
  const n = histogram.buckets.length;
  const slot = n > 0 ? width / n : width;
  const gap = slot > 4 ? Math.min(2, slot * 0.2) : 0;
  const bars = histogram.buckets.map((bucket, index) => {
    let y = height;
    const segments: BarSegment[] = [];
    let sum = 0;
    for (const category of categories) {
      const count = bucket.counts[category] ?? 0;
      if (count === 0) continue;
      sum += count;
      const segmentHeight = (count / maxTotal) * height;
      y -= segmentHeight;
      segments.push({ category, count, y, height: segmentHeight });
    }
    const start = Date.parse(bucket.start);
    const next = histogram.buckets[index + 1]?.start;
    // The last bucket ends where the range does (now, for an open range), or after one step.
    const last =
      Date.parse(histogram.to) > start ? histogram.to : new Date(start + step).toISOString();
    return {
      index,
      start: bucket.start,
      end: next ?? last,
      total: sum,
      x: index * slot + gap / 2,
      width: Math.max(1, slot - gap),
      segments,
    };
  });
  return { bars, maxTotal, total, totals };
}

/** Indices of the buckets to label on the x axis: about `count`, evenly spread. */
export function tickIndices(buckets: number, count: number): number[] {
  if (buckets === 0) return [];
  if (buckets <= count) return [...Array(buckets).keys()];
  const ticks = new Set<number>();
  for (let k = 0; k < count; k++) ticks.add(Math.round((k * (buckets - 1)) / (count - 1)));
  return [...ticks];
}

/**
 * "Zoom out": the same middle, twice the span, never past `now` (the later half moves to the
 * earlier side instead). `drawnTo` is the chart's end, for a range open at the top.
 */
export function zoomOutRange(
  filters: Pick<ResolvedFilters, "from" | "to">,
  drawnTo: string,
  now: number,
): { from: string; to: string } | null {
  if (!filters.from) return null;
  const from = Date.parse(filters.from);
  const to = Date.parse(filters.to ?? drawnTo);
  const span = Math.max(60_000, to - from);
  let nextTo = Math.min(now, to + span / 2);
  const nextFrom = nextTo - 2 * span;
  if (nextTo < to) nextTo = to;
  return { from: new Date(nextFrom).toISOString(), to: new Date(nextTo).toISOString() };
}
