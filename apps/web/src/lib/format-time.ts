import type { HistogramInterval } from "@auditlog/events";
import { localTimeZone } from "./time-zone.ts";

/**
 * Times as the console shows them, always in an explicit IANA zone (`timeZone`: the declared
 * one, see time-zone.ts), never in whatever zone a formatter happens to default to.
 */

// Built on first use, not when the module loads: the console's start-up need not wait for it.
let relative: Intl.RelativeTimeFormat | undefined;

const units: [Intl.RelativeTimeFormatUnit, number][] = [
  ["year", 365 * 86_400_000],
  ["month", 30 * 86_400_000],
  ["week", 7 * 86_400_000],
  ["day", 86_400_000],
  ["hour", 3_600_000],
  ["minute", 60_000],
];

/** "5 min. ago", "yesterday", "in 2 hr."; "just now" under a minute. */
export function formatRelative(iso: string, now: number): string {
  const diff = Date.parse(iso) - now;
  const abs = Math.abs(diff);
  if (abs < 60_000) return "just now";
  for (const [unit, ms] of units) {
    if (abs < ms) continue;
    relative ??= new Intl.RelativeTimeFormat(undefined, { numeric: "auto", style: "short" });
    return relative.format(Math.round(diff / ms), unit);
  }
  return "just now";
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(
  timeZone: string,
  name: string,
  options: Intl.DateTimeFormatOptions,
  locale: string | undefined = undefined,
): Intl.DateTimeFormat {
  const key = `${timeZone}|${name}`;
  let cached = formatters.get(key);
  if (!cached) {
    cached = new Intl.DateTimeFormat(locale, { ...options, timeZone });
    formatters.set(key, cached);
  }
  return cached;
}

const minuteOptions: Intl.DateTimeFormatOptions = {
  month: "short",
  day: "numeric",
  hour: "2-digit",
  minute: "2-digit",
  hourCycle: "h23",
};

/** The zone as the console names it: "UTC", "Europe/Paris". */
export function zoneLabel(timeZone: string): string {
  return timeZone === "Etc/UTC" ? "UTC" : timeZone;
}

interface WallTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

/** The wall-clock time in `timeZone` at `time`. */
export function wallTime(time: number, timeZone: string): WallTime {
  const parts = formatter(
    timeZone,
    "parts",
    {
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
      hourCycle: "h23",
    },
    "en-US",
  ).formatToParts(new Date(time));
  const get = (type: Intl.DateTimeFormatPartTypes) =>
    Number(parts.find((part) => part.type === type)?.value ?? 0);
  return {
    year: get("year"),
    month: get("month"),
    day: get("day"),
    hour: get("hour") % 24,
    minute: get("minute"),
    second: get("second"),
  };
}

/** How far `timeZone` is ahead of UTC at `time`, in ms (Paris in winter: 3,600,000). */
export function zoneOffsetMs(time: number, timeZone: string): number {
  const wall = wallTime(time, timeZone);
  const asUtc = Date.UTC(wall.year, wall.month - 1, wall.day, wall.hour, wall.minute, wall.second);
  return asUtc - Math.floor(time / 1000) * 1000;
}

/** The instant a wall-clock time in `timeZone` names (the later one when summer time skips it). */
export function zonedWallToInstant(
  wall: Omit<WallTime, "second"> & { second?: number },
  timeZone: string,
): number {
  const asUtc = Date.UTC(
    wall.year,
    wall.month - 1,
    wall.day,
    wall.hour,
    wall.minute,
    wall.second ?? 0,
  );
  const guess = asUtc - zoneOffsetMs(asUtc, timeZone);
  return asUtc - zoneOffsetMs(guess, timeZone);
}

let lastYear = { time: Number.NaN, timeZone: "", year: 0 };

/** The year of `time` in `timeZone`; every row asks for the same `now`, computed once. */
function yearOf(time: number, timeZone: string): number {
  if (lastYear.time !== time || lastYear.timeZone !== timeZone) {
    lastYear = { time, timeZone, year: wallTime(time, timeZone).year };
  }
  return lastYear.year;
}

/** Compact: "Nov 26, 14:03" (with the year when it is not this year's, in that zone). */
export function formatShort(iso: string, now: number, timeZone: string = localTimeZone()): string {
  const time = Date.parse(iso);
  const sameYear = wallTime(time, timeZone).year === yearOf(now, timeZone);
  return sameYear
    ? formatter(timeZone, "short", minuteOptions).format(time)
    : formatter(timeZone, "short-year", { ...minuteOptions, year: "numeric" }).format(time);
}

/** The hover text: date and time in full with the zone's name, then the UTC timestamp. */
export function formatFullTimestamp(iso: string, timeZone: string = localTimeZone()): string {
  return `${formatFull(iso, timeZone)}\n${iso}`;
}

/** "Thursday 26 November 2026 at 14:03:00 CET". */
export function formatFull(iso: string, timeZone: string): string {
  return formatter(timeZone, "full", { dateStyle: "full", timeStyle: "long" }).format(
    Date.parse(iso),
  );
}

/** A chart bucket's name at its size: "Nov 26, 14:03", "Nov 26", "Week of Nov 23", "Nov 2026". */
export function formatBucket(iso: string, interval: HistogramInterval, timeZone: string): string {
  const time = Date.parse(iso);
  if (interval === "minute" || interval === "hour") {
    return formatter(timeZone, "short", minuteOptions).format(time);
  }
  if (interval === "month") {
    return formatter(timeZone, "month", { month: "short", year: "numeric" }).format(time);
  }
  const day = formatter(timeZone, "day", { month: "short", day: "numeric" }).format(time);
  return interval === "week" ? `Week of ${day}` : day;
}

/** A bucket's axis label: shorter than `formatBucket` ("14:03" for minutes and hours). */
export function formatTick(iso: string, interval: HistogramInterval, timeZone: string): string {
  if (interval === "minute" || interval === "hour") {
    const time = Date.parse(iso);
    const wall = wallTime(time, timeZone);
    if (interval === "hour" && wall.hour === 0 && wall.minute === 0) {
      return formatter(timeZone, "day", { month: "short", day: "numeric" }).format(time);
    }
    return formatter(timeZone, "clock", {
      hour: "2-digit",
      minute: "2-digit",
      hourCycle: "h23",
    }).format(time);
  }
  return formatBucket(iso, interval, timeZone).replace("Week of ", "");
}

const pad = (n: number, width = 2) => String(n).padStart(width, "0");

/** `datetime-local` input value (minutes) for an ISO instant, as the wall clock of `timeZone`. */
export function toZonedInputValue(iso: string, timeZone: string): string {
  const wall = wallTime(Date.parse(iso), timeZone);
  return `${pad(wall.year, 4)}-${pad(wall.month)}-${pad(wall.day)}T${pad(wall.hour)}:${pad(wall.minute)}`;
}

/** The ISO instant a `datetime-local` value names in `timeZone`; undefined when empty or bad. */
export function fromZonedInputValue(value: string, timeZone: string): string | undefined {
  const match = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/.exec(value);
  if (!match) return undefined;
  const [year, month, day, hour, minute, second] = match.slice(1).map((part) => Number(part ?? 0));
  const time = zonedWallToInstant(
    {
      year: year as number,
      month: month as number,
      day: day as number,
      hour: hour as number,
      minute: minute as number,
      second: second as number,
    },
    timeZone,
  );
  return Number.isNaN(time) ? undefined : new Date(time).toISOString();
}

/** "+01:00", "-05:00", "+05:30" for an offset in ms. */
export function formatOffset(offsetMs: number): string {
  const sign = offsetMs < 0 ? "-" : "+";
  const minutes = Math.abs(Math.round(offsetMs / 60_000));
  return `${sign}${pad(Math.floor(minutes / 60))}:${pad(minutes % 60)}`;
}

/**
 * The start of the day `daysBack` days before the one holding `now` in `timeZone`, written as the
 * query language takes it: `2026-11-26` in UTC (a UTC day), `2026-11-26T00:00+01:00` elsewhere.
 * With `end`, the last millisecond of that day instead (`…T23:59:59.999+01:00`).
 */
export function zonedDayTerm(now: number, daysBack: number, timeZone: string, end = false): string {
  const today = wallTime(now, timeZone);
  const date = new Date(Date.UTC(today.year, today.month - 1, today.day - daysBack));
  const ymd = `${pad(date.getUTCFullYear(), 4)}-${pad(date.getUTCMonth() + 1)}-${pad(date.getUTCDate())}`;
  if (zoneLabel(timeZone) === "UTC") return ymd;
  const wall = {
    year: date.getUTCFullYear(),
    month: date.getUTCMonth() + 1,
    day: date.getUTCDate(),
    hour: end ? 23 : 0,
    minute: end ? 59 : 0,
    second: end ? 59 : 0,
  };
  const instant = zonedWallToInstant(wall, timeZone);
  const offset = formatOffset(zoneOffsetMs(instant, timeZone));
  return end ? `${ymd}T23:59:59.999${offset}` : `${ymd}T00:00${offset}`;
}
