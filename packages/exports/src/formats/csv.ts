import type { AuditEntry } from "@auditlog/events";
import type { ExportSerializer } from "./serializers.ts";

export const csvColumns = [
  "id",
  "occurredAt",
  "type",
  "category",
  "description",
  "actorType",
  "actorId",
  "actorName",
  "targetType",
  "targetId",
  "targetName",
  "ip",
  "country",
  "region",
  "city",
  "userAgent",
  "data",
] as const;

function csvValues(entry: AuditEntry): (string | null)[] {
  return [
    entry.id,
    entry.occurredAt,
    entry.type,
    entry.category,
    entry.description,
    entry.actor.type,
    entry.actor.id,
    entry.actor.name,
    entry.target?.type ?? null,
    entry.target?.id ?? null,
    entry.target?.name ?? null,
    entry.ip,
    entry.location?.countryCode ?? null,
    entry.location?.region ?? null,
    entry.location?.city ?? null,
    entry.userAgent,
    JSON.stringify(entry.data ?? {}),
  ];
}

/**
 * Spreadsheets run a cell that starts with `=`, `+`, `-` or `@` (and some a leading tab or
 * carriage return) as a formula: `=HYPERLINK(…)` in an event's description would become a live
 * link in the admin's spreadsheet. A leading `'` makes it text (OWASP's CSV injection advice).
 */
export function neutraliseFormula(value: string): string {
  return /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
}

/** One RFC 4180 field: neutralised, then quoted when it holds a quote, comma or line break. */
export function csvField(value: string | null | undefined): string {
  if (value === null || value === undefined) return "";
  const safe = neutraliseFormula(value);
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** RFC 4180: a header line, then one CRLF-terminated record per entry. */
export const csvSerializer: ExportSerializer = {
  start: `${csvColumns.join(",")}\r\n`,
  row: (entry) => `${csvValues(entry).map(csvField).join(",")}\r\n`,
  end: "",
};
