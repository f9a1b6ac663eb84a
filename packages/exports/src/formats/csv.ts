import { hash } from "node:crypto";
import type { AuditEntry } from "@auditlog/events";
import type { ExportSerializer } from "./serializers.ts";

/**
 * The CSV columns. The first seventeen are the readable export; the rest (added for verifiable
 * exports, issue 14) carry what the entry's leaf needs besides them, so that a verifier can
 * recompute every leaf from the CSV alone, and `lineDigest` last: base64 SHA-256 of the
 * record's bytes before it (every field and comma up to, not including, the comma before it).
 */
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
  "seq",
  "receivedAt",
  "hiddenByDefault",
  "actorAvatarUrl",
  "actorTokenRole",
  "actorTokenLast4",
  "oauthClientId",
  "oauthName",
  "commitmentSalt",
  /** Only for an erased entry (issue 16): the personal digest it keeps; it then has no salt. */
  "commitmentPersonal",
  "lineDigest",
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
    String(entry.seq),
    entry.receivedAt,
    entry.hiddenByDefault ? "true" : "false",
    entry.actor.avatarUrl,
    entry.actor.tokenRole,
    entry.actor.tokenLast4,
    entry.oauth?.clientId ?? null,
    entry.oauth?.name ?? null,
    entry.commitment.salt ?? null,
    entry.commitment.personal ?? null,
  ];
}

/**
 * Spreadsheets run a cell that starts with `=`, `+`, `-` or `@` (and some a leading tab or
 * carriage return) as a formula: `=HYPERLINK(…)` in an event's description would become a live
 * link in the admin's spreadsheet. A leading `'` makes it text (OWASP's CSV injection advice).
 * A value that itself starts with `'` gets one too, so the prefix can always be taken off again
 * (a verifier recomputing the entry's leaf must read back the exact value).
 */
export function neutraliseFormula(value: string): string {
  return /^[=+\-@\t\r']/.test(value) ? `'${value}` : value;
}

/** The value a neutralised cell stands for: its first `'` removed, if it has one. */
export function unneutraliseFormula(cell: string): string {
  return cell.startsWith("'") ? cell.slice(1) : cell;
}

/**
 * One RFC 4180 field: neutralised, then quoted when it holds a quote, comma or line break. An
 * absent value is an empty field and an empty string a quoted empty one (`""`), so a reader that
 * looks at the quotes can tell them apart (every CSV reader sees both as empty).
 */
export function csvField(value: string | null | undefined): string {
  if (value === null || value === undefined) return "";
  if (value === "") return '""';
  const safe = neutraliseFormula(value);
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** Base64 SHA-256 of a record's text before its `lineDigest` field. */
export function csvLineDigest(fields: string): string {
  return hash("sha256", fields, "base64");
}

/** RFC 4180: a header line, then one CRLF-terminated record per entry. */
export const csvSerializer: ExportSerializer = {
  start: `${csvColumns.join(",")}\r\n`,
  row: (entry) => {
    const fields = csvValues(entry).map(csvField).join(",");
    return `${fields},${csvField(csvLineDigest(fields))}\r\n`;
  },
  end: "",
};
