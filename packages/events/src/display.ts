import { storedQueryLimits } from "./query/lexer.ts";
import { parseQuery } from "./query/parser.ts";
import { printQuery } from "./query/printer.ts";

/**
 * Words for people, shared by the console and the worker's notifications so the same thing is
 * said the same way everywhere: file sizes, and an export's filter.
 */

const byteUnits = ["KB", "MB", "GB", "TB"];

/**
 * A size in decimal units (1 KB = 1,000 bytes, as file managers and browsers' download lists
 * show them): "812 B", "4.2 KB", "18 MB". One decimal under 10, none above.
 */
export function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${Math.round(bytes)} B`;
  let value = bytes / 1000;
  let unit = 0;
  while (value >= 999.5 && unit < byteUnits.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return `${value < 9.95 ? value.toFixed(1) : Math.round(value)} ${byteUnits[unit]}`;
}

const presets: [label: string, ms: number][] = [
  ["Last 24 hours", 86_400_000],
  ["Last 7 days", 7 * 86_400_000],
  ["Last 30 days", 30 * 86_400_000],
];
/** How far a preset's start may be from `requestedAt` − its length (the page was open a while). */
const presetTolerance = 6 * 3_600_000;

export interface DescribeFilterOptions {
  /** When the filter was applied: a start this long before it reads "Last 7 days". */
  requestedAt?: string | Date;
  /** How an instant is written (the console: the reader's zone; the worker: UTC). */
  formatInstant: (iso: string) => string;
}

/**
 * An export's filter (the query language, as stored) for people: the time range in words first,
 * then the other terms as typed, joined with " · ": "Last 7 days · type:repo.create",
 * "1 Mar 2026, 10:00 – 8 Mar 2026, 10:00 · author:alice", "All entries".
 */
export function describeFilter(query: string, options: DescribeFilterOptions): string {
  const parsed = parseQuery(query, { limits: storedQueryLimits });
  if (!parsed.ok) return query.trim() || "All entries";
  const { createdFrom: from, createdTo: to, ...rest } = parsed.query;
  const parts: string[] = [];
  if (from !== undefined || to !== undefined) parts.push(describeRange(from, to, options));
  const terms = printQuery(rest);
  if (terms) parts.push(terms);
  return parts.length > 0 ? parts.join(" · ") : "All entries";
}

function describeRange(
  from: string | undefined,
  to: string | undefined,
  options: DescribeFilterOptions,
): string {
  if (from !== undefined && to === undefined && options.requestedAt !== undefined) {
    const span = new Date(options.requestedAt).getTime() - Date.parse(from);
    const preset = presets.find(([, ms]) => Math.abs(span - ms) <= presetTolerance);
    if (preset) return preset[0];
  }
  if (from !== undefined && to !== undefined) {
    return `${options.formatInstant(from)} – ${options.formatInstant(to)}`;
  }
  return from !== undefined
    ? `Since ${options.formatInstant(from)}`
    : `Before ${options.formatInstant(to as string)}`;
}
