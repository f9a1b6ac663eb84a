import { categories } from "../categories.ts";
import { normalizeIpPrefix } from "../ip/index.ts";
import type { QueryParseErrorKind } from "./errors.ts";
import { isCountryCode, type QueryKey } from "./keys.ts";

export const dayMs = 86_400_000;
/** 0000-01-01T00:00:00.000Z and 9999-12-31T23:59:59.999Z: what `toISOString` writes in 4 digits. */
export const minInstant = Date.parse("0000-01-01T00:00:00.000Z");
export const maxInstant = Date.parse("9999-12-31T23:59:59.999Z");

const dateTimePattern =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(?:([Zz])|([+-])(\d{2}):?(\d{2}))?)?$/;

/**
 * A date is the span of that UTC day; a date-time is the 1 ms span of that instant (sub-millisecond
 * digits are truncated). Answers an error message instead when `text` is not a valid date.
 */
function parseDateSpan(text: string): { start: number; end: number } | string {
  const m = dateTimePattern.exec(text);
  if (!m) {
    return `Invalid date "${text}": use YYYY-MM-DD or an ISO date-time such as 2026-01-31T10:00:00Z`;
  }
  const [, y, mo, d, h, mi, s, fraction, zulu, sign, oh, om] = m;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const maxDay = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1] ?? 0;
  if (day < 1 || day > maxDay) {
    return `Invalid date "${text}": no such day`;
  }
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  if (h === undefined) return { start: date.getTime(), end: date.getTime() + dayMs };
  if (zulu === undefined && sign === undefined) {
    return `Invalid date "${text}": a date-time needs a time zone, e.g. Z or +02:00`;
  }
  const hours = Number(h);
  const minutes = Number(mi);
  const seconds = s === undefined ? 0 : Number(s);
  const offsetHours = oh === undefined ? 0 : Number(oh);
  const offsetMinutes = om === undefined ? 0 : Number(om);
  if (hours > 23 || minutes > 59 || seconds > 59 || offsetHours > 23 || offsetMinutes > 59) {
    return `Invalid date "${text}": no such time`;
  }
  const millis = fraction === undefined ? 0 : Number(fraction.slice(0, 3).padEnd(3, "0"));
  const offset = (sign === "-" ? -1 : 1) * (offsetHours * 60 + offsetMinutes) * 60_000;
  date.setUTCHours(hours, minutes, seconds, millis);
  const instant = date.getTime() - offset;
  return { start: instant, end: instant + 1 };
}

export type CreatedBounds =
  | { from?: number; to?: number; error?: undefined }
  | { error: string; kind: "bad_date" | "bad_operator" };

/** The `[from, to)` bounds a `created:` value selects (either may be open). */
export function parseCreated(value: string): CreatedBounds {
  const badDate = (error: string) => ({ error, kind: "bad_date" as const });
  const op = /^[<>=!]+/.exec(value)?.[0];
  if (op !== undefined) {
    if (op !== ">=" && op !== ">" && op !== "<=" && op !== "<") {
      return { kind: "bad_operator", error: `Unknown operator "${op}": use >=, >, <=, < or a..b` };
    }
    const rest = value.slice(op.length);
    if (rest.includes("..")) {
      return { kind: "bad_operator", error: "A range (a..b) cannot also have an operator" };
    }
    const span = parseDateSpan(rest);
    if (typeof span === "string") return badDate(span);
    if (op === ">=") return { from: span.start };
    if (op === ">") return { from: span.end };
    if (op === "<") return { to: span.start };
    return { to: span.end };
  }
  const dots = value.indexOf("..");
  if (dots >= 0) {
    const left = value.slice(0, dots);
    const right = value.slice(dots + 2);
    if (left === "*" && right === "*") {
      return badDate("A range needs at least one date, e.g. 2026-01-01..*");
    }
    const from = left === "*" ? undefined : parseDateSpan(left);
    const to = right === "*" ? undefined : parseDateSpan(right);
    if (typeof from === "string") return badDate(from);
    if (typeof to === "string") return badDate(to);
    if (from && to && from.start >= to.end) return badDate("The range ends before it starts");
    return { from: from?.start, to: to?.end };
  }
  const span = parseDateSpan(value);
  if (typeof span === "string") return badDate(span);
  return { from: span.start, to: span.end };
}

export type NormalizedValue =
  | { value: string; error?: undefined }
  | { error: string; kind: QueryParseErrorKind };

/**
 * The normalised form of a qualifier's value (category lower case, country upper case, IP prefix
 * canonical, others as written), or why the key cannot take it.
 */
export function normalizeValue(
  key: Exclude<QueryKey, "created">,
  value: string,
  isKnownType: (pattern: string) => boolean,
): NormalizedValue {
  if (key === "category") {
    const category = value.toLowerCase();
    if (!(categories as readonly string[]).includes(category)) {
      return {
        kind: "unknown_category",
        error: `Unknown category "${value}". Categories: ${categories.join(", ")}`,
      };
    }
    return { value: category };
  }
  if (key === "country") {
    const country = value.toUpperCase();
    if (!isCountryCode(country)) {
      return {
        kind: "bad_country",
        error: `"${value}" is not an ISO 3166-1 alpha-2 country code (e.g. FR, US)`,
      };
    }
    return { value: country };
  }
  if (key === "ip") {
    const prefix = normalizeIpPrefix(value);
    if (prefix === undefined) {
      return {
        kind: "bad_ip_prefix",
        error: `"${value}" is not an IP address or prefix (e.g. 203.0.113.0, 203.0.113., 2001:db8::)`,
      };
    }
    return { value: prefix };
  }
  if (key === "type" && !isKnownType(value)) {
    return {
      kind: "unknown_type",
      error: value.endsWith(".*")
        ? `No event type matches "${value}"`
        : `Unknown event type "${value}"`,
    };
  }
  return { value };
}
